"""Shipped stage-1 weights: written small, found only for the configuration and renders they fit."""

import dataclasses
import json

import torch
from test_train import fake_store

from mlib.cells import build_model, pretrain
from mlib.checkpoint import load_trained_model, start_from_pretrained
from mlib.presets import model_config, train_config
from mlib.pretrained import export_stage1, find_stage1, renders_fingerprint, stage1_file
from mlib.train import Run, TrainData


def stage1(cfg, mcfg, store, folder):
    """Stage 1 of these settings in `folder` (or the shipped file they match)."""
    return pretrain(Run("synth_only", "all", cfg, mcfg, folder), TrainData(store), torch.device("cpu"), progress=False)


def shipped(tmp_path, store, cfg, mcfg):
    ckpt = stage1(cfg, mcfg, store, tmp_path / "run")
    errors = {"val_real_mm": 1.0}
    path = export_stage1(ckpt, tmp_path / "ship", "ci", cfg.seed, errors, "cmd", "abc", renders_fingerprint(store))
    return ckpt, path


def test_export_keeps_f_and_p_in_float16_with_provenance_and_predicts_like_the_original(tmp_path):
    store, mcfg = fake_store(), model_config("ci")
    cfg = train_config("ci", stage1_iters=4, log_every=2, eval_every=0, ckpt_every=100, use_shipped_stage1=False)
    ckpt, path = shipped(tmp_path, store, cfg, mcfg)
    assert path == stage1_file("ci", 0, tmp_path / "ship")
    saved = torch.load(path, weights_only=True)
    assert {k.split(".")[0] for k in saved["model"]} == {"f", "p"}
    assert all(v.dtype == torch.float16 for v in saved["model"].values() if v.is_floating_point())
    assert saved["command"] == "cmd" and json.loads(saved["errors_mm"]) == {"val_real_mm": 1.0}
    assert path.stat().st_size < 0.6 * ckpt.stat().st_size  # no optimiser state, no m, h, g, half precision
    x = store.images(torch.arange(8), "synth")
    full, small = load_trained_model(ckpt), load_trained_model(path)
    with torch.no_grad():
        assert torch.allclose(full(x, real=False), small(x, real=False), atol=2e-2)


def test_found_only_for_the_same_settings_model_and_renders(tmp_path):
    store, mcfg = fake_store(), model_config("ci")
    cfg = train_config("ci", stage1_iters=4, log_every=2, eval_every=0, ckpt_every=100)
    _, path = shipped(tmp_path, store, dataclasses.replace(cfg, use_shipped_stage1=False), mcfg)
    folder = tmp_path / "ship"
    assert find_stage1(cfg, mcfg, store, folder) == path
    # stage-2 settings and the modules stage 2 builds fresh do not matter
    assert find_stage1(dataclasses.replace(cfg, stage2_iters=99, view_set=4), mcfg, store, folder) == path
    assert find_stage1(cfg, model_config("ci", view_input="pose_hidden"), store, folder) == path
    # what shapes stage 1 does
    assert find_stage1(dataclasses.replace(cfg, stage1_iters=5), mcfg, store, folder) is None
    assert find_stage1(dataclasses.replace(cfg, seed=1), mcfg, store, folder) is None
    assert find_stage1(cfg, model_config("ci", latent_dim=32), store, folder) is None
    other = fake_store(seed=1)
    assert renders_fingerprint(other) != renders_fingerprint(store)
    assert find_stage1(cfg, mcfg, other, folder) is None
    # the real domain does not enter the fingerprint
    changed_real = dataclasses.replace(store, real=store.real.flip(-1).clone())
    assert find_stage1(cfg, mcfg, changed_real, folder) == path


def test_pretrain_starts_from_the_shipped_file_unless_told_otherwise(tmp_path, monkeypatch):
    store, mcfg = fake_store(), model_config("ci")
    cfg = train_config("ci", stage1_iters=4, log_every=2, eval_every=0, ckpt_every=100)
    _, path = shipped(tmp_path, store, dataclasses.replace(cfg, use_shipped_stage1=False), mcfg)
    monkeypatch.setattr("mlib.pretrained.shipped_dir", lambda: tmp_path / "ship")
    run = tmp_path / "cell"
    assert stage1(cfg, mcfg, store, run) == path
    assert not (run / "stage1.pt").exists()
    own = stage1(dataclasses.replace(cfg, use_shipped_stage1=False), mcfg, store, run)
    assert own == run / "stage1.pt" and own.exists()


