"""The ablation's bookkeeping: which grid claims hold (mlib.claims.grid_claims, as benchmarks/lab/ablation.py
judges its grid, paired by seed), the stage-2 rate chosen on validation, and a report over finished cells
only."""

import json
from types import SimpleNamespace

import torch

from benchmarks.lab.ablation import seeds_label
from mlib.claims import grid_claims
from mlib.experiment import VARIANT_NAMES, Experiment, cell_dir, synthetic_frames_error
from mlib.presets import train_config

NS = [10, 100, "all"]


SHARED = (-1.0, 2.0, -1.0)  # seed 1 is the worst seed for every variant, as in the committed grid
OWN = {  # each variant's own noise per seed (zero mean)
    "synth_only": (0.0, 0.0, 0.0), "real_only": (0.3, -0.5, 0.2), "real_synth": (-0.4, 0.5, -0.1),
    "distr_match": (0.2, -0.6, 0.4), "view_pred": (-0.3, 0.1, 0.2), "full": (0.5, -0.2, -0.3),
}  # fmt: skip


def cells(full100: float, std: float = 0.5, seeds: int = 3) -> list[dict]:
    """Grid cells with these means and per-seed values spread by `std` (a shared seed effect plus each
    variant's own noise)."""
    means = {
        "synth_only": (26.0, 26.0, 26.0),
        "real_only": (40.0, 30.0, 19.0),
        "real_synth": (24.0, 20.0, 13.0),
        "distr_match": (23.0, 18.0, 12.0),
        "view_pred": (23.0, 18.5, 12.0),
        "full": (21.0, full100, 11.0),
    }
    out = []
    for v, row in means.items():
        for n, m in zip(NS, row):
            per_seed = [m + std * (SHARED[k] + OWN[v][k]) for k in range(3)][:seeds] if seeds > 1 else [m]
            out.append({"variant": v, "n_labeled": n, "mean_error_mm": m, "std_error_mm": std, "seeds": seeds,
                        "seed_ids": list(range(len(per_seed))), "per_seed_mm": per_seed})  # fmt: skip
    return out


def write_cell_copy(folder, variant: str, n, seed: int, err: float) -> None:
    """A finished cell's result copy <cell>.json, as the committed ablation-laptop-cells/ hold them."""
    name = cell_dir(folder, variant, n, seed).name
    summary = {"mean": err, "success_rate": {"20": 0.25, "40": 0.75}}
    (folder / f"{name}.json").write_text(
        json.dumps({"variant": variant, "n_labeled": n, "test_error_mm": err, "summary": summary, "seconds": 3.0})
    )


def verdicts(grid: list[dict]) -> dict[str, str]:
    """The grid judged on its own seeds' spread, as benchmarks/lab/ablation.py does."""
    return {c.text: c.verdict for c in grid_claims(grid, "laptop", VARIANT_NAMES, compare_committed=False)}


def test_claims_hold_on_the_papers_shape_and_fail_without_it():
    good = verdicts(cells(full100=12.0))
    assert good == {
        **{f"n={n}: {VARIANT_NAMES[v]} beats Real+Synth": "holds" for n in NS for v in ("distr_match", "view_pred", "full")},
        "n=100: Full reaches the paper's gain (Full at most 0.8 x Real+Synth)": "holds",
        "With all labels, Synth only is at least 1.3 x Real only's error": "holds",
        "The gain of Full over Real+Synth is larger with fewer labels": "holds",
        "Real only improves with more labels": "holds",
        "Full with 10 labels beats Real+Synth with all": "does not hold",
        **{f"n={n}: Full beats the best baseline (Real+Synth, chosen on validation)": "holds" for n in NS},
    }
    bad = verdicts(cells(full100=19.8))
    assert bad["n=100: Full reaches the paper's gain (Full at most 0.8 x Real+Synth)"] == "does not hold"
    # 0.2 mm apart, per seed +0.25, -0.55, -0.30: inside what three seeds can tell
    assert bad["n=100: Full (MURAUER) beats Real+Synth"] == "within noise"


def test_a_single_seed_has_no_spread_to_be_noise_in():
    one = verdicts(cells(full100=19.8, std=0.0, seeds=1))
    assert one["n=100: Full (MURAUER) beats Real+Synth"] == "holds"
    assert one["n=100: Full reaches the paper's gain (Full at most 0.8 x Real+Synth)"] == "does not hold"


def test_a_grid_beside_the_committed_one_takes_the_committed_spread():
    # a one-seed run 0.2 mm apart: the committed laptop cells' spread at n=100 covers it
    got = {c.text: c for c in grid_claims(cells(full100=19.8, std=0.0, seeds=1), "ci", VARIANT_NAMES)}
    full = got["n=100: Full (MURAUER) beats Real+Synth"]
    assert full.verdict == "within noise" and full.noise is not None and full.reference_verdict is not None


