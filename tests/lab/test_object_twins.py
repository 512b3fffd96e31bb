"""The regime screen's mechanism runs (arms, λm folders, the paired verdicts) and the object-twin measures."""

import dataclasses
import os
from types import SimpleNamespace

import pytest
import torch

import mlib.evaluate
from benchmarks.lab import object_twins as ot
from benchmarks.lab import regime_screen as rs
from mlib.data.datasets import CropStore
from mlib.evaluate import joint_errors, predict_store
from mlib.experiment import Experiment
from mlib.losses import LossWeights
from mlib.models import Murauer
from mlib.presets import resolve, train_config


def test_a_lambda_m_folder_changes_only_lm_and_shares_the_finished_stage_1(tmp_path):
    cfg = train_config("ci")
    stage1 = tmp_path / "stage1-seed0"
    stage1.mkdir()
    torch.save({"iteration": cfg.stage1_iters}, stage1 / "stage1.pt")
    exp = Experiment("ci", tmp_path, cfg, SimpleNamespace(), SimpleNamespace(), "cpu")
    sub = rs.with_lambda_m(exp, 0.1)
    assert sub.run_dir == tmp_path / "lambda_m-0.1"
    assert sub.cfg.weights == LossWeights(lambda_c=cfg.weights.lambda_c, lambda_g=cfg.weights.lambda_g, lambda_m=0.1)
    assert sub.cfg.weights.lambda_m != cfg.weights.lambda_m
    assert os.path.samefile(sub.stage1_dir() / "stage1.pt", stage1 / "stage1.pt")
    assert rs.mechanisms_key("distractor_1.0", 0.1) == "distractor_1.0 lambda_m=0.1"
    assert rs.mechanisms_key("distractor_1.0", None) == "distractor_1.0"


def test_mechanisms_train_real_synth_first_put_only_the_mechanisms_at_lambda_m_and_judge_them_paired(monkeypatch, tmp_path):
    test_mm = {("synth_only", None): [28.0, 29.0, 30.0], ("real_synth", None): [20.0, 21.0, 22.0],
               ("full", 0.1): [19.0, 20.1, 21.0]}  # fmt: skip
    calls = []

    def cell(self, variant, n):
        lm = None if self.run_dir.name == "distractor_1.0" else float(self.run_dir.name.split("-")[1])
        calls.append((variant, lm, self.cfg.seed))
        mm = test_mm[(variant, lm)][self.cfg.seed]
        summary = {"val_mean": mm - 1.0, "synthetic_frames_mean": 12.0 if variant == "synth_only" else 14.0}
        history = [{"disc_acc": 0.6, "probe": 0.8}, {"disc_acc": 0.7}] if variant == "full" else [{"probe": 0.9}]
        return SimpleNamespace(variant=variant, n_labeled=n, test_error_mm=mm, summary=summary, history=history,
                               seconds=60.0 + self.cfg.seed)  # fmt: skip

    monkeypatch.setattr(Experiment, "cell", cell)
    monkeypatch.setattr(Experiment, "model", lambda self, res: None)
    monkeypatch.setattr(mlib.evaluate, "predict_store", lambda model, store, domain, mapped, device, idx: (store.joints[idx, 0][:, ot.EVAL_JOINTS] + 3.0).numpy())
    cfg = train_config("laptop")
    train = CropStore.random(150, 8)
    monkeypatch.setattr(rs, "candidate_experiment", lambda preset, name, run_dir, data_dir, seed=0: Experiment(
        preset, run_dir / name, dataclasses.replace(cfg, seed=seed), train, SimpleNamespace(), "cpu"))
    monkeypatch.setattr(rs, "commit", lambda: "abc")
    out = rs.mechanisms("laptop", "distractor_1.0", [0, 1, 2], tmp_path, "", arms=("full",), lambda_m=0.1)
    assert calls[:3] == [("synth_only", None, 0), ("real_synth", None, 0), ("full", 0.1, 0)] and len(calls) == 9
    assert list(out["cells"]) == ["synth_only", "real_synth", "full"] and out["lambda_m"] == 0.1
    full = out["cells"]["full"]
    assert full["per_seed_seconds"] == [60.0, 61.0, 62.0] and full["per_seed_h_accuracy"] == [0.7] * 3
    assert full["per_seed_probe"] == [0.8] * 3 and out["cells"]["real_synth"]["per_seed_h_accuracy"] == [None] * 3
    assert full["per_seed_labeled_train_mm"] == pytest.approx([3.0 * 3**0.5] * 3)  # every joint off by (3, 3, 3) mm
    assert out["cells"]["synth_only"]["per_seed_labeled_train_mm"] == [None] * 3
    rooms = {r["variant"]: r for r in out["room"]}
    assert rooms["full"]["onto_stage1"]["per_seed"] == pytest.approx({"0": 12.0 / 19.0, "1": 12.0 / 20.1, "2": 12.0 / 21.0})
    assert out["command"].endswith("--seeds 0 1 2 --arms real_synth full --lambda-m 0.1")
    verdict = out["against_real_synth"]["full"]
    assert verdict["test"]["form"] == "paired" and verdict["test"]["mean"] == pytest.approx((-1.0 - 0.9 - 1.0) / 3)
    assert verdict["verdict"] == "holds"  # every seed about 1 mm lower on both splits
    rows = rs.mechanisms_table({"distractor_1.0 lambda_m=0.1": out}).splitlines()
    assert len(rows) == 4 and rows[2].startswith("| distractor_1.0 lambda_m=0.1 | real_synth | 3 | 21.00 ± 1.00 | 20.00 ± 1.00 |")
    assert rows[3].endswith("| 0.70 ± 0.00 | 0.80 ± 0.00 | 0.60 ± 0.03 | -0.97 / -0.97 | holds | 61 ± 1 |")


