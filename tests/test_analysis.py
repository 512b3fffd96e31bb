import numpy as np
import pytest
import torch

from mlib.analysis import (
    domain_gap_stats,
    domain_separability,
    mixing_score,
    nearest_training_poses,
    pair_distances,
    worst_frames,
)
from mlib.data.datasets import CropStore
from mlib.models import Murauer
from mlib.presets import model_config


def test_mixing_score_separated_vs_mixed():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(100, 2)), rng.normal(size=(100, 2))
    labels = np.r_[np.ones(100), np.zeros(100)]
    mixed = mixing_score(np.concatenate([a, b]), labels)
    separated = mixing_score(np.concatenate([a, b + 50]), labels)
    assert separated == 0.0
    assert 0.4 < mixed < 0.6


def _store(n=6, size=8):
    synth = torch.ones(n, 3, size, size)
    synth[:, 0, 2:6, 2:6] = 0.0  # a 16-pixel hand at the centre depth
    real = synth[:, 0].clone()
    real[:, 2, 2:6] = 1.0  # the real frame misses 4 of the 16 hand pixels
    real[:, 3:6, 2:6] += 10 / 150  # and reads 10 mm further away on the rest
    real[:, 0, 0] = 0.5  # one clutter pixel off the hand
    joints = torch.randn(n, 3, 36, 3) * 20 + torch.tensor([0.0, 0.0, 700.0])
    return CropStore.from_crops(real, synth, joints=joints)


def test_domain_gap_stats_measure_what_they_say():
    stats = domain_gap_stats(_store())
    assert abs(stats["missing_on_hand"] - 4 / 16) < 1e-6
    assert abs(stats["depth_mae_mm"] - 10) < 0.1  # float16 storage
    assert abs(stats["clutter_off_hand"] - 1 / 48) < 1e-6


def test_worst_frames_and_nearest_poses():
    errors = np.array([[1.0, 1.0], [5.0, 0.0], [3.0, 3.0]])
    assert worst_frames(errors, 2).tolist() == [2, 1]
    assert worst_frames(errors, 1, by="max").tolist() == [1]
    store = _store()
    idx, dist = nearest_training_poses(store, [0, 3], store, k=2)
    assert idx[:, 0].tolist() == [0, 3] and np.allclose(dist[:, 0], 0, atol=1e-4)


def test_pair_distances_zero_for_identical_domains_without_mapping():
    store = _store(size=32)
    store.real.copy_(store.synth[:, 0])
    model = Murauer(model_config("ci"))
    assert np.allclose(pair_distances(model, store, through_mapping=False), 0, atol=1e-5)


def test_domain_separability_is_chance_for_alike_domains_and_high_for_shifted_ones():
    rng = np.random.default_rng(0)
    alike = domain_separability(rng.normal(size=(300, 32)), rng.normal(size=(300, 32)))
    assert 0.4 < alike < 0.6
    # A shift of 3 standard deviations along one of 32 directions: invisible in most coordinates,
    # yet a linear classifier finds it (the point of the probe: it sees what a weak critic misses).
    shifted = rng.normal(size=(300, 32))
    shifted[:, 5] += 3.0
    # The best possible accuracy for two unit Gaussians 3 apart is Phi(1.5) = 0.93.
    assert 0.85 < domain_separability(shifted, rng.normal(size=(300, 32))) < 0.96
    with pytest.raises(ValueError, match="same D"):
        domain_separability(np.zeros((10, 4)), np.zeros((10, 5)))
    with pytest.raises(ValueError, match="at least 5"):
        domain_separability(np.zeros((3, 4)), np.zeros((3, 4)))


class _ShiftedLatents(torch.nn.Module):
    """Latents = a fixed projection of the crop, moved by `shift` along one axis when m is applied."""

    def __init__(self, pixels: int, shift: float):
        super().__init__()
        self.proj = torch.randn(pixels, 16, generator=torch.Generator().manual_seed(0))
        self.shift = shift

    def latent(self, x: torch.Tensor, real: bool) -> torch.Tensor:
        z = x.flatten(1) @ self.proj
        if real:
            z[:, 3] += self.shift
        return z


def test_latent_statistics_tell_mixed_domains_from_separated_ones():
    from mlib.analysis import latent_statistics

    rng = np.random.default_rng(0)
    synth = torch.from_numpy(rng.uniform(-1, 1, size=(120, 3, 8, 8)).astype(np.float32))
    joints = torch.randn(120, 3, 36, 3) * 20 + torch.tensor([0.0, 0.0, 700.0])
    store = CropStore.from_crops(synth[:, 0].clone(), synth, joints=joints)  # real crops = their renders
    model = _ShiftedLatents(64, shift=100.0)
    same = latent_statistics(model, store, through_mapping=False, n_points=60, n_probe=100)
    apart = latent_statistics(model, store, through_mapping=True, n_points=60, n_probe=100)
    assert same["median_pair_distance"] < 0.05 and same["median_relative_distance"] < 0.01
    assert same["probe"] < 0.65 and same["mixing_latent"] > 0.4 and same["mixing_tsne"] > 0.3
    assert abs(apart["median_pair_distance"] - 100.0) < 0.5  # float16 crops: the shift is all that differs
    assert apart["probe"] > 0.95 and apart["mixing_latent"] == 0.0 and apart["mixing_tsne"] < 0.05
    assert (same["frames_probe"], same["frames_mixing"]) == (100, 60)


