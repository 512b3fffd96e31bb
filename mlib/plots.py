"""Plotting helpers for the notebooks: every figure gets a title, labelled axes with units,
and a legend when it shows more than one series.

    python -m mlib.plots --gt GT.txt PRED.txt [PRED.txt ...] --out OUT.png

draws the success-rate curves and per-joint errors of prediction files (read as `python -m mlib.evaluate`
reads them)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from mlib.data.camera import EVAL_BONES
from mlib.data.crop import CropConfig, joints_to_crop_pixels
from mlib.evaluate import FORMATS, Array, evaluate_files, joint_labels, success_rate, to_numpy


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
    for a, b in EVAL_BONES:
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
    ax.set_xlabel("model (variant)")
    ax.set_ylabel("mean joint error (mm)")
    ax.set_ylim(0, max(real.max(), synth.max()) * 1.25)  # room for the legend above the bars
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper center", ncols=2)
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


# --- crops, poses and the paper's figures (notebooks 04-06)

POSE_COLOURS = {"ground truth": "lime", "prediction": "red"}  # a method without its own colour draws in red


def show_crop(ax, crop, cube_mm: float, title: str = "", colorbar: bool = True):
    """A normalised depth crop in mm relative to the crop centre (near = dark), with a colour bar in mm.

    A crop stores depth as (z - centre) / (cube / 2) in [-1, 1], background +1 (`mlib.data.crop`); drawn here
    in mm so the colour bar reads as a distance along the camera axis. Returns the image."""
    crop = crop.detach().float().cpu().numpy() if isinstance(crop, torch.Tensor) else np.asarray(crop, float)
    half = cube_mm / 2
    im = ax.imshow(np.squeeze(crop) * half, cmap="viridis", vmin=-half, vmax=half)
    ax.set_autoscale_on(False)  # a skeleton drawn later that leaves the crop is clipped, not zoomed out to
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    if colorbar:
        cb = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
        cb.set_label("depth from crop centre (mm)", fontsize=7)
        cb.ax.tick_params(labelsize=6)
    return im


def _joint_name(j: int) -> str:
    return joint_labels(14)[j] if j < 14 else f"joint {j}"


def plot_pose_panels(
    store,
    frames: Sequence[int],
    poses: dict[str, np.ndarray],
    errors: dict[str, np.ndarray] | None = None,
    title: str = "Ground truth and predictions",
    colours: dict[str, str] | None = None,
    panel_size: float = 2.6,
):
    """One row per frame, one column per pose source (paper Fig. 1: ground truth / baseline / MURAUER):
    each panel is the real crop with that source's skeleton alone. `poses[name]` is (N, 14, 3) mm for the
    whole store (a key 'ground truth' is drawn in green); `errors[name]` (N, 14) mm adds the frame's mean
    and max joint error to the panel's title. Returns the figure."""
    frames = [int(i) for i in frames]
    names = list(poses)
    colours = {**POSE_COLOURS, "Real+Synth": "orange", "MURAUER": "red", **(colours or {})}
    fig, axes = plt.subplots(
        len(frames), len(names), figsize=(panel_size * 1.25 * len(names), panel_size * len(frames)), squeeze=False
    )
    for r, i in enumerate(frames):
        for c, name in enumerate(names):
            ax = axes[r, c]
            label = name
            if errors is not None and name in errors:
                e = errors[name][i]
                label = f"{name}\nmean {e.mean():.0f}, max {e.max():.0f} mm"
            elif name == "ground truth":
                label = f"frame {i}: ground truth"
            show_crop(ax, store.real[i], float(store.cube[i]), label, colorbar=c == len(names) - 1)
            draw_pose(ax, crop_pixels(store, i, poses[name][i]), colours.get(name, "red"))
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_worst_frames(
    store,
    gt: np.ndarray,
    pred: np.ndarray,
    errors: np.ndarray,
    k: int = 6,
    by: str = "max",
    name: str = "MURAUER",
    title: str | None = None,
    columns: int = 3,
):
    """Paper Fig. 11: the k test frames with the largest maximum (or mean) joint error, each crop with the
    ground truth (green) and the prediction (red); the worst joint is ringed and named in the title."""
    per_frame = errors.max(axis=1) if by == "max" else errors.mean(axis=1)
    frames = np.argsort(-per_frame)[:k]
    rows = int(np.ceil(len(frames) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 3.0 * rows), squeeze=False)
    for ax in axes.flat[len(frames) :]:
        ax.axis("off")
    for ax, i in zip(axes.flat, frames):
        j = int(errors[i].argmax())
        show_crop(ax, store.real[i], float(store.cube[i]), f"frame {i}: max {errors[i, j]:.0f} mm\n({_joint_name(j)})")
        draw_pose(ax, crop_pixels(store, i, gt[i]), "lime", "ground truth")
        px = crop_pixels(store, i, pred[i])
        draw_pose(ax, px, "red", name)
        ax.scatter(px[j, 0], px[j, 1], s=140, facecolors="none", edgecolors="white", lw=1.5, zorder=4)
    axes.flat[0].legend(fontsize=6, loc="lower left")
    fig.suptitle(title or f"{name}: the {len(frames)} real test frames with the largest {by} joint error")
    fig.tight_layout()
    return fig


