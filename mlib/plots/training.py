"""Figures of training: the loss curves, the learning-rate schedule, a mini-batch's four sets, the
architecture (paper Fig. 2) and the weight of each term of Eq. 1 in the total."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch

from mlib.plots.images import axes_or_new, show_crop_grid


def plot_history(
    history: Sequence[dict], keys: Sequence[str], ax: Axes | None = None, title: str = "Training losses", logy=True
) -> Axes:
    """Loss terms (or any logged value) over iterations."""
    ax = axes_or_new(ax)
    for key in keys:
        rows = [r for r in history if key in r]
        if rows:
            ax.plot([r["iteration"] for r in rows], [r[key] for r in rows], label=key)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("value (loss summed over the batch)")
    ax.set_title(title)
    if len(keys) > 1:
        ax.legend()
    return ax


def plot_lr_schedule(
    rates: Sequence[float],
    iters_per_epoch: float,
    history: Sequence[dict] = (),
    ax: Axes | None = None,
    title: str = "Learning rate (appendix Eq. 14-15)",
) -> Axes:
    """The learning rate of every iteration (`rates`), on a log axis so that the warm-up (a tenth, then a
    third of the base rate for two epochs each) and the exponential decay both show; the warm-up's
    iterations shaded; the rates a run logged (`history` rows with 'lr') as dots on top."""
    ax = axes_or_new(ax)
    rates = np.asarray(rates, float)
    ax.plot(np.arange(len(rates)), rates, drawstyle="steps-post", lw=1.5, label="schedule, every iteration")
    warm = min(4 * iters_per_epoch, len(rates))
    ax.axvspan(0, warm, color="tab:orange", alpha=0.2, label=f"warm-up: 4 epochs = {warm:.0f} iterations")
    logged = [r for r in history if "lr" in r]
    if logged:
        ax.plot([r["iteration"] for r in logged], [r["lr"] for r in logged], "o", ms=3, label="logged by the run")
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("learning rate")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


# The sets of a MURAUER mini-batch (paper appendix A.1: four sets of equal size; the first holds
# corresponding real/synthetic pairs, so a batch carries it as two halves) and the terms of Eq. 1 that
# read each one in Trainer.model_step and h's step (mlib.adversarial) with the default settings.
# batch name -> (set number, what it holds, domain, terms)
BATCH_SETS: dict[str, tuple[int, str, str, tuple[str, ...]]] = {
    "pair_real": (1, "pairs: real crop", "real", ("Lp", "Lc", "Lm", "Lh")),
    "pair_synth": (1, "pairs: its synthetic render", "synth", ("Lp", "Lc target", "Lh")),
    "real": (2, "labeled real", "real", ("Lp", "Lm", "Lh")),
    "synth": (3, "synthetic", "synth", ("Lp", "Lg", "Lh")),
    "unlabeled": (4, "unlabeled real", "real", ("Lg", "Lm", "Lh")),
}


def sets_reading(term: str) -> list[int]:
    """The set numbers (paper appendix A.1) whose samples a term of Eq. 1 reads, e.g. 'Lg' -> [3, 4]."""
    return sorted({k for k, _, _, terms in BATCH_SETS.values() if any(t.split()[0] == term for t in terms)})


def _set_label(name: str) -> str:
    """A batch set's row label: its set number, what it holds and the terms that read it."""
    number, what, _, terms = BATCH_SETS[name]
    return f"set {number} · {what}\n({', '.join(terms)})"


def plot_four_set_batch(batch, cube_mm: float, per_set: int = 4, title: str | None = None) -> Figure:
    """One MURAUER mini-batch (paper §4.1, appendix A.1): its four sets (1 corresponding real/synthetic
    pairs, drawn as two rows, 2 labeled real, 3 synthetic, 4 unlabeled real), the first `per_set` crops of
    each row as the network receives them (augmented), each row labelled with the terms of Eq. 1 that read it."""
    names = [k for k in BATCH_SETS if k in batch.sets]
    rows = [list(batch[name].x[:per_set, 0].detach().cpu()) for name in names]
    titles = [[f"{name} [{j}]" for j in range(len(row))] for name, row in zip(names, rows)]
    sizes = {}
    for name in names:
        sizes.setdefault(BATCH_SETS[name][0], len(batch[name].x))
    what = ", ".join(f"set {k}: {n} {'pairs' if k == 1 else 'crops'}" for k, n in sorted(sizes.items()))
    default = f"One mini-batch of {len(sizes)} sets ({what}); the pairs take two rows, a real crop and its render"
    return show_crop_grid(rows, titles, cube_mm, title or default, row_labels=[_set_label(n) for n in names])


