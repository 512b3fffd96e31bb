"""How Kinect-like is a depth crop? Statistics of the sensor's footprint on a hand.

The generator's "real" domain is meant to look like a Kinect v1. Before anybody changes its sensor
model, these numbers put the generated real crops beside the real NYU frame, in the crop the network
sees (`mlib.data.crop`: a cube around the palm centre, everything without a reading or outside the
cube's depth range = background = 0 mm here):

* `missing_on_hand`: share of the hand's core (pixels within a few mm of the 2-D skeleton) without a
  reading. The core comes from the joints, not from the readings, so the sensor's own dropout cannot
  shrink the region it is counted in (a depth window closed morphologically would lose exactly the
  holes that touch the silhouette, and it needs a depth to start from where there is none). The
  core's radius (4 mm) is well inside a finger's half width, so a good label puts it on the hand; on a
  clean synthetic render the statistic is the definition's own leak (labels off the surface,
  fingertips, occlusion), and should be close to 0.
* `speckle_holes_per_1000`: small enclosed components of missing pixels inside the silhouette, per
  1000 silhouette pixels.
* `edge_transition_px`: how many pixels the depth takes to rise from the hand to the background
  across the silhouette, along the outward normal (1 + the run of pixels on a ramp, see
  `edge_profiles`): 1 for a sharp step, more for a low-pass edge or "flying pixels".
* `boundary_raggedness`: the silhouette's perimeter over that of its morphologically smoothed
  version (1 = smooth; pixel-scale notches and spurs raise it; a long thin gap between two fingers
  does not, see `smooth_mask`).
* `finger_width_mm`: width of the silhouette perpendicular to a finger at its middle phalanx, in mm
  (pixels x mm per pixel at the finger's depth), so crops of other sizes and cubes compare: the median
  over the visible fingers that are not merged with a neighbour;
* `fingers_merged`: the share of the visible fingers whose run is wider than 32 mm, i.e. crossed into
  a touching neighbour (pose-dependent: compare open hands with open hands).

The silhouette: valid pixels no deeper than the deepest joint + 30 mm, grown from the skeleton core
through 4-neighbours whose depths differ by at most 25 mm (so a body or table just behind the hand,
which the generator puts there, is not absorbed), then with its holes filled. All statistics work on
one crop at any size; the parameters in mm are converted with the crop's mm per pixel.

Everything here is plain numpy/scipy and knows nothing about torch or the cache format, except the
two small adapters at the end (`nyu_crop`, `store_crops`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mlib.data.camera import EVAL_BONES, EVAL_JOINTS, uvd_to_xyz
from mlib.data.crop import CropConfig, crop_depth, denormalize_depth, joints_to_crop_pixels

FINGERS14: tuple[tuple[int, int], ...] = ((0, 1), (2, 3), (4, 5), (6, 7))  # (tip, PIP) of pinky, ring, middle, index

STAT_NAMES = (
    "missing_on_hand",
    "speckle_holes_per_1000",
    "edge_transition_px",
    "boundary_raggedness",
    "finger_width_mm",
    "fingers_merged",
)
# A run across one finger wider than this has crossed into a neighbour (adult fingers are 15-25 mm wide
# at the middle phalanx, Kinect-fattened ones included): the two fingers touch in the image.
MERGED_MM = 32.0
# Spurs and notches up to this area (and at least 2 px) count as raggedness (see `smooth_mask`).
RAGGED_MM2 = 40.0
STAT_UNITS = {
    "fingers_merged": "fraction",
    "missing_on_hand": "fraction",
    "speckle_holes_per_1000": "per 1000 hand px",
    "edge_transition_px": "px",
    "boundary_raggedness": "ratio",
    "finger_width_mm": "mm",
}


@dataclass(frozen=True)
class HandCrop:
    """One crop with what the statistics need.

    depth: (S, S) mm, 0 = no reading or background (the crop's own convention);
    joints_px: (14, 2) crop (column, row) of the 14 evaluation joints;
    joints_z: (14,) their depths, mm;
    mm_per_px: crop pixel size in mm at the crop centre's depth (cube / S);
    centre_z: the crop centre's depth, mm (pixel size scales with depth / centre_z)."""

    depth: np.ndarray
    joints_px: np.ndarray
    joints_z: np.ndarray
    mm_per_px: float
    centre_z: float

    def px_at(self, z_mm: float) -> float:
        """mm per crop pixel at depth z (a pinhole crop: the pixel's footprint grows with z)."""
        return self.mm_per_px * float(z_mm) / self.centre_z


def no_reading(depth: np.ndarray, sentinel: float | None = None) -> np.ndarray:
    """True where a pixel has no reading: 0, negative, not finite, or equal to `sentinel` (NYU's full
    frames store 2001 mm wherever there is nothing within range; a crop has already turned it into 0)."""
    d = np.asarray(depth, dtype=np.float64)
    bad = ~np.isfinite(d) | (d <= 0)
    if sentinel is not None:
        bad |= d == sentinel
    return bad


def _segment_distance(shape: tuple[int, int], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance (px) of every pixel centre to the segment a-b, points as (column, row)."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    p = np.stack([cols, rows], axis=-1).astype(np.float64)
    ab = np.asarray(b, float) - np.asarray(a, float)
    t = np.clip(((p - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
    return np.linalg.norm(p - (a + t[..., None] * ab), axis=-1)


def skeleton_distance(shape: tuple[int, int], joints_px: np.ndarray, pull_back_px: float = 0.0) -> np.ndarray:
    """Distance (px) of every pixel to the nearest bone of the 14-joint skeleton. Fingertips are pulled
    back along their bone by `pull_back_px` (the tip joint sits at the end of the finger, so a disc
    around it would reach past the fingertip into the background)."""
    j = np.asarray(joints_px, dtype=np.float64).copy()
    for tip, parent in ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9)):
        d = j[parent] - j[tip]
        n = np.linalg.norm(d)
        if n > 1e-9:
            j[tip] = j[tip] + d / n * min(pull_back_px, 0.5 * n)
    return np.min([_segment_distance(shape, j[a], j[b]) for a, b in EVAL_BONES], axis=0)


def core_region(crop: HandCrop, radius_mm: float = 4.0, pull_back_mm: float = 8.0) -> np.ndarray:
    """Pixels within `radius_mm` of the skeleton (at least the pixels the bones pass through): surely on
    the hand if the labels are right, whatever the sensor did there."""
    px = crop.mm_per_px
    dist = skeleton_distance(crop.depth.shape, crop.joints_px, pull_back_mm / px)
    return dist <= max(radius_mm / px, 0.5)


def missing_on_hand(crop: HandCrop, radius_mm: float = 4.0, sentinel: float | None = None) -> float:
    """Fraction of the hand's core (see `core_region`) without a reading."""
    core = core_region(crop, radius_mm)
    if not core.any():
        return float("nan")
    return float(no_reading(crop.depth, sentinel)[core].mean())


def hand_masks(
    crop: HandCrop, far_mm: float = 30.0, near_mm: float = 60.0, step_mm: float = 25.0, sentinel: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(hand, silhouette): the valid pixels of the hand, and the same with its holes filled.

    A pixel is a hand candidate if it has a reading between (nearest joint - near_mm) and (deepest
    joint + far_mm). Candidates joined to the skeleton core through 4-neighbours whose depths differ by
    at most `step_mm` form the hand, so a surface just behind it (body, table) stays out unless it
    touches the hand without a depth step."""
    d = np.asarray(crop.depth, dtype=np.float64)
    z = np.asarray(crop.joints_z, dtype=np.float64)
    cand = ~no_reading(d, sentinel) & (d >= z.min() - near_mm) & (d <= z.max() + far_mm)
    h, w = d.shape
    idx = np.arange(h * w).reshape(h, w)
    edges = []
    for sl_a, sl_b in (((slice(None), slice(0, -1)), (slice(None), slice(1, None))),
                       ((slice(0, -1), slice(None)), (slice(1, None), slice(None)))):  # fmt: skip
        ok = cand[sl_a] & cand[sl_b] & (np.abs(d[sl_a] - d[sl_b]) <= step_mm)
        edges.append((idx[sl_a][ok], idx[sl_b][ok]))
    a = np.concatenate([e[0] for e in edges])
    b = np.concatenate([e[1] for e in edges])
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(h * w, h * w))
    _, labels = connected_components(graph, directed=False)
    labels = labels.reshape(h, w)
    seeds = core_region(crop) & cand
    keep = np.unique(labels[seeds])
    hand = cand & np.isin(labels, keep)
    return hand, ndimage.binary_fill_holes(hand)


def speckle_holes(
    crop: HandCrop, silhouette: np.ndarray | None = None, max_area_mm2: float = 50.0, sentinel: float | None = None
) -> tuple[int, int]:
    """(number of speckle holes, silhouette area in px). A speckle hole is a connected component
    (4-connected) of pixels without a reading that the silhouette encloses completely and whose area
    is at most `max_area_mm2` (at least one pixel): dropouts on the hand, not the background seen
    through a pinch or a gap between fingers (those are larger or read a depth)."""
    if silhouette is None:
        silhouette = hand_masks(crop, sentinel=sentinel)[1]
    holes = silhouette & no_reading(crop.depth, sentinel)
    # only components of missing pixels that are enclosed: every one of them lies inside the filled mask
    labels, n = ndimage.label(holes)
    if n == 0:
        return 0, int(silhouette.sum())
    areas = ndimage.sum_labels(np.ones_like(labels), labels, index=np.arange(1, n + 1))
    max_px = max(1.0, max_area_mm2 / crop.mm_per_px**2)
    return int((areas <= max_px).sum()), int(silhouette.sum())


def speckle_holes_per_1000(crop: HandCrop, silhouette: np.ndarray | None = None, max_area_mm2: float = 50.0) -> float:
    """Speckle holes (see `speckle_holes`) per 1000 silhouette pixels."""
    count, area = speckle_holes(crop, silhouette, max_area_mm2)
    return 1000.0 * count / area if area else float("nan")


def _boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels of `mask` with a 4-neighbour outside it (the crop's edge does not count as outside)."""
    inner = ndimage.binary_erosion(mask, structure=ndimage.generate_binary_structure(2, 1), border_value=1)
    return mask & ~inner


def edge_profiles(
    crop: HandCrop,
    silhouette: np.ndarray,
    zone: np.ndarray | None = None,
    reach_mm: float = 15.0,
    min_step_mm: float = 30.0,
    rise_mm: float = 10.0,
) -> np.ndarray:
    """Transition widths (in pixel steps) of the depth across the silhouette, one per boundary pixel whose
    profile is usable.

    From each boundary pixel p (inside `zone` if given), walk along the outward normal of the silhouette
    (from the gradient of the mask smoothed by a 1 px Gaussian), one pixel per step along the dominant
    axis, from 3 steps inside to `reach_mm` outside (at least 4 steps). A pixel without a reading counts
    as the crop's far limit (centre + cube/2, the depth the crop's background +1 stands for).

    A sample is a transition sample if the depth rises into it and out of it, each by at least
    max(`rise_mm`, 3 mm per px of the crop): a sample on a ramp. The width is 1 + the length of the run
    of transition samples next to the crossing (steps 0 and 1), so a sharp step gives 1 at any
    orientation, a low-pass edge (or "flying pixels") more, and a step onto another surface (the body,
    the forearm behind a finger) that stays flat before the background counts as a step, not as a ramp.
    Profiles that leave the crop, whose first outside sample is nearer than the boundary pixel, or whose
    total rise is below `min_step_mm` are skipped."""
    d = np.asarray(crop.depth, dtype=np.float64)
    h_, w_ = d.shape
    far = crop.centre_z + crop.mm_per_px * h_ / 2  # centre + cube/2, since cube = mm_per_px * S
    d = np.where(no_reading(d), far, d)
    rise = max(rise_mm, 3.0 * crop.mm_per_px)
    smooth = ndimage.gaussian_filter(silhouette.astype(np.float64), 1.0)
    gr, gc = np.gradient(smooth)
    bnd = _boundary(silhouette)
    if zone is not None:
        bnd &= zone
    reach = max(4, int(np.ceil(reach_mm / crop.mm_per_px)))
    steps = np.arange(-3, reach + 1)
    zero = 3  # index of step 0, the boundary pixel
    widths = []
    for r, c in zip(*np.nonzero(bnd)):
        nr, nc = -gr[r, c], -gc[r, c]  # outward: the mask falls off
        m = max(abs(nr), abs(nc))
        if m < 1e-6:
            continue
        rr = np.rint(r + steps * nr / m).astype(int)
        cc = np.rint(c + steps * nc / m).astype(int)
        if rr.min() < 0 or cc.min() < 0 or rr.max() >= h_ or cc.max() >= w_:
            continue
        v = d[rr, cc]
        if v[zero + 1] < v[zero] or v[zero + 1 :].max() - v[zero] < min_step_mm:
            continue
        up = np.diff(v) >= rise  # up[i]: v rises from sample i to sample i + 1
        on_ramp = np.zeros(len(v), bool)
        on_ramp[1:-1] = up[:-1] & up[1:]
        run = 0
        for i in range(zero, 0, -1):  # inward from the boundary pixel
            if not on_ramp[i]:
                break
            run += 1
        for i in range(zero + 1, len(v) - 1):  # outward
            if not on_ramp[i]:
                break
            run += 1
        widths.append(1 + run)
    return np.asarray(widths, dtype=np.float64)


def edge_transition_px(crop: HandCrop, silhouette: np.ndarray | None = None, zone: np.ndarray | None = None) -> float:
    """Mean transition width across the silhouette, in crop pixels (see `edge_profiles`)."""
    if silhouette is None:
        silhouette = hand_masks(crop)[1]
    w = edge_profiles(crop, silhouette, zone)
    return float(w.mean()) if len(w) else float("nan")


def _crack_length(mask: np.ndarray, zone: np.ndarray) -> int:
    """Number of unit pixel edges between `mask` and its complement with a pixel of `zone` on either side
    (edges on the crop's border are not counted: the crop cuts the arm there, it is no silhouette)."""
    m = mask.astype(bool)
    horiz = (m[:, 1:] != m[:, :-1]) & (zone[:, 1:] | zone[:, :-1])
    vert = (m[1:, :] != m[:-1, :]) & (zone[1:, :] | zone[:-1, :])
    return int(horiz.sum() + vert.sum())


def _small_components(mask: np.ndarray, max_px: float) -> np.ndarray:
    """The 8-connected components of `mask` of at most `max_px` pixels."""
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return np.zeros_like(mask, bool)
    areas = ndimage.sum_labels(np.ones_like(labels), labels, index=np.arange(1, n + 1))
    return np.isin(labels, 1 + np.flatnonzero(areas <= max_px))


def smooth_mask(mask: np.ndarray, radius_px: int = 1, max_px: float = 2.0) -> np.ndarray:
    """The mask without its pixel-scale spurs and notches: what an opening, then a closing, with a disc of
    `radius_px` (1: the 3x3 cross) would remove or add, but only in components of at most `max_px`
    pixels. Without that limit the closing also fills a long one-pixel gap between two fingers that
    nearly touch (the NYU frame has several at 64 px), and the silhouette would be called ragged for a
    gap that is no raggedness at all."""
    r = max(1, int(radius_px))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disc = xx**2 + yy**2 <= r * r
    m = mask.astype(bool)
    # padded with the edge values, so a silhouette cut by the crop's border is not eroded there
    padded = np.pad(m, r + 1, mode="edge")
    opened = ndimage.binary_opening(padded, structure=disc)
    closed = ndimage.binary_closing(opened, structure=disc)
    crop = (slice(r + 1, -(r + 1)),) * 2
    spurs = _small_components(m & ~opened[crop], max_px)
    notches = _small_components(closed[crop] & ~opened[crop], max_px)
    return (m & ~spurs) | notches


def boundary_raggedness(
    mask: np.ndarray, zone: np.ndarray | None = None, radius_px: int = 1, max_px: float = 2.0
) -> float:
    """Perimeter of `mask` over the perimeter of `smooth_mask(mask)`, counted in pixel edges inside
    `zone` (everywhere if None). 1 for a smooth silhouette, larger for a ragged one."""
    zone = np.ones_like(mask, bool) if zone is None else zone
    smooth = _crack_length(smooth_mask(mask, radius_px, max_px), zone)
    return _crack_length(mask, zone) / smooth if smooth else float("nan")


def width_across(
    mask: np.ndarray, a: np.ndarray, b: np.ndarray, at: float = 0.7, step: float = 0.25, max_px: float = 40.0
) -> float:
    """Width (px) of `mask` along the perpendicular to segment a -> b (points as column, row) at the point
    a + at (b - a): the length of the run of mask pixels (nearest-pixel lookup every `step` px) through
    that point, nan if the point is not on the mask. A run that reaches `max_px` on a side is cut there."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = b - a
    n = np.linalg.norm(d)
    if n < 1e-9:
        return float("nan")
    normal = np.array([-d[1], d[0]]) / n
    p = a + at * d
    h, w = mask.shape

    def inside(q: np.ndarray) -> bool:
        c, r = int(np.rint(q[0])), int(np.rint(q[1]))
        return 0 <= r < h and 0 <= c < w and bool(mask[r, c])

    if not inside(p):
        return float("nan")
    count = 1
    for sign in (1.0, -1.0):
        t = step
        while t <= max_px and inside(p + sign * t * normal):
            count += 1
            t += step
    return count * step


def finger_widths_mm(
    crop: HandCrop,
    silhouette: np.ndarray | None = None,
    at: float = 0.6,
    min_visible: float = 0.6,
    depth_tol_mm: float = 25.0,
) -> np.ndarray:
    """Width (mm) of each of the four fingers at its middle phalanx (`at` = 0.6 of the way from the tip to
    the PIP joint: the distal part of the middle phalanx; nearer the PIP joint, spread fingers of the NYU
    frame already touch at 64 px), nan where not measurable: the finger is
    foreshortened (its 2-D length is below `min_visible` of its 3-D length: it points at the camera), or
    the pixel there is not on the silhouette within `depth_tol_mm` of the finger's depth (occluded)."""
    if silhouette is None:
        silhouette = hand_masks(crop)[1]
    out = np.full(len(FINGERS14), np.nan)
    j, z = np.asarray(crop.joints_px, float), np.asarray(crop.joints_z, float)
    for k, (tip, pip) in enumerate(FINGERS14):
        zm = z[tip] + at * (z[pip] - z[tip])
        px = crop.px_at(zm)
        len2 = np.linalg.norm(j[pip] - j[tip]) * px  # the 2-D length in mm at the finger's depth
        len3 = np.hypot(len2, z[pip] - z[tip])
        if len3 <= 0 or len2 < min_visible * len3:
            continue
        c, r = np.rint(j[tip] + at * (j[pip] - j[tip])).astype(int)
        h, w = crop.depth.shape
        if not (0 <= r < h and 0 <= c < w) or abs(crop.depth[r, c] - zm) > depth_tol_mm:
            continue
        out[k] = width_across(silhouette, j[tip], j[pip], at, max_px=40.0 / px) * px
    return out


def crop_stats(crop: HandCrop, zone_mm: float = 30.0) -> dict[str, float]:
    """All statistics of one crop. Edges and raggedness are counted within `zone_mm` of the skeleton, so
    the forearm far from the wrist and the crop's border do not dominate them."""
    hand, sil = hand_masks(crop)
    zone = skeleton_distance(crop.depth.shape, crop.joints_px) <= zone_mm / crop.mm_per_px
    widths = finger_widths_mm(crop, sil)
    measured = widths[np.isfinite(widths)]
    single = measured[measured <= MERGED_MM]
    count, area = speckle_holes(crop, sil)
    edges = edge_profiles(crop, sil, zone)
    return {
        "missing_on_hand": missing_on_hand(crop),
        "speckle_holes_per_1000": 1000.0 * count / area if area else float("nan"),
        "edge_transition_px": float(edges.mean()) if len(edges) else float("nan"),
        "edge_transition_mm": float(edges.mean() * crop.mm_per_px) if len(edges) else float("nan"),
        "boundary_raggedness": boundary_raggedness(sil, zone, max_px=max(2.0, RAGGED_MM2 / crop.mm_per_px**2)),
        # the median over the measured fingers that are not merged with a neighbour
        "finger_width_mm": float(np.median(single)) if len(single) else float("nan"),
        "fingers_merged": float(np.mean(measured > MERGED_MM)) if len(measured) else float("nan"),
        "fingers_measured": int(np.isfinite(widths).sum()),
        "hand_px": int(hand.sum()),
    }


# ---- adapters: the NYU frame and cached crops -> HandCrop -------------------------------------------


def nyu_crop(depth_mm: np.ndarray, uvd14: np.ndarray, size: int, cube_mm: float = 300.0) -> HandCrop:
    """A full frame (mm) and its 14 labelled joints (u, v, d) -> the project's crop around the palm
    centre (`mlib.data.crop.crop_depth`), back in mm with 0 for background."""
    cfg = CropConfig(size=size, cube_mm=cube_mm)
    xyz = uvd_to_xyz(np.asarray(uvd14, dtype=np.float64))
    centre = xyz[-1]  # the palm centre is the last of the 14
    crop = denormalize_depth(crop_depth(depth_mm, centre, cfg), centre[2], cube_mm)
    return HandCrop(crop, joints_to_crop_pixels(xyz, centre, cfg), xyz[:, 2], cube_mm / size, float(centre[2]))


def crops_from_normalised(
    crops: np.ndarray, joints14: np.ndarray, centres: np.ndarray, cubes: np.ndarray
) -> list[HandCrop]:
    """Normalised crops (N, S, S), camera-1 joints (N, 14, 3) mm, crop centres (N, 3) mm and cube sides
    (N,) -> HandCrops."""
    size = crops.shape[-1]
    out = []
    for img, j, c, cube in zip(np.asarray(crops, np.float32), joints14, centres, cubes):
        cfg = CropConfig(size=size, cube_mm=float(cube))
        mm = denormalize_depth(img, c[2], float(cube))
        out.append(HandCrop(mm, joints_to_crop_pixels(j, c, cfg), np.asarray(j)[:, 2], float(cube) / size, float(c[2])))
    return out


def store_crops(store, indices, domain: str) -> list[HandCrop]:
    """HandCrops of camera 1 of a CropStore: domain 'real' or 'synth'."""
    idx = np.asarray(indices)
    img = (store.real[idx] if domain == "real" else store.synth[idx, 0]).float().numpy()
    joints = store.joints[idx, 0][:, EVAL_JOINTS].numpy()
    return crops_from_normalised(img, joints, store.centres[idx, 0].numpy(), store.cube[idx].numpy())


def summarise(rows: list[dict[str, float]], names=STAT_NAMES) -> dict[str, dict[str, float]]:
    """Mean, 10th and 90th percentile and count of each statistic over crops (nan values left out)."""
    out = {}
    for name in names:
        v = np.array([r[name] for r in rows], dtype=np.float64)
        v = v[np.isfinite(v)]
        out[name] = (
            {
                "mean": float(v.mean()),
                "p10": float(np.percentile(v, 10)),
                "p90": float(np.percentile(v, 90)),
                "n": len(v),
            }
            if len(v)
            else {"mean": float("nan"), "p10": float("nan"), "p90": float("nan"), "n": 0}
        )
    return out


def compare(reference: dict[str, float], summary: dict[str, dict[str, float]], names=STAT_NAMES) -> dict[str, dict]:
    """Where the reference crop's value falls against the generated crops' spread: below their 10th
    percentile, inside the 10-90 band, or above their 90th; and the ratio of their mean to it."""
    out = {}
    for name in names:
        ref, s = reference[name], summary[name]
        if not (np.isfinite(ref) and s["n"]):
            out[name] = {"position": "not measured", "generated_mean_over_reference": None}
            continue
        pos = "below p10" if ref < s["p10"] else "above p90" if ref > s["p90"] else "inside p10-p90"
        ratio = s["mean"] / ref if ref != 0 else None
        out[name] = {"position": f"reference {pos} of the generated crops", "generated_mean_over_reference": ratio}
    return out


def format_table(
    reference: dict[str, float], real: dict[str, dict], synth: dict[str, dict], ref_name: str = "NYU"
) -> str:
    """A text table: the reference value beside the generated real crops' mean [p10, p90] and the
    synthetic renders' mean [p10, p90]."""
    head = f"{'statistic':<24s} {'unit':<17s} {ref_name:>9s}  {'generated real: mean [p10, p90]':>33s}  {'synthetic: mean [p10, p90]':>29s}"
    lines = [head, "-" * len(head)]
    for name in STAT_NAMES:
        r, s = real[name], synth[name]
        lines.append(
            f"{name:<24s} {STAT_UNITS[name]:<17s} {reference[name]:9.3f}  "
            f"{r['mean']:13.3f} [{r['p10']:7.3f}, {r['p90']:7.3f}]  {s['mean']:9.3f} [{s['p10']:7.3f}, {s['p90']:7.3f}]"
        )
    return "\n".join(lines)


def committed_nyu_reference(crop_px: int, folder: str | Path | None = None) -> dict | None:
    """The statistics of NYU's test frame 1 at crops of `crop_px` pixels as committed by
    `benchmarks/lab/sensor_stats.py` (benchmarks/results/sensor-stats-*.json, computed where NYU's files were
    present): {'stats': ..., 'file': the file's name, 'cube_mm': ...}; None when no committed file holds
    the real frame at that crop size (the statistics depend on it). `folder` defaults to the copies the
    package ships (`mlib.reference`)."""
    if folder is None:
        folder = Path(str(resources.files("mlib.reference")))
    for path in sorted(Path(folder).glob("sensor-stats-*.json")):
        d = json.loads(path.read_text())
        ref = d.get("reference", {})
        if d.get("crop_px") == crop_px and ref.get("is_real_nyu") and "stats" in ref:
            return {"stats": ref["stats"], "file": path.name, "cube_mm": d.get("cube_mm")}
    return None
