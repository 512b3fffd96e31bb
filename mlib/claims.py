"""Claims computed, not written: a sentence that states a result is printed together with the
numbers of this run that decide it, its verdict at this preset, and the values a committed results
file (shipped in ``mlib/reference/``, copies of ``benchmarks/results/*.json``) holds for the same comparison.

    c = compare("Synth only is worse on real frames than on synthetic ones",
                "real", 47.1, "synthetic", 41.0, relation=">", preset="ci",
                expected={"real": expected("regime.synth_only_on_real_mm", "regime-laptop.json"),
                          "synthetic": expected("regime.synth_only_on_synthetic_mm", "regime-laptop.json")})
    print(c)
    # Synth only is worse on real frames than on synthetic ones (real 47.10 vs synthetic 41.00 mm):
    # holds at this preset (ci); the committed laptop results: real 23.23 vs synthetic 17.28 mm (holds)

Key paths into a results file are dot-separated; a list is entered with ``[i]`` (an index) or
``[key=value,...]`` (the one element whose fields match, compared as text), e.g.
``cells[variant=synth_only,n_labeled=all].mean_error_mm``. A leaf that is a ``{"mean": ...}``
record (the regime file's figures) gives its mean.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

RELATIONS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class MissingExpected(LookupError):
    """A committed results file, or a key in it, that a claim asked for is not there."""


def _format(value: float, spread: float | None, seeds: int, digits: int) -> str:
    # the spread over one seed is no spread: print it only with two or more
    if spread is not None and seeds >= 2:
        return f"{value:.{digits}f} ± {spread:.{digits}f}"
    return f"{value:.{digits}f}"


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

    @property
    def verdict(self) -> str:
        return "holds" if self.holds else "does not hold"

    def _values(self, values: dict[str, float], spread: dict[str, float] | None, seeds: int) -> str:
        parts = [f"{name} {_format(v, (spread or {}).get(name), seeds, self.digits)}" for name, v in values.items()]
        unit = f" {self.unit}" if self.unit else ""
        return " vs ".join(parts) + unit

    def __str__(self) -> str:
        s = f"{self.text} ({self._values(self.measured, self.spread, self.seeds)}): {self.verdict} at this preset ({self.preset})"
        if self.expected:
            s += f"; the committed {self.reference} results: {self._values(self.expected, None, 1)}"
            if self.reference_holds is not None:
                s += f" ({'holds' if self.reference_holds else 'does not hold'})"
        return s

    def _repr_markdown_(self) -> str:
        mark = "✔" if self.holds else "✘"
        return f"{mark} {self}"


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
    try:
        for part in _split(key_path):
            node = _step(node, part)
    except (KeyError, IndexError, TypeError) as e:
        raise MissingExpected(f"key {key_path!r} not found in {file!r} (at {e})") from None
    if isinstance(node, dict) and "mean" in node:
        node = node["mean"]
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise MissingExpected(f"key {key_path!r} in {file!r} holds {node!r}, not a number")
    return float(node)


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
) -> Claim:
    """The claim 'a relation factor * b' (e.g. relation '>' : a is larger), decided on this run's
    numbers; ``expected`` gives the committed values under the same names, and the same comparison
    is decided on them too when both are there."""
    ref_holds = None
    if expected:  # a committed value that is missing or not a number is left out, not compared
        expected = {k: float(v) for k, v in expected.items() if v is not None and math.isfinite(float(v))}
    if expected and a_name in expected and b_name in expected:
        ref_holds = holds(expected[a_name], expected[b_name], relation, factor)
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
    )
