"""mlib.claims: verdicts, committed values and formatting of computed claims."""

import json
from pathlib import Path

import pytest

from mlib.claims import Claim, MissingExpected, committed_results, compare, expected, holds


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


def test_shipped_results_match_the_committed_benchmark_results():
    # the package ships copies so that an installed mlib has them; a benchmark rerun updates
    # benchmarks/results/, and the copy in mlib/reference/ must follow
    results = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
    for name in ("ablation-laptop.json", "regime-laptop.json"):
        assert committed_results(name) == json.loads((results / name).read_text()), (
            f"copy benchmarks/results/{name} to mlib/reference/{name}"
        )


def test_a_path_is_read_as_given(tmp_path):
    (tmp_path / "r.json").write_text('{"a": {"b": 2.5}}')
    assert expected("a.b", str(tmp_path / "r.json")) == 2.5