def plot_semi_supervised_comparison(ours: dict[str, dict] | None = None, ax=None, n_all: int | None = None):
    """Paper Fig. 3: published semi-supervised methods on NYU, mean joint error against the number of
    labeled real frames (values read off the paper's plot, `mlib.paper_results`). `ours` adds this run's
    curves, {name: {n: mm}} ('all' drawn at `n_all`), on the same axes, marked as the embedded data."""
    from mlib.paper_results import FIG3_SEMI_SUPERVISED, FIG3_SOURCE

    ax = _ax(ax, (8, 4.8))
    for method, (ref, points) in FIG3_SEMI_SUPERVISED.items():
        n, mm = zip(*points)
        ax.plot(n, mm, marker="o", ls="-" if method == "MURAUER" else "--", label=f"{method} (NYU; {ref})")
    for name, cells in (ours or {}).items():
        pts = sorted((n_all if n == "all" else int(n), v) for n, v in cells.items() if n != "all" or n_all)
        ax.plot(*zip(*pts), marker="s", color="black", lw=1.5, label=f"{name} (this run, embedded data)")
    ax.set_xscale("log")
    ax.set_xlabel("labeled real frames n (log scale)")
    ax.set_ylabel("mean joint error (mm)")
    ax.set_title("Semi-supervised methods vs. labeled frames (paper Fig. 3)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    ax.annotate(f"published values {FIG3_SOURCE}", (0, -0.2), xycoords="axes fraction", fontsize=6.5)
    ax.figure.tight_layout()
    return ax


def plot_embedding_thumbnails(
    points: np.ndarray,
    is_real: np.ndarray,
    crops: np.ndarray,
    ax=None,
    n_thumbs: int = 8,
    zoom: float | None = None,
    title: str = "t-SNE of latents with depth crops",
    seed: int = 0,
):
    """Paper Fig. 5: a 2-D embedding of real and synthetic latents with a few depth crops placed at their
    points (a line joins each crop to its point). `crops` (N, S, S) are the inputs in the same row order
    as `points`; the crops shown are spread over the map (farthest-point choice from a seeded start).
    `zoom` scales the thumbnails (default: about 48 pixels whatever the crop size)."""
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage

    ax = plot_embedding(points, is_real, ax=ax, title=title)
    zoom = zoom or 48 / crops.shape[-1]
    chosen = [int(np.random.default_rng(seed).integers(len(points)))]
    d = np.linalg.norm(points - points[chosen[0]], axis=1)
    while len(chosen) < min(n_thumbs, len(points)):
        chosen.append(int(d.argmax()))
        d = np.minimum(d, np.linalg.norm(points - points[chosen[-1]], axis=1))
    centre = points.mean(0)
    span = np.ptp(points, axis=0).max()
    for i in chosen:
        crop = crops[i].detach().cpu().numpy() if isinstance(crops, torch.Tensor) else np.asarray(crops[i])
        away = points[i] - centre
        away = away / (np.linalg.norm(away) + 1e-9) * 0.12 * span  # push the crop outwards, off the cloud
        box = AnnotationBbox(
            OffsetImage(np.squeeze(crop), cmap="viridis", zoom=zoom, norm=plt.Normalize(-1, 1)),
            points[i], xybox=points[i] + away, xycoords="data", boxcoords="data", pad=0.1,
            bboxprops={"edgecolor": "tab:red" if is_real[i] else "tab:blue", "lw": 1.5},
            arrowprops={"arrowstyle": "-", "color": "gray", "lw": 0.8},
        )  # fmt: skip
        ax.add_artist(box)
    ax.margins(0.18)
    return ax


def plot_view_grid(
    frames: Sequence[int],
    rows: dict[str, tuple[np.ndarray, np.ndarray]],
    cube_mm: np.ndarray,
    title: str = "Side views predicted from real and synthetic inputs (paper Fig. 7)",
):
    """Paper Fig. 7 as a grid: one row per entry of `rows` ({row label: (real-side crops, synthetic-side
    crops)}, each (len(frames), S, S)), two columns per frame (real | synthetic). Every row is
    different content; each panel's two-line title names its row, frame and domain."""
    frames = [int(i) for i in frames]
    fig, axes = plt.subplots(len(rows), 2 * len(frames), figsize=(2.1 * 2 * len(frames) + 1, 2.2 * len(rows)),
                             squeeze=False)  # fmt: skip
    for r, (label, (real, synth)) in enumerate(rows.items()):
        for j, i in enumerate(frames):
            for k, (dom, crops) in enumerate((("real", real), ("synth.", synth))):
                ax = axes[r, 2 * j + k]
                head = f"frame {i}: " if r == 0 else ""
                show_crop(ax, crops[j], float(cube_mm[j]), f"{head}{label}\n({dom})",
                          colorbar=j == len(frames) - 1 and k == 1)  # fmt: skip
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_term_scale(scales: dict[str, float], ax=None, title: str = "Size of each term of Eq. 1 in the total"):
    """Weighted loss terms (λ·L, median over stage 2, from `mlib.analysis.weighted_terms`) as horizontal
    bars on a log axis: how much each term of Eq. 1 weighs in the total the optimiser sees."""
    ax = _ax(ax, (7, 3))
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


# --- training curves and pretraining figures (notebooks 01-03)


def show_crop_grid(
    crops: Sequence,
    titles: Sequence[str],
    cube_mm: float | Sequence[float],
    ncols: int,
    title: str,
    row_labels: Sequence[str] | None = None,
    panel_size: float = 2.3,
):
    """Depth crops in a grid (row-major), each in mm from its crop centre, one colour bar in mm at the
    end of every row; `row_labels` name the rows on their first panel's left side. Returns the figure."""
    n = len(crops)
    nrows = int(np.ceil(n / ncols))
    cubes = np.broadcast_to(np.asarray(cube_mm, float), (n,))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols + 1.0, panel_size * nrows + 0.6), squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for k, (ax, crop) in enumerate(zip(axes.flat, crops)):
        last_in_row = k % ncols == ncols - 1 or k == n - 1
        show_crop(ax, crop, float(cubes[k]), titles[k] if k < len(titles) else "", colorbar=last_in_row)
        if row_labels is not None and k % ncols == 0:
            ax.set_ylabel(row_labels[k // ncols], fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# The sets of a MURAUER mini-batch (paper appendix A.1: four sets of equal size; the first holds
# corresponding real/synthetic pairs, so a batch carries it as two halves) and the terms of Eq. 1 that
# read each one in Trainer.model_step and Trainer.discriminator_step with the default settings.
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


def batch_set_label(name: str) -> str:
    """A batch set's row label: its set number, what it holds and the terms that read it."""
    number, what, _, terms = BATCH_SETS[name]
    return f"set {number} · {what}\n({', '.join(terms)})"


def plot_four_set_batch(batch, cube_mm: float, per_set: int = 4, title: str | None = None):
    """One MURAUER mini-batch (paper §4.1, appendix A.1): its four sets (1 corresponding real/synthetic
    pairs, drawn as two rows, 2 labeled real, 3 synthetic, 4 unlabeled real), the first `per_set` crops of
    each row as the network receives them (augmented), each row labelled with the terms of Eq. 1 that read it."""
    names = [k for k in BATCH_SETS if k in batch.sets]
    crops, titles, labels = [], [], []
    for name in names:
        x = batch[name].x[:per_set, 0].detach().cpu()
        crops += list(x)
        titles += [f"{name} [{j}]" for j in range(len(x))]
        labels.append(batch_set_label(name))
    sizes = {}
    for name in names:
        sizes.setdefault(BATCH_SETS[name][0], len(batch[name].x))
    n_sets = len(sizes)
    what = ", ".join(f"set {k}: {n} {'pairs' if k == 1 else 'crops'}" for k, n in sorted(sizes.items()))
    default = f"One mini-batch of {n_sets} sets ({what}); the pairs take two rows, a real crop and its render"
    return show_crop_grid(crops, titles, cube_mm, per_set, title or default, row_labels=labels)


def plot_lr_schedule(
    rates: Sequence[float],
    iters_per_epoch: float,
    history: Sequence[dict] = (),
    ax=None,
    title: str = "Learning rate (appendix Eq. 14-15)",
):
    """The learning rate of every iteration (`rates`), on a log axis so that the warm-up (a tenth, then a
    third of the base rate for two epochs each) and the exponential decay both show; the warm-up's
    iterations shaded; the rates a run logged (`history` rows with 'lr') as dots on top."""
    ax = _ax(ax)
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


def _box(ax, x0, y0, w, h, text, face, edge="black", lw=1.0, size=9, weight="normal"):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x0, y0), w, h, boxstyle="round,pad=0.02,rounding_size=0.12", fc=face, ec=edge, lw=lw))
    ax.text(x0 + w / 2, y0 + h / 2, text, ha="center", va="center", fontsize=size, weight=weight)


