"""The verdict rules of a claim: a sentence that states a result is printed together with the numbers
of this run that decide it, its verdict at this preset, and the values a committed results file
(shipped in ``mlib/reference/``, copies of ``benchmarks/results/*.json``) holds for the same comparison.
The sentences themselves live in ``mlib.claims.book``; this module judges and formats them.

    c = compare("Synth only is worse on real frames than on synthetic ones",
                "real", 47.1, "synthetic", 41.0, relation=">", preset="ci",
                expected={"real": expected("regime.synth_only_on_real_mm", "regime-laptop.json"),
                          "synthetic": expected("regime.synth_only_on_synthetic_mm", "regime-laptop.json")})
    print(c)
    # Synth only is worse on real frames than on synthetic ones (real 47.10 vs synthetic 41.00 mm):
    # holds at this preset (ci); the committed laptop results: real 23.23 vs synthetic 17.28 mm (holds)

A claim displayed in a notebook (alone or in a ``ClaimTable``) shows a table for people and, in a batch
run, a structured record (``Claim.record``) under ``mlib.batch.CLAIM_RECORD_MIME`` that ``mlib.series``
collects. Key paths into a results file are dot-separated; a list is entered with ``[i]`` (an index) or
``[key=value,...]`` (the one element whose fields match, compared as text), e.g.
``cells[variant=synth_only,n_labeled=all].mean_error_mm``. A leaf that is a ``{"mean": ...}``
record (the regime file's figures) gives its mean.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from mlib.claims.seeds import (
    LEVEL,
    PerSeed,
    critical_t,
    decide,
    judge_seeds,
    mean_spread,
    one_run_threshold,
    unpaired_from_stats,
)

RELATIONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class MissingExpected(LookupError):
    """A committed results file, or a key in it, that a claim asked for is not there."""


class Committed(float):
    """A committed mean that remembers its seeds: the standard deviation over `seeds` seeds (None
    where the file records no spread, or one seed) and, where the file has them, the per-seed values
    by seed name, which the rule (`mlib.claims.seeds`) pairs with another arm's."""

    std: float | None = None
    seeds: int = 1
    source: str | None = None  # "<file>:<key path>" it was read from
    per_seed: dict[str, float] | None = None

    def __new__(
        cls,
        mean: float,
        std: float | None = None,
        seeds: int = 1,
        source: str | None = None,
        per_seed: PerSeed | None = None,
    ) -> Committed:
        obj = super().__new__(cls, mean)
        obj.std = float(std) if std is not None and seeds >= 2 and math.isfinite(float(std)) else None
        obj.seeds = seeds
        obj.source = source
        if per_seed is not None and len(per_seed) >= 2:
            pairs = per_seed.items() if isinstance(per_seed, Mapping) else enumerate(per_seed)
            obj.per_seed = {str(k): float(v) for k, v in pairs}
        return obj


def _seeds_of(x: float) -> dict[str, float] | float | None:
    """What the rule compares for one side: the per-seed values of a `Committed` that has them, a plain
    number as a constant (the paper's 0.8), None for a committed mean without seeds."""
    if isinstance(x, Committed):
        return x.per_seed
    return float(x)


def one_run_noise(a: float, b: float, factor: float = 1.0) -> float | None:
    """How far one run's difference a - factor * b must be from zero to count, by the rule of
    `mlib.claims.seeds` on the committed seeds of the two sides (None where they carry none)."""
    sa, sb = _seeds_of(a), _seeds_of(b)
    if isinstance(sa, dict) and sb is not None:
        return one_run_threshold(sa, sb, factor)
    sides = [(x, scale) for x, scale in ((a, 1.0), (b, factor)) if isinstance(x, Committed) and x.std is not None]
    if not sides:  # no committed spread on either side
        return None
    # committed means without per-seed values: their spreads, as an unpaired pair
    seeds = min(x.seeds for x, _ in sides)
    return critical_t(seeds - 1) * math.sqrt(sum((scale * x.std) ** 2 for x, scale in sides))


