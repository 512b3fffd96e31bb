"""Plotting helpers for the notebooks: every figure gets a title, labelled axes with units,
and a legend when it shows more than one series."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from mlib.data.crop import CropConfig, joints_to_crop_pixels
from mlib.evaluate import Array, joint_labels, success_rate, to_numpy

# Bones between the 14 evaluation joints (in EVAL_JOINTS order; 13 is the palm centre).
BONES = [(0, 1), (1, 13), (2, 3), (3, 13), (4, 5), (5, 13), (6, 7), (7, 13), (8, 9), (9, 10), (10, 13), (11, 13),
         (12, 13)]  # fmt: skip


def _ax(ax, figsize=(6, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def crop_pixels(store, idx: int, xyz_mm: np.ndarray, camera: int = 1) -> np.ndarray:
    """(14, 2) crop pixel coordinates (column, row) of joints in mm, for frame `idx` of a store."""
    cfg = CropConfig(size=store.crop_size, cube_mm=float(store.cube[idx]))
    return joints_to_crop_pixels(np.asarray(xyz_mm), store.centres[idx, camera - 1].numpy(), cfg)


def show_depth(ax, crop, title: str = "") -> None:
    """A normalised depth crop, near = dark, background = white."""
    crop = crop.detach().float().cpu().numpy() if isinstance(crop, torch.Tensor) else np.asarray(crop)
    ax.imshow(np.squeeze(crop), cmap="viridis", vmin=-1, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def draw_pose(ax, pixels: np.ndarray, color: str, label: str | None = None) -> None:
    """A 14-joint skeleton over a crop."""
    for a, b in BONES:
        ax.plot(pixels[[a, b], 0], pixels[[a, b], 1], color=color, lw=1.5)
    ax.scatter(pixels[:, 0], pixels[:, 1], s=10, color=color, label=label, zorder=3)


def plot_history(history: Sequence[dict], keys: Sequence[str], ax=None, title: str = "Training losses", logy=True):
    """Loss terms (or any logged value) over iterations."""
    ax = _ax(ax)
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


def plot_error_vs_n(
    table: dict[str, dict],
    ax=None,
    title: str = "Mean joint error vs. labeled real frames",
    n_all: int | None = None,
):
    """Paper Fig. 4 layout. table[variant][n] = (mean, std, seeds) in mm (or (mean, std)); error bars are
    drawn only over two or more seeds. n = 'all' is drawn at `n_all` (the number of training frames);
    without it, one step right of the largest n and labelled so."""
    ax = _ax(ax, (7, 4.5))
    numeric = [int(n) for cells in table.values() for n in cells if n != "all"]
    at_all = n_all if n_all is not None else (max(numeric) * 2 if numeric else 1)
    for variant, cells in table.items():
        ns = sorted(cells, key=lambda n: at_all if n == "all" else int(n))
        xs = [at_all if n == "all" else int(n) for n in ns]
        means = [cells[n][0] for n in ns]
        spread = [cells[n][1] if len(cells[n]) < 3 or cells[n][2] >= 2 else 0.0 for n in ns]
        ax.errorbar(xs, means, yerr=spread if any(spread) else None, marker="o", capsize=3, label=variant)
    ax.set_xscale("log")
    if n_all is not None:
        ax.set_xlabel(f"labeled real frames n (log scale; 'all' = {n_all})")
    else:
        ax.set_xlabel("labeled real frames n (log scale; the last point is 'all')")
    ax.set_ylabel("mean joint error on real test frames (mm)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return ax


def plot_distance_histograms(samples: dict[str, np.ndarray], ax=None, title="Latent distance of corresponding pairs"):
    """Histograms of distances between corresponding real and synthetic latents (paper Fig. 6)."""
    ax = _ax(ax)
    top = max(np.percentile(v, 99) for v in samples.values())
    bins = np.linspace(0, top, 40)
    for name, d in samples.items():
        ax.hist(d, bins=bins, alpha=0.5, label=f"{name} (median {np.median(d):.2f})")
    ax.set_xlabel("Euclidean distance between real and synthetic latent (latent units)")
    ax.set_ylabel("number of frames")
    ax.set_title(title)
    ax.legend()
    return ax


def plot_embedding(points: np.ndarray, is_real: np.ndarray, ax=None, title: str = "t-SNE of latents"):
    """2-D embedding of latents, coloured by domain."""
    ax = _ax(ax, (5, 5))
    is_real = np.asarray(is_real, bool)
    ax.scatter(*points[~is_real].T, s=6, alpha=0.6, label="synthetic", color="tab:blue")
    ax.scatter(*points[is_real].T, s=6, alpha=0.6, label="real", color="tab:red")
    ax.set_xlabel("t-SNE dimension 1 (a.u.)")
    ax.set_ylabel("t-SNE dimension 2 (a.u.)")
    ax.set_title(title)
    ax.legend()
    return ax


def plot_domain_headroom(rows: dict[str, tuple[float, float]], ax=None, title: str = "What a mapping could win"):
    """Per model: its error on real test frames beside its error on the synthetic renders of the same
    frames. A perfect real->synthetic mapping brings the first down to the second, no further."""
    ax = _ax(ax, (8, 4))
    names = list(rows)
    x = np.arange(len(names))
    real = np.array([rows[k][0] for k in names])
    synth = np.array([rows[k][1] for k in names])
    ax.bar(x - 0.2, real, width=0.4, label="real test frames", color="tab:red")
    ax.bar(x + 0.2, synth, width=0.4, label="synthetic renders of the same frames", color="tab:blue")
    for xi, r, s in zip(x, real, synth):
        ax.annotate(f"{r - s:+.1f}", (xi - 0.2, r), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("mean joint error (mm)")
    ax.set_ylim(0, max(real.max(), synth.max()) * 1.25)  # room for the legend above the bars
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper center", ncols=2)
    return ax


def plot_separability(scores: dict[str, float], ax=None, title: str = "Can a fresh classifier tell the domains apart?"):
    """Per model: held-out accuracy of a linear real-vs-synthetic classifier on its latents
    (`mlib.analysis.domain_separability`), against the 0.5 of indistinguishable domains."""
    ax = _ax(ax, (7, 3.5))
    names = list(scores)
    ax.barh(names, [scores[k] for k in names], color="tab:purple", label="linear probe, held-out")
    ax.axvline(0.5, color="gray", ls="--", lw=1, label="chance (domains alike)")
    for i, k in enumerate(names):
        ax.annotate(f"{scores[k]:.2f}", (scores[k], i), xytext=(3, 0), textcoords="offset points", va="center")
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("real-vs-synthetic accuracy (fraction)")
    ax.invert_yaxis()  # first model on top
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=2)  # below: bars reach 1.0
    ax.figure.tight_layout()
    return ax


# ----------------------------------------------------------------------------- evaluation plots


def plot_success_curves(results: dict[str, Array], ax=None, max_threshold: float = 80, title: str | None = None):
    """Fraction of frames with all joints within tau, as a function of tau, one curve per method."""
    ax = _ax(ax, (6, 4.5))
    taus = np.linspace(0, max_threshold, 161)
    for name, errors in results.items():
        ax.plot(taus, 100 * success_rate(errors, taus), label=name)
    ax.set(xlim=(0, max_threshold), ylim=(0, 100), xlabel="threshold τ (mm)")
    ax.set_ylabel("frames with max joint error ≤ τ (%)")
    ax.set_title(title or "Success rate (worst joint within τ)")
    ax.grid(alpha=0.3)
    if len(results) > 1:
        ax.legend(fontsize="small", loc="lower right")
    return ax


def plot_per_joint(results: dict[str, Array], ax=None, title: str | None = None):
    """Mean error per joint (and overall) as grouped bars, one colour per method."""
    ax = _ax(ax, (10, 4.5))
    first = to_numpy(next(iter(results.values())))
    labels = joint_labels(first.shape[1]) + ["mean"]
    x = np.arange(len(labels))
    width = 0.8 / len(results)
    for i, (name, errors) in enumerate(results.items()):
        e = to_numpy(errors)
        ax.bar(x + (i - (len(results) - 1) / 2) * width, [*e.mean(axis=0), e.mean()], width, label=name)
    ax.set_ylim(0, ax.get_ylim()[1] * (1 + 0.1 * np.ceil(len(results) / 3)))  # headroom for the legend
    ax.set_xticks(x, labels, rotation=45, ha="right", fontsize="small")
    ax.set(xlabel="joint", ylabel="mean error (mm)")
    ax.set_title(title or "Mean error per joint")
    ax.grid(axis="y", alpha=0.3)
    if len(results) > 1:
        ax.legend(fontsize="small", ncol=min(3, len(results)), loc="upper left")
    return ax


def plot_comparison(results: dict[str, Array], fig=None):
    """The two plots side by side; pass a matplotlib Figure to draw without pyplot (e.g. headless)."""
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(16, 5))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.8]})
    plot_success_curves(results, ax=left)
    plot_per_joint(results, ax=right)
    fig.tight_layout()
    return fig