def _arrow(ax, a, b, color="black", lw=1.2, style="-|>", ls="-", rad=0.0):
    ax.annotate(
        "",
        xy=b,
        xytext=a,
        arrowprops=dict(
            arrowstyle=style, color=color, lw=lw, ls=ls, connectionstyle=f"arc3,rad={rad}", shrinkA=0, shrinkB=0
        ),
    )


def plot_architecture(counts: dict[str, int] | None = None, set_sizes: dict[int, int] | None = None, weights=None):
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

    from matplotlib.lines import Line2D

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


def plot_errors_with_baseline(
    rows: dict[str, float],
    baseline_mm: float,
    ax=None,
    title: str = "Mean joint error",
    xlabel: str | None = None,
    ylabel: str = "model and input",
):
    """Mean joint errors as horizontal bars, with the mean-pose baseline (the mean training pose for every
    frame, `mlib.evaluate.mean_pose_errors`) as a dashed line: a bar near the line has learned little."""
    ax = _ax(ax, (7, 0.6 * len(rows) + 1.6))
    names = list(rows)
    ax.barh(names, [rows[k] for k in names], color="tab:blue")
    ax.axvline(baseline_mm, color="black", ls="--", lw=1.2, label=f"mean-pose baseline ({baseline_mm:.1f} mm)")
    for i, k in enumerate(names):
        ax.annotate(f"{rows[k]:.1f}", (rows[k], i), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_xlim(0, max(max(rows.values()), baseline_mm) * 1.18)
    ax.set_xlabel(xlabel or "mean joint error on the test split (mm)")
    ax.set_ylabel(ylabel)
    ax.invert_yaxis()
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    ax.figure.tight_layout()
    return ax


def plot_probe_and_mixing(
    probe: dict[str, float], mixing: dict[str, float], k: int = 10, title: str = "Two judges of domain alignment"
):
    """The fresh linear probe (held-out accuracy, 0.5 = the domains cannot be split by a hyperplane) beside
    the kNN mixing score (fraction of each latent's k nearest neighbours from the other domain, 0.5 =
    well mixed with equal counts, 0 = separate clusters), one bar per model. The probe's axis spans
    0.5-1.0 and the mixing axis starts at 0 and reaches past 0.5, the full range of each, so that noise
    is not magnified."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 0.55 * len(probe) + 2.2))
    names = list(probe)
    a.barh(names, [probe[n] for n in names], color="tab:purple")
    a.set_xlim(0.5, 1.0)
    a.set_xlabel("probe accuracy, held-out (fraction; 0.5 = domains alike)")
    a.set_ylabel("model")
    a.set_title("Global: can a hyperplane split real from synthetic?", fontsize=10)
    b.barh(names, [mixing[n] for n in names], color="tab:orange")
    b.set_xlim(0.0, max(0.5, *mixing.values()) * 1.15)  # a latent paired with its own render can exceed 0.5
    b.set_xlabel(f"other-domain share of the {k} nearest neighbours (fraction; 0.5 = mixed)")
    b.set_title("Local: are a latent's neighbours from the other domain?", fontsize=10)
    b.set_yticks(range(len(names)), [""] * len(names))
    b.set_ylabel("model (same order as on the left)")
    for ax, vals in ((a, probe), (b, mixing)):
        for i, n in enumerate(names):
            ax.annotate(f"{vals[n]:.3f}", (vals[n], i), xytext=(3, 0), textcoords="offset points", va="center")
        ax.invert_yaxis()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_pose_overlays(
    store,
    frames: Sequence[int],
    gt: np.ndarray,
    preds: dict[str, np.ndarray],
    errors: dict[str, np.ndarray],
    title: str,
):
    """One row per input domain ('synth' or 'real' keys of `preds`, each (N, 14, 3) mm), one column per
    frame: the domain's camera-1 crop with the ground truth (green) and that domain's prediction (red);
    each title names the frame and the prediction's mean joint error (`errors[domain]`, (N, 14) mm)."""
    frames = [int(i) for i in frames]
    domains = list(preds)
    fig, axes = plt.subplots(len(domains), len(frames), figsize=(2.9 * len(frames), 2.7 * len(domains)), squeeze=False)
    for r, dom in enumerate(domains):
        for c, i in enumerate(frames):
            ax = axes[r, c]
            crop = store.images(torch.tensor([i]), dom)[0, 0]
            label = "synthetic" if dom == "synth" else dom
            show_crop(ax, crop, float(store.cube[i]), f"{label}, frame {i}: {errors[dom][i].mean():.0f} mm",
                      colorbar=c == len(frames) - 1)  # fmt: skip
            draw_pose(ax, crop_pixels(store, i, gt[i]), "lime", "ground truth")
            draw_pose(ax, crop_pixels(store, i, preds[dom][i]), "red", "prediction")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# --- the data tour and the published results (notebooks 00 and 07)

DEPTH_CMAP = plt.get_cmap("viridis").with_extremes(bad="black")  # depth in mm; "no reading" (0) in black
CROP_DEPTH_LABEL = "normalised depth (-1 near, +1 far / background)"


def show_mm(ax, depth, title: str, vmin=None, vmax=None, extent=None):
    """A depth image in mm, a stored 0 (no reading) drawn black, axes in pixels. Returns the image."""
    depth = np.asarray(depth, dtype=np.float32)
    im = ax.imshow(
        np.ma.masked_equal(depth, 0), cmap=DEPTH_CMAP, vmin=vmin, vmax=vmax, extent=extent, interpolation="nearest"
    )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("u (px)")
    ax.set_ylabel("v (px)")
    return im


def label_crop_axes(ax) -> None:
    """Ticks at a crop's first and last pixel, axes named in crop pixels."""
    h, w = ax.get_images()[0].get_array().shape[:2]
    ax.set_xticks([0, w - 1])
    ax.set_yticks([0, h - 1])
    ax.set_xlabel("crop column (px)")
    ax.set_ylabel("crop row (px)")


def norm_to_crop_pixels(joints, size: int) -> np.ndarray:
    """Normalised joints (..., 3) -> crop (column, row): the crop's image plane at the centre's depth,
    the approximation the augmentation makes (x right, y up, both in [-1, 1] across the crop)."""
    joints = np.asarray(joints)
    return np.stack([(joints[..., 0] + 1) / 2 * size - 0.5, (1 - joints[..., 1]) / 2 * size - 0.5], axis=-1)


def render_crop(gen, frames, camera: int, domain: str, crop: CropConfig, size: int):
    """Render only the source pixels of each frame's crop (as the cache does), at any crop size:
    normalised crops (N, size, size) and the 14 joints in crop pixels (N, 14, 2)."""
    import dataclasses

    from mlib.data.camera import EVAL_JOINTS, PALM_CENTRE
    from mlib.data.crop import normalize_depth, source_pixels

    c = dataclasses.replace(crop, size=size)
    centre = frames.joints_xyz[:, camera - 1, PALM_CENTRE]
    u, v = source_pixels(centre, c)
    crops = normalize_depth(gen.render(frames, camera, domain, u, v), centre[:, 2], c.cube_mm)
    return crops, joints_to_crop_pixels(frames.joints_xyz[:, camera - 1][:, EVAL_JOINTS], centre, c)


def _crop_window_patch(ax, u_c: float, v_c: float, half_u: float, half_v: float, lw: float = 2) -> None:
    from matplotlib.patches import Rectangle

    rect = Rectangle((u_c - half_u, v_c - half_v), 2 * half_u, 2 * half_v, fill=False, color="red", lw=lw)
    rect.set_label("crop window")
    ax.add_patch(rect)


def plot_png_channels(rgb: np.ndarray, depth: np.ndarray, title: str):
    """An NYU depth PNG's two bytes (G high, B low) and the depth they encode, G * 256 + B mm."""
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.2))
    for ax, ch, name in zip(axes[:2], (1, 2), ("G channel = high byte", "B channel = low byte")):
        im = ax.imshow(rgb[..., ch], cmap="gray", interpolation="nearest")
        fig.colorbar(im, ax=ax, label="byte value (0-255)")
        ax.set(title=name, xlabel="u (px)", ylabel="v (px)")
    im = show_mm(axes[2], depth, "decoded depth = G * 256 + B")
    fig.colorbar(im, ax=axes[2], label="depth (mm)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_labelled_frame(depth: np.ndarray, uvd: np.ndarray, xyz: np.ndarray, marks: dict[str, int], title: str):
    """A whole frame with its 14 labelled joints, and a zoom on the hand annotating v (px) against
    y (mm) for the joints in `marks` (name -> joint index): rows grow down, NYU's y grows up."""
    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    im = show_mm(axes[0], depth, "whole frame with the 14 labelled joints")
    draw_pose(axes[0], uvd[:, :2], "red", "14 evaluation joints")
    fig.colorbar(im, ax=axes[0], label="depth (mm)")
    lo, hi = uvd[:, 2].min() - 30, uvd[:, 2].max() + 60
    im = show_mm(axes[1], depth, "zoom on the hand: v grows down, y grows up", lo, hi)
    draw_pose(axes[1], uvd[:, :2], "red", "14 evaluation joints")
    for name, k in marks.items():
        u, v, _ = uvd[k]
        axes[1].annotate(
            f"{name}\nv = {v:.0f} px, y = {xyz[k, 1]:+.0f} mm",
            (u, v),
            xytext=(u + 45, v - 10),
            color="white",
            fontsize=9,
            arrowprops=dict(arrowstyle="->", color="white"),
        )
    axes[1].set_xlim(uvd[:, 0].min() - 50, uvd[:, 0].max() + 110)
    axes[1].set_ylim(uvd[:, 1].max() + 50, uvd[:, 1].min() - 50)
    fig.colorbar(im, ax=axes[1], label="depth (mm), clipped to the hand's range")
    for ax in axes:
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_crop_of_frame(depth: np.ndarray, centre_xyz: np.ndarray, crop: CropConfig, crop_image, title: str):
    """Left: the cube's window in the whole frame; right: the normalised crop with its joints.
    `crop_image` is (normalised crop, (14, 2) joints in crop pixels)."""
    from mlib.data.crop import crop_window

    image, pixels = crop_image
    u_c, v_c, half_u, half_v = map(float, crop_window(centre_xyz, crop))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    im = show_mm(axes[0], depth, f"the {crop.cube_mm:.0f} mm cube projected into the frame")
    _crop_window_patch(axes[0], u_c, v_c, half_u, half_v)
    axes[0].plot(u_c, v_c, "r+", ms=12, label="palm centre")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.colorbar(im, ax=axes[0], label="depth (mm)")
    show_depth(axes[1], image, f"normalised {crop.size}x{crop.size} crop (background = +1)")
    draw_pose(axes[1], pixels, "red", "14 evaluation joints")
    label_crop_axes(axes[1])
    axes[1].legend(loc="lower right", fontsize=8)
    fig.colorbar(axes[1].get_images()[0], ax=axes[1], label=CROP_DEPTH_LABEL)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def capsule_outline(a: np.ndarray, b: np.ndarray, r: float, n: int = 16) -> np.ndarray:
    """2-D outline (x, y) of a capsule from a to b with radius r, projected onto the palm plane."""
    d = b - a
    ang = np.arctan2(d[1], d[0]) if np.hypot(*d) > 1e-9 else 0.0
    t1 = ang + np.linspace(-np.pi / 2, np.pi / 2, n)
    t0 = ang + np.linspace(np.pi / 2, 3 * np.pi / 2, n)
    return np.concatenate(
        [b + r * np.stack([np.cos(t1), np.sin(t1)], 1), a + r * np.stack([np.cos(t0), np.sin(t0)], 1)]
    )


def plot_hand_model(j36: np.ndarray, capsules: np.ndarray, title: str):
    """The 36-joint skeleton in 3-D (evaluation joints and palm centre marked) beside the capsule
    surface projected onto the palm plane, joints named."""
    from matplotlib.patches import Polygon

    from mlib.data.camera import EVAL_JOINT_NAMES, EVAL_JOINTS, PALM_CENTRE

    bones36 = [(6 * f + a, 6 * f + a + 1) for f in range(5) for a in (0, 2, 4)]  # three per finger
    wrist_mid = j36[30:32].mean(0)
    fig = plt.figure(figsize=(15, 6.5))
    ax = fig.add_subplot(1, 2, 1, projection="3d")
    for a, b in bones36:
        ax.plot(*j36[[a, b]].T, color="gray", lw=2)
    for f in range(5):  # metacarpals, drawn from the wrist centre
        ax.plot(*np.stack([wrist_mid, j36[6 * f + 5]]).T, color="lightgray", lw=1)
    ax.scatter(*j36.T, s=15, color="gray", label="36 NYU joints (names)")
    ax.scatter(*j36[EVAL_JOINTS].T, s=45, color="red", label="14 evaluation joints", depthshade=False)
    ax.scatter(*j36[PALM_CENTRE], s=120, marker="*", color="gold", edgecolor="k", label="palm centre (crop centre)")
    ax.set(xlabel="x, radial (mm)", ylabel="y, distal (mm)", zlabel="z, dorsal (mm)")
    ax.set_box_aspect(np.ptp(j36, axis=0) + 20)
    ax.view_init(elev=25, azim=-70)
    ax.set_title("Joints of the canonical hand in its own frame", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")

    ax = fig.add_subplot(1, 2, 2)
    for cap in capsules:
        outline = capsule_outline(cap[:2], cap[3:5], cap[6])
        ax.add_patch(Polygon(outline, closed=True, fc="tan", ec="saddlebrown", alpha=0.35, lw=0.8))
    ax.scatter(*j36[:, :2].T, s=12, color="gray", label="36 NYU joints", zorder=3)
    ax.scatter(*j36[EVAL_JOINTS, :2].T, s=35, color="red", label="14 evaluation joints", zorder=4)
    for i, name in zip(EVAL_JOINTS, EVAL_JOINT_NAMES):
        ax.annotate(name, j36[i, :2], xytext=(4, 2), textcoords="offset points", fontsize=6.5)
    ax.plot([], [], color="saddlebrown", lw=3, alpha=0.5, label="surface capsules")
    ax.set_aspect("equal")
    ax.set(xlabel="x, radial (mm)", ylabel="y, distal (mm)")
    ax.set_title("Capsule surface projected onto the palm plane (back of the hand)", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_class_shares(shares: dict[str, np.ndarray], class_names: Sequence[str], title: str, ax=None):
    """Grouped bars: the fraction of frames per pose class, one bar group per class, one colour per entry."""
    ax = _ax(ax, (7, 3.5))
    x = np.arange(len(class_names))
    width = 0.8 / len(shares)
    for k, (name, share) in enumerate(shares.items()):
        ax.bar(x + (k - (len(shares) - 1) / 2) * width, share, width, label=name)
    ax.set_xticks(x, class_names)
    ax.set(xlabel="pose class", ylabel="fraction of frames", title=title)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax


def plot_crop_grid(
    crops: np.ndarray,
    pixels: np.ndarray,
    titles: Sequence[Sequence[str]],
    cube_mm: float,
    title: str,
    joint_label: str = "joints",
):
    """Rows x columns of crops (normalised), each with its 14 joints in red, one colour bar in mm
    per row (depth from the crop centre). crops: (R, C, S, S), pixels: (R, C, 14, 2)."""
    n_rows, n_cols = crops.shape[:2]
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(2.7 * n_cols + 1, 2.9 * n_rows), squeeze=False)
    for r in range(n_rows):
        for c in range(n_cols):
            ax = axes[r, c]
            show_crop(ax, crops[r, c], cube_mm, titles[r][c], colorbar=c == n_cols - 1)
            draw_pose(ax, pixels[r, c], "red", joint_label if (r, c) == (0, 0) else None)
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_subject_shapes(
    hand_len: np.ndarray, finger_d: np.ndarray, splits: dict[str, np.ndarray], canonical: tuple[float, float], ax=None
):
    """Hand length against finger thickness per subject (splits: name -> subject ids), and the
    canonical surface the synthetic domain renders."""
    ax = _ax(ax, (6.5, 4.2))
    for (split, ids), marker in zip(splits.items(), "os^"):
        ax.scatter(hand_len[ids], finger_d[ids], marker=marker, s=60, label=f"{split} subjects {ids.min()}-{ids.max()}")
        for i in ids:
            ax.annotate(str(i), (hand_len[i], finger_d[i]), xytext=(5, 3), textcoords="offset points", fontsize=8)
    ax.scatter(*canonical, marker="*", s=200, color="k", label="canonical surface (synthetic domain)")
    ax.set(xlabel="hand length: wrist centre to middle fingertip (mm)", ylabel="middle finger thickness (mm)")
    ax.set_title("Hand shape per subject (real domain)")
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax


def plot_camera_rig(cams: Sequence[dict], palms: np.ndarray):
    """The three cameras (position and viewing direction) and the training palm centres, seen from
    above and from the side, in camera 1's frame."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    views = (((0, 2), ("x (mm)", "z (mm)"), "seen from above"), ((2, 1), ("z (mm)", "y (mm)"), "seen from the side"))
    for ax, ((a, b), (la, lb), name) in zip(axes, views):
        ax.scatter(palms[:, a], palms[:, b], s=3, alpha=0.3, color="gray", label="palm centres (train split)")
        for c, color in zip(cams, ("tab:blue", "tab:orange", "tab:green")):
            p, look = np.array(c["position"]), np.array(c["R"])[2]
            ax.plot(p[a], p[b], "o", color=color, ms=9, label=f"camera {c['camera']} ({c['name']})")
            tip = (p[a] + 250 * look[a], p[b] + 250 * look[b])
            ax.annotate("", tip, (p[a], p[b]), arrowprops=dict(arrowstyle="->", color=color, lw=2))
        ax.set(xlabel=la, ylabel=lb, aspect="equal")
        ax.set_title(f"Camera rig {name} (world = camera 1's frame)", fontsize=10)
    axes[0].invert_yaxis()  # z away from camera 1 points down the page: a plan view with camera 1 at the top
    axes[0].legend(fontsize=8, loc="lower left")
    fig.suptitle("Where the three cameras stand and look")
    fig.tight_layout()
    return fig


def plot_full_frames(frames: dict[tuple[str, int], np.ndarray], joints_uvd: np.ndarray, palm_z: np.ndarray, title: str):
    """Full 640x480 frames, rows = domains, columns = cameras 1-3, each coloured from 150 mm in front
    of its palm centre to 450 mm behind it, with the 14 joints. frames[(domain, camera)];
    joints_uvd: (3 cameras, 14, 3); palm_z: (3,) mm."""
    from mlib.data.procedural.generator import CAMERAS

    domains = list(dict.fromkeys(d for d, _ in frames))
    fig, axes = plt.subplots(len(domains), 3, figsize=(17, 4.25 * len(domains)), squeeze=False)
    for row, dom in enumerate(domains):
        for col, cam in enumerate((1, 2, 3)):
            name = "synthetic" if dom == "synth" else dom
            panel = f"{name}, camera {cam} ({CAMERAS[cam - 1].name})"
            im = show_mm(axes[row, col], frames[dom, cam], panel, palm_z[cam - 1] - 150, palm_z[cam - 1] + 450)
            draw_pose(axes[row, col], joints_uvd[cam - 1, :, :2], "red", "14 joints")
            fig.colorbar(im, ax=axes[row, col], label="depth (mm)", shrink=0.85)
    axes[0, 0].legend(fontsize=8, loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_image_panels(images: dict[str, np.ndarray], vmin: float, vmax: float, extent, title: str, ncols: int = 3):
    """Depth images in mm (e.g. one window under different sensor settings) on one colour scale."""
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.3 * ncols, 5 * nrows), squeeze=False)
    for ax in axes.flat[len(images) :]:
        ax.set_visible(False)
    for ax, (label, img) in zip(axes.flat, images.items()):
        im = show_mm(ax, img, label, vmin, vmax, extent)
    fig.colorbar(im, ax=axes, label="depth (mm); black = no reading", shrink=0.6)
    fig.suptitle(title)
    return fig


def plot_missing_causes(
    depth: np.ndarray, causes: dict[str, tuple[np.ndarray, str]], near: np.ndarray, vmin: float, vmax: float, extent
):
    """A depth window in grey with each lost (or gained) pixel coloured by the effect that changed it;
    the legend gives each effect's share of the `near` pixels."""
    from matplotlib.colors import to_rgba
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(7.5, 7))
    im = ax.imshow(np.where(depth > 0, depth, np.nan), cmap="gray", vmin=vmin, vmax=vmax, extent=extent)
    fig.colorbar(im, ax=ax, label="depth of the full model (mm)", shrink=0.7)
    handles = []
    for name, (mask, color) in causes.items():
        rgba = np.zeros(mask.shape + (4,))
        rgba[mask] = to_rgba(color)
        ax.imshow(rgba, extent=extent, interpolation="nearest")
        handles.append(Patch(color=color, label=f"{name}: {(mask & near).sum() / near.sum():.1%}"))
    ax.legend(
        handles=handles, fontsize=8, loc="lower left", title="changed pixels (% of near pixels)", title_fontsize=8
    )
    ax.set(xlabel="u (px)", ylabel="v (px)")
    ax.set_title("Why pixels go missing: each effect's contribution (grey = full-model depth)")
    fig.tight_layout()
    return fig


def plot_sensor_noise(
    z: np.ndarray,
    curves: dict[str, np.ndarray],
    palm_z: float,
    readings: np.ndarray,
    possible: np.ndarray,
    profile_u: np.ndarray,
    profiles: dict[str, np.ndarray],
):
    """Left: the sensor model's curves against depth; middle: the distinct readings near the palm
    beside the depths one disparity step apart; right: depth profiles along one image row."""
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.5))
    for name, curve in curves.items():
        axes[0].plot(z, curve, label=name)
    axes[0].axvline(palm_z, color="gray", ls="--", label=f"this palm centre, {palm_z:.0f} mm")
    axes[0].set(xlabel="depth z (mm)", ylabel="mm", title="Sensor model: noise and depth resolution vs. distance")
    axes[0].legend(fontsize=8)
    values, counts = np.unique(readings, return_counts=True)
    axes[1].bar(values, counts, width=0.8, label="readings within 40 mm of the palm")
    axes[1].plot(possible, np.zeros_like(possible), "r|", ms=10, label="depths one disparity step apart (rounded)")
    axes[1].set(xlabel="reading (mm)", ylabel="number of pixels")
    axes[1].set_title(f"Readings within 40 mm of the palm: {len(values)} distinct values")
    axes[1].legend(fontsize=8)
    for name, row in profiles.items():
        axes[2].plot(profile_u, np.where(row > 0, row, np.nan), lw=1.2, label=name)
    axes[2].set_ylim(palm_z + 200, palm_z - 100)
    axes[2].set(xlabel="u (px) along the row through the palm centre", ylabel="depth (mm), near at the top")
    axes[2].set_title("Depth profile across the hand (gaps = no reading)")
    axes[2].legend(fontsize=8)
    fig.suptitle("Noise and quantisation of the sensor model")
    fig.tight_layout()
    return fig


