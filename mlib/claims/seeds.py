"""Numbers over seeds, and the project's one rule for whether a difference between two arms is real.

One spread: the sample standard deviation (ddof 1), `spread`. One format: `mean_spread`.

The rule, a Student t-test at the two-sided level `LEVEL` (10 %):

* **Paired** (the arms share their seeds: per seed the same stage 1 and the same labelled subset). The
  per-seed differences d_s = a_s - factor * b_s are judged: the difference is real when
  |mean(d)| > t(k - 1) * std(d) / sqrt(k), t(k - 1) the 95 % quantile of Student's t on k - 1 degrees
  of freedom (k = 3 seeds: t = 2.92, so |mean| > 1.69 * std(d)). Seed 1 being the worst seed for every
  variant then cancels out instead of hiding a consistent difference.
* **Unpaired** (no shared seeds): Welch's form, |mean(a) - factor * mean(b)| >
  t(df) * sqrt(s_a^2 / k_a + factor^2 * s_b^2 / k_b), df by Welch-Satterthwaite.
* **One new run against committed seeds** (a notebook's single seed): its one difference d is real when
  |d| > t(k - 1) * std(d_committed), the committed arms' per-seed differences (unpaired:
  sqrt(s_a^2 + factor^2 * s_b^2)). Under no effect a new difference over that spread is t-distributed
  on k - 1 degrees of freedom, so this too is wrong 10 % of the time.

A real difference in the claimed direction *holds* (a mechanism *helps*), in the other direction it
*does not hold* (*hurts*); otherwise it is *within noise*. One seed gives no verdict. A result counts
only where validation and test agree (`on_both_splits`); otherwise both verdicts are reported.

Why this rule: at three seeds, "the difference exceeds the larger std" calls a null difference real
21 % (ddof 1) to 29 % (ddof 0) of the time, and "all three signs agree" 25 %; the t-test's rate is the
level it is set to (`tests/test_judge.py` simulates it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats as _stats

LEVEL = 0.10  # two-sided false-positive rate of the rule under no effect

PerSeed = Mapping[str, float] | Sequence[float]  # by seed name, or a list in seed order (index = seed)


def spread(values: Sequence[float]) -> float | None:
    """The one spread over seeds: the sample standard deviation (ddof 1); None for one value."""
    v = np.asarray(list(values), float)
    return float(v.std(ddof=1)) if len(v) > 1 else None


def seed_stats(values: PerSeed) -> dict:
    """Mean, spread (`spread`) and the per-seed values of one number over seeds; a mapping keeps its
    seed names in `per_seed`."""
    per_seed = _by_seed(values)
    v = list(per_seed.values())
    out_seeds: dict | list = per_seed if isinstance(values, Mapping) else v
    return {"mean": float(np.mean(v)), "std": spread(v), "per_seed": out_seeds}


def mean_spread(mean: float, std: float | None, seeds: int, digits: int = 2, show_seeds: bool = False) -> str:
    """'mean ± std' over two or more seeds, the mean alone for one (a spread of one run is no spread);
    `show_seeds` appends '(k seeds)'."""
    text = f"{mean:.{digits}f} ± {std:.{digits}f}" if seeds >= 2 and std is not None else f"{mean:.{digits}f}"
    return f"{text} ({seeds} seed{'s' if seeds != 1 else ''})" if show_seeds else text


def critical_t(df: float, level: float = LEVEL) -> float:
    """The two-sided `level` quantile of Student's t on `df` degrees of freedom (2.92 at df = 2)."""
    return float(_stats.t.ppf(1 - level / 2, df))


def _by_seed(values: PerSeed | float) -> dict[str, float]:
    if isinstance(values, Mapping):
        return {str(k): float(v) for k, v in values.items()}
    return {str(i): float(v) for i, v in enumerate(values)}


