"""Every claim the series and the benchmarks state, defined once: its sentence, the two numbers it
compares (their names), its relation, and where the committed laptop results hold the same two numbers.

A notebook passes its two numbers and gets a `Claim`:

    judge("distr_match_helps", distr_match.test_error_mm, real_synth.test_error_mm, preset, n=100)

Parameters (`n`, `lo`, `hi`, ...) fill the sentence, the names and the committed key paths. The grid's
claims and the latent-space claims are judged from a whole table at once (`grid_claims`,
`latent_claims`), by `benchmarks/lab/ablation.py` on its own seeds as by notebooks 05 and 06 on theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mlib.claims.rules import Claim, ClaimTable, Committed, MissingExpected, compare, expected
from mlib.claims.seeds import seed_stats

GRID_FILE = "ablation-laptop.json"
REGIME_FILE = "regime-laptop.json"
LATENTS_FILE = "latents-laptop.json"  # notebook 03's latent measures on three seeds (benchmarks/lab/latent_seeds.py)
# the latent statistics' models under the names the sentences use (Full is "MURAUER" there)
LATENT_LABELS = {"synth_only": "Synth only", "real_synth": "Real+Synth", "full": "MURAUER"}


# ----------------------------------------------------------------------------- committed values


def committed_cell(variant: str, n, field: str = "mean_error_mm") -> Committed | None:
    """A cell of the committed laptop grid (mean over its seeds, with their spread), None if it has none."""
    try:
        return expected(f"cells[variant={variant},n_labeled={n}].{field}", GRID_FILE)
    except MissingExpected:
        return None


def committed_latent(variant: str, key: str, n) -> Committed | None:
    """A latent statistic of the committed grid's analysis, when that analysis was made at `n` labels."""
    try:
        if expected("latent_analysis.n_labeled", GRID_FILE) != n:
            return None
        return expected(f"latent_analysis.stats.{variant}.{key}", GRID_FILE)
    except MissingExpected:
        return None


def committed_latent_seeds(variant: str, key: str, **parameters) -> Committed | None:
    """Notebook 03's measure `key` of a variant over the committed seeds, when the run measured it with the
    same parameters (n, n_pairs, n_probe, knn_k; None when one differs: another measure)."""
    try:
        if any(expected(f"parameters.{k}", LATENTS_FILE) != v for k, v in parameters.items()):
            return None
        return expected(f"stats.{variant}.{key}", LATENTS_FILE)
    except MissingExpected:
        return None


def _latent_pair(parameters: tuple[str, ...], **arms: tuple[str, str]) -> Callable[[dict], dict | None]:
    """The committed pair of a 03 claim: each named arm as (variant, measure), read at the run's parameters."""
    return lambda p: _both(**{name: committed_latent_seeds(v, k, **{q: p.get(q) for q in parameters})
                              for name, (v, k) in arms.items()})  # fmt: skip


def committed_regime(key: str) -> Committed | None:
    try:
        return expected(key, REGIME_FILE)
    except MissingExpected:
        return None


def committed_room(n, form: str = "onto_stage1") -> Committed | None:
    """The committed grid's room at n (`mlib.analysis.room`, Real+Synth's), per seed."""
    try:
        return expected(f"by_n.{n}.room.{form}", GRID_FILE)
    except MissingExpected:
        return None


def _both(**values) -> dict | None:
    """The committed pair, or nothing: one side alone is not compared."""
    return values if None not in values.values() else None


# ----------------------------------------------------------------------------- the definitions


@dataclass(frozen=True)
class Definition:
    """One claim: 'a relation factor * b'. `text`, `a` and `b` are format strings over the claim's
    parameters; `committed(params)` gives the committed values under the names `a` and `b` (or None)."""

    text: str
    a: str
    b: str
    relation: str = "<"
    factor: float = 1.0
    unit: str = "mm"
    digits: int = 2
    committed: Callable[[dict], dict | None] | None = None
    needs_spread: bool = False  # two trained models' difference: one seed without a spread is no verdict


