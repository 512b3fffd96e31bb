"""A series' claims table (`mlib.series` writes it from the executed notebooks) read back through the
claim definitions of `mlib.claims.book`, and judged again by today's rule and committed records:

    python -m benchmarks.lab.series_claims benchmarks/results/series-laptop-claims.md

rewrites the table's two verdict columns (the run's own numbers, printed in each sentence, stay as
they were) and lists the rows whose verdict changed. A row whose claim the book no longer defines is
kept and marked retired.
"""

from __future__ import annotations

import argparse
import re
import string
import sys
from pathlib import Path

from mlib.atomic import write_text
from mlib.claims import BOOK, judge
from mlib.claims.rules import VERDICTS
from mlib.experiment import VARIANT_NAMES
from mlib.series import claims_summary

N_LABELED = 100  # the notebooks' n_labeled: the n of the claims whose sentence does not say it
NUMBER = r"-?[0-9.]+(?: ± [0-9.]+)?"
VERDICT = re.compile(rf"({'|'.join(VERDICTS)}) \((.+)\)")


def template(text: str, seen: set) -> str:
    """A format string as a regex whose groups are its parameters (one named twice matches the same text)."""
    out = ""
    for literal, field, _, _ in string.Formatter().parse(text):
        out += re.escape(literal)
        if field is not None:
            out += f"(?P={field})" if field in seen else f"(?P<{field}>.+?)"
            seen.add(field)
    return out


def pattern(d) -> str:
    """The regex of a claim as a table shows it: the sentence, then (a's name and number vs b's, unit)."""
    seen: set = set()
    unit = re.escape(f" {d.unit}") if d.unit else ""
    return (
        f"{template(d.text, seen)} \\({template(d.a, seen)} (?P<_a>{NUMBER}) vs {template(d.b, seen)} (?P<_b>{NUMBER}){unit}\\)"
    )


def parse(shown: str) -> tuple[str, dict, float, float, int]:
    """The book's claim behind a sentence with its numbers: (name, parameters, a, b, digits printed)."""
    for name, d in BOOK.items():
        m = re.fullmatch(pattern(d), shown)
        if not m:
            continue
        params = {"n": N_LABELED} | {k: v for k, v in m.groupdict().items() if not k.startswith("_")}
        params = {k: int(v) if isinstance(v, str) and v.isdigit() else v for k, v in params.items()}
        if "name" in params:  # a grid claim names its variant by its display name
            params["variant"] = {v: k for k, v in VARIANT_NAMES.items()}[params["name"]]
        if "baseline" in params:
            params["variant"] = {v: k for k, v in VARIANT_NAMES.items()}[params["baseline"]]
        return name, params, float(m["_a"].split(" ")[0]), float(m["_b"].split(" ")[0]), d.digits
    raise LookupError(f"no claim of mlib.claims.book reads {shown!r}")


def split_row(line: str) -> list[str]:
    return re.split(r"(?<!\\) \| ", line.strip().strip("|").strip())


def rows(text: str) -> list[dict]:
    """The claims table's rows: notebook, cell, the claim with its numbers, verdict and preset."""
    out = []
    for line in text.splitlines():
        cols = split_row(line)
        if len(cols) != 5 or not cols[0].endswith(".ipynb") or not VERDICT.fullmatch(cols[3]):
            continue  # not a claim row, or a retired one
        verdict, preset = VERDICT.fullmatch(cols[3]).groups()
        out.append({"notebook": cols[0], "shown": cols[2].replace("\\|", "|"), "verdict": verdict, "preset": preset})
    return out


def rejudge(text: str) -> tuple[str, list[str]]:
    """The table with each row's verdicts by today's rule and records, and the list of changed rows."""
    lines, changed = [], []
    for line in text.splitlines():
        cols = split_row(line)
        if len(cols) != 5 or not cols[0].endswith(".ipynb") or not VERDICT.fullmatch(cols[3]):
            lines.append(line)  # not a claim row, or one retired before
            continue
        verdict, preset = VERDICT.fullmatch(cols[3]).groups()
        try:
            name, params, a, b, _ = parse(cols[2].replace("\\|", "|"))
        except LookupError:
            lines.append(f"| {cols[0]} | {cols[1]} | {cols[2]} | retired: no claim of the book reads it | – |")
            changed.append(f"{cols[2]}: retired")
            continue
        claim = judge(name, a, b, preset, **params)
        here, there = f"{claim.verdict} ({preset})", claim.reference_verdict or "no counterpart"
        if (here, there) != (cols[3], cols[4]):
            changed.append(f"{cols[2]}: {cols[3]} → {here}; committed {cols[4]} → {there}")
        lines.append(f"| {cols[0]} | {cols[1]} | {cols[2]} | {here} | {there} |")
    summary = claims_summary([row["verdict"] for row in rows("\n".join(lines))])
    out = re.sub(r"\d+ of \d+ claims hold at this preset, .*", summary, "\n".join(lines))
    return out + ("\n" if text.endswith("\n") else ""), changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("table", help="a series' claims.md (e.g. benchmarks/results/series-laptop-claims.md)")
    args = ap.parse_args(argv)
    path = Path(args.table)
    if not path.is_file():
        raise SystemExit(f"{path}: no such claims table")
    text, changed = rejudge(path.read_text())
    write_text(path, text)
    print("\n".join(changed) or "no verdict changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