def seeds_verdict(a: float, b: float, relation: str = "<", factor: float = 1.0) -> str | None:
    """The rule on the per-seed values a and b carry (`Committed` values: a grid judged on its own
    seeds, or the committed pair of a claim), unpaired on their (mean, std, seeds) where they kept no
    per-seed values; None when a side has no seeds to judge."""
    sa, sb = _seeds_of(a), _seeds_of(b)
    if isinstance(sa, dict) and sb is not None:
        return judge_seeds(sa, sb, relation, factor)["verdict"]
    spread_of = lambda x: (float(x), x.std, x.seeds) if isinstance(x, Committed) and x.std is not None else None  # noqa: E731
    if spread_of(a) and spread_of(b):
        s = unpaired_from_stats(spread_of(a), spread_of(b), factor)
        return decide(s["mean"], s["threshold"], relation)
    return None


def _format(value: float, spread: float | None, seeds: int, digits: int) -> str:
    return mean_spread(value, spread, seeds, digits)


@dataclass
class Claim:
    """A sentence about a result, the measured numbers that decide it and its verdict.

    ``measured`` and ``expected`` map the same names to values (``expected`` from a committed
    results file, None where the file has no counterpart). ``spread`` holds a standard deviation
    per measured name; it is printed only when ``seeds`` >= 2. ``reference_holds`` is the verdict of
    the same comparison on the committed values, when it could be computed."""

    text: str
    holds: bool
    measured: dict[str, float]
    expected: dict[str, float] | None
    preset: str
    unit: str = "mm"
    seeds: int = 1
    spread: dict[str, float] | None = None
    reference: str = "laptop"
    reference_holds: bool | None = None
    digits: int = 2
    noise: float | None = None  # how far this run's difference must be from 0 to count (the rule, committed seeds)
    reference_verdict: str | None = None
    difference: float | None = None  # a - factor * b, this run's
    relation: str = "<"
    factor: float = 1.0
    name: str | None = None  # its entry in mlib.claims.book, when it was defined there
    committed: dict[str, dict] | None = None  # per expected name: value, std, seeds and the file it came from
    own_verdict: str | None = None  # the rule on this run's own seeds, where a and b carry them
    # a difference between two trained models that one seed cannot decide: without a spread (committed
    # seeds, or this run's own) its verdict is "no verdict", not the sign of one run's difference
    needs_spread: bool = False

    def __post_init__(self) -> None:
        if self.reference_verdict is None and self.reference_holds is not None:
            self.reference_verdict = "holds" if self.reference_holds else "does not hold"

    @property
    def verdict(self) -> str:
        """Three-way, by the rule of `mlib.claims.seeds`: on this run's own seeds where it has them, else
        a difference no farther from 0 than the committed seeds allow is noise whatever its sign."""
        if self.own_verdict not in (None, "no verdict"):
            return self.own_verdict
        if self.noise is not None and self.difference is not None and abs(self.difference) <= self.noise:
            return "within noise"
        if self.needs_spread and self.noise is None and self.seeds < 2:
            return "no verdict"
        return "holds" if self.holds else "does not hold"

    def _values(self, values: dict[str, float], spread: dict[str, float] | None, seeds: int) -> str:
        parts = [f"{name} {_format(v, (spread or {}).get(name), seeds, self.digits)}" for name, v in values.items()]
        unit = f" {self.unit}" if self.unit else ""
        return " vs ".join(parts) + unit

    def __str__(self) -> str:
        s = f"{self.text} ({self._values(self.measured, self.spread, self.seeds)}): {self.verdict} at this preset ({self.preset})"
        if self.expected:
            s += f"; the committed {self.reference} results: {self._values(self.expected, None, 1)}"
            if self.reference_verdict is not None:
                s += f" ({self.reference_verdict})"
        if self.noise is not None:
            unit = f" {self.unit}" if self.unit else ""
            s += f"; noise: ± {self.noise:.{self.digits}f}{unit} (the committed seeds, t-test at {LEVEL:.0%})"
        return s

    @property
    def shown(self) -> str:
        """The sentence with this run's numbers, as the claims table of a series lists it."""
        return f"{self.text} ({self._values(self.measured, self.spread, self.seeds)})"

    def record(self) -> dict:
        """The claim as plain data: what a batch run stores beside its printed form and `mlib.series` reads."""
        return {
            "name": self.name,
            "text": self.text,
            "shown": self.shown,
            "verdict": self.verdict,
            "preset": self.preset,
            "relation": self.relation,
            "factor": self.factor,
            "measured": dict(self.measured),
            "difference": self.difference,
            "unit": self.unit,
            "seeds": self.seeds,
            "reference": self.reference,
            "expected": dict(self.expected) if self.expected else None,
            "committed": self.committed,
            "noise": self.noise,
            "reference_verdict": self.reference_verdict,
        }

    def _repr_markdown_(self) -> str:
        return ClaimTable([self])._repr_markdown_()