def _test_errors(a_variant: str, b_variant: str, a: str, b: str) -> Callable[[dict], dict | None]:
    """Committed test errors of two grid cells at the claim's n."""
    return lambda p: _both(**{a: committed_cell(a_variant, p["n"]), b: committed_cell(b_variant, p["n"])})


def _latent(key: str, a_variant: str, b_variant: str) -> Callable[[dict], dict | None]:
    return lambda p: _both(
        **{
            LATENT_LABELS[a_variant]: committed_latent(a_variant, key, p["n"]),
            LATENT_LABELS[b_variant]: committed_latent(b_variant, key, p["n"]),
        }
    )


def _synth_only_gap(p: dict) -> dict | None:
    real, synthetic = committed_regime("regime.synth_only_on_real_mm"), committed_regime("regime.synth_only_on_synthetic_mm")
    return {"real": real, "synthetic": synthetic}


def _one(label: str, value: Callable[[dict], float | None]) -> Callable[[dict], dict | None]:
    """A committed value for one side only: printed beside this run's, no verdict of its own."""
    return lambda p: {label: value(p)}


def _gain(base: float | None, arm: float | None) -> float | None:
    """base - arm, per seed where both sides carry seeds (the gain pairs up with another n's by seed)."""
    if base is None or arm is None:
        return None
    sb, sa = getattr(base, "per_seed", None), getattr(arm, "per_seed", None)
    if sb and sa:
        per_seed = {s: sb[s] - sa[s] for s in sb if s in sa}
        stats = seed_stats(per_seed)
        return Committed(stats["mean"], stats["std"], len(per_seed), per_seed=per_seed)
    return float(base) - float(arm)


def _gains(variant: str, a: str, b: str) -> Callable[[dict], dict | None]:
    """Committed gains of `variant` over Real+Synth at n = lo and hi, per seed."""

    def gain(n) -> float | None:
        return _gain(committed_cell("real_synth", n), committed_cell(variant, n))

    return lambda p: {a.format(**p): gain(p["lo"]), b.format(**p): gain(p["hi"])}


def _grid_pair(a_cell: tuple, b_cell: tuple, a: str, b: str) -> Callable[[dict], dict | None]:
    """Committed test errors of two cells named by (variant, parameter holding n)."""
    return lambda p: _both(
        **{a.format(**p): committed_cell(a_cell[0], p[a_cell[1]]), b.format(**p): committed_cell(b_cell[0], p[b_cell[1]])}
    )