def test_a_cell_from_a_shipped_file_has_a_history_whose_rows_name_their_stage(tmp_path):
    """The shipped file keeps a few history columns; a cell started from it still tells stage 1 from stage 2."""
    store, mcfg = fake_store(), model_config("ci")
    cfg = train_config("ci", stage1_iters=4, log_every=2, eval_every=0, ckpt_every=100, use_shipped_stage1=False)
    _, path = shipped(tmp_path, store, cfg, mcfg)
    model, _ = build_model(mcfg, cfg.seed, torch.device("cpu"))
    history = start_from_pretrained(model, path, torch.device("cpu"))
    assert [r["iteration"] for r in history] == [2, 4] and {r["stage"] for r in history} == {1}


# ----------------------------------------------------------------------------- shipped stage-2 models


def test_a_shipped_stage2_model_is_found_only_for_the_run_that_made_it_and_predicts_like_it(tmp_path, monkeypatch):
    from mlib.cells import comparison_cell, train_variant
    from mlib.data.datasets import Splits
    from mlib.pretrained import data_fingerprint, export_stage2, find_stage2, stage2_file, weights_digest

    store, mcfg = fake_store(), model_config("ci")
    cfg = train_config("ci", "real_synth", stage1_iters=4, stage2_iters=4, log_every=2, eval_every=0, ckpt_every=100,
                       use_shipped_stage1=False)  # fmt: skip
    run = Run("real_synth", 20, cfg, mcfg, tmp_path / "cell")
    splits, cpu = Splits(store, store, store), torch.device("cpu")
    res = train_variant(run, splits, cpu, progress=False)
    folder = tmp_path / "ship"
    stage1 = weights_digest(tmp_path / "cell" / "stage1.pt")
    path = export_stage2(res.checkpoint, stage2_file("ci", "real_synth", 20, 0, folder), run, {"test_real_mm": 1.0},
                         "cmd", "abc", data_fingerprint(store), stage1, False)  # fmt: skip
    saved = torch.load(path, weights_only=True)
    assert {k.split(".")[0] for k in saved["model"]} == {"f", "p", "m"}
    assert all(v.dtype == torch.float16 for v in saved["model"].values() if v.is_floating_point())
    assert find_stage2(run, store, stage1, False, folder) == path
    # any other setting, n, variant, stage 1, autocast, or either domain's crops: not this model
    assert find_stage2(dataclasses.replace(run, train=dataclasses.replace(cfg, stage2_iters=5)), store, stage1, False, folder) is None
    assert find_stage2(dataclasses.replace(run, n_labeled=10), store, stage1, False, folder) is None
    assert find_stage2(run, store, "another stage 1", False, folder) is None
    assert find_stage2(run, store, stage1, True, folder) is None
    changed_real = dataclasses.replace(store, real=store.real.flip(-1).clone())
    assert data_fingerprint(changed_real) != data_fingerprint(store)
    assert find_stage2(run, changed_real, stage1, False, folder) is None
    # a notebook's comparison loads it (and scores it like the trained cell), or trains when told to
    monkeypatch.setattr("mlib.pretrained.shipped_dir", lambda: folder)
    other = dataclasses.replace(run, out_dir=tmp_path / "elsewhere")
    # its stage 1 is the one the shipped model started from (a copy of the folder that trained it)
    (tmp_path / "s1").mkdir()
    (tmp_path / "s1" / "stage1.pt").write_bytes((tmp_path / "cell" / "stage1.pt").read_bytes())
    loaded = comparison_cell(other, splits, cpu, tmp_path / "s1", progress=False)
    assert loaded.checkpoint == str(path) and not (tmp_path / "elsewhere").exists()
    assert loaded.out_dir == str(other.out_dir)  # named like the cell it stands for (grid_cells reads its seed)
    assert abs(loaded.test_error_mm - res.test_error_mm) < 0.05 * res.test_error_mm
    trained = comparison_cell(other, splits, cpu, tmp_path / "s1", shipped=False, progress=False)
    assert trained.checkpoint == str(tmp_path / "elsewhere" / "stage2.pt")
    assert trained.test_error_mm == res.test_error_mm  # the same run, trained again: the same model
