"""Pages whose numbers come from committed records. A template's fields `{{source:path/to/value|format}}`
are filled from JSON records, so a sentence and the number it states cannot drift apart:

    fill("Real+Synth: {{lab:arms/real_synth/test_mm}} mm", {"lab": record})   # 'Real+Synth: 16.95 ± 0.25 mm'

A path walks dict keys (and list indices) separated by '/', so keys may hold dots ("real_view_lr_0.3").
Formats: a number of digits (default 2); '+' a signed difference (2 digits); '%' a share as a whole
percentage. A {"mean", "std"} value prints as "mean ± std", or the mean alone with format 'mean'.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

FIELD = re.compile(r"\{\{(\w+):([^|}]+)(?:\|([^}]*))?\}\}")


class RecordFieldError(KeyError):
    """A template field whose source or path the records do not have."""

    def __str__(self) -> str:
        return str(self.args[0])


def lookup(record: Any, path: str) -> Any:
    """The value at a '/'-separated path of dict keys and list indices."""
    value = record
    for key in path.strip("/").split("/"):
        if isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            raise RecordFieldError(f"no {key!r} at {path!r}")
    return value


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

    def one(match: re.Match) -> str:
        source, path, fmt = match.groups()
        if source not in sources:
            raise RecordFieldError(f"field {match.group(0)}: no record named {source!r} (have {sorted(sources)})")
        try:
            return format_value(lookup(sources[source], path), fmt)
        except RecordFieldError as err:
            raise RecordFieldError(f"field {match.group(0)}: {err}") from None

    return FIELD.sub(one, template)


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
