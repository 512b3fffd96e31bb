"""mlib.data.sensor_stats on shapes whose answers are known, and on the real NYU frame when it is there."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from mlib.data import sensor_stats as ss

S = 64
PX = 300.0 / S  # mm per pixel of a 64 px crop of a 300 mm cube
Z = 700.0


def grid(size: int = S) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0:size, 0:size]
    return rows.astype(float), cols.astype(float)


def disc(radius: float, size: int = S, centre: float | None = None) -> np.ndarray:
    rows, cols = grid(size)
    c = (size - 1) / 2 if centre is None else centre
    return (rows - c) ** 2 + (cols - c) ** 2 <= radius**2


def crop_of(depth: np.ndarray, joints_px: np.ndarray | None = None, mm_per_px: float = PX) -> ss.HandCrop:
    """A HandCrop; without joints all 14 sit at the image centre (a degenerate skeleton: one point)."""
    size = depth.shape[0]
    if joints_px is None:
        joints_px = np.full((14, 2), (size - 1) / 2)
    return ss.HandCrop(depth.astype(np.float64), np.asarray(joints_px, float), np.full(14, Z), mm_per_px, Z)


def test_sharp_disc_has_a_one_pixel_edge():
    depth = np.where(disc(18), Z, 0.0)
    crop = crop_of(depth)
    sil = ss.hand_masks(crop)[1]
    widths = ss.edge_profiles(crop, sil)
    assert len(widths) > 50
    assert np.all(widths == 1)
    assert ss.edge_transition_px(crop) == pytest.approx(1.0)


def test_blurred_disc_has_a_wider_edge_that_grows_with_the_blur():
    far = Z + 150.0  # the crop's background level (centre + cube / 2)
    step = np.where(disc(18), Z, far)
    out = []
    for sigma in (0.0, 1.0, 2.0):
        depth = ndimage.gaussian_filter(step, sigma) if sigma else step
        crop = crop_of(depth)
        sil = depth < (Z + far) / 2  # the silhouette where the ramp is half way
        out.append(ss.edge_transition_px(crop, sil))
    assert out[0] == pytest.approx(1.0)
    assert out[1] > 1.5
    assert out[2] > out[1] + 0.5  # a wider kernel, a wider transition
    assert out[2] > 3.0


def test_step_onto_a_flat_surface_behind_is_a_step_not_a_ramp():
    # hand -> body 60 mm behind (flat) -> background: two steps, no ramp
    depth = np.where(disc(24), Z + 60, 0.0)
    depth[disc(14)] = Z
    crop = crop_of(depth)
    sil = ss.hand_masks(crop)[1]
    assert sil.sum() == disc(14).sum()  # the body behind is not absorbed into the hand
    assert ss.edge_transition_px(crop, sil) == pytest.approx(1.0)


@pytest.mark.parametrize("k", [0, 1, 7])
def test_punched_single_pixel_holes_are_counted(k):
    depth = np.where(disc(20), Z, 0.0)
    centre = (S - 1) / 2
    spots = [
        (int(centre + 8 * np.cos(a)), int(centre + 8 * np.sin(a))) for a in np.linspace(0, 2 * np.pi, k, endpoint=False)
    ]
    for r, c in spots:
        depth[r, c] = 0
    crop = crop_of(depth)
    count, area = ss.speckle_holes(crop)
    assert count == k
    assert area == disc(20).sum()
    assert ss.speckle_holes_per_1000(crop) == pytest.approx(1000 * k / area)


def test_a_large_enclosed_hole_is_not_speckle():
    depth = np.where(disc(20), Z, 0.0)
    depth[20:26, 20:26] = 0  # 36 px = 790 mm^2, far above the speckle limit
    depth[40, 40] = 0
    assert ss.speckle_holes(crop_of(depth))[0] == 1


def test_ragged_boundary_is_more_ragged_than_a_smooth_one():
    smooth = disc(20)
    rng = np.random.default_rng(0)
    boundary = smooth & ~ndimage.binary_erosion(smooth)
    outside_ring = ndimage.binary_dilation(smooth) & ~smooth
    ragged = smooth.copy()
    ragged[boundary & (rng.random(smooth.shape) < 0.3)] = False  # notches
    ragged[outside_ring & (rng.random(smooth.shape) < 0.3)] = True  # spurs
    r_smooth, r_ragged = ss.boundary_raggedness(smooth), ss.boundary_raggedness(ragged)
    assert r_smooth == pytest.approx(1.0, abs=0.03)
    assert r_ragged > r_smooth + 0.1


def test_a_long_thin_gap_between_fingers_is_not_raggedness():
    mask = np.zeros((S, S), bool)
    mask[10:50, 20:28] = True
    mask[10:50, 29:37] = True  # a neighbour one pixel away, for 40 rows
    assert ss.boundary_raggedness(mask) == pytest.approx(1.0, abs=0.03)


def test_bar_width_is_measured_within_a_pixel():
    mask = np.zeros((S, S), bool)
    mask[30:36, :] = True  # six rows
    assert ss.width_across(mask, np.array([50.0, 32.5]), np.array([10.0, 32.5]), 0.6) == pytest.approx(6, abs=1)
    rows, cols = grid()
    angle = np.radians(30)
    along = np.array([np.cos(angle), np.sin(angle)])
    dist = np.abs((cols - 32) * along[1] - (rows - 32) * along[0])  # distance to a line through (32, 32)
    tilted = dist <= 3.5  # 7 px wide
    tip, pip = np.array([32.0, 32.0]) + 20 * along, np.array([32.0, 32.0]) - 20 * along
    assert ss.width_across(tilted, tip, pip, 0.6) == pytest.approx(7, abs=1)
    assert np.isnan(ss.width_across(tilted, tip + 10, pip + 10 * np.array([1, -1]), 0.6))  # the point is off the mask


def capsule_hand(size: int, finger_mm: float = 18.0, gap_mm: float = 6.0) -> ss.HandCrop:
    """A flat hand of capsules at 700 mm, drawn at `size` px for a 300 mm cube: four fingers of
    `finger_mm` width, `gap_mm` apart, a palm disc, a thumb and a wrist."""
    px = 300.0 / size
    pitch = finger_mm + gap_mm
    xs = (np.arange(4) - 1.5) * pitch
    j = np.zeros((14, 2))  # mm in the crop plane, x right, y down, palm centre at (0, 0)
    for k, x in enumerate(xs):
        j[2 * k] = (x, -85.0)  # tip
        j[2 * k + 1] = (x, -45.0)  # PIP
    j[8], j[9], j[10] = (-75.0, -10.0), (-60.0, 5.0), (-40.0, 20.0)  # thumb tip, IP, MCP
    j[11], j[12], j[13] = (-20.0, 38.0), (20.0, 38.0), (0.0, 0.0)
    rows, cols = grid(size)
    x_mm, y_mm = (cols + 0.5) * px - 150.0, (rows + 0.5) * px - 150.0
    pix = np.stack([x_mm, y_mm], -1)

    def near(a, b, r):
        ab = b - a
        t = np.clip(((pix - a) @ ab) / (ab @ ab), 0, 1)
        return np.linalg.norm(pix - (a + t[..., None] * ab), axis=-1) <= r

    hand = np.hypot(x_mm, y_mm - 5) <= 50  # the palm
    for k in range(4):
        pip = j[2 * k + 1]
        hand |= near(j[2 * k], pip, finger_mm / 2)
        hand |= near(pip, pip + 25 * (j[13] - pip) / np.linalg.norm(j[13] - pip), finger_mm / 2)  # proximal phalanx
    hand |= near(j[8], j[10], 10.0)
    joints_px = (j + 150.0) / px - 0.5
    return ss.HandCrop(np.where(hand, Z, 0.0), joints_px, np.full(14, Z), px, Z)


@pytest.mark.parametrize("size", [64, 128])
def test_capsule_hand_statistics_at_two_crop_sizes(size):
    crop = capsule_hand(size)
    st = ss.crop_stats(crop)
    px = 300.0 / size
    assert st["fingers_measured"] == 4
    assert st["finger_width_mm"] == pytest.approx(18.0, abs=px)  # mm, whatever the crop size
    assert st["fingers_merged"] == 0
    assert st["missing_on_hand"] == 0
    assert st["speckle_holes_per_1000"] == 0
    assert st["edge_transition_px"] == pytest.approx(1.0)
    assert st["boundary_raggedness"] == pytest.approx(1.0, abs=0.05)


def test_touching_fingers_read_as_merged():
    st = ss.crop_stats(capsule_hand(64, finger_mm=18.0, gap_mm=0.0))
    assert st["fingers_merged"] > 0.5


def test_missing_on_hand_counts_missing_core_pixels():
    crop = capsule_hand(128)
    core = ss.core_region(crop)
    depth = crop.depth.copy()
    r, c = np.argwhere(core)[len(np.argwhere(core)) // 2]
    block = np.zeros_like(core)
    block[r - 2 : r + 3, c - 2 : c + 3] = True
    depth[block] = 0
    holed = ss.HandCrop(depth, crop.joints_px, crop.joints_z, crop.mm_per_px, crop.centre_z)
    assert ss.missing_on_hand(crop) == 0
    assert ss.missing_on_hand(holed) == pytest.approx((block & core).sum() / core.sum())


def test_sentinel_reads_as_missing():
    depth = np.array([[0.0, 2001.0, 700.0, np.nan]])
    assert ss.no_reading(depth, sentinel=2001.0).tolist() == [[True, True, False, True]]
    assert ss.no_reading(depth).tolist() == [[True, False, False, True]]


def test_compare_and_summary():
    rows = [dict.fromkeys(ss.STAT_NAMES, float(v)) for v in range(11)]
    summary = ss.summarise(rows)
    assert summary["missing_on_hand"]["mean"] == 5 and summary["missing_on_hand"]["n"] == 11
    cmp = ss.compare(dict.fromkeys(ss.STAT_NAMES, 0.5), summary)
    assert cmp["missing_on_hand"]["position"].startswith("reference below p10")
    assert cmp["missing_on_hand"]["generated_mean_over_reference"] == pytest.approx(10)
    assert "missing_on_hand" in ss.format_table(dict.fromkeys(ss.STAT_NAMES, 0.5), summary, summary)


@pytest.mark.parametrize("size", [64, 128])
def test_nyu_frame_statistics_are_plausible(nyu_dir, size):
    from mlib.data.nyu import read_depth_png

    png, labels = nyu_dir / "test" / "depth_1_0000001.png", nyu_dir / "nyu_test_groundtruth_label.txt"
    if not (png.is_file() and labels.is_file()):
        pytest.skip(f"NYU test frame 1 or its labels not found under {nyu_dir} (need {png.name} and {labels.name})")
    crop = ss.nyu_crop(read_depth_png(png), np.loadtxt(labels, max_rows=1).reshape(14, 3), size)
    st = ss.crop_stats(crop)
    assert all(np.isfinite(st[k]) for k in ss.STAT_NAMES)
    assert 0 <= st["missing_on_hand"] < 0.2
    assert 0 <= st["speckle_holes_per_1000"] < 20
    assert 1 <= st["edge_transition_px"] < 3
    assert 1 <= st["boundary_raggedness"] < 1.5
    assert 12 < st["finger_width_mm"] < 35  # an adult's finger, seen by a Kinect
    assert st["fingers_measured"] >= 3
    assert st["hand_px"] > 0.15 * size * size  # the open hand fills a good part of the crop


def test_committed_nyu_reference_matches_the_crop_size():
    from mlib.data.sensor_stats import STAT_NAMES, committed_nyu_reference

    ref = committed_nyu_reference(64)  # the laptop preset's crops
    assert ref is not None and ref["file"] == "sensor-stats-laptop.json"
    assert set(STAT_NAMES) <= set(ref["stats"])
    assert committed_nyu_reference(32) is None  # no NYU numbers at the ci crop size: a notebook says so
