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
    ax.set_xlabel("model (variant)")
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


# --- figure helpers for 04-06 and the paper's figures (helper C, issue 18)

POSE_COLOURS = {"ground truth": "lime", "prediction": "red"}  # a method without its own colour draws in red


def show_crop(ax, crop, cube_mm: float, title: str = "", colorbar: bool = True):
    """A normalised depth crop in mm relative to the crop centre (near = dark), with a colour bar in mm.

    A crop stores depth as (z - centre) / (cube / 2) in [-1, 1], background +1 (SPEC §2.1); drawn here
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


# --- figure helpers for 01-03 (helper B, issue 18)


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


BATCH_SET_LABELS = {
    "pair_real": "pairs: real\n(labeled; Lp, Lc, Lm)",
    "pair_synth": "pairs: synthetic\n(labeled, Lp; Lc target)",
    "real": "labeled real\n(Lp, Lm)",
    "synth": "synthetic\n(Lp, Lg)",
    "unlabeled": "unlabeled real\n(Lg, Lm)",
}  # which terms of Eq. 1 read each set (Trainer.model_step with the default settings)


def plot_four_set_batch(batch, cube_mm: float, per_set: int = 4, title: str | None = None):
    """One MURAUER mini-batch (paper §4.1): a row per set of `mlib.data.datasets.Batch` (the corresponding
    real/synthetic pairs, labeled real, synthetic, unlabeled real), its first `per_set` crops as the
    network receives them (augmented), each row labelled with the loss terms that read it."""
    names = [k for k in BATCH_SET_LABELS if k in batch.sets]
    crops, titles, labels = [], [], []
    for name in names:
        x = batch[name].x[:per_set, 0].detach().cpu()
        crops += list(x)
        titles += [f"{name} [{j}]" for j in range(len(x))]
        labels.append(BATCH_SET_LABELS[name])
    sizes = ", ".join(f"{k} {len(batch[k].x)}" for k in names)
    return show_crop_grid(
        crops, titles, cube_mm, per_set, title or f"One four-set mini-batch ({sizes} samples)", row_labels=labels
    )


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