def paired(a: PerSeed, b: PerSeed | float, factor: float = 1.0) -> dict:
    """The per-seed differences a_s - factor * b_s over the seeds both hold (b may be a constant):
    per_seed, mean, std, seeds, and the threshold |mean| must exceed (None below two seeds)."""
    da = _by_seed(a)
    db = {s: float(b) for s in da} if isinstance(b, (int, float)) else _by_seed(b)
    common = [s for s in da if s in db]
    diffs = {s: da[s] - factor * db[s] for s in common}
    k = len(diffs)
    std = spread(diffs.values())
    threshold = None if std is None else critical_t(k - 1) * std / math.sqrt(k)
    return {
        "form": "paired",
        "per_seed": diffs,
        "mean": float(np.mean(list(diffs.values()))) if diffs else float("nan"),
        "std": std,
        "seeds": k,
        "threshold": threshold,
    }


def unpaired(a: Sequence[float], b: Sequence[float], factor: float = 1.0) -> dict:
    """Welch's form for arms that share no seeds: the difference of means, the two spreads and the
    threshold the difference must exceed (None when either side has one seed)."""
    a, b = [float(x) for x in a], [float(x) * factor for x in b]
    sa, sb = spread(a), spread(b)
    diff = float(np.mean(a) - np.mean(b))
    threshold = None
    if sa is not None and sb is not None:
        va, vb = sa**2 / len(a), sb**2 / len(b)
        se = math.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if va + vb > 0 else len(a) + len(b) - 2
        threshold = critical_t(df) * se
    return {"form": "unpaired", "mean": diff, "std_a": sa, "std_b": sb, "seeds": min(len(a), len(b)), "threshold": threshold}


def unpaired_from_stats(a: tuple[float, float, int], b: tuple[float, float, int], factor: float = 1.0) -> dict:
    """Welch's form from (mean, std, seeds) summaries, for committed values that kept no per-seed numbers."""
    (ma, sa, ka), (mb, sb, kb) = a, b
    va, vb = sa**2 / ka, (factor * sb) ** 2 / kb
    df = (va + vb) ** 2 / (va**2 / (ka - 1) + vb**2 / (kb - 1)) if va + vb > 0 else ka + kb - 2
    threshold = critical_t(df) * math.sqrt(va + vb)
    return {"form": "unpaired", "mean": ma - factor * mb, "std_a": sa, "std_b": sb, "seeds": min(ka, kb), "threshold": threshold}


def compare_seeds(a: PerSeed, b: PerSeed | float, factor: float = 1.0) -> dict:
    """The rule's statistics for a - factor * b: paired over the seeds both arms share (two or more),
    else Welch's unpaired form."""
    if isinstance(b, (int, float)) or len(set(_by_seed(a)) & set(_by_seed(b))) >= 2:
        return paired(a, b, factor)
    return unpaired(list(_by_seed(a).values()), list(_by_seed(b).values()), factor)


def one_run_threshold(a: PerSeed, b: PerSeed | float, factor: float = 1.0) -> float | None:
    """How far one new run's difference a - factor * b must be from zero to count, judged against the
    committed seeds of the same two arms (see the module's rule); None below two committed seeds."""
    s = compare_seeds(a, b, factor)
    if s["form"] == "paired":
        return None if s["std"] is None else critical_t(s["seeds"] - 1) * s["std"]
    if s["std_a"] is None or s["std_b"] is None:
        return None
    return critical_t(s["seeds"] - 1) * math.sqrt(s["std_a"] ** 2 + (factor * s["std_b"]) ** 2)


def decide(difference: float, threshold: float | None, relation: str = "<") -> str:
    """'holds', 'does not hold' or 'within noise' for the difference a - factor * b of a claim
    'a relation factor * b', given the threshold it must exceed ('no verdict' without one)."""
    if threshold is None or not math.isfinite(difference):
        return "no verdict"
    if abs(difference) <= threshold:
        return "within noise"
    lower = difference < 0
    return "holds" if lower == (relation in ("<", "<=")) else "does not hold"


def judge_seeds(a: PerSeed, b: PerSeed | float, relation: str = "<", factor: float = 1.0) -> dict:
    """The rule applied: `compare_seeds`' statistics plus their `verdict`."""
    s = compare_seeds(a, b, factor)
    return {**s, "verdict": decide(s["mean"], s["threshold"], relation)}


LAB_WORDS = {"holds": "helps", "does not hold": "hurts"}


def on_both_splits(test: str, val: str) -> str:
    """One verdict from the test and the validation split's: theirs when they agree, otherwise what each
    split found."""
    return test if test == val else f"test: {test}; validation: {val}"
