"""Drawing depth: a crop, a depth image in mm, a grid of crops, and the skeleton over either.

A crop stores depth as (z - centre) / (cube / 2) in [-1, 1] with the background at +1
(`mlib.data.crop`); a frame stores whole mm with 0 for "no reading". The two need different
primitives: in a crop drawn in mm, 0 is the palm's own depth, not a missing pixel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from mlib.data.camera import EVAL_BONES

DEPTH_CMAP = plt.get_cmap("viridis").with_extremes(bad="black")  # depth in mm; "no reading" (0) in black
CROP_DEPTH_LABEL = "normalised depth (-1 near, +1 far / background)"


def axes_or_new(ax: Axes | None, figsize: tuple[float, float] = (6, 4)) -> Axes:
    """`ax`, or the axes of a new figure of `figsize`."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def to_array(image) -> np.ndarray:
    """An image as a float numpy array, from a tensor on any device or anything array-like."""
    if isinstance(image, torch.Tensor):
        return image.detach().float().cpu().numpy()
    return np.asarray(image, float)


def show_crop(ax: Axes, crop, cube_mm: float | None = None, title: str = "", colorbar: bool = True) -> AxesImage:
    """A normalised depth crop, near = dark. With `cube_mm` it is drawn in mm from the crop centre, so the
    colour bar reads as a distance along the camera axis; without, in the crop's own units (background
    +1). Returns the image."""
    half = cube_mm / 2 if cube_mm else 1.0
    im = ax.imshow(np.squeeze(to_array(crop)) * half, cmap="viridis", vmin=-half, vmax=half)
    ax.set_autoscale_on(False)  # a skeleton drawn later that leaves the crop is clipped, not zoomed out to
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    if colorbar:
        cb = ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
        cb.set_label("depth from crop centre (mm)" if cube_mm else CROP_DEPTH_LABEL, fontsize=7)
        cb.ax.tick_params(labelsize=6)
    return im


def show_mm(ax: Axes, depth, title: str, vmin=None, vmax=None, extent=None) -> AxesImage:
    """A depth image in mm (a frame, or a crop before normalisation), a stored 0 (no reading) drawn
    black, axes in pixels. Returns the image."""
    depth = np.asarray(depth, dtype=np.float32)
    im = ax.imshow(
        np.ma.masked_equal(depth, 0), cmap=DEPTH_CMAP, vmin=vmin, vmax=vmax, extent=extent, interpolation="nearest"
    )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("u (px)")
    ax.set_ylabel("v (px)")
    return im


def label_crop_axes(ax: Axes) -> None:
    """Ticks at a crop's first and last pixel, axes named in crop pixels."""
    h, w = ax.get_images()[0].get_array().shape[:2]
    ax.set_xticks([0, w - 1])
    ax.set_yticks([0, h - 1])
    ax.set_xlabel("crop column (px)")
    ax.set_ylabel("crop row (px)")


def draw_pose(ax: Axes, pixels: np.ndarray, color: str, label: str | None = None) -> None:
    """A 14-joint skeleton, (14, 2) pixels as (column, row), over a crop or a frame."""
    for a, b in EVAL_BONES:
        ax.plot(pixels[[a, b], 0], pixels[[a, b], 1], color=color, lw=1.5)
    ax.scatter(pixels[:, 0], pixels[:, 1], s=10, color=color, label=label, zorder=3)


def show_crop_grid(
    rows: Sequence[Sequence],
    titles: Sequence[Sequence[str]],
    cube_mm: float | Sequence,
    title: str,
    row_labels: Sequence[str] | None = None,
    poses: Mapping[str, tuple[str, Sequence]] | None = None,
    panel_size: float = 2.3,
) -> Figure:
    """Crops in rows (a row may be shorter than the others), each in mm from its crop centre, one colour
    bar in mm at the end of every row. `cube_mm`: one for all crops or one per crop, shaped like `rows`;
    `row_labels` name the rows on their first panel's left side; `poses` draws skeletons on every crop,
    {legend label: (colour, joint pixels shaped like `rows`, each (14, 2))}. Returns the figure."""
    n_cols = max(len(row) for row in rows)
    # constrained, not tight: tight_layout lets a row's titles slip under the row above once the square
    # crops leave spare height in their panels
    fig, axes = plt.subplots(
        len(rows),
        n_cols,
        figsize=(panel_size * n_cols + 1.0, panel_size * len(rows) + 0.6),
        squeeze=False,
        layout="constrained",
    )
    for r, row in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r, c]
            if c >= len(row):
                ax.axis("off")
                continue
            cube = cube_mm if np.ndim(cube_mm) == 0 else cube_mm[r][c]
            show_crop(ax, row[c], float(cube), titles[r][c], colorbar=c == len(row) - 1)
            for label, (colour, pixels) in (poses or {}).items():
                draw_pose(ax, np.asarray(pixels[r][c]), colour, label if (r, c) == (0, 0) else None)
            if row_labels is not None and c == 0:
                ax.set_ylabel(row_labels[r], fontsize=8)
    if poses:
        axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle(title)
    return fig
