"""The regime report's arithmetic: spreads only over seeds, cell parsing, the rate-scale folders and search."""

import os
from pathlib import Path

import pytest

from benchmarks.lab.regime import choose_scale, parse_cell, parse_scales, scaled_experiment
from mlib.claims import seed_stats as stats

ROOT = Path(__file__).resolve().parents[2]


def test_stats_give_a_spread_only_over_two_or_more_seeds():
    assert stats([12.0]) == {"mean": 12.0, "std": None, "per_seed": [12.0]}
    two = stats([10.0, 12.0])
    assert two["mean"] == 11.0 and two["std"] == pytest.approx(2**0.5) and two["per_seed"] == [10.0, 12.0]


def test_cells_parse_and_unknown_variants_are_refused():
    assert parse_cell("real_only:100") == ("real_only", 100)
    assert parse_cell("synth_adapt") == ("synth_adapt", "all") and parse_cell("real_only:all") == ("real_only", "all")
    with pytest.raises(SystemExit, match="unknown variant"):
        parse_cell("reel_only:100")


def test_a_scaled_folder_shares_stage_1_by_hard_links(tmp_path):
    from types import SimpleNamespace

    from mlib.experiment import Experiment
    from mlib.presets import train_config

    stage1 = tmp_path / "stage1-seed0"
    stage1.mkdir()
    import torch

    cfg = train_config("ci")
    torch.save({"iteration": cfg.stage1_iters - 1}, stage1 / "stage1.pt")  # still training
    (stage1 / ".lock").write_text("")
    exp = Experiment("ci", tmp_path, cfg, SimpleNamespace(), SimpleNamespace(), "cpu")
    assert not (scaled_experiment(exp, 0.1, 0).run_dir / "stage1-seed0" / "stage1.pt").exists()
    torch.save({"iteration": cfg.stage1_iters}, stage1 / "stage1.pt")  # finished
    assert scaled_experiment(exp, 1.0, 0).run_dir == tmp_path  # scale 1 is the folder itself
    sub = scaled_experiment(exp, 0.1, 0)
    assert sub.run_dir == tmp_path / "x0.1" and sub.cfg.stage2_lr_scale == 0.1
    linked = sub.run_dir / "stage1-seed0" / "stage1.pt"
    assert os.path.samefile(linked, stage1 / "stage1.pt")
    assert not (sub.run_dir / "stage1-seed0" / ".lock").exists()  # each folder keeps its own lock


