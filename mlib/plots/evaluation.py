"""Figures of the metric (paper §4.2, Fig. 3, 4, 11): success rates, error per joint, error against
the number of labeled frames, predicted skeletons on test crops, and published numbers beside ours.

    python -m mlib.plots --gt GT.txt PRED.txt [PRED.txt ...] --out OUT.png

draws the success-rate curves and per-joint errors of prediction files (read as `python -m mlib.evaluate`
reads them)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from mlib.evaluate import FORMATS, Array, evaluate_files, joint_labels, success_rate, to_numpy
from mlib.paper_results import FIG3_SEMI_SUPERVISED, FIG3_SOURCE
from mlib.plots.images import axes_or_new, draw_pose, show_crop, show_crop_grid


def plot_success_curves(
    results: dict[str, Array], ax: Axes | None = None, max_threshold: float = 80, title: str | None = None
) -> Axes:
    """Fraction of frames with all joints within tau, as a function of tau, one curve per method."""
    ax = axes_or_new(ax, (6, 4.5))
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


def plot_per_joint(results: dict[str, Array], ax: Axes | None = None, title: str | None = None) -> Axes:
    """Mean error per joint (and overall) as grouped bars, one colour per method."""
    ax = axes_or_new(ax, (10, 4.5))
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


def plot_comparison(results: dict[str, Array], fig=None) -> Figure:
    """The two plots side by side; pass a matplotlib Figure to draw without pyplot (e.g. headless)."""
    if fig is None:
        fig = plt.figure(figsize=(16, 5))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.8]})
    plot_success_curves(results, ax=left)
    plot_per_joint(results, ax=right)
    fig.tight_layout()
    return fig


def _error_cells(cells: dict) -> dict:
    """The cells of one variant that hold a finite mean error (a variant may have none)."""
    return {n: c for n, c in cells.items() if c is not None and np.isfinite(c[0])}


def _spread(cell: tuple) -> float:
    """The error bar of a cell, (mean, std) or (mean, std, seeds): its std where it is finite and comes
    from two or more seeds, else 0 (no bar)."""
    std = cell[1] if len(cell) > 1 else 0.0
    seeds_ok = len(cell) < 3 or cell[2] >= 2
    return float(std) if seeds_ok and std is not None and np.isfinite(std) and std > 0 else 0.0


def plot_error_vs_n(
    table: dict[str, dict],
    ax: Axes | None = None,
    title: str = "Mean joint error vs. labeled real frames",
    n_all: int | None = None,
) -> Axes:
    """Paper Fig. 4 layout. table[variant][n] = (mean, std, seeds) in mm (or (mean, std)); error bars are
    drawn only over two or more seeds. n = 'all' is drawn at `n_all` (the number of training frames);
    without it, one step right of the largest n and labelled so. With a single n in the whole table the
    curves would collapse onto one point, so each variant gets its own dot side by side instead (with
    its error bar where a spread is given). A variant without a finite error is neither drawn nor in
    the legend; colours follow the variants' order in `table` in both layouts."""
    ax = axes_or_new(ax, (7, 4.5))
    drawn = {v: _error_cells(cells) for v, cells in table.items()}
    colour = {v: f"C{i % 10}" for i, v in enumerate(table)}
    drawn = {v: cells for v, cells in drawn.items() if cells}
    all_ns = {n for cells in drawn.values() for n in cells}
    if len(all_ns) == 1:
        (n,) = all_ns
        for i, (variant, cells) in enumerate(drawn.items()):
            mean, spread = cells[n][0], _spread(cells[n])
            ax.errorbar(
                [i], [mean], yerr=[spread] if spread else None, fmt="o", ms=7, capsize=4,
                color=colour[variant], label=variant,
            )  # fmt: skip
        ax.set_xticks(range(len(drawn)), list(drawn), rotation=20, ha="right", fontsize=8)
        ax.set_xlim(-0.6, len(drawn) - 0.4)
        shown_n = f"all = {n_all}" if n == "all" and n_all is not None else str(n)
        ax.set_xlabel(f"variant (n = {shown_n} labeled real frames)")
        ax.grid(True, axis="y", alpha=0.3)
    else:
        numeric = [int(n) for n in all_ns if n != "all"]
        at_all = n_all if n_all is not None else (max(numeric) * 2 if numeric else 1)
        for variant, cells in drawn.items():
            ns = sorted(cells, key=lambda n: at_all if n == "all" else int(n))
            xs = [at_all if n == "all" else int(n) for n in ns]
            spread = [_spread(cells[n]) for n in ns]
            ax.errorbar(
                xs, [cells[n][0] for n in ns], yerr=spread if any(spread) else None, marker="o", capsize=3,
                color=colour[variant], label=variant,
            )  # fmt: skip
        ax.set_xscale("log")
        if n_all is not None:
            ax.set_xlabel(f"labeled real frames n (log scale; 'all' = {n_all})")
        else:
            ax.set_xlabel("labeled real frames n (log scale; the last point is 'all')")
        ax.grid(True, which="both", alpha=0.3)
    ax.set_ylabel("mean joint error on real test frames (mm)")
    ax.set_title(title)
    if drawn:
        ax.legend(fontsize=8)
    return ax


