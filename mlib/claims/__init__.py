"""Claims computed, not written: `seeds` holds the statistics over seeds and the project's one rule
for a difference (a t-test at 10 %, paired across shared seeds), `rules` judges a comparison by it and
formats it, `book` defines every claim of the series and the benchmarks once."""

from mlib.claims.book import BOOK, grid_claims, judge, latent_claims
from mlib.claims.rules import (
    RELATIONS,
    Claim,
    ClaimTable,
    Committed,
    MissingExpected,
    committed_results,
    compare,
    expected,
    holds,
    one_run_noise,
    seeds_verdict,
)
from mlib.claims.seeds import (
    LAB_WORDS,
    LEVEL,
    judge_seeds,
    mean_spread,
    on_both_splits,
    seed_stats,
    spread,
)

__all__ = [
    "BOOK",
    "RELATIONS",
    "Claim",
    "ClaimTable",
    "Committed",
    "MissingExpected",
    "committed_results",
    "compare",
    "expected",
    "grid_claims",
    "holds",
    "judge",
    "latent_claims",
    "one_run_noise",
    "seeds_verdict",
    "LAB_WORDS",
    "LEVEL",
    "judge_seeds",
    "mean_spread",
    "on_both_splits",
    "seed_stats",
    "spread",
]
