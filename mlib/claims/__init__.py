"""Claims computed, not written: `rules` judges a comparison and formats it (three-way verdicts against
the committed three-seed spread), `book` defines every claim of the series and the benchmarks once."""

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
    noise,
    verdict,
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
    "noise",
    "verdict",
]