def plot_crop_steps(
    frame_depth: np.ndarray,
    centre_xyz: np.ndarray,
    crop: CropConfig,
    source_uv: tuple[np.ndarray, np.ndarray],
    raw: np.ndarray,
    norm: np.ndarray,
    pixels: np.ndarray,
    title: str,
):
    """The crop pipeline's four steps: cube window, source pixels, sampled depth (mm), normalised crop."""
    from mlib.data.crop import crop_window

    u_c, v_c, half_u, half_v = map(float, crop_window(centre_xyz, crop))
    lo, hi = centre_xyz[2] - crop.cube_mm / 2, centre_xyz[2] + crop.cube_mm / 2
    S = crop.size
    fig, axes = plt.subplots(1, 4, figsize=(21, 4.6))
    im = show_mm(axes[0], frame_depth, "1. full frame and cube window")
    _crop_window_patch(axes[0], u_c, v_c, half_u, half_v)
    axes[0].plot(u_c, v_c, "r+", ms=12, label="palm centre")
    axes[0].legend(fontsize=8, loc="lower right")
    fig.colorbar(im, ax=axes[0], label="depth (mm)")
    im = show_mm(axes[1], frame_depth, f"2. the {S}x{S} source pixels", lo, hi)
    axes[1].plot(source_uv[0].ravel(), source_uv[1].ravel(), ".", color="red", ms=1.5, label="source pixels")
    axes[1].set_xlim(u_c - 1.15 * half_u, u_c + 1.15 * half_u)
    axes[1].set_ylim(v_c + 1.15 * half_v, v_c - 1.15 * half_v)
    axes[1].legend(fontsize=8, loc="lower right")
    fig.colorbar(im, ax=axes[1], label="depth (mm), cube range")
    im = show_mm(axes[2], raw, "3. sampled depth (mm)", lo, hi)
    axes[2].set(xlabel="crop column (px)", ylabel="crop row (px)")
    fig.colorbar(im, ax=axes[2], label="depth (mm), cube range; black = 0")
    show_depth(axes[3], norm, "4. normalised crop")
    draw_pose(axes[3], pixels, "red", "14 joints")
    label_crop_axes(axes[3])
    axes[3].legend(fontsize=8, loc="lower right")
    fig.colorbar(axes[3].get_images()[0], ax=axes[3], label=CROP_DEPTH_LABEL)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_normalisation(raw: np.ndarray, norm: np.ndarray, depth_range: tuple[float, float]):
    """Histograms of a crop's depths before (mm, with the cube's range) and after normalisation."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
    axes[0].hist(raw[raw > 0], bins=60, color="tab:blue", label="crop pixels with a reading")
    for k, z0 in enumerate(depth_range):
        axes[0].axvline(z0, color="red", ls="--", label="cube depth range" if k == 0 else None)
    axes[0].set(xlabel="depth (mm)", ylabel="number of crop pixels")
    axes[0].set_title(f"Before: sampled depths ({np.mean(raw == 0):.0%} of pixels have no reading)")
    axes[0].legend(fontsize=8)
    axes[1].hist(norm[norm < 1], bins=np.linspace(-1, 1, 41), color="tab:green", label="inside the cube")
    axes[1].bar([1.0], [np.sum(norm >= 1)], width=0.05, color="gray", label="background (+1)")
    axes[1].set(xlabel="normalised depth (cube half-widths)", ylabel="number of crop pixels")
    axes[1].set_title("After: the hand in [-1, 1], the rest piled up at +1")
    axes[1].legend(fontsize=8)
    fig.suptitle("A crop's depth values before and after normalisation")
    fig.tight_layout()
    return fig


def plot_split_overview(stores: dict[str, object]):
    """Frames per subject and the palm-centre depth in camera 1, per split (CropStores)."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 3.8))
    for name, store in stores.items():
        ids, counts = np.unique(store.subjects.numpy(), return_counts=True)
        axes[0].bar(ids, counts, label=f"{name} split")
        axes[1].hist(store.centres[:, 0, 2].numpy(), bins=30, density=True, alpha=0.6, label=f"{name} split")
    axes[0].set(xlabel="subject id", ylabel="number of frames", title="Frames per subject")
    axes[1].set(xlabel="palm-centre depth in camera 1 (mm)", ylabel="density (1/mm)")
    axes[1].set_title("Distance of the hand from camera 1")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle("The cached splits: disjoint subjects, similar distances")
    fig.tight_layout()
    return fig


