"""The mechanism lab's report: the from-scratch variants' rate choice and the hypothesis it feeds."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cell(arm: str, seed: int, val: float, test: float) -> dict:
    return {"arm": arm, "variant": arm.split("_lr")[0], "seed": seed, "test_mm": test, "val_mm": val,
            "synthetic_frames_mm": None, "probe_val": 0.9, "h_accuracy": None, "wall_s": 1.0}  # fmt: skip


def test_each_from_scratch_variant_takes_its_lowest_seed0_validation_rate(tmp_path):
    from benchmarks.lab.mechanisms import RATE_GRIDS, rate_choice, report

    vals = {"real_only_lr_1.0": 50.0, "real_only_lr_0.6": 29.0, "real_only": 28.0,
            "real_view": 55.0, "real_view_lr_0.6": 26.0, "real_view_lr_0.3": 28.5}  # fmt: skip
    by_arm = {a: [cell(a, 0, v, v + 1)] for a, v in vals.items()}
    got = rate_choice("laptop", by_arm)
    assert got["real_only"]["chosen"] == "real_only" and got["real_view"]["chosen"] == "real_view_lr_0.6"
    assert got["real_only"]["chosen_scale"] == 0.3 and got["real_view"]["chosen_scale"] == 0.6
    assert [r["stage2_lr_scale"] for r in got["real_view"]["search"]] == [1.0, 0.6, 0.3]
    assert set(got) == set(RATE_GRIDS)
    del by_arm["real_view_lr_0.3"]  # a rate not yet run: no choice
    assert rate_choice("laptop", by_arm)["real_view"]["chosen"] is None
    assert rate_choice("laptop", by_arm)["real_view"]["chosen_scale"] is None

    copies = tmp_path / "mechanisms-laptop-cells"
    copies.mkdir()
    for a, v in vals.items():
        for seed in range(3):
            (copies / f"{a}-seed{seed}.json").write_text(json.dumps(cell(a, seed, v + seed, v + 1 + seed)))
    doc = report("laptop", tmp_path)
    hyp = next(h for h in doc["hypotheses"] if h["name"] == "view_alone_own_rate")
    assert (hyp["arm"], hyp["baseline"]) == ("real_view_lr_0.6", "real_only")
    assert abs(hyp["test"]["diff"] - (27.0 - 29.0)) < 1e-9 and hyp["verdict"] == "helps"
    plain = next(h for h in doc["hypotheses"] if h["name"] == "view_alone_same_rate")  # names an arm: kept
    assert (plain["arm"], plain["baseline"]) == ("real_view_lr_0.3", "real_only")
    assert "| real_view | real_view_lr_0.6 | 0.6 | 26.00 | yes |" in (tmp_path / "mechanisms-laptop.md").read_text()
