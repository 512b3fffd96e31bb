"""A series' claims table judged again by today's book: its numbers kept, its verdicts recomputed."""

from benchmarks.lab.series_claims import parse, rejudge, rows
from mlib.claims import judge

HEAD = "| notebook | cell | claim | verdict here | committed laptop results |\n|---|---|---|---|---|\n"


def test_a_table_is_judged_again_and_a_retired_claim_is_marked():
    shown = "Both models beat the mean training pose (Full 16.91 vs mean pose 57.53 mm)"
    retired = "A claim the book never had (a 1.00 vs b 2.00 mm)"
    table = HEAD + f"| 04_murauer.ipynb | 5 | {shown} | does not hold (laptop) | no counterpart |\n"
    table += f"| 05_ablations.ipynb | 11 | {retired} | holds (laptop) | holds |\n\n1 of 2 claims hold at this preset, 0 within noise, 1 do not hold.\n"
    text, changed = rejudge(table)
    assert parse(shown)[0] == "full_beats_mean_pose"
    assert judge("full_beats_mean_pose", 16.91, 57.53, "laptop").verdict == "holds"
    assert rows(text) == [{"notebook": "04_murauer.ipynb", "shown": shown, "verdict": "holds", "preset": "laptop"}]
    assert "retired" in text and len(changed) == 2
    assert text.rstrip().endswith("1 of 1 claims hold at this preset, 0 within noise, 0 do not hold, 0 give no verdict (one seed, no committed spread).")
    again, changed = rejudge(text)  # a table judged twice: the retired row stays as it is
    assert again == text and changed == []


def test_a_difference_one_seed_cannot_decide_gets_no_verdict_and_is_counted():
    shown = ("Distr. Match mixes the domains better among 10 neighbours (500 test frames per domain) "
             "(Distr. Match 0.539 vs Real+Synth 0.541)")
    claim = judge("distr_match_mixing", 0.539, 0.541, "laptop", knn_k=10, n_probe=500)  # not the committed measure
    assert claim.verdict == "no verdict" and "–" in claim._repr_markdown_()
    assert claim.shown == shown
    table = HEAD + f"| 03_distribution_matching.ipynb | 13 | {shown} | no verdict (laptop) | no counterpart |\n"
    text, changed = rejudge(table + "\n0 of 1 claims hold at this preset, 0 within noise, 0 do not hold.\n")
    assert rows(text)[0]["verdict"] == "no verdict" and changed == []
    assert "1 give no verdict" in text