def draw_browser_view(axes, view: dict, crop: CropConfig, joints: bool = True) -> None:
    """One browser view on two axes: the quarter-resolution frame with the crop window, and the crop.
    view: frames (one frame), domain ('real' / 'synthetic'), camera, small (the frame), crop, pixels,
    pose and subject (text)."""
    from mlib.data.camera import EVAL_JOINTS, NYU, PALM_CENTRE
    from mlib.data.crop import crop_window
    from mlib.data.procedural.generator import CAMERAS

    fr, camera = view["frames"], view["camera"]
    centre = fr.joints_xyz[0, camera - 1, PALM_CENTRE]
    uc, vc, hu, hv = map(float, crop_window(centre, crop))
    title = f"test frame {view['index']}, {view['domain']}, camera {camera} ({CAMERAS[camera - 1].name})"
    im = show_mm(axes[0], view["small"], title, centre[2] - 150, centre[2] + 450, (0, NYU.width, NYU.height, 0))
    axes[0].figure.colorbar(im, ax=axes[0], label="depth (mm)", shrink=0.8)
    _crop_window_patch(axes[0], uc, vc, hu, hv, lw=1.5)
    show_crop(axes[1], view["crop"], crop.cube_mm, f"crop: {view['pose']} pose, subject {view['subject']}")
    if joints:
        draw_pose(axes[0], fr.joints_uvd[0, camera - 1, EVAL_JOINTS, :2], "red", "14 joints")
        draw_pose(axes[1], view["pixels"], "red", "14 joints")
    axes[0].legend(fontsize=7, loc="lower right")


