import numpy as np
import pytest

from mlib.data.camera import EVAL_JOINTS, JOINT_NAMES, NYU, PALM_CENTRE, uvd_to_xyz, xyz_to_uvd
from mlib.data.crop import (
    CropConfig,
    CropError,
    crop_depth,
    denormalize_depth,
    denormalize_joints,
    joints_to_crop_pixels,
    normalize_depth,
    normalize_joints,
    source_pixels,
)
from mlib.data.nyu import read_depth_png


def test_joint_layout():
    assert len(JOINT_NAMES) == 36
    assert JOINT_NAMES[0] == "F1_KNU3_A" and JOINT_NAMES[24] == "TH_KNU3_A" and JOINT_NAMES[32] == "PALM_3"
    assert len(EVAL_JOINTS) == 14 and EVAL_JOINTS[-1] == PALM_CENTRE


def test_uvd_xyz_round_trip_and_sign_convention():
    rng = np.random.default_rng(0)
    uvd = np.stack([rng.uniform(0, 640, 100), rng.uniform(0, 480, 100), rng.uniform(300, 1500, 100)], -1)
    xyz = uvd_to_xyz(uvd)
    np.testing.assert_allclose(xyz_to_uvd(xyz), uvd, rtol=1e-10, atol=1e-9)
    # y points up: a pixel above the principal point has positive y.
    assert uvd_to_xyz(np.array([320.0, 100.0, 800.0]))[1] > 0
    np.testing.assert_allclose(uvd_to_xyz(np.array([NYU.cx, NYU.cy, 700.0])), [0, 0, 700])


def test_crop_of_a_plane_and_inverses():
    depth = np.full((480, 640), 800.0, np.float32)
    depth[:, :320] = 0  # left half: no reading
    centre = np.array([0.0, 0.0, 780.0])
    cfg = CropConfig(size=32, cube_mm=300)
    crop = crop_depth(depth, centre, cfg)
    assert crop.shape == (32, 32)
    np.testing.assert_allclose(crop[:, 16:], (800 - 780) / 150, rtol=1e-6)
    assert (crop[:, :16] == 1).all()  # background
    back = denormalize_depth(crop[None], np.array([780.0]), 300)[0]
    np.testing.assert_allclose(back[:, 16:], 800, atol=1e-3)
    assert (back[:, :16] == 0).all()
    j = np.random.default_rng(1).normal(size=(2, 14, 3)) * 50 + centre
    c2 = np.stack([centre, centre])
    np.testing.assert_allclose(denormalize_joints(normalize_joints(j, c2, 300), c2, 300), j)


def test_depth_outside_cube_is_background():
    d = np.array([[[0.0, 600.0, 780.0, 929.0, 931.0]]])
    out = normalize_depth(d, np.array([780.0]), 300)
    np.testing.assert_allclose(out[0, 0], [1, 1, 0, 149 / 150, 1], rtol=1e-6)


def test_source_pixels_cover_the_cube_projection():
    centre = np.array([[10.0, -20.0, 750.0]])
    u, v = source_pixels(centre, CropConfig(64, 300))
    uc, vc, _ = xyz_to_uvd(centre[0])
    half = 150 * NYU.fx / 750
    assert abs(u.min() - (uc - half)) <= 3 and abs(u.max() - (uc + half)) <= 3
    assert (np.diff(v[0], axis=0) >= 0).all()  # rows run downwards


def test_bad_crop_centres_name_the_frame():
    depth = np.zeros((480, 640), np.float32)
    with pytest.raises(CropError, match="frame 17.*outside"):
        crop_depth(depth, np.array([5000.0, 0.0, 700.0]), CropConfig(), frame_ids=[17])
    with pytest.raises(CropError, match="frame 3.*not in front"):
        crop_depth(depth, np.array([0.0, 0.0, -10.0]), CropConfig(), frame_ids=[3])


def _gt_frame1(nyu_dir):
    line = (nyu_dir / "nyu_test_groundtruth_label.txt").read_text().splitlines()[0]
    return np.array(line.split(), dtype=np.float64).reshape(14, 3)


def test_real_nyu_frame_decodes_and_crops_around_the_hand(nyu_dir):
    depth = read_depth_png(nyu_dir / "test" / "depth_1_0000001.png")
    assert depth.shape == (480, 640)
    uvd = _gt_frame1(nyu_dir)
    xyz = uvd_to_xyz(uvd)
    # the hand: readings around the joints at 730-800 mm
    at_joints = depth[uvd[:, 1].astype(int), uvd[:, 0].astype(int)]
    assert 700 < np.median(at_joints) < 820
    assert 730 <= uvd[:, 2].min() and uvd[:, 2].max() <= 800
    centre = xyz[-1]  # palm centre is the last of the 14
    cfg = CropConfig(size=128, cube_mm=300)
    crop = crop_depth(depth, centre, cfg)
    pix = joints_to_crop_pixels(xyz, centre, cfg)
    assert ((pix >= 0) & (pix < 128)).all(), "all 14 joints inside the crop"
    col, row = np.rint(pix[:, 0]).astype(int), np.rint(pix[:, 1]).astype(int)
    # the joints' pixels lie on the hand: surface within 30 mm of the joint depth (within +-2 crop
    # pixels, i.e. +-5 mm, since a wrist joint sits inside the arm and its pixel can fall on the arm's slope)
    surf = denormalize_depth(crop[None], np.array([centre[2]]), 300)[0]
    for c, r, z in zip(col, row, xyz[:, 2]):
        patch = surf[max(r - 2, 0) : r + 3, max(c - 2, 0) : c + 3]
        patch = patch[patch > 0]
        assert patch.size and np.min(np.abs(patch - z)) < 30, (c, r, z)
