"""mlib.claims: verdicts, committed values and formatting of computed claims."""

import json
from pathlib import Path

import numpy as np
import pytest

from mlib.claims import Claim, Committed, MissingExpected, committed_results, compare, expected, holds, one_run_noise
from mlib.claims.seeds import critical_t


def test_a_claim_that_holds():
    c = compare("Real frames are harder", "real", 47.1, "synthetic", 41.0, relation=">", preset="ci")
    assert c.holds is True
    assert c.measured == {"real": 47.1, "synthetic": 41.0}
    assert "holds at this preset (ci)" in str(c)
    assert "does not hold" not in str(c)
    assert "(real 47.10 vs synthetic 41.00 mm)" in str(c)


def test_a_claim_that_does_not_hold():
    c = compare("Unlabeled data lowers the error", "Full", 30.2, "Real+Synth", 29.9, relation="<", preset="ci")
    assert c.holds is False
    assert "does not hold at this preset (ci)" in str(c)


def test_factor_and_relations():
    assert holds(13.0, 10.0, ">=", factor=1.3)
    assert not holds(12.9, 10.0, ">=", factor=1.3)
    assert holds(1.0, 1.0, "<=") and not holds(1.0, 1.0, "<")
    assert not holds(float("nan"), 1.0, "<")
    with pytest.raises(ValueError):
        holds(1.0, 2.0, "==")


def test_expected_values_and_their_verdict():
    a = expected("regime.synth_only_on_real_mm", "regime-laptop.json")
    b = expected("regime.synth_only_on_synthetic_mm", "regime-laptop.json")
    raw = committed_results("regime-laptop.json")
    assert a == raw["regime"]["synth_only_on_real_mm"]["mean"]
    c = compare("x", "real", 50.0, "synthetic", 49.0, ">", "ci", expected={"real": a, "synthetic": b})
    assert c.reference_holds is (a > b)
    assert f"the committed laptop results: real {a:.2f} vs synthetic {b:.2f} mm" in str(c)


def test_list_selection_in_key_path():
    v = expected("cells[variant=synth_only,n_labeled=all].mean_error_mm")
    raw = committed_results("ablation-laptop.json")
    want = [c for c in raw["cells"] if c["variant"] == "synth_only" and c["n_labeled"] == "all"][0]
    assert v == want["mean_error_mm"]
    assert expected("cells[0].mean_error_mm") == raw["cells"][0]["mean_error_mm"]


def test_missing_file_or_key_names_both():
    with pytest.raises(MissingExpected) as e:
        expected("regime.nothing_here", "regime-laptop.json")
    assert "regime.nothing_here" in str(e.value) and "regime-laptop.json" in str(e.value)
    with pytest.raises(MissingExpected) as e:
        expected("a.b", "no-such-file-laptop.json")
    assert "no-such-file-laptop.json" in str(e.value) and "a.b" in str(e.value)
    with pytest.raises(MissingExpected):  # matches no element
        expected("cells[variant=nope].mean_error_mm")
    with pytest.raises(MissingExpected):  # not a number
        expected("preset")


def test_spread_only_with_two_or_more_seeds():
    one = Claim("t", True, {"a": 1.0}, None, "ci", seeds=1, spread={"a": 0.0})
    assert "±" not in str(one)
    two = Claim("t", True, {"a": 1.0}, None, "ci", seeds=2, spread={"a": 0.25})
    assert "a 1.00 ± 0.25 mm" in str(two)
    # the committed values are printed without spread
    c = compare("t", "a", 1.0, "b", 2.0, "<", "ci", {"a": 1.5, "b": 2.5}, seeds=3, spread={"a": 0.1, "b": 0.2})
    assert str(c).count("±") == 2


def test_missing_committed_values_are_left_out_not_compared():
    c = compare("t", "a", 1.0, "b", 2.0, "<", "ci", {"a": float("nan"), "b": 3.0})
    assert c.reference_holds is None and c.expected == {"b": 3.0}
    c = compare("t", "a", 1.0, "b", 2.0, "<", "ci", {"a": None, "b": None})
    assert c.expected is None and "committed" not in str(c)


