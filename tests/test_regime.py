"""The regime report's arithmetic: spreads only over seeds, cell parsing, the adapt folders."""

import os

import pytest

from benchmarks.regime import adapt_experiment, parse_cell, stats


def test_stats_give_a_spread_only_over_two_or_more_seeds():
    assert stats([12.0]) == {"mean": 12.0, "std": None, "per_seed": [12.0]}
    two = stats([10.0, 12.0])
    assert two["mean"] == 11.0 and two["std"] == pytest.approx(1.0) and two["per_seed"] == [10.0, 12.0]


def test_cells_parse_and_unknown_variants_are_refused():
    assert parse_cell("real_only:100") == ("real_only", 100)
    assert parse_cell("synth_adapt") == ("synth_adapt", "all") and parse_cell("real_only:all") == ("real_only", "all")
    with pytest.raises(SystemExit, match="unknown variant"):
        parse_cell("reel_only:100")


def test_the_adapt_search_shares_stage_1_by_hard_links(tmp_path):
    from types import SimpleNamespace

    from mlib.experiment import Experiment
    from mlib.train import train_config

    stage1 = tmp_path / "stage1-seed0"
    stage1.mkdir()
    (stage1 / "stage1.pt").write_bytes(b"weights")
    (stage1 / ".lock").write_text("")
    exp = Experiment("ci", tmp_path, train_config("ci"), SimpleNamespace(), SimpleNamespace(), "cpu")
    sub = adapt_experiment(exp, 0.1, 0)
    assert sub.run_dir == tmp_path / "adapt-x0.1" and sub.cfg.stage2_lr_scale == 0.1
    linked = sub.run_dir / "stage1-seed0" / "stage1.pt"
    assert os.path.samefile(linked, stage1 / "stage1.pt")
    assert not (sub.run_dir / "stage1-seed0" / ".lock").exists()  # each folder keeps its own lock
