"""Figures of the latent space (paper §4.4, Fig. 5-7): distances between the codes of corresponding
real and synthetic frames, 2-D embeddings, two judges of domain alignment, and the side views the
decoder g predicts from the codes."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.offsetbox import AnnotationBbox, OffsetImage

from mlib.plots.images import axes_or_new, show_crop_grid, to_array


def plot_distance_histograms(
    samples: dict[str, np.ndarray], ax: Axes | None = None, title="Latent distance of corresponding pairs"
) -> Axes:
    """Histograms of distances between corresponding real and synthetic latents (paper Fig. 6)."""
    ax = axes_or_new(ax)
    top = max(np.percentile(v, 99) for v in samples.values())
    bins = np.linspace(0, top, 40)
    for name, d in samples.items():
        ax.hist(d, bins=bins, alpha=0.5, label=f"{name} (median {np.median(d):.2f})")
    ax.set_xlabel("Euclidean distance between real and synthetic latent (latent units)")
    ax.set_ylabel("number of frames")
    ax.set_title(title)
    ax.legend()
    return ax


def plot_embedding(
    points: np.ndarray, is_real: np.ndarray, ax: Axes | None = None, title: str = "t-SNE of latents"
) -> Axes:
    """2-D embedding of latents, coloured by domain."""
    ax = axes_or_new(ax, (5, 5))
    is_real = np.asarray(is_real, bool)
    ax.scatter(*points[~is_real].T, s=6, alpha=0.6, label="synthetic", color="tab:blue")
    ax.scatter(*points[is_real].T, s=6, alpha=0.6, label="real", color="tab:red")
    ax.set_xlabel("t-SNE dimension 1 (a.u.)")
    ax.set_ylabel("t-SNE dimension 2 (a.u.)")
    ax.set_title(title)
    ax.legend()
    return ax


def _spread_out(points: np.ndarray, k: int, seed: int) -> list[int]:
    """k rows of `points` spread over the map: farthest-point choice from a seeded random start."""
    chosen = [int(np.random.default_rng(seed).integers(len(points)))]
    d = np.linalg.norm(points - points[chosen[0]], axis=1)
    while len(chosen) < min(k, len(points)):
        chosen.append(int(d.argmax()))
        d = np.minimum(d, np.linalg.norm(points - points[chosen[-1]], axis=1))
    return chosen


def plot_embedding_thumbnails(
    points: np.ndarray,
    is_real: np.ndarray,
    crops: np.ndarray,
    ax: Axes | None = None,
    n_thumbs: int = 8,
    zoom: float | None = None,
    title: str = "t-SNE of latents with depth crops",
    seed: int = 0,
) -> Axes:
    """Paper Fig. 5: a 2-D embedding of real and synthetic latents with a few depth crops placed at their
    points (a line joins each crop to its point). `crops` (N, S, S) are the inputs in the same row order
    as `points`; the crops shown are spread over the map (farthest-point choice from a seeded start).
    `zoom` scales the thumbnails (default: about 48 pixels whatever the crop size)."""
    ax = plot_embedding(points, is_real, ax=ax, title=title)
    zoom = zoom or 48 / crops.shape[-1]
    centre = points.mean(0)
    span = np.ptp(points, axis=0).max()
    for i in _spread_out(points, n_thumbs, seed):
        crop = to_array(crops[i])
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


def plot_probe_and_mixing(
    probe: dict[str, float], mixing: dict[str, float], k: int = 10, title: str = "Two judges of domain alignment"
) -> Figure:
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


def plot_view_grid(
    frames: Sequence[int],
    rows: dict[str, tuple[np.ndarray, np.ndarray]],
    cube_mm: np.ndarray,
    title: str = "Side views predicted from real and synthetic inputs (paper Fig. 7)",
) -> Figure:
    """Paper Fig. 7 as a grid: one row per entry of `rows` ({row label: (real-side crops, synthetic-side
    crops)}, each (len(frames), S, S)), two columns per frame (real | synthetic). Every row is
    different content; each panel's two-line title names its row, frame and domain."""
    frames = [int(i) for i in frames]
    crops, titles = [], []
    for r, (label, (real, synth)) in enumerate(rows.items()):
        crops.append([side[j] for j in range(len(frames)) for side in (real, synth)])
        head = [f"frame {i}: " if r == 0 else "" for i in frames]
        titles.append([f"{head[j]}{label}\n({dom})" for j in range(len(frames)) for dom in ("real", "synth.")])
    cubes = [[cube_mm[j] for j in range(len(frames)) for _ in range(2)] for _ in rows]
    return show_crop_grid(crops, titles, cubes, title, panel_size=2.1)