def test_only_finished_reloads_finished_cells_and_trains_nothing(tmp_path, monkeypatch):
    exp = Experiment("ci", tmp_path, train_config("ci"), None, None, torch.device("cpu"), progress=False)
    finished = [("synth_only", "all", 0), ("full", 100, 0), ("full", 100, 1)]
    for v, n, seed in finished:
        cell_dir(tmp_path, v, n, seed).mkdir(parents=True)
        (cell_dir(tmp_path, v, n, seed) / "result.json").write_text(json.dumps({}))
    monkeypatch.setattr(Experiment, "cell", lambda self, v, n, wait=True: (v, n, self.cfg.seed))
    got = exp.grid(["synth_only", "real_synth", "full"], [10, 100], [0, 1], only_finished=True)
    assert sorted(got, key=str) == sorted(finished, key=str)


def test_the_plot_title_says_how_many_seeds_each_cell_has():
    assert seeds_label([{"seeds": 3}, {"seeds": 3}]) == "3 seed(s)"
    assert seeds_label([{"seeds": 2}, {"seeds": 3}, {"seeds": 2}]) == "2-3 seeds per cell"


def test_synthetic_frame_error_is_the_seed_mean_and_none_where_it_means_nothing():
    runs = lambda *values: [SimpleNamespace(summary={"synthetic_frames_mean": v}) for v in values]  # noqa: E731
    assert synthetic_frames_error(runs(20.0, 21.0, 22.5)) == 21.166666666666668
    assert synthetic_frames_error(runs(20.0, None)) is None  # Real only records None
    assert synthetic_frames_error([SimpleNamespace(summary={})]) is None  # a run from before it was recorded


def test_error_vs_n_draws_all_at_its_real_n_and_spreads_only_over_seeds():
    import matplotlib

    matplotlib.use("Agg")
    from mlib.plots import plot_error_vs_n

    table = {
        "one seed": {10: (30.0, 0.0, 1), "all": (20.0, 0.0, 1)},
        "three": {10: (28.0, 1.5, 3), "all": (19.0, 0.5, 3)},
    }
    ax = plot_error_vs_n(table, n_all=10_000)
    one, three = ax.lines[0], ax.lines[-1]
    assert list(one.get_xdata()) == [10, 10_000] and list(one.get_ydata()) == [30.0, 20.0]
    assert list(three.get_xdata()) == [10, 10_000]
    assert "'all' = 10000" in ax.get_xlabel()
    assert len(ax.collections) == 1  # error bars for the three-seed curve only
    assert ax.get_title() and ax.get_ylabel()


def test_a_spread_is_printed_only_over_two_or_more_seeds():
    from mlib.claims import mean_spread
    from mlib.experiment import VARIANT_NAMES

    assert mean_spread(12.345, 0.0, 1) == "12.35" and mean_spread(12.345, 0.5, 3) == "12.35 ± 0.50"
    assert VARIANT_NAMES["full"] == "Full (MURAUER)" and "synth_adapt" in VARIANT_NAMES


def test_earlier_seeds_come_back_from_their_result_copies_and_a_missing_one_is_named(tmp_path):
    import pytest

    from benchmarks.lab.ablation import earlier_cells
    from mlib.experiment import load_result

    write_cell_copy(tmp_path, "synth_only", "all", 0, 22.0)
    write_cell_copy(tmp_path, "full", 100, 0, 21.0)
    write_cell_copy(tmp_path, "full", 10, 0, 25.0)
    got = earlier_cells(tmp_path, ["synth_only", "full"], [10, 100], [0])
    assert sorted((r.variant, r.n_labeled, r.test_error_mm) for r in got) == sorted(
        [("synth_only", "all", 22.0), ("full", 100, 21.0), ("full", 10, 25.0)]
    )
    assert got[0].summary["success_rate"][20] == 0.25  # thresholds are ints again, as a fresh cell has them
    with pytest.raises(FileNotFoundError, match="full-n100-seed1"):
        earlier_cells(tmp_path, ["full"], [100], [1])
    (tmp_path / "broken.json").write_text(json.dumps({"variant": "full"}))
    with pytest.raises(ValueError, match="broken.json.*missing"):
        load_result(tmp_path / "broken.json")


def test_every_committed_cell_copy_reads_back():
    from pathlib import Path

    from mlib.experiment import load_result

    folder = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "ablation-laptop-cells"
    copies = sorted(folder.glob("*.json"))
    assert copies, f"{folder} holds no cell copies"
    for path in copies:
        r = load_result(path)
        assert path.stem.startswith(f"{r.variant}-n{r.n_labeled}-")
        assert 5.0 < r.test_error_mm < 100.0 and set(r.summary["success_rate"]) >= {20, 40}