def test_a_difference_inside_the_committed_seeds_is_noise():
    # committed per seed: the differences 0.1, 0.2, 0.5 mm (std 0.208) on the same three seeds
    a = Committed(20.67, 0.66, 3, per_seed={"0": 20.1, "1": 21.4, "2": 20.5})
    b = Committed(20.40, 0.72, 3, per_seed={"0": 20.0, "1": 21.2, "2": 20.0})
    # one new run is judged against t(2) x the committed differences' std (the rule's one-run form)
    assert one_run_noise(a, b) == pytest.approx(2.919986 * 0.208167, abs=1e-4)
    # a one-seed run 0.08 mm apart: the relation holds, yet the verdict is noise
    c = compare("Full beats Real+Synth", "Full", 30.00, "Real+Synth", 30.08, "<", "ci", {"Full": a, "Real+Synth": b})
    assert c.holds is True and c.verdict == "within noise"
    # the committed pair itself, paired: mean 0.27 against the threshold 0.35: noise too
    assert c.reference_verdict == "within noise"
    assert "within noise at this preset (ci)" in str(c) and "noise: ± 0.61 mm" in str(c)
    # a difference larger than the noise is decided by the relation, either way
    assert compare("t", "a", 29.0, "b", 30.08, "<", "ci", {"a": a, "b": b}).verdict == "holds"
    assert compare("t", "a", 31.0, "b", 30.08, "<", "ci", {"a": a, "b": b}).verdict == "does not hold"
    # committed differences that agree on every seed are a real difference in the committed pair
    consistent = Committed(20.5, 0.7, 3, per_seed={"0": 20.1, "1": 21.3, "2": 20.1})
    assert compare("t", "a", 1.0, "b", 2.0, "<", "ci", {"a": consistent, "b": b}).reference_verdict == "does not hold"
    # a committed spread without seeds: unpaired, t(2) x sqrt(s_a^2 + s_b^2)
    assert one_run_noise(Committed(20.0, 0.3, 3), Committed(21.0, 0.4, 3)) == pytest.approx(2.919986 * 0.5, abs=1e-5)
    # no committed spread (one seed, or plain floats): two-way, as before
    assert one_run_noise(20.0, 21.0) is None
    assert compare("t", "a", 30.0, "b", 30.08, "<", "ci", {"a": 20.0, "b": 21.0}).verdict == "holds"


def test_committed_values_carry_their_spread():
    raw = committed_results("ablation-laptop.json")
    cell = [c for c in raw["cells"] if c["variant"] == "full" and c["n_labeled"] == 100][0]
    v = expected("cells[variant=full,n_labeled=100].mean_error_mm")
    assert v == cell["mean_error_mm"] and v.std == cell["std_error_mm"] and v.seeds == cell["seeds"]
    assert v.per_seed == dict(zip(map(str, cell["seed_ids"]), cell["per_seed_mm"]))  # paired by seed name
    r = expected("regime.synth_only_on_real_mm", "regime-laptop.json")
    rec = committed_results("regime-laptop.json")["regime"]
    assert r.std == rec["synth_only_on_real_mm"]["std"] and r.seeds == len(rec["synth_only_on_real_mm"]["per_seed"])
    assert Committed(1.0, 0.3, seeds=1).std is None  # one seed has no spread
def test_shipped_results_match_the_committed_benchmark_results():
    # the package ships copies so that an installed mlib has them; a benchmark rerun updates
    # benchmarks/results/, and the copy in mlib/reference/ must follow
    results = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
    copies = {name: name for name in (
        "ablation-laptop.json", "regime-laptop.json", "mechanisms-laptop.json", "sensor-stats-laptop.json",
        "sensor-stats-laptop-128px.json", "latents-laptop.json",
    )} | {"ablation-laptop-default.json": "ablation-laptop-default/ablation-laptop.json"}  # fmt: skip
    for name, source in copies.items():
        assert committed_results(name) == json.loads((results / source).read_text()), (
            f"copy benchmarks/results/{source} to mlib/reference/{name}"
        )


def test_a_path_is_read_as_given(tmp_path):
    (tmp_path / "r.json").write_text('{"a": {"b": 2.5}}')
    assert expected("a.b", str(tmp_path / "r.json")) == 2.5