MARKS = {"holds": "✔", "within noise": "≈", "does not hold": "✘", "no verdict": "–"}
VERDICTS = tuple(MARKS)  # every verdict a claim can have


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # a display name like "Real+Synth | Distr. Match" stays in its column


class ClaimTable(list):
    """Claims shown together: a markdown table in a notebook, one line per claim as text, and (in a
    batch run) one record per claim."""

    def records(self) -> list[dict]:
        return [c.record() for c in self]

    def __str__(self) -> str:
        return "\n".join(str(c) for c in self)

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        rows = [
            "| | claim | this run | verdict | committed laptop results | verdict there |",
            "|---|---|---|---|---|---|",
        ]
        for c in self:
            unit = f" {c.unit}" if c.unit else ""
            here = c._values(c.measured, c.spread, c.seeds)
            there = c._values(c.expected, None, 1) if c.expected else "–"
            if c.noise is not None:
                there += f" (noise ± {c.noise:.{c.digits}f}{unit})"
            rows.append(
                f"| {MARKS[c.verdict]} | {_cell(c.text)} | {_cell(here)} | {c.verdict} ({c.preset}) | "
                f"{_cell(there)} | {c.reference_verdict or 'no counterpart'} |"
            )
        return "\n".join(rows)


# ----------------------------------------------------------------------------- committed results


@lru_cache(maxsize=32)
def _load(path: str) -> dict:
    with open(path) as fh:
        return json.load(fh)


def _results_file(file: str | Path):
    """A committed results file by name (``ablation-laptop.json``: shipped in the package) or a path
    (absolute, or relative to the working directory when it has a folder part)."""
    if Path(file).is_absolute() or "/" in str(file):
        return Path(file)
    return resources.files("mlib.reference") / str(file)


def committed_results(file: str | Path = "ablation-laptop.json") -> dict:
    """The whole of a committed results file (see ``_results_file``) as a dict."""
    path = _results_file(file)
    if not path.is_file():
        raise MissingExpected(f"committed results file {str(file)!r} ({path}) not found")
    return _load(str(path))


_SELECT = re.compile(r"^([^\[\]]*)((?:\[[^\]]*\])*)$")


def _split(key_path: str) -> list[str]:
    """'a.b[k=v].c[0]' -> ['a', 'b', '[k=v]', 'c', '[0]'] (dots inside brackets do not split)."""
    parts: list[str] = []
    for seg in re.split(r"\.(?![^\[]*\])", key_path):
        m = _SELECT.match(seg)
        if not m:
            raise ValueError(f"bad key path segment {seg!r} in {key_path!r}")
        if m.group(1):
            parts.append(m.group(1))
        parts.extend(re.findall(r"\[[^\]]*\]", m.group(2)))
    return parts


def _step(node: object, part: str) -> object:
    if part.startswith("["):
        inner = part[1:-1]
        if not isinstance(node, list):
            raise KeyError(part)
        if re.fullmatch(r"-?\d+", inner):
            return node[int(inner)]
        want = dict(kv.split("=", 1) for kv in inner.split(","))
        hits = [e for e in node if isinstance(e, dict) and all(str(e.get(k)) == v for k, v in want.items())]
        if len(hits) != 1:
            raise KeyError(f"{part} matches {len(hits)} elements")
        return hits[0]
    if not isinstance(node, dict):
        raise KeyError(part)
    return node[part]