def plot_room(
    cells: Sequence[Mapping],
    names: Mapping[str, str],
    paper_gain: Mapping | None = None,
    title: str = "The room a mapping has: real error above the stage-1 predictor's render error",
) -> Figure:
    """One panel per n. Per variant: the error on real test frames (bar, ± std over seeds) and the same
    model's error on the synthetic renders of those frames (dot). The dashed line is the stage-1
    predictor's render error (Synth only's): a perfect real->synthetic mapping onto that predictor would
    bring a model down to it, so the shaded part of each bar is the room a mapping has there
    (`mlib.analysis.room`). `paper_gain[n]`: the paper's Full over its Real+Synth at n on NYU, drawn as
    the star where Full would land on this grid with the paper's relative gain. `cells` are grid cells
    (`mlib.analysis.grid_cells`: variant, n_labeled, mean_error_mm, std_error_mm, synthetic_frames_error_mm)."""
    ns = list(dict.fromkeys(c["n_labeled"] for c in cells))
    floor = {c["n_labeled"]: c["synthetic_frames_error_mm"] for c in cells if c["variant"] == "synth_only"}
    from mlib.variants import VARIANTS

    # the stage-2 variants that start from the stage-1 predictor (Real only never read a render)
    variants = [v for v in names if VARIANTS[v].pretrained and VARIANTS[v].stage2 and any(c["variant"] == v for c in cells)]
    fig, axes = plt.subplots(1, len(ns), figsize=(3.3 * len(ns) + 1, 4.2), sharey=True, squeeze=False)
    top = max(c["mean_error_mm"] + (c.get("std_error_mm") or 0) for c in cells if c["variant"] in variants)
    for ax, n in zip(axes[0], ns):
        by_variant = {c["variant"]: c for c in cells if c["n_labeled"] == n}
        shown = [v for v in variants if v in by_variant]
        x = np.arange(len(shown))
        real = np.array([by_variant[v]["mean_error_mm"] for v in shown])
        spread = np.array([by_variant[v].get("std_error_mm") or 0.0 for v in shown])
        ax.bar(x, real, width=0.6, color="0.85", edgecolor="0.4", yerr=spread if spread.any() else None, capsize=3,
               label="real test frames")  # one run: no error bars (a spread of one run is no spread)
        if n in floor:
            ax.axhline(floor[n], color="tab:blue", ls="--", lw=1, label="stage-1 predictor on the renders")
            for xi, r, s in zip(x, real, spread):
                if r > floor[n]:  # the room: from the floor up to the real error
                    ax.fill_between([xi - 0.3, xi + 0.3], floor[n], r, color="tab:orange", alpha=0.35, lw=0,
                                    label="room for a mapping (mm above the line)" if xi == 0 else None)  # fmt: skip
                    ax.annotate(f"{r - floor[n]:.1f}", (xi, r + s), xytext=(0, 5), textcoords="offset points",
                                ha="center", va="bottom", fontsize=7)  # above the error bar's cap
        rendered = [(xi, by_variant[v].get("synthetic_frames_error_mm")) for xi, v in zip(x, shown)]
        rendered = [(xi, e) for xi, e in rendered if e is not None]
        if rendered:
            ax.plot(*zip(*rendered), "o", color="tab:blue", ms=5, label="the model on the renders")
        gain = (paper_gain or {}).get(n)
        if gain is not None and "real_synth" in by_variant and "full" in shown:
            star = by_variant["real_synth"]["mean_error_mm"] * gain
            ax.plot([shown.index("full")], [star], "*", color="tab:red", ms=12, label="Full with the paper's gain")
        ax.set_xticks(x, [names[v] for v in shown], rotation=35, ha="right", fontsize=7)
        ax.set_title(f"n = {n}", fontsize=10)
        ax.set_xlabel("variant")
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][0].set_ylabel("mean joint error (mm)")
    axes[0][0].set_ylim(0, top * 1.6)  # from zero, with space for the legend
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_errors_with_baseline(
    rows: dict[str, float],
    baseline_mm: float,
    ax: Axes | None = None,
    title: str = "Mean joint error",
    xlabel: str | None = None,
    ylabel: str = "model and input",
) -> Axes:
    """Mean joint errors as horizontal bars, with the mean-pose baseline (the mean training pose for every
    frame, `mlib.evaluate.mean_pose_errors`) as a dashed line: a bar near the line has learned little."""
    ax = axes_or_new(ax, (7, 0.6 * len(rows) + 1.6))
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


