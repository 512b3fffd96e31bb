"""Pages filled from committed records: the fields, their formats, and the committed page itself."""

import json
from pathlib import Path

import pytest

from benchmarks.lab.record import RecordFieldError, fill, lab_sources

RECORD = {
    "arms": {"real_view_lr_0.3": {"test_mm": {"mean": 28.944, "std": 0.436}, "probe_val": {"mean": 0.9861, "std": None}}},
    "hypotheses": [{"test": {"diff": -0.4167}, "verdict": "within noise"}],
    "share": 0.0512,
}


def test_fields_are_filled_with_their_formats():
    arm = 'lab.arms["real_view_lr_0.3"]'
    page = fill(
        f"a {{{{ {arm}.test_mm | f }}}} b {{{{ {arm}.test_mm | f(1) }}}} c {{{{ {arm}.test_mm | f('mean') }}}} "
        "d {{ lab.hypotheses[0].test.diff | f('+') }} e {{ lab.hypotheses[0].verdict | f }} "
        f"f {{{{ lab.share | f('%') }}}} g {{{{ {arm}.probe_val | f(3) }}}}",
        {"lab": RECORD},
    )
    assert page == "a 28.94 ± 0.44 b 28.9 ± 0.4 c 28.94 d -0.42 e within noise f 5 % g 0.986"


def test_a_field_the_records_lack_names_itself():
    with pytest.raises(RecordFieldError, match="'full'"):
        fill("{{ lab.arms.full.test_mm | f }}", {"lab": RECORD})
    with pytest.raises(RecordFieldError, match="'regime'"):
        fill("{{ regime.share | f }}", {"lab": RECORD})
    assert fill("no fields, {braces} stay", {}) == "no fields, {braces} stay"


def test_the_committed_why_page_is_its_template_filled_from_the_committed_records():
    root = Path(__file__).resolve().parents[2]
    template = root / "benchmarks/lab/templates/mechanisms-at-laptop.md"
    if not template.is_file():
        pytest.skip(f"{template} not found: run from a checkout of the repository")
    lab = json.loads((root / "benchmarks/results/mechanisms-laptop.json").read_text())
    regime = json.loads((root / "benchmarks/results/regime-laptop.json").read_text())
    budget = json.loads((root / "benchmarks/results/stage1-budget-laptop.json").read_text())
    page = fill(template.read_text(), lab_sources(lab, regime, budget))
    committed = (root / "benchmarks/results/mechanisms-at-laptop.md").read_text()
    assert committed == page, "benchmarks/results/mechanisms-at-laptop.md is stale: run python -m benchmarks.lab.mechanisms --report --why"


def test_replace_block_keeps_the_markers_and_everything_around_them(tmp_path):
    import pytest

    from benchmarks.lab.record import replace_block

    page = tmp_path / "README.md"
    page.write_text("intro\n<!-- a -->\nold\nlines\n<!-- b -->\noutro\n")
    replace_block(page, "<!-- a -->", "<!-- b -->", "new")
    assert page.read_text() == "intro\n<!-- a -->\nnew\n<!-- b -->\noutro\n"
    replace_block(page, "<!-- a -->", "<!-- b -->", "new")  # idempotent
    assert page.read_text() == "intro\n<!-- a -->\nnew\n<!-- b -->\noutro\n"
    with pytest.raises(SystemExit, match="no '<!-- c -->'"):
        replace_block(page, "<!-- c -->", "<!-- b -->", "x")