BOOK: dict[str, Definition] = {
    # 01: Synth only and the domain gap
    "synth_only_gap": Definition(
        "Synth only is worse on real test frames than on synthetic ones", "real", "synthetic", ">",
        committed=_synth_only_gap,
    ),
    "synth_only_gap_ratio": Definition(
        "The real error is at least 1.6 x the synthetic one, the regime the laptop preset aims for",
        "real", "synthetic", ">=", factor=1.6, committed=_synth_only_gap,
    ),
    "synth_only_beats_mean_pose": Definition(
        "Synth only beats the mean-pose baseline on real test frames", "Synth only", "mean pose",
        committed=_one("Synth only", lambda p: committed_regime("regime.synth_only_on_real_mm")),
    ),
    # 02: the view decoder and view prediction
    "view_follows_pose": Definition(
        "With {input} input, the predicted view follows the pose: its own frame fits better than another",
        "own frame", "other frame", unit="per pixel", digits=3,
    ),
    "view_beats_mean_view": Definition(
        "With {input} input, the decoder beats the mean training view", "decoder", "mean view",
        unit="per pixel", digits=3,
    ),
    "view_beats_blank_view": Definition(
        "With {input} input, the decoder beats the all-background view", "decoder", "all background",
        unit="per pixel", digits=3,
    ),
    "view_smoother": Definition(
        "With {input} input, the predicted view is smoother than the captured one", "predicted", "captured",
        unit="per pixel", digits=3,
    ),
    "view_pred_helps": Definition(
        "n={n}: view prediction lowers the error against Real+Synth", "View Pred.", "Real+Synth",
        committed=_test_errors("view_pred", "real_synth", "View Pred.", "Real+Synth"),
    ),
    "view_pred_beats_mean_pose": Definition(
        "n={n}: View Pred. beats the mean-pose baseline", "View Pred.", "mean pose",
        committed=_one("View Pred.", lambda p: committed_cell("view_pred", p["n"])),
    ),
    "view_pred_gain_falls": Definition(
        "The gain of view prediction is larger at n={lo} than at n={hi}", "gain n={lo}", "gain n={hi}", ">",
        committed=_gains("view_pred", "gain n={lo}", "gain n={hi}"),
    ),
    # 03: distribution matching
    "distr_match_helps": Definition(
        "n={n}: distribution matching lowers the error against Real+Synth", "Distr. Match", "Real+Synth",
        committed=_test_errors("distr_match", "real_synth", "Distr. Match", "Real+Synth"),
    ),
    "distr_match_beats_mean_pose": Definition(
        "Distr. Match beats the mean-pose baseline", "Distr. Match", "mean pose",
        committed=_one("Distr. Match", lambda p: committed_cell("distr_match", p["n"])),
    ),
    # notebook 03's own measures on the committed seeds of the same two variants (latents-laptop.json)
    "distr_match_closer_pairs": Definition(
        "Distr. Match brings corresponding latents closer than Real+Synth (median over {n_pairs} test frames)",
        "Distr. Match", "Real+Synth", unit="latent units", digits=3, needs_spread=True,
        committed=_latent_pair(("n", "n_pairs"), **{"Distr. Match": ("distr_match", "median_pair_distance"),
                                                    "Real+Synth": ("real_synth", "median_pair_distance")}),
    ),
    "distr_match_probe": Definition(
        "Distr. Match makes the domains harder for the probe to split ({n_probe} test frames per domain)",
        "Distr. Match", "Real+Synth", unit="", digits=3, needs_spread=True,
        committed=_latent_pair(("n", "n_probe"), **{"Distr. Match": ("distr_match", "probe"),
                                                    "Real+Synth": ("real_synth", "probe")}),
    ),
    "distr_match_mixing": Definition(
        "Distr. Match mixes the domains better among {knn_k} neighbours ({n_probe} test frames per domain)",
        "Distr. Match", "Real+Synth", ">", unit="", digits=3, needs_spread=True,
        committed=_latent_pair(("n", "n_probe", "knn_k"), **{"Distr. Match": ("distr_match", "mixing"),
                                                             "Real+Synth": ("real_synth", "mixing")}),
    ),
    "h_weaker_than_probe": Definition(
        "The training discriminator is a weaker judge than the fresh probe ({n_probe} test frames per domain)",
        "h at the end", "probe", unit="", digits=3, needs_spread=True,
        committed=_latent_pair(("n", "n_probe"), **{"h at the end": ("distr_match", "h_accuracy"),
                                                    "probe": ("distr_match", "probe")}),
    ),
    # 04: MURAUER against Real+Synth
    "full_helps": Definition(
        "With the same {n} labels, the unlabeled real frames lower the error (Full below Real+Synth)",
        "Full", "Real+Synth", committed=_test_errors("full", "real_synth", "Full", "Real+Synth"),
    ),
    "full_beats_mean_pose": Definition("Both models beat the mean training pose", "Full", "mean pose"),
    "loss_terms_balanced": Definition(
        "The weights bring every term to within a factor 10 of L_p (smallest: {smallest})", "{smallest}", "L_p / 10",
        ">=", unit="", digits=6,
    ),
    # 05 and benchmarks/lab/ablation.py: the grid (paper §4.3, Fig. 4)
    "grid_beats_real_synth": Definition(
        "n={n}: {name} beats Real+Synth", "{name}", "Real+Synth",
        committed=lambda p: _both(**{p["name"]: committed_cell(p["variant"], p["n"]), "Real+Synth": committed_cell("real_synth", p["n"])}),
    ),
    "paper_ratio": Definition(
        "n={n}: Full reaches the paper's gain (Full at most 0.8 x Real+Synth)", "Full", "Real+Synth", "<=",
        factor=0.8, committed=_test_errors("full", "real_synth", "Full", "Real+Synth"),
    ),
    "synth_only_vs_real_only": Definition(
        "With all labels, Synth only is at least 1.3 x Real only's error", "Synth only", "Real only", ">=",
        factor=1.3, committed=lambda p: _both(**{"Synth only": committed_cell("synth_only", "all"), "Real only": committed_cell("real_only", "all")}),
    ),
    "grid_gain_falls": Definition(
        "The gain of Full over Real+Synth is larger with fewer labels", "n={lo}", "n={hi}", ">",
        committed=_gains("full", "n={lo}", "n={hi}"),
    ),
    "real_only_improves": Definition(
        "Real only improves with more labels", "n={hi}", "n={lo}",
        committed=_grid_pair(("real_only", "hi"), ("real_only", "lo"), "n={hi}", "n={lo}"),
    ),
    "full_few_beats_real_synth_many": Definition(
        "Full with {lo} labels beats Real+Synth with {hi}", "Full", "Real+Synth",
        committed=_grid_pair(("full", "lo"), ("real_synth", "hi"), "Full", "Real+Synth"),
    ),
    "room_for_paper_gain": Definition(
        "n={n}: a perfect mapping onto the stage-1 predictor leaves room for the paper's gain (Synth only's "
        "render error over Real+Synth's real error at most 0.8)", "room", "paper's", "<=", unit="",
        committed=lambda p: _both(room=committed_room(p["n"]), **{"paper's": 0.8}),
    ),
    "full_beats_best_baseline": Definition(
        "n={n}: Full beats the best baseline ({baseline}, chosen on validation)", "Full", "{baseline}",
        committed=lambda p: _both(Full=committed_cell("full", p["n"]), **{p["baseline"]: committed_cell(p["variant"], p["n"])}),
    ),
    # 06 and benchmarks/lab/ablation.py: the latent space (paper §4.4)
    "latent_mixing": Definition(
        "MURAUER interleaves real and synthetic latents more than Real+Synth (kNN mixing score higher)",
        "MURAUER", "Real+Synth", ">", unit="", digits=3, committed=_latent("mixing_latent", "full", "real_synth"),
    ),
    "latent_probe": Definition(
        "MURAUER's domains are harder to split than Real+Synth's (linear probe accuracy lower)",
        "MURAUER", "Real+Synth", unit="", digits=3, committed=_latent("probe", "full", "real_synth"),
    ),
    "latent_probe_real_data": Definition(
        "Training with real data brings the domains together (Real+Synth probe below Synth only's)",
        "Real+Synth", "Synth only", unit="", digits=3, committed=_latent("probe", "real_synth", "synth_only"),
    ),
    "latent_tsne": Definition(
        "MURAUER's t-SNE map mixes real and synthetic latents more than Synth only's (paper Fig. 9)",
        "MURAUER", "Synth only", ">", unit="", digits=3, committed=_latent("mixing_tsne", "full", "synth_only"),
    ),
    "latent_pair_distance": Definition(
        "MURAUER brings corresponding real and synthetic latents closer than Real+Synth (median distance)",
        "MURAUER", "Real+Synth", unit="latent units", digits=3,
        committed=_latent("median_pair_distance", "full", "real_synth"),
    ),
    "latent_relative_distance": Definition(
        "... also relative to each model's own scale (median ratio to a random render)", "MURAUER", "Real+Synth",
        unit="", digits=3, committed=_latent("median_relative_distance", "full", "real_synth"),
    ),
    "decoder_same_view": Definition(
        "The decoder draws nearly the same view from a real crop and its render (closer than to another frame's)",
        "own render", "another frame", unit="(mean |difference|, normalised depth)", digits=4,
    ),
    "worst_frames_far": Definition(
        "The worst frames' poses are farther from the training set than a typical test frame's",
        "worst frames", "all test frames", ">", unit="mm RMS (median nearest-pose distance)",
    ),
    # 07: the published numbers
    "metric_reproduced": Definition(
        "The metric reproduces the reported means of all {count} published files to within 0.05 mm",
        "largest |measured - reported| ({worst})", "tolerance", "<=",
    ),
    "murauer_beats_deepprior": Definition(
        "MURAUER with n = 100 labeled real frames ({share} of NYU's labels, as published) is at least as "
        "accurate as DeepPrior++ trained on all of them", "MURAUER n=100", "DeepPrior++ ({source})", "<=",
    ),
}  # fmt: skip