def plot_browser_grid(views: list[list[dict]], crop: CropConfig, title: str):
    """Browser views in rows (e.g. cameras) of pairs (e.g. domains): frame + crop side by side."""
    n_rows, n_pairs = len(views), len(views[0])
    fig, axes = plt.subplots(
        n_rows,
        2 * n_pairs,
        figsize=(10 * n_pairs, 4 * n_rows),
        squeeze=False,
        gridspec_kw=dict(width_ratios=[1.45, 1] * n_pairs),
    )
    for r, row in enumerate(views):
        for c, view in enumerate(row):
            draw_browser_view(axes[r, 2 * c : 2 * c + 2], view, crop)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_gap_per_frame(
    missing: np.ndarray,
    mae: np.ndarray,
    subjects: np.ndarray,
    classes: np.ndarray,
    class_names: Sequence[str],
    title: str,
):
    """Per test frame: the share of hand pixels the real crop misses and the depth difference on the
    hand, per subject (histograms), and the depth difference per pose class (box plots)."""
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.2))
    finite = np.isfinite(mae)
    for sid in np.unique(subjects):
        sel = subjects == sid
        axes[0].hist(missing[sel], bins=np.linspace(0, max(0.3, missing.max()), 31), alpha=0.6, label=f"subject {sid}")
        axes[1].hist(mae[sel & finite], bins=30, alpha=0.6, label=f"subject {sid}")
    axes[0].set(xlabel="fraction of hand pixels missing in the real crop", ylabel="number of test frames")
    axes[0].set_title(f"Missing pixels on the hand (overall {np.mean(missing):.1%} per frame)")
    axes[1].set(xlabel="mean |real - synthetic| depth on the hand (mm)", ylabel="number of test frames")
    axes[1].set_title(f"Depth difference on the hand (median frame {np.median(mae[finite]):.1f} mm)")
    for ax in axes[:2]:
        ax.legend(fontsize=8)
    axes[2].boxplot([mae[(classes == c) & finite] for c in range(len(class_names))], showfliers=False)
    axes[2].set_xticks(np.arange(1, len(class_names) + 1), class_names)
    axes[2].set(xlabel="pose class", ylabel="depth MAE on the hand per frame (mm)")
    axes[2].set_title("Depth difference by pose class (boxes: quartiles)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_mean_error_bars(groups: dict[str, dict[str, float]], title: str, ax=None):
    """Horizontal bars of mean joint errors, best at the top, one colour per group (group label ->
    {method: mm})."""
    from matplotlib.patches import Patch

    ax = _ax(ax, (8, 5))
    colours = dict(zip(groups, ("tab:blue", "tab:orange", "tab:green", "tab:purple")))
    bars = [(name, mm, colours[g]) for g, methods in groups.items() for name, mm in methods.items()]
    bars.sort(key=lambda b: b[1], reverse=True)  # barh draws the first at the bottom
    drawn = ax.barh([b[0] for b in bars], [b[1] for b in bars], color=[b[2] for b in bars])
    ax.bar_label(drawn, fmt="%.1f", padding=3, fontsize="small")
    handles = [Patch(color=c, label=g) for g, c in colours.items()]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.15), fontsize="small")
    ax.set(xlabel="mean joint error (mm)", ylabel="method", title=title)
    ax.set_xlim(0, max(b[1] for b in bars) * 1.15)
    ax.grid(axis="x", alpha=0.3)
    ax.figure.tight_layout()
    return ax