def _box(ax, x0, y0, w, h, text, face, edge="black", lw=1.0, size=9, weight="normal") -> None:
    ax.add_patch(FancyBboxPatch((x0, y0), w, h, boxstyle="round,pad=0.02,rounding_size=0.12", fc=face, ec=edge, lw=lw))
    ax.text(x0 + w / 2, y0 + h / 2, text, ha="center", va="center", fontsize=size, weight=weight)


def _arrow(ax, a, b, color="black", lw=1.2, style="-|>", ls="-", rad=0.0) -> None:
    ax.annotate(
        "",
        xy=b,
        xytext=a,
        arrowprops=dict(
            arrowstyle=style, color=color, lw=lw, ls=ls, connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0
        ),
    )


def plot_architecture(
    counts: dict[str, int] | None = None, set_sizes: dict[int, int] | None = None, weights=None
) -> Figure:
    """MURAUER as a diagram (paper Fig. 2, §3, appendix A.1): the four sets of a mini-batch on the left,
    the five modules f, p, m, h, g, the real path through m and the synthetic path around it, and the term
    of Eq. 1 each output feeds, with the sets it reads (from `BATCH_SETS`). The modules of the test-time
    prediction p(m(f(x))) (Eq. 7) have a thick blue frame. `counts`: parameters per module (as
    `mlib.models.parameter_counts` gives them); `set_sizes`: samples per set number; `weights`: the λ of
    Eq. 1 (an object with lambda_c, lambda_g, lambda_m). Returns the figure."""
    real_c, synth_c, test_c = "tab:orange", "tab:green", "tab:blue"
    fig, ax = plt.subplots(figsize=(14, 7.2))
    ax.set_xlim(0, 16.4)
    ax.set_ylim(-0.2, 10.4)
    ax.axis("off")

    lam = (lambda k: f" × {getattr(weights, k):g}") if weights is not None else (lambda k: "")

    def size(name):
        if not counts or name not in counts:
            return ""
        n = counts[name]
        return f"\n{n / 1e6:.2f} M param." if n >= 1e6 else f"\n{n / 1e3:.1f} k param."

    # the sets of one mini-batch
    ax.text(1.7, 10.15, "one mini-batch: four sets", ha="center", fontsize=10, weight="bold")
    set_y = {
        "real": 9.0,
        "pair_real": 7.6,
        "unlabeled": 6.2,
        "pair_synth": 3.9,
        "synth": 2.5,
    }  # the pairs face each other
    for name, y in set_y.items():
        number, what, domain, terms = BATCH_SETS[name]
        n = f" ({set_sizes[number]})" if set_sizes and number in set_sizes else ""
        label = f"set {number}{n}: {what}\nread by " + ", ".join(terms)
        _box(ax, 0.1, y - 0.5, 3.2, 1.0, label, "#fde3c8" if domain == "real" else "#d4f0d4", size=8)
        _arrow(ax, (3.3, y), (4.1, y), real_c if domain == "real" else synth_c)
    ax.plot([0.25, 0.25], [set_y["pair_real"] - 0.5, set_y["pair_synth"] + 0.5], color="gray", ls=":", lw=1.2)
    ax.text(0.35, 5.05, "a pair: the same frame,\nthe same augmentation", fontsize=7.5, color="dimgray", va="center")

    # f (shared), m (real path only), the two kinds of latent code
    _box(ax, 4.1, 1.6, 1.5, 8.0, "f\nencoder\n(both\ndomains)" + size("f"), "white", test_c, 3, 10, "bold")
    _box(ax, 6.0, 7.0, 1.7, 1.4, "m\nmapping" + size("m"), "white", test_c, 3, 9, "bold")
    _arrow(ax, (5.6, 7.7), (6.0, 7.7), real_c)
    _box(ax, 8.1, 7.15, 1.5, 1.1, "ẑ = m(f(x))\nreal codes", "#fde3c8", size=8)
    _box(ax, 8.1, 2.35, 1.5, 1.1, "z = f(x)\nsynthetic codes", "#d4f0d4", size=8)
    _arrow(ax, (7.7, 7.7), (8.1, 7.7), real_c)
    _arrow(ax, (5.6, 2.9), (8.1, 2.9), synth_c)
    ax.text(6.8, 3.05, "no m", ha="center", fontsize=8, color=synth_c)
    _arrow(ax, (8.85, 7.15), (8.85, 3.45), "crimson", 1.5, "<|-|>", "--")
    lc_sets = ", ".join(map(str, sets_reading("Lc")))
    lc = f"Lc (Eq. 8){lam('lambda_c')}, set {lc_sets}:\na pair's ẑ pulled onto\nits render's z (z fixed)"
    ax.text(8.7, 5.3, lc, fontsize=8, color="crimson", va="center", ha="right")

    # the three heads and the terms they feed
    heads = {
        "p": (8.3, "p\npose head" + size("p"), "ŷ: 14 joints in 3D"),
        "g": (5.3, "g\nview decoder" + size("g"), "the side camera's view\n(g also gets the crop centre)"),
        "h": (2.2, "h\ndiscriminator" + size("h"), "real (1) or synthetic (0)?"),
    }
    for name, (y, text, out) in heads.items():
        edge, lw = (test_c, 3) if name == "p" else ("black", 1)
        _box(ax, 10.8, y - 0.65, 1.8, 1.3, text, "white", edge, lw, 9, "bold")
        _arrow(ax, (9.6, 7.7), (10.8, y + 0.15), real_c)
        _arrow(ax, (9.6, 2.9), (10.8, y - 0.15), synth_c)
        ax.text(11.7, y - 0.82, out, ha="center", va="top", fontsize=7.5, style="italic")
    terms = [
        (8.3, f"Lp (Eq. 5)\nsquared joint error,\nlabeled sets {', '.join(map(str, sets_reading('Lp')))}"),
        (
            5.3,
            f"Lg (Eq. 10){lam('lambda_g')}\nL1 to the captured side view,\nsets {', '.join(map(str, sets_reading('Lg')))}",
        ),
        (
            2.85,
            f"Lm (Eq. 13){lam('lambda_m')}\nm makes h call real codes\nsynthetic, sets {', '.join(map(str, sets_reading('Lm')))}",
        ),
        (1.2, "Lh (Eq. 12), h's own step\nreal → 1, synthetic → 0,\nall sets, codes detached"),
    ]
    for y, text in terms:
        _box(ax, 13.1, y - 0.6, 3.1, 1.2, text, "#f4f4f4", size=8)
    for y_head, y_term in ((8.3, 8.3), (5.3, 5.3), (2.2, 2.85), (2.2, 1.2)):
        _arrow(ax, (12.6, y_head), (13.1, y_term))
    eq = "L = Lp + λc·Lc + λg·Lg + λm·Lm (Eq. 1)"
    if weights is not None:
        eq += f" with λc = {weights.lambda_c:g}, λg = {weights.lambda_g:g}, λm = {weights.lambda_m:g}"
    ax.text(8.2, -0.05, eq + "; Lh trains h alone, in a step of its own", ha="center", fontsize=9)

    handles = [
        Line2D([], [], color=real_c, lw=2, label="real samples (through m)"),
        Line2D([], [], color=synth_c, lw=2, label="synthetic samples (no m)"),
        Line2D([], [], color=test_c, lw=3, label="test time: ŷ = p(m(f(x))), Eq. 7"),
    ]
    ax.legend(handles=handles, loc="upper right", fontsize=8, frameon=False, bbox_to_anchor=(1.0, 1.02))
    ax.set_title(
        "MURAUER (paper Fig. 2): five modules, the four sets of a batch, and where each term of Eq. 1 attaches"
    )
    fig.tight_layout()
    return fig


def plot_term_scale(
    scales: dict[str, float], ax: Axes | None = None, title: str = "Size of each term of Eq. 1 in the total"
) -> Axes:
    """Weighted loss terms (λ·L, median over stage 2, from `mlib.analysis.weighted_terms`) as horizontal
    bars on a log axis: how much each term of Eq. 1 weighs in the total the optimiser sees."""
    ax = axes_or_new(ax, (7, 3))
    names = list(scales)
    ax.barh(names, [scales[k] for k in names], color="tab:green")
    for i, k in enumerate(names):
        ax.annotate(f"{scales[k]:.1e}", (scales[k], i), xytext=(3, 0), textcoords="offset points", va="center",
                    fontsize=8)  # fmt: skip
    ax.set_xscale("log")
    lo, hi = min(scales.values()), max(scales.values())
    ax.set_xlim(lo / 10, hi * 30)
    ax.set_xlabel("weighted term λ·L, median over stage 2 (loss units, summed over the batch)")
    ax.set_ylabel("term of Eq. 1")
    ax.invert_yaxis()
    ax.set_title(title)
    ax.figure.tight_layout()
    return ax