def judge(
    claim: str,
    a: float,
    b: float,
    preset: str,
    *,
    seeds: int = 1,
    spread: Mapping[str, float] | None = None,
    compare_committed: bool = True,
    **params,
) -> Claim:
    """The claim `claim` of the book decided on this run's numbers a and b, beside the committed values
    (`compare_committed=False`: judged alone, as a grid judges itself on its own seeds' spread).
    `spread` gives this run's own standard deviations by side, 'a' and 'b' (printed with two or more seeds)."""
    d = BOOK[claim]
    a_name, b_name = d.a.format(**params), d.b.format(**params)
    committed = d.committed(params) if d.committed is not None and compare_committed else None
    return compare(
        d.text.format(**params), a_name, a, b_name, b, d.relation, preset, committed,
        factor=d.factor, unit=d.unit, digits=d.digits, seeds=seeds,
        spread={a_name: spread["a"], b_name: spread["b"]} if spread else None, name=claim,
        needs_spread=d.needs_spread,
    )  # fmt: skip


# ----------------------------------------------------------------------------- whole tables


def _cell_value(cell: Mapping, own_seeds: bool) -> float:
    """A grid cell's mean test error; with `own_seeds`, carrying its seeds for the verdict."""
    if own_seeds:
        per_seed = dict(zip(map(str, cell.get("seed_ids", range(cell["seeds"]))), cell["per_seed_mm"]))
        return Committed(cell["mean_error_mm"], cell["std_error_mm"], cell["seeds"], per_seed=per_seed)
    return float(cell["mean_error_mm"])