def test_each_variant_chooses_its_scale_on_validation_and_the_defaults_can_be_overridden(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from mlib.experiment import Experiment
    from mlib.presets import train_config

    val = {1.0: 30.0, 0.3: 28.5}
    monkeypatch.setattr(
        Experiment, "cell", lambda self, v, n: SimpleNamespace(summary={"val_mean": val[self.cfg.stage2_lr_scale]})
    )
    exp = Experiment("ci", tmp_path, train_config("ci"), SimpleNamespace(), SimpleNamespace(), "cpu")
    best, rows = choose_scale(exp, "real_only", [1.0, 0.3], train=True)
    assert best == 0.3 and [r["val_real_mm"] for r in rows] == [30.0, 28.5] and rows[0]["cell"] == "real_only:100"
    assert choose_scale(exp, "real_only", [1.0], train=True) == (1.0, [])
    assert choose_scale(exp, "real_only", [1.0, 0.3], train=False) == (1.0, [])  # nothing finished: no search
    assert parse_scales(["real_view=1,0.1"])["real_view"] == [1.0, 0.1]
    assert parse_scales([])["synth_adapt"] == [1.0, 0.1]
    with pytest.raises(SystemExit, match="VARIANT=S1,S2"):
        parse_scales(["synth_only=1,0.3"])


def test_the_presets_stage2_scales_are_the_ones_the_committed_search_chose():
    import json

    from mlib.presets import STAGE2_LR_SCALES

    doc = json.loads((ROOT / "benchmarks" / "results" / "regime-laptop.json").read_text())
    search = doc["stage2_lr_scale_search"]
    chosen = {v: search["chosen_stage2_lr_scale"][v] for v in search["search"]}  # variants that had a search
    assert STAGE2_LR_SCALES["laptop"] == chosen
    for variant, rows in search["search"].items():  # each choice is its search's lowest validation error
        assert chosen[variant] == min(rows, key=lambda r: r["val_real_mm"])["stage2_lr_scale"]


def test_a_variant_runs_at_its_validated_scale_unless_told_otherwise(monkeypatch):
    from mlib import presets
    from mlib.presets import for_variant, resolve, train_config

    monkeypatch.setitem(presets.STAGE2_LR_SCALES, "ci", {"real_only": 0.3})
    cfg = train_config("ci")
    assert cfg.stage2_lr_scale is None
    assert for_variant("ci", cfg, "real_only").stage2_lr_scale == 0.3
    assert for_variant("ci", cfg, "full").stage2_lr_scale == 1.0  # no choice recorded: the base rate
    assert for_variant("ci", train_config("ci", stage2_lr_scale=0.1), "real_only").stage2_lr_scale == 0.1
    assert resolve("ci", variant="real_only").train.stage2_lr_scale == 0.3
    assert resolve("ci", variant="real_only", train={"stage2_lr_scale": 0.1}).train.stage2_lr_scale == 0.1
    assert resolve("laptop", variant="full").train.stage2_lr_scale == 0.3  # applied, not looked up later
    with pytest.raises(ValueError, match="unknown variant"):
        resolve("ci", variant="fulll")


def test_the_lambda_g_search_reads_each_weights_folder_and_chooses_on_validation(tmp_path):
    import json
    from types import SimpleNamespace

    from benchmarks.lab.regime import lambda_g_search
    from mlib.experiment import Experiment
    from mlib.presets import train_config

    cfg = train_config("ci")
    exp = Experiment("ci", tmp_path / "main" / f"lr-{cfg.base_lr:g}", cfg, SimpleNamespace(), SimpleNamespace(), "cpu")

    def finished(folder, val):
        (folder / "real_view-n100-seed0").mkdir(parents=True)
        (folder / "real_view-n100-seed0" / "result.json").write_text(json.dumps({"summary": {"val_mean": val}}))

    finished(exp.run_dir, 28.9)  # the preset's weight, at real_view's chosen scale 1
    finished(tmp_path / "lg3" / f"lr-{cfg.base_lr:g}", 29.4)
    out = lambda_g_search(exp, [f"3e-4={tmp_path / 'lg3'}"], {"real_view": 1.0})
    assert out["chosen_lambda_g"] == cfg.weights.lambda_g
    assert [r["val_real_mm"] for r in out["search"]] == [28.9, 29.4] and out["search"][1]["lambda_g"] == 3e-4
    assert lambda_g_search(exp, [], {"real_view": 1.0}) == {}  # no search given, nothing claimed
    with pytest.raises(SystemExit, match="missing"):
        lambda_g_search(exp, [f"1e-3={tmp_path / 'nowhere'}"], {"real_view": 1.0})


def test_a_search_this_run_did_not_make_is_carried_over_with_its_commit(tmp_path):
    import json

    from benchmarks.lab.regime import with_committed_lambda_g, with_committed_searches

    committed = tmp_path / "regime-laptop.json"
    old_rows = [{"stage2_lr_scale": 0.3, "val_real_mm": 19.0}, {"stage2_lr_scale": 0.1, "val_real_mm": 20.0}]
    committed.write_text(json.dumps({
        "commit": "abc",
        "stage2_lr_scale_search": {"chosen_stage2_lr_scale": {"full": 0.3, "real_only": 1.0},
                                   "search": {"full": old_rows, "real_only": [{"stage2_lr_scale": 1.0}]}},
        "lambda_g_search": {"chosen_lambda_g": 1e-4, "search": [{"lambda_g": 1e-4}]},
    }))  # fmt: skip
    new = {"chosen_stage2_lr_scale": {"real_only": 0.3}, "search": {"real_only": [{"stage2_lr_scale": 0.3}]}}
    got = with_committed_searches(new, committed)
    assert got["search"]["real_only"] == [{"stage2_lr_scale": 0.3}]  # this run's search wins
    assert got["search"]["full"] == old_rows and got["chosen_stage2_lr_scale"] == {"real_only": 0.3, "full": 0.3}
    assert got["carried_over"] == {"full": "abc"} and "carried_over" not in new
    committed.write_text(json.dumps({"commit": "def", "stage2_lr_scale_search": got}))
    assert with_committed_searches(new, committed)["carried_over"] == {"full": "abc"}  # the first commit stays
    assert with_committed_searches(new, tmp_path / "none.json") == new
    committed.write_text(json.dumps({"commit": "abc", "lambda_g_search": {"chosen_lambda_g": 1e-4, "search": []}}))
    assert with_committed_lambda_g({}, committed)["commit"] == "abc"
    assert with_committed_lambda_g({"chosen_lambda_g": 3e-4}, committed) == {"chosen_lambda_g": 3e-4}


def test_the_regime_screen_reads_each_hypothesis_measures_on_a_split_and_judges_its_criteria():
    from benchmarks.lab.regime_screen import CANDIDATES, CRITERIA, judged

    def cell(real, render=None):
        return {"val_real_mm": real, "test_real_mm": real + 1} | ({"val_render_mm": render, "test_render_mm": render + 1} if render else {})

    default = {"candidate": "default", "hypothesis": 3,
               "cells": {"synth_only:all": cell(16.0, 12.5), "real_synth:1000": cell(14.0, 13.5), "real_only:all": cell(14.5)}}
    near = {"candidate": "distractor_1.0", "hypothesis": 3,
            "cells": {"synth_only:all": cell(26.0, 12.5), "real_synth:1000": cell(17.0, 13.6), "real_only:all": cell(19.0)}}
    wide = {"candidate": "paper_widths_1block", "hypothesis": 2,
            "cells": {"synth_only:all": cell(17.0, 11.0), "real_only:1000": cell(21.0)}}
    rows = {r["candidate"]: r for r in judged({"default": default, "distractor_1.0": near, "paper_widths_1block": wide})}
    assert list(rows) == [k for k in CANDIDATES if k in rows]  # the candidates' own order
    assert rows["distractor_1.0"]["val"] == pytest.approx({"real_synth_1000_real_over_render": 17.0 / 13.6,
                                                           "synth_only_over_real_only_all": 26.0 / 19.0})  # fmt: skip
    assert rows["distractor_1.0"]["passes_on_val"] is True  # 1.25 >= 1.2 and 1.37 >= 1.3
    assert rows["paper_widths_1block"]["val"] == {"real_only_1000_over_synth_only": 21.0 / 17.0,
                                                  "synth_only_render_below_default": True}  # fmt: skip
    assert rows["paper_widths_1block"]["passes_on_val"] is True and set(CRITERIA[2]) <= set(rows["paper_widths_1block"]["val"])
    assert "passes_on_val" not in rows["default"]  # the reference is not a candidate
    from benchmarks.lab.regime_screen import table

    lines = table(list(rows.values())).splitlines()
    assert lines[2].startswith("| default | 3 | 16.00 / 12.50 | 14.00 | 14.50 | – | 1.04 (1.03) |") and lines[2].endswith("| reference |")
    assert "| 1.25 (1.23) | 1.37 (1.35) | – | yes |" in lines[3]
    near["cells"]["real_synth:1000"] = cell(15.0, 13.6)  # labels close the gap: 1.10 < 1.2
    assert judged({"distractor_1.0": near})[0]["passes_on_val"] is False