def plot_setting_search(
    settings: Sequence[float],
    arms: Mapping[str, Sequence[float | None]],
    baseline: tuple[str, float],
    setting_label: str,
    title: str,
    ax: Axes | None = None,
) -> Axes:
    """A setting chosen on validation: each arm's validation error (mm) at each setting (log axis; None
    where an arm did not run), the baseline the setting does not touch as a dashed line, and each arm's
    lowest point ringed (the choice)."""
    ax = axes_or_new(ax, (6, 3.8))
    for name, errors in arms.items():
        pts = [(x, y) for x, y in zip(settings, errors) if y is not None]
        if not pts:
            continue
        line = ax.plot(*zip(*pts), marker="o", label=name)[0]
        best = min(pts, key=lambda p: p[1])
        ax.plot(*best, marker="o", ms=12, mfc="none", mec=line.get_color(), mew=1.5)
    ax.axhline(baseline[1], color="black", ls="--", lw=1.2, label=f"{baseline[0]} ({baseline[1]:.2f} mm)")
    ax.set_xscale("log")
    ax.set(xlabel=setting_label, ylabel="validation error, real frames (mm)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax


def plot_mean_error_bars(groups: dict[str, dict[str, float]], title: str, ax: Axes | None = None) -> Axes:
    """Horizontal bars of mean joint errors, best at the top, one colour per group (group label ->
    {method: mm})."""
    ax = axes_or_new(ax, (8, 5))
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


def plot_semi_supervised_comparison(
    ours: dict[str, dict] | None = None, ax: Axes | None = None, n_all: int | None = None
) -> Axes:
    """Paper Fig. 3: published semi-supervised methods on NYU, mean joint error against the number of
    labeled real frames (values read off the paper's plot, `mlib.paper_results`). `ours` adds this run's
    curves, {name: {n: mm}} ('all' drawn at `n_all`), on the same axes, marked as the embedded data."""
    ax = axes_or_new(ax, (8, 4.8))
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


POSE_COLOURS = {"ground truth": "lime", "prediction": "red"}  # a method without its own colour draws in red


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
) -> Figure:
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
            draw_pose(ax, store.joint_pixels(i, poses[name][i]), colours.get(name, "red"))
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
) -> Figure:
    """Paper Fig. 11: the k test frames with the largest maximum (or mean) joint error, each crop with the
    ground truth (green) and the prediction (red); the worst joint is ringed and named in the title."""
    from mlib.analysis import worst_frames  # sklearn, which mlib.analysis loads, only when this figure is drawn

    frames = worst_frames(errors, k, by)
    rows = int(np.ceil(len(frames) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.4 * columns, 3.0 * rows), squeeze=False)
    for ax in axes.flat[len(frames) :]:
        ax.axis("off")
    for ax, i in zip(axes.flat, frames):
        j = int(errors[i].argmax())
        show_crop(ax, store.real[i], float(store.cube[i]), f"frame {i}: max {errors[i, j]:.0f} mm\n({_joint_name(j)})")
        draw_pose(ax, store.joint_pixels(i, gt[i]), "lime", "ground truth")
        px = store.joint_pixels(i, pred[i])
        draw_pose(ax, px, "red", name)
        ax.scatter(px[j, 0], px[j, 1], s=140, facecolors="none", edgecolors="white", lw=1.5, zorder=4)
    axes.flat[0].legend(fontsize=6, loc="lower left")
    fig.suptitle(title or f"{name}: the {len(frames)} real test frames with the largest {by} joint error")
    fig.tight_layout()
    return fig