def test_the_map_beside_the_latent_statistics_is_the_one_their_tsne_mixing_was_measured_on():
    from mlib.analysis import latent_statistics, latent_statistics_with_map, mixing_score

    rng = np.random.default_rng(1)
    synth = torch.from_numpy(rng.uniform(-1, 1, size=(80, 3, 8, 8)).astype(np.float32))
    joints = torch.randn(80, 3, 36, 3) * 20 + torch.tensor([0.0, 0.0, 700.0])
    store = CropStore.from_crops(synth[:, 0].clone(), synth, joints=joints)
    model = _ShiftedLatents(64, shift=3.0)
    stats, points = latent_statistics_with_map(model, store, through_mapping=True, n_points=40, n_probe=60)
    assert points.shape == (80, 2)  # 40 real latents, then their 40 renders'
    assert stats["mixing_tsne"] == mixing_score(points, np.r_[np.ones(40), np.zeros(40)])
    assert stats == latent_statistics(model, store, through_mapping=True, n_points=40, n_probe=60)


def test_seed_statistics_keep_their_seeds_and_give_no_spread_for_one():
    from mlib.claims import seed_stats

    by_seed = seed_stats({0: 0.5, 1: 0.7})
    assert by_seed["per_seed"] == {"0": 0.5, "1": 0.7} and by_seed["mean"] == pytest.approx(0.6)
    assert by_seed["std"] == pytest.approx(0.1 * 2**0.5)  # the sample std (ddof 1), the project's one spread
    assert seed_stats([12.0]) == {"mean": 12.0, "std": None, "per_seed": [12.0]}


def test_grid_cells_and_the_room_from_run_results():
    from types import SimpleNamespace

    from mlib.analysis import grid_cells, paired_on_splits, room

    def run(variant, n, seed, err, synth, val):
        summary = {"synthetic_frames_mean": synth, "success_rate": {20: 0.5, 40: 1.0}, "val_mean": val}
        out = f"runs/x/{variant}-n{n}-seed{seed}"
        return SimpleNamespace(variant=variant, n_labeled=n, test_error_mm=err, summary=summary, seconds=2.0, out_dir=out)

    results = [run("synth_only", "all", 1, 31.0, 21.0, 30.0), run("synth_only", "all", 0, 30.0, 20.0, 29.0),
               run("real_synth", 100, 0, 24.0, 21.0, 23.0), run("real_synth", 100, 1, 26.0, 21.0, 25.0),
               run("full", 100, 1, 25.0, 22.0, 24.0), run("full", 100, 0, 23.0, 20.0, 22.1)]  # fmt: skip
    cells = grid_cells(results, ["synth_only", "real_synth", "full"], [100])
    assert [(c["variant"], c["n_labeled"], c["seeds"], c["seed_ids"]) for c in cells] == [
        ("synth_only", 100, 2, [0, 1]), ("real_synth", 100, 2, [0, 1]), ("full", 100, 2, [0, 1])
    ]  # fmt: skip
    assert cells[1]["mean_error_mm"] == 25.0 and cells[1]["std_error_mm"] == pytest.approx(2**0.5)
    assert cells[2]["per_seed_mm"] == [23.0, 25.0] and cells[2]["per_seed_val_mm"] == [22.1, 24.0]
    assert cells[2]["wall_s"] == 4.0
    rooms = {r["variant"]: r for r in room(cells)}
    assert set(rooms) == {"real_synth", "full"}  # Synth only has no stage 2 to map
    # onto the stage-1 predictor: Synth only's render error over the arm's real error, seed by seed
    assert rooms["real_synth"]["onto_stage1"]["per_seed"] == {"0": 20.0 / 24.0, "1": 21.0 / 26.0}
    assert rooms["full"]["own"]["per_seed"] == {"0": 20.0 / 23.0, "1": 22.0 / 25.0}
    judged = paired_on_splits(cells[2], cells[1])
    assert judged["test"]["per_seed"] == {"0": -1.0, "1": -1.0} and judged["verdict_test"] == "holds"
    assert judged["val"]["per_seed"]["0"] == pytest.approx(-0.9) and judged["verdict"] == "holds"


def test_the_probe_reads_the_latents_of_the_same_frames():
    from mlib.analysis import paired_latents, probe

    store = _store(n=20, size=32)
    model = Murauer(model_config("ci")).eval()
    z_real, z_synth = paired_latents(model, store, through_mapping=False)
    assert z_real.shape == z_synth.shape and len(z_real) == 20
    assert probe(model, store, False) == domain_separability(z_real, z_synth)