def test_latent_claims_follow_the_seed_means_and_vanish_without_models():
    from mlib.claims import latent_claims

    def stats(probe, dist, mix):
        record = lambda m: {"mean": m, "std": 0.001, "per_seed": {"0": m, "1": m, "2": m}}  # noqa: E731
        return {"probe": record(probe), "median_pair_distance": record(dist), "mixing_tsne": record(mix)}

    only = ["latent_probe", "latent_pair_distance", "latent_tsne"]
    paper_like = {"synth_only": stats(1.0, 9.0, 0.05), "real_synth": stats(0.9, 5.0, 0.2), "full": stats(0.7, 3.0, 0.3)}
    got = latent_claims(paper_like, "laptop", 100, compare_committed=False, only=only)
    assert [c.verdict for c in got] == ["holds"] * 3 and all(c.own_verdict == "holds" for c in got)
    reversed_ = dict(paper_like, full=stats(0.95, 6.0, 0.01))
    assert [c.verdict for c in latent_claims(reversed_, "laptop", 100, compare_committed=False, only=only)] == [
        "does not hold"
    ] * 3
    assert latent_claims({}, "laptop", 100) == []


def test_the_results_table_sets_each_cell_beside_the_papers_value_and_escapes_pipes():
    from benchmarks.lab.ablation import results_markdown

    cell = lambda v, n, m: {"variant": v, "n_labeled": n, "mean_error_mm": m, "std_error_mm": 0.5, "seeds": 3}  # noqa: E731
    report = {
        "preset": "laptop",
        "cells": [cell("distr_match", 100, 24.12), cell("distr_match", "all", 21.07), cell("real_only", 100, 31.3)],
        "claims": [{"shown": "n=100: Real+Synth | Distr. Match beats Real+Synth (24.1 vs 23.9 mm)", "verdict": "does not hold"}],
    }
    text = results_markdown(report)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[1] == "| Real+Synth \\| Distr. Match | 24.12 ± 0.50 (paper 13.6) | 21.07 ± 0.50 (paper 10.0) |"
    assert rows[2] == "| Real only | 31.30 ± 0.50 | – (paper 14.7) |"  # the paper has none at n=100; we none at all
    assert rows[-1] == "| n=100: Real+Synth \\| Distr. Match beats Real+Synth (24.1 vs 23.9 mm) | does not hold |"
    assert all(line.count("|") - line.count("\\|") == len(rows[0].split(" | ")) + 1 for line in rows[:3])


def test_the_latent_table_sets_each_analysed_model_beside_its_grid_cell():
    from benchmarks.lab.ablation import latent_markdown
    from mlib.analysis import LATENT_KEYS

    stat = lambda m: {k: {"mean": m, "std": 0.01, "per_seed": {"0": m, "1": m}} for k in LATENT_KEYS}  # noqa: E731
    report = {
        "cells": [{"variant": "full", "n_labeled": 100, "per_seed_mm": [20.5, 20.1]}],
        "latent_analysis": {
            "n_labeled": 100,
            "seeds": [0, 1],
            "stats": {"full": stat(0.5), "synth_only": stat(0.75)},
            "models_test_error_mm": {"full": {"0": 20.5, "1": 19.87}, "synth_only": {"0": 21.0, "1": 22.0}},
        },
    }
    rows = [line for line in latent_markdown(report) if line.startswith("| ")]
    assert rows[1] == "| Full (MURAUER) | " + " | ".join(["0.500 ± 0.010"] * len(LATENT_KEYS)) + " | 20.50, 19.87 | 20.50, 20.10 |"
    assert rows[2].endswith("| 21.00, 22.00 | – |")  # a model without a grid cell at n=100 in this report
    assert latent_markdown({"cells": [], "latent_analysis": {"n_labeled": 100, "seeds": [], "stats": {}}}) == []
    assert latent_markdown({"cells": []}) == []


def test_cells_from_alone_rebuilds_the_report_from_the_copies_and_trains_nothing(tmp_path, monkeypatch):
    import benchmarks.lab.ablation as ablation

    copies = tmp_path / "copies"
    copies.mkdir()
    errors = {("synth_only", "all"): 22.0, ("full", 10): 25.0, ("full", "all"): 17.0}
    for (v, n), err in errors.items():
        for seed in range(2):
            write_cell_copy(copies, v, n, seed, err + seed)
    trained = []

    class FakeExperiment:
        cfg = train_config("ci")
        train, test, device = range(50), range(10), torch.device("cpu")

        def grid(self, variants, ns, seeds, only_finished=False):
            trained.extend(seeds)
            return []

    monkeypatch.setattr(ablation, "open_from_args", lambda args, run_dir: FakeExperiment())
    out = tmp_path / "out"
    argv = ["--preset", "ci", "--seeds", "2", "--n", "10", "all", "--variants", "synth_only", "full"]
    assert ablation.main([*argv, "--cells-from", str(copies), "--workers", "2", "--out", str(out)]) == 0
    assert trained == []  # no seed of the grid was trained, no worker launched
    report = json.loads((out / "ablation-ci.json").read_text())
    full10 = next(c for c in report["cells"] if c["variant"] == "full" and c["n_labeled"] == 10)
    assert full10["seeds"] == 2 and sorted(full10["per_seed_mm"]) == [25.0, 26.0] and full10["mean_error_mm"] == 25.5
    assert report["latent_analysis"] is None  # no n = 100 in this grid