BASELINES = ("synth_only", "real_synth")  # what Full must beat at each n: the better of the two on validation


def best_baseline(cells: Sequence[Mapping], n) -> Mapping | None:
    """The grid cell of the better baseline at n, the lower mean validation error (test when a cell
    records no validation error)."""

    def key(c: Mapping) -> float:
        val = c.get("per_seed_val_mm")
        return sum(val) / len(val) if val and None not in val else c["mean_error_mm"]

    found = [c for c in cells if c["variant"] in BASELINES and c["n_labeled"] == n]
    return min(found, key=key) if found else None


def grid_claims(
    cells: Sequence[Mapping],
    preset: str,
    names: Mapping[str, str],
    compare_committed: bool = True,
    rooms: Sequence[Mapping] = (),
) -> ClaimTable:
    """The ablation's claims (paper §4.3) over a grid's cells (`mlib.analysis.grid_cells`): each
    mechanism against Real+Synth and Full against the best baseline at every n, the paper's ratio at
    n = 100, Synth only against Real only with all labels, how the gains change between the smallest and
    the largest n, and the room onto the stage-1 predictor (`mlib.analysis.room`). `names` are the
    variants' display names. Beside the committed laptop grid by default; `compare_committed=False`
    judges the grid on its own seeds (paired, `mlib.claims.seeds`)."""
    by = {(c["variant"], c["n_labeled"]): c for c in cells}
    ns = list(dict.fromkeys(c["n_labeled"] for c in cells))
    own = not compare_committed

    def pair(key: str, a_cell: tuple, b_cell: tuple, **params) -> Claim | None:
        a, b = by.get(a_cell), by.get(b_cell)
        if a is None or b is None:
            return None
        return judge(
            key, _cell_value(a, own), _cell_value(b, own), preset, compare_committed=compare_committed,
            seeds=min(a["seeds"], b["seeds"]), spread={"a": a["std_error_mm"], "b": b["std_error_mm"]}, **params,
        )  # fmt: skip

    claims: list[Claim | None] = []
    for n in ns:
        for v in ("distr_match", "view_pred", "full"):
            claims.append(pair("grid_beats_real_synth", (v, n), ("real_synth", n), n=n, name=names[v], variant=v))
        base = best_baseline(cells, n)
        if base is not None:
            claims.append(pair(
                "full_beats_best_baseline", ("full", n), (base["variant"], n), n=n, baseline=names[base["variant"]],
                variant=base["variant"],
            ))  # fmt: skip
    if 100 in ns:
        claims.append(pair("paper_ratio", ("full", 100), ("real_synth", 100), n=100))
    if "all" in ns:
        claims.append(pair("synth_only_vs_real_only", ("synth_only", "all"), ("real_only", "all")))
    lo, hi = ns[0], ns[-1]
    if lo != hi:
        cell_pairs = [(by.get(("real_synth", n)), by.get(("full", n))) for n in (lo, hi)]
        gains = [_gain(_cell_value(b, own), _cell_value(a, own)) if a and b else None for b, a in cell_pairs]
        if None not in gains:
            claims.append(judge("grid_gain_falls", *gains, preset, compare_committed=compare_committed, lo=lo, hi=hi))
        claims.append(pair("real_only_improves", ("real_only", hi), ("real_only", lo), lo=lo, hi=hi))
        claims.append(pair("full_few_beats_real_synth_many", ("full", lo), ("real_synth", hi), lo=lo, hi=hi))
    n_room = 100 if 100 in ns else ns[-1]
    for r in rooms:
        if r["n_labeled"] == n_room and r["variant"] == "real_synth" and "onto_stage1" in r:
            s = r["onto_stage1"]
            value = Committed(s["mean"], s["std"], len(s["per_seed"]), per_seed=s["per_seed"]) if own else s["mean"]
            claims.append(judge("room_for_paper_gain", value, 0.8, preset, compare_committed=compare_committed, n=n_room))
    return ClaimTable(c for c in claims if c is not None)