def expected(key_path: str, file: str = "ablation-laptop.json") -> float:
    """A number from a committed results file (shipped in ``mlib/reference/``, or a path).

    Raises ``MissingExpected`` naming the file and the key when either is missing or the value
    is not a number."""
    path = _results_file(file)
    if not path.is_file():
        raise MissingExpected(f"committed results file {file!r} ({path}) not found (wanted key {key_path!r})")
    node: object = _load(str(path))
    parent: object = None
    parts = _split(key_path)
    try:
        for part in parts:
            parent, node = node, _step(node, part)
    except (KeyError, IndexError, TypeError) as e:
        raise MissingExpected(f"key {key_path!r} not found in {file!r} (at {e})") from None
    std, seeds = None, 1
    per_seed = None
    if isinstance(node, dict) and "mean" in node:  # a {"mean", "std", "per_seed"} record (the regime file)
        std, seeds = node.get("std"), _count(node.get("seeds", node.get("per_seed", 1)))
        per_seed = node.get("per_seed")
        node = node["mean"]
    elif isinstance(parent, dict) and parts[-1].startswith("mean_") and f"std_{parts[-1][5:]}" in parent:
        std, seeds = parent[f"std_{parts[-1][5:]}"], _count(parent.get("seeds", 1))  # a grid cell
        suffix = parts[-1][5:]
        values = parent.get(f"per_seed_{suffix}", parent.get("per_seed_mm") if suffix == "error_mm" else None)
        if values is not None:  # by seed name where the cell names its seeds
            per_seed = dict(zip(map(str, parent["seed_ids"]), values)) if "seed_ids" in parent else values
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise MissingExpected(f"key {key_path!r} in {file!r} holds {node!r}, not a number")
    return Committed(float(node), std, seeds, f"{file}:{key_path}", per_seed)


def _count(seeds: object) -> int:
    return len(seeds) if isinstance(seeds, (list, tuple, dict)) else int(seeds) if isinstance(seeds, (int, float)) else 1


# ----------------------------------------------------------------------------- comparisons


def holds(a: float, b: float, relation: str = "<", factor: float = 1.0) -> bool:
    """Whether ``a relation factor * b``; False when either side is not a finite number."""
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {sorted(RELATIONS)}, not {relation!r}")
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    return RELATIONS[relation](a, factor * b)


def compare(
    text: str,
    a_name: str,
    a: float,
    b_name: str,
    b: float,
    relation: str = "<",
    preset: str = "ci",
    expected: dict[str, float | None] | None = None,
    *,
    factor: float = 1.0,
    unit: str = "mm",
    seeds: int = 1,
    spread: dict[str, float] | None = None,
    reference: str = "laptop",
    digits: int = 2,
    name: str | None = None,
    needs_spread: bool = False,
) -> Claim:
    """The claim 'a relation factor * b' (e.g. relation '>' : a is larger), decided on this run's
    numbers; ``expected`` gives the committed values under the same names, and the same comparison
    is decided on them too when both are there, by the rule of `mlib.claims.seeds` (paired over the
    committed seeds). This run's difference is noise when it is no farther from 0 than the committed
    seeds allow (`one_run_noise`). Without committed values, a and b judge themselves when they carry
    their own seeds (`Committed` values: a grid judged on its own seeds)."""
    ref_holds, ref_verdict, spread_ab, own = None, None, None, None
    if expected:  # a committed value that is missing or not a number is left out, not compared
        expected = {k: v for k, v in expected.items() if v is not None and math.isfinite(float(v))}
    if expected and a_name in expected and b_name in expected:
        ea, eb = expected[a_name], expected[b_name]
        spread_ab = one_run_noise(ea, eb, factor)
        ref_holds = holds(float(ea), float(eb), relation, factor)
        ref_verdict = seeds_verdict(ea, eb, relation, factor)
        if ref_verdict in (None, "no verdict"):
            ref_verdict = "holds" if ref_holds else "does not hold"
    elif not expected:
        own = seeds_verdict(a, b, relation, factor)
    committed = {k: _committed_record(v) for k, v in expected.items()} if expected else None
    if expected:
        expected = {k: float(v) for k, v in expected.items()}
    return Claim(
        text=text,
        holds=holds(float(a), float(b), relation, factor),
        measured={a_name: float(a), b_name: float(b)},
        expected=dict(expected) if expected else None,
        preset=preset,
        unit=unit,
        seeds=seeds,
        spread=spread,
        reference=reference,
        reference_holds=ref_holds,
        digits=digits,
        noise=spread_ab,
        reference_verdict=ref_verdict,
        difference=float(a) - factor * float(b),
        relation=relation,
        factor=factor,
        name=name,
        committed=committed,
        own_verdict=own,
        needs_spread=needs_spread,
    )


def _committed_record(value: float) -> dict:
    known = isinstance(value, Committed)  # a plain or numpy float knows no spread, seeds or source
    return {
        "value": float(value),
        "std": value.std if known else None,
        "seeds": value.seeds if known else 1,
        "per_seed": value.per_seed if known else None,
        "source": value.source if known else None,
    }
