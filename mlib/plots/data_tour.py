"""Figures of the data tour (notebook 00): NYU's files, the hand model, the camera rig, the sensor
model and what it loses, the crop pipeline step by step, the cached splits, the frame browser, and
the gap between real and synthetic crops."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Polygon, Rectangle

from mlib.data import sensor_stats
from mlib.data.camera import EVAL_JOINT_NAMES, EVAL_JOINTS, NYU, PALM_CENTRE
from mlib.data.crop import CropConfig, crop_window
from mlib.data.procedural.generator import CAMERAS
from mlib.plots.images import CROP_DEPTH_LABEL, axes_or_new, draw_pose, label_crop_axes, show_crop, show_mm


def _crop_window_patch(ax, u_c: float, v_c: float, half_u: float, half_v: float, lw: float = 2) -> None:
    rect = Rectangle((u_c - half_u, v_c - half_v), 2 * half_u, 2 * half_v, fill=False, color="red", lw=lw)
    rect.set_label("crop window")
    ax.add_patch(rect)


def plot_png_channels(rgb: np.ndarray, depth: np.ndarray, title: str) -> Figure:
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


def plot_labelled_frame(
    depth: np.ndarray, uvd: np.ndarray, xyz: np.ndarray, marks: dict[str, int], title: str
) -> Figure:
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


def plot_crop_of_frame(depth: np.ndarray, centre_xyz: np.ndarray, crop: CropConfig, crop_image, title: str) -> Figure:
    """Left: the cube's window in the whole frame; right: the normalised crop with its joints.
    `crop_image` is (normalised crop, (14, 2) joints in crop pixels)."""
    image, pixels = crop_image
    u_c, v_c, half_u, half_v = map(float, crop_window(centre_xyz, crop))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    im = show_mm(axes[0], depth, f"the {crop.cube_mm:.0f} mm cube projected into the frame")
    _crop_window_patch(axes[0], u_c, v_c, half_u, half_v)
    axes[0].plot(u_c, v_c, "r+", ms=12, label="palm centre")
    axes[0].legend(loc="lower right", fontsize=8)
    fig.colorbar(im, ax=axes[0], label="depth (mm)")
    im = show_crop(axes[1], image, colorbar=False)
    axes[1].set_title(f"normalised {crop.size}x{crop.size} crop (background = +1)", fontsize=10)
    fig.colorbar(im, ax=axes[1], label=CROP_DEPTH_LABEL)
    draw_pose(axes[1], pixels, "red", "14 evaluation joints")
    label_crop_axes(axes[1])
    axes[1].legend(loc="lower right", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _capsule_outline(a: np.ndarray, b: np.ndarray, r: float, n: int = 16) -> np.ndarray:
    """2-D outline (x, y) of a capsule from a to b with radius r, projected onto the palm plane."""
    d = b - a
    ang = np.arctan2(d[1], d[0]) if np.hypot(*d) > 1e-9 else 0.0
    t1 = ang + np.linspace(-np.pi / 2, np.pi / 2, n)
    t0 = ang + np.linspace(np.pi / 2, 3 * np.pi / 2, n)
    return np.concatenate(
        [b + r * np.stack([np.cos(t1), np.sin(t1)], 1), a + r * np.stack([np.cos(t0), np.sin(t0)], 1)]
    )


def plot_hand_model(j36: np.ndarray, capsules: np.ndarray, title: str) -> Figure:
    """The 36-joint skeleton in 3-D (evaluation joints and palm centre marked) beside the capsule
    surface projected onto the palm plane, joints named."""
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
        outline = _capsule_outline(cap[:2], cap[3:5], cap[6])
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


def plot_class_shares(
    shares: dict[str, np.ndarray], class_names: Sequence[str], title: str, ax: Axes | None = None
) -> Axes:
    """Grouped bars: the fraction of frames per pose class, one bar group per class, one colour per entry."""
    ax = axes_or_new(ax, (7, 3.5))
    x = np.arange(len(class_names))
    width = 0.8 / len(shares)
    for k, (name, share) in enumerate(shares.items()):
        ax.bar(x + (k - (len(shares) - 1) / 2) * width, share, width, label=name)
    ax.set_xticks(x, class_names)
    ax.set(xlabel="pose class", ylabel="fraction of frames", title=title)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax


def plot_subject_shapes(
    hand_len: np.ndarray,
    finger_d: np.ndarray,
    splits: dict[str, np.ndarray],
    canonical: tuple[float, float],
    ax: Axes | None = None,
) -> Axes:
    """Hand length against finger thickness per subject (splits: name -> subject ids), and the
    canonical surface the synthetic domain renders."""
    ax = axes_or_new(ax, (6.5, 4.2))
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


def plot_camera_rig(cams: Sequence[dict], palms: np.ndarray) -> Figure:
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


def plot_full_frames(
    frames: dict[tuple[str, int], np.ndarray], joints_uvd: np.ndarray, palm_z: np.ndarray, title: str
) -> Figure:
    """Full 640x480 frames, rows = domains, columns = cameras 1-3, each coloured from 150 mm in front
    of its palm centre to 450 mm behind it, with the 14 joints. frames[(domain, camera)];
    joints_uvd: (3 cameras, 14, 3); palm_z: (3,) mm."""
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


def plot_image_panels(
    images: dict[str, np.ndarray], vmin: float, vmax: float, extent, title: str, ncols: int = 3
) -> Figure:
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
) -> Figure:
    """A depth window in grey with each lost (or gained) pixel coloured by the effect that changed it;
    the legend gives each effect's share of the `near` pixels."""
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
) -> Figure:
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


def plot_sensor_crops(
    rows: dict[str, Sequence[tuple[object, str] | None]], title: str, near_mm: float = 80, far_mm: float = 150
) -> Figure:
    """Rows of crops in mm (`mlib.data.sensor_stats.HandCrop`; row label -> [(crop, panel title) or None for an
    empty panel]), each drawn from `near_mm` in front of its palm centre to `far_mm` behind it, black where
    there is no reading or background, with the silhouette (red) and the skeleton core (white) that
    `mlib.data.sensor_stats` measures on. One colour bar per panel, since every crop has its own palm depth."""
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
            sil = sensor_stats.hand_masks(crop)[1]
            ax.contour(sil, [0.5], colors="red", linewidths=0.6)
            ax.contour(sensor_stats.core_region(crop), [0.5], colors="white", linewidths=0.4)
            label_crop_axes(ax)
            ax.xaxis.label.set_fontsize(7)
            ax.yaxis.label.set_fontsize(7)
            cb = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
            cb.set_label("depth (mm)", fontsize=7)
            cb.ax.tick_params(labelsize=6)
    fig.suptitle(title)
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
) -> Figure:
    """The crop pipeline's four steps: cube window, source pixels, sampled depth (mm), normalised crop."""
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
    im = show_crop(axes[3], norm, colorbar=False)
    axes[3].set_title("4. normalised crop", fontsize=10)
    fig.colorbar(im, ax=axes[3], label=CROP_DEPTH_LABEL)
    draw_pose(axes[3], pixels, "red", "14 joints")
    label_crop_axes(axes[3])
    axes[3].legend(fontsize=8, loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_normalisation(raw: np.ndarray, norm: np.ndarray, depth_range: tuple[float, float]) -> Figure:
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


def plot_split_overview(stores: dict[str, object]) -> Figure:
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


def plot_browser_grid(views: list[list[dict]], crop: CropConfig, title: str) -> Figure:
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
) -> Figure:
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