def plot_sensor_crops(
    rows: dict[str, Sequence[tuple[object, str] | None]], title: str, near_mm: float = 80, far_mm: float = 150
):
    """Rows of crops in mm (`mlib.data.sensor_stats.HandCrop`; row label -> [(crop, panel title) or None for an
    empty panel]), each drawn
    from `near_mm` in front of its palm centre to `far_mm` behind it, black where there is no reading or
    background, with the silhouette (red) and the skeleton core (white) that `mlib.data.sensor_stats` measures
    on. One colour bar per panel, since every crop has its own palm depth."""
    from mlib.data import sensor_stats as ss

    n_cols = max(len(r) for r in rows.values())
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(3.1 * n_cols, 3.0 * len(rows)), squeeze=False)
    for r, (label, panels) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            if c >= len(panels) or panels[c] is None:
                ax.set_visible(False)
                continue
            crop, name = panels[c]
            im = show_mm(ax, crop.depth, f"{label}: {name}", crop.centre_z - near_mm, crop.centre_z + far_mm)
            ax.title.set_fontsize(7)
            sil = ss.hand_masks(crop)[1]
            ax.contour(sil, [0.5], colors="red", linewidths=0.6)
            ax.contour(ss.core_region(crop), [0.5], colors="white", linewidths=0.4)
            label_crop_axes(ax)
            ax.xaxis.label.set_fontsize(7)
            ax.yaxis.label.set_fontsize(7)
            cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
            cb.set_label("depth (mm)", fontsize=7)
            cb.ax.tick_params(labelsize=6)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mlib.plots", description="Success-rate curves and per-joint bars")
    ap.add_argument("predictions", nargs="+", help="prediction files, one frame per line")
    ap.add_argument("--gt", required=True, help="ground-truth file (uvd, like nyu_test_groundtruth_label.txt)")
    ap.add_argument("--out", required=True, metavar="OUT.png", help="where to save the figure")
    ap.add_argument("--format", default="uvd", choices=FORMATS, help="format of the prediction files")
    ap.add_argument("--gt-format", default="uvd", choices=FORMATS, help="format of the ground-truth file")
    ap.add_argument("--joints", type=int, default=14, help="joints per frame")
    args = ap.parse_args(argv)
    try:
        results = evaluate_files(args.gt, args.predictions, args.format, args.gt_format, args.joints)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    from matplotlib.figure import Figure  # no pyplot: works without a display

    plot_comparison(results, fig=Figure(figsize=(16, 5))).savefig(args.out, dpi=120)
    print(f"saved {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