def with_real(store: CropStore, real: torch.Tensor, view: torch.Tensor | None = None) -> CropStore:
    """The same frames (labels, renders) with other real crops (and side views)."""
    return CropStore.from_crops(real, store.synth, store.real_view if view is None else view, store.joints)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model = Murauer(resolve("ci").model).eval()
    store = CropStore.random(12, model.cfg.crop_size, seed=1)
    return model, store


def test_twins_are_checked_frame_by_frame_and_report_where_the_object_shows(tiny):
    _, store = tiny
    real = store.real.clone()
    real[3, :4, :4] = 1.0  # an "object" in frame 3 only
    shown = ot.twins_match(with_real(store, real), store)
    assert shown.tolist() == [i == 3 for i in range(12)]
    moved = CropStore.from_crops(store.real, store.synth, store.real_view, seed=2)  # other joints
    with pytest.raises(ValueError, match="labels or crop centres differ"):
        ot.twins_match(moved, store)
    synth = store.synth.clone()
    synth[0] = 0
    with pytest.raises(ValueError, match="renders differ"):
        ot.twins_match(CropStore.from_crops(store.real, synth, store.real_view, store.joints), store)


def test_each_terms_latent_gradient_is_per_frame(tiny):
    model, store = tiny
    idx = torch.arange(6)
    with torch.no_grad():
        z = model.latent(store.images(idx, "real"), real=True)
        z_render = model.latent(store.images(idx, "synth"), real=False)
    weights = LossWeights(lambda_m=0.3)
    for term in ot.terms_of("full"):
        batch = ot.latent_gradient(term, model, z, store, idx, z_render, weights)
        alone = ot.latent_gradient(term, model, z[2:3], store, idx[2:3], z_render[2:3], weights)
        assert batch.shape == z.shape and torch.allclose(batch[2:3], alone, atol=1e-6), term
    # Lm's gradient by hand: λm · h(z) · dh/dz for one frame
    zz = z[:1].clone().requires_grad_(True)
    (dh,) = torch.autograd.grad(model.h(zz).sum(), zz)
    expected = 0.3 * model.h(z[:1]).detach() * dh
    assert torch.allclose(ot.latent_gradient("adv", model, z[:1], store, idx[:1], z_render[:1], weights), expected, atol=1e-7)
    assert ot.terms_of("synth_only") == () and ot.terms_of("real_synth") == ("pose", "corr")
    assert ot.terms_of("distr_match") == ("pose", "corr", "adv") and ot.terms_of("full") == ("pose", "corr", "adv", "view")


def test_the_measures_reproduce_the_evaluation_and_vanish_without_an_object(tiny):
    model, store = tiny
    weights = LossWeights()
    same = ot.measure(model, "full", store, store, torch.ones(12, dtype=torch.bool), weights)
    gt = store.joints[:, 0][:, ot.EVAL_JOINTS].numpy()
    own = joint_errors(predict_store(model, store, "real", True), gt).mean()
    assert same["error_mm"] == pytest.approx(float(own), rel=1e-5) and same["object_cost_mm"] == 0.0
    assert same["median_shift"] == 0.0 and same["h_real_object"] == same["h_real_twin"]
    real, view = store.real.clone(), store.real_view.clone()
    real[:, :8, :8] = view[:, :8, :8] = 1.0
    other = with_real(store, real, view)
    res = ot.measure(model, "full", other, store, ot.twins_match(other, store), weights)
    assert res["median_shift"] > 0 and res["object_cost_mm"] == pytest.approx(res["error_mm"] - res["error_twin_mm"])
    assert -1 <= res["median_cos_adv"] <= 1 and res["frames_object_shown"] == 12
    # g's view on the changed pixels, against the side view with the object and without it
    pred = model.view(model.latent(other.images(torch.arange(12), "real"), real=True), other.centres[:, 0]).detach()
    assert res["g_mae_object_view"] == pytest.approx(float((pred[:, 0, :8, :8] - 1.0).abs().mean()), rel=1e-4)


def test_lambda_m_is_chosen_per_arm_on_validation_at_the_seed_and_drawn(tmp_path):
    def run(lm, full_val, dm_val=None, seeds=(0,)):
        cells = {"real_synth": {"seed_ids": list(seeds), "per_seed_val_mm": [19.5] * len(seeds)},
                 "full": {"seed_ids": list(seeds), "per_seed_val_mm": [full_val] * len(seeds)}}  # fmt: skip
        if dm_val is not None:
            cells["distr_match"] = {"seed_ids": list(seeds), "per_seed_val_mm": [dm_val] * len(seeds)}
        return {"candidate": "distractor_1.0", "lambda_m": lm, "cells": cells}

    runs = {"distractor_1.0": run(None, 19.5, 19.4, (0, 1, 2)), "a": run(0.1, 18.6, 18.8), "b": run(1.0, 19.0, 22.6),
            "c": run(0.01, 19.3), "other": {**run(0.1, 10.0), "candidate": "default"}}  # fmt: skip
    search = rs.lambda_m_search(runs, "distractor_1.0")
    assert search["lambda_m"] == [1e-5, 0.01, 0.1, 1.0]  # the plain run is the preset's λm
    assert search["val_mm"] == {"distr_match": [19.4, None, 18.8, 22.6], "full": [19.5, 19.3, 18.6, 19.0]}
    assert search["chosen"] == {"distr_match": 0.1, "full": 0.1} and search["real_synth_val_mm"] == 19.5
    assert rs.lambda_m_search({"a": runs["a"]}, "distractor_1.0") is None  # one λm: nothing chosen
    rs.plot_lambda_m_search(search, tmp_path / "search.png")
    assert (tmp_path / "search.png").read_bytes()[:4] == b"\x89PNG"