LATENT_CLAIMS = {  # claim -> the statistic it compares
    "latent_mixing": "mixing_latent",
    "latent_probe": "probe",
    "latent_probe_real_data": "probe",
    "latent_tsne": "mixing_tsne",
    "latent_pair_distance": "median_pair_distance",
    "latent_relative_distance": "median_relative_distance",
}


def latent_claims(
    stats: Mapping[str, Mapping[str, float]], preset: str, n, compare_committed: bool = True, only: Sequence[str] | None = None
) -> ClaimTable:
    """The latent-space claims (paper §4.4) over `mlib.analysis.latent_statistics` per model (keys
    synth_only, real_synth, full; a value may be a number or a {"mean", "std", "per_seed"} record over
    seeds), at n labels; `only` picks some of `LATENT_CLAIMS`."""

    def value(variant: str, key: str) -> float:
        v = stats[variant][key]
        if isinstance(v, Mapping):
            return Committed(v["mean"], v.get("std"), len(v.get("per_seed") or ()) or 1, per_seed=v.get("per_seed"))
        return float(v)

    claims = ClaimTable()
    for name in only or LATENT_CLAIMS:
        d, key = BOOK[name], LATENT_CLAIMS[name]
        a_variant, b_variant = (next(v for v, label in LATENT_LABELS.items() if label == side) for side in (d.a, d.b))
        if a_variant in stats and b_variant in stats:
            claims.append(
                judge(name, value(a_variant, key), value(b_variant, key), preset, compare_committed=compare_committed, n=n)
            )
    return claims