def plot_pose_overlays(
    store,
    frames: Sequence[int],
    gt: np.ndarray,
    preds: dict[str, np.ndarray],
    errors: dict[str, np.ndarray],
    title: str,
) -> Figure:
    """One row per input domain ('synth' or 'real' keys of `preds`, each (N, 14, 3) mm), one column per
    frame: the domain's camera-1 crop with the ground truth (green) and that domain's prediction (red);
    each title names the frame and the prediction's mean joint error (`errors[domain]`, (N, 14) mm)."""
    frames = [int(i) for i in frames]
    domains = list(preds)
    crops = [list(store.images(torch.tensor(frames), dom)[:, 0]) for dom in domains]
    titles = [
        [f"{'synthetic' if dom == 'synth' else dom}, frame {i}: {errors[dom][i].mean():.0f} mm" for i in frames]
        for dom in domains
    ]
    cubes = [[store.cube[i] for i in frames] for _ in domains]
    poses = {
        "ground truth": ("lime", [[store.joint_pixels(i, gt[i]) for i in frames] for _ in domains]),
        "prediction": ("red", [[store.joint_pixels(i, preds[dom][i]) for i in frames] for dom in domains]),
    }
    return show_crop_grid(crops, titles, cubes, title, poses=poses, panel_size=2.8)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mlib.plots", description="Success-rate curves and per-joint bars")
    ap.add_argument("predictions", nargs="+", help="prediction files, one frame per line")
    ap.add_argument("--gt", required=True, help="ground-truth file (uvd, like nyu_test_groundtruth_label.txt)")
    ap.add_argument("--out", required=True, metavar="OUT.png", help="where to save the figure")
    declared = "(default: the format a file names on its '# format:' line, else uvd)"
    ap.add_argument("--format", choices=FORMATS, help=f"format of the prediction files {declared}")
    ap.add_argument("--gt-format", choices=FORMATS, help=f"format of the ground-truth file {declared}")
    ap.add_argument("--joints", type=int, default=14, help="joints per frame")
    args = ap.parse_args(argv)
    try:
        results = evaluate_files(args.gt, args.predictions, args.format, args.gt_format, args.joints)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    fig = Figure(figsize=(16, 5))  # no pyplot: works without a display
    plot_comparison(results, fig=fig).savefig(args.out, dpi=120)
    print(f"saved {args.out}", file=sys.stderr)
    return 0
