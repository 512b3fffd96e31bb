"""Pages whose numbers come from committed records: a Jinja template whose fields are values of JSON
records, so a sentence and the number it states cannot drift apart:

    fill("Real+Synth: {{ lab.arms.real_synth.test_mm | f }} mm", {"lab": record})  # 'Real+Synth: 16.95 ± 0.25 mm'

A key that is not a name is written in brackets (`lab.arms["real_view_lr_0.3"]`). The filter `f`
formats a value: `f` (2 digits), `f(1)` (a number of digits), `f("+")` a signed difference (2 digits),
`f("%")` a share as a whole percentage; a {"mean", "std"} value prints as "mean ± std", or the mean
alone with `f("mean")`. A field the records lack is an error naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2


class RecordFieldError(KeyError):
    """A template field whose source or path the records do not have."""

    def __str__(self) -> str:
        return str(self.args[0])


def format_value(value: Any, fmt: str | None) -> str:
    """A record's value as a page prints it (see the module's formats)."""
    fmt = (fmt or "").strip()
    if isinstance(value, dict) and "mean" in value:
        if fmt == "mean" or value.get("std") is None:
            return format_value(value["mean"], None if fmt == "mean" else fmt)
        digits = int(fmt) if fmt.isdigit() else 2
        return f"{value['mean']:.{digits}f} ± {value['std']:.{digits}f}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if fmt == "+":
        return f"{value:+.2f}"
    if fmt == "%":
        return f"{100 * value:.0f} %"
    return f"{value:.{int(fmt) if fmt.isdigit() else 2}f}"


def fill(template: str, sources: dict[str, Any]) -> str:
    """The template with every field replaced by its formatted value; a field the records lack raises
    RecordFieldError naming it."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    env.filters["f"] = lambda value, fmt=None: format_value(value, None if fmt is None else str(fmt))
    try:
        return env.from_string(template).render(**sources)
    except jinja2.UndefinedError as err:
        raise RecordFieldError(f"a field of the template has no value in the records: {err}") from None


def lab_sources(lab: dict, regime: dict, budget: dict | None = None) -> dict[str, Any]:
    """The records a page on the mechanism lab reads: the lab's record (`lab`), its hypotheses by name
    (`hyp`), the from-scratch runs' training dynamics by arm and seed (`dyn`, e.g. "real_view-seed0"),
    the regime record (`regime`) and the stage-1 budget record's rows by iteration count (`budget`,
    e.g. "32000")."""
    return {
        "lab": lab,
        "hyp": {h["name"]: h for h in lab["hypotheses"]},
        "dyn": {f"{r['arm']}-seed{r['seed']}": r for r in lab.get("dynamics", [])},
        "regime": regime,
        "budget": {str(r["stage1_iters"]): r for r in (budget or {}).get("rows", [])},
    }


def replace_block(path: Path, start: str, end: str, text: str) -> None:
    """Replace what lies between the markers `start` and `end` of the file at `path` with `text`, the
    markers kept; a file without both markers is an error naming them."""
    page = path.read_text()
    if start not in page or end not in page:
        raise SystemExit(f"{path}: no '{start}' ... '{end}' block to fill")
    head, rest = page.split(start, 1)
    path.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}")