def test_a_claim_of_the_book_fills_its_sentence_and_reads_its_committed_values():
    from mlib.claims import BOOK, judge

    c = judge("view_pred_helps", 36.87, 38.54, "ci", n=10)
    assert c.text == "n=10: view prediction lowers the error against Real+Synth" and c.name == "view_pred_helps"
    assert set(c.expected) == {"View Pred.", "Real+Synth"}
    assert c.committed["View Pred."]["source"].endswith("cells[variant=view_pred,n_labeled=10].mean_error_mm")
    vp, rs = (c.committed[k]["per_seed"] for k in ("View Pred.", "Real+Synth"))
    diffs = [vp[s] - rs[s] for s in vp]  # the committed cells' per-seed differences
    assert c.noise == pytest.approx(critical_t(2) * np.std(diffs, ddof=1))
    assert judge("view_pred_helps", 36.87, 38.54, "ci", n=7).expected is None  # the committed grid has no n=7
    assert judge("decoder_same_view", 0.1, 0.2, "ci").expected is None  # a claim without committed values
    for name, d in BOOK.items():  # every definition reads its relation and its committed values
        assert d.relation in ("<", "<=", ">", ">="), name


def test_03s_latent_claims_read_the_committed_seeds_only_where_measured_alike():
    from mlib.claims import judge

    record = committed_results("latents-laptop.json")
    frames = record["parameters"]["n_probe"]
    c = judge("distr_match_probe", 0.80, 0.82, "laptop", n=100, n_probe=frames)
    dm, rs = (record["per_seed"][v] for v in ("distr_match", "real_synth"))
    diffs = [dm[s]["probe"] - rs[s]["probe"] for s in dm]  # paired by seed
    assert c.noise == pytest.approx(critical_t(len(diffs) - 1) * np.std(diffs, ddof=1))
    assert c.text.endswith(f"({frames} test frames per domain)")
    other = judge("distr_match_probe", 0.80, 0.82, "laptop", n=100, n_probe=frames // 4)  # another measure
    assert other.expected is None and other.verdict == "no verdict"
    assert judge("distr_match_probe", 0.80, 0.82, "laptop", n=10, n_probe=frames).expected is None
    h = judge("h_weaker_than_probe", 0.70, 0.80, "laptop", n=100, n_probe=frames)
    assert set(h.expected) == {"h at the end", "probe"} and h.noise is not None


def test_a_record_carries_what_the_verdict_was_decided_on():
    from mlib.claims import judge

    r = judge("full_helps", 35.87, 36.05, "ci", n=100).record()
    assert r["verdict"] == "within noise" and r["reference_verdict"] == "within noise"
    assert r["difference"] == pytest.approx(35.87 - 36.05) and abs(r["difference"]) <= r["noise"]
    assert r["shown"] == (
        "With the same 100 labels, the unlabeled real frames lower the error (Full below Real+Synth) "
        "(Full 35.87 vs Real+Synth 36.05 mm)"
    )
    assert json.loads(json.dumps(r)) == r  # plain data


def test_a_table_of_claims_shows_one_row_per_claim():
    from mlib.claims import ClaimTable, judge

    t = ClaimTable([judge("full_helps", 35.87, 36.05, "ci", n=100), judge("full_beats_mean_pose", 35.9, 57.3, "ci")])
    rows = t._repr_markdown_().splitlines()
    assert len(rows) == 4 and rows[2].startswith("| ≈ |") and rows[3].startswith("| ✔ |")
    spread = one_run_noise(expected("cells[variant=full,n_labeled=100].mean_error_mm"),
                           expected("cells[variant=real_synth,n_labeled=100].mean_error_mm"))  # fmt: skip
    assert "no counterpart" in rows[3] and f"noise ± {spread:.2f} mm" in rows[2]
    assert str(t).count("\n") == 1 and [r["name"] for r in t.records()] == ["full_helps", "full_beats_mean_pose"]


def test_a_grid_judged_alone_takes_its_own_seeds_paired():
    # seed 1 is worse for both arms: unpaired the 0.3 mm would be noise, paired it is consistent
    a = Committed(20.0, 0.5, 3, per_seed={"0": 19.7, "1": 20.6, "2": 19.7})
    b = Committed(20.3, 0.5, 3, per_seed={"0": 20.0, "1": 20.9, "2": 20.0})
    c = compare("t", "a", a, "b", b, "<", "laptop")
    assert c.verdict == "holds" and c.expected is None and c.noise is None
    noisy = Committed(20.3, 0.5, 3, per_seed={"0": 20.5, "1": 20.3, "2": 20.1})
    assert compare("t", "a", a, "b", noisy, "<", "laptop").verdict == "within noise"
