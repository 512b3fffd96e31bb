"""The procedural NYU-like generator: labels, determinism, views, and the real/synthetic gap."""

import dataclasses
import json

import numpy as np
import pytest

from mlib.data.camera import JOINT_NAMES, NYU, PALM_CENTRE, uvd_to_xyz, xyz_to_uvd
from mlib.data.crop import CropConfig, crop_depth, normalize_depth, source_pixels
from mlib.data.procedural.generator import CAMERAS, DISTRACTOR_UNIFORMS, Frames, GeneratorConfig, HandGenerator, rig
from mlib.data.procedural.render import cast
from mlib.data.procedural.sensor import SensorConfig

GEN = HandGenerator(GeneratorConfig(seed=3))


@pytest.fixture(scope="module")
def frames() -> Frames:
    return GEN.frames("train", np.arange(48))


def _row(f: Frames, i: int) -> dict:
    out = {k: v[i] for k, v in vars(f).items() if isinstance(v, np.ndarray)}
    out.update({f"pose.{k}": v[i] for k, v in vars(f.pose).items()})
    return out


def test_config_is_json_serialisable():
    d = dataclasses.asdict(GeneratorConfig())
    assert json.loads(json.dumps(d))["sensor"]["baseline_mm"] == SensorConfig().baseline_mm


def test_frames_are_a_function_of_seed_split_index():
    many = GEN.frames("test", range(10))
    one = GEN.frames("test", [5])
    for k, v in _row(many, 5).items():
        np.testing.assert_array_equal(v, _row(one, 0)[k], err_msg=k)
    again = HandGenerator(GeneratorConfig(seed=3)).frames("test", [7, 5])
    np.testing.assert_array_equal(again.joints_xyz[1], many.joints_xyz[5])
    other_seed = HandGenerator(GeneratorConfig(seed=4)).frames("test", [5])
    other_split = GEN.frames("train", [5])
    assert np.abs(other_seed.joints_xyz - one.joints_xyz).max() > 10
    assert np.abs(other_split.joints_xyz - one.joints_xyz).max() > 10


def test_joint_layout_and_anatomy(frames):
    j = frames.joints_world
    assert frames.joints_xyz.shape == (48, 3, 36, 3) and frames.joints_uvd.shape == (48, 3, 36, 3)
    np.testing.assert_allclose(frames.joints_uvd, xyz_to_uvd(frames.joints_xyz))
    # KNU3_B and KNU2_A are the same joint (distal), as are KNU2_B and KNU1_A (middle)
    for f in range(5):
        np.testing.assert_array_equal(j[:, 6 * f + 1], j[:, 6 * f + 2])
        np.testing.assert_array_equal(j[:, 6 * f + 3], j[:, 6 * f + 4])
    length = lambda a, b: np.linalg.norm(j[:, a] - j[:, b], axis=-1)
    middle = length(12, 13) + length(13, 15) + length(15, 17)  # F3 (middle finger): phalanges, base to tip
    pinky = length(0, 1) + length(1, 3) + length(3, 5)
    assert (middle > 75).all() and (middle < 110).all() and (pinky < middle - 15).all()
    # wrist points flank the wrist, the palm centre lies between wrist and knuckles
    assert JOINT_NAMES[30:33] == ["PALM_1", "PALM_2", "PALM_3"]
    wrist_width = length(30, 31)
    assert (wrist_width > 30).all() and (wrist_width < 50).all()
    wrist, knuckle = (j[:, 30] + j[:, 31]) / 2, j[:, 17]
    assert (np.linalg.norm(j[:, PALM_CENTRE] - (wrist + knuckle) / 2, axis=-1) < 15).all()
    # joint-to-joint distances do not change with the camera (rigid extrinsics)
    for k in range(3):
        d = np.linalg.norm(frames.joints_xyz[:, k, 0] - frames.joints_xyz[:, k, 32], axis=-1)
        np.testing.assert_allclose(d, length(0, 32))


def test_pose_classes_and_limits():
    f = GEN.frames("train", np.arange(1000))
    assert np.bincount(f.pose.cls, minlength=5).min() > 100  # open, fist, point, pinch, random
    flex = f.pose.finger
    assert flex[..., 0].min() >= -20 and flex[..., 0].max() <= 90 and flex[..., 2].max() <= 110
    fist, opened = f.pose.cls == 1, f.pose.cls == 0
    tip_to_palm = np.linalg.norm(f.joints_world[:, 12] - f.joints_world[:, PALM_CENTRE], axis=-1)
    assert tip_to_palm[fist].max() < tip_to_palm[opened].min()
    pinch = f.pose.cls == 3
    gap = np.linalg.norm(f.joints_world[pinch, 24] - f.joints_world[pinch, 18], axis=-1)
    assert np.median(gap) < 20  # thumb and index fingertips touch, pad to pad


def test_every_camera_sees_the_hand():
    # by construction: the palm-centre workspace is a convex slab of camera 1's frustum, so its projection
    # into any camera is inside the hull of its eight corners' projections
    u0, u1, v0, v1, z0, z1 = GEN.cfg.workspace
    corners = np.array([[u, v, z] for u in (u0, u1) for v in (v0, v1) for z in (z0, z1)])
    for cam in CAMERAS:
        uvd = xyz_to_uvd(cam.to_camera(uvd_to_xyz(corners)))
        assert (uvd[:, 0] > 100).all() and (uvd[:, 0] < NYU.width - 100).all(), cam.name
        assert (uvd[:, 1] > 80).all() and (uvd[:, 1] < NYU.height - 80).all(), cam.name
    assert [c["camera"] for c in rig()] == [1, 2, 3] and json.dumps(rig())
    for split in ("train", "test"):
        f = GEN.frames(split, np.arange(3000))
        uvd = f.joints_uvd[:, :, PALM_CENTRE]
        assert (uvd[..., 0] > 40).all() and (uvd[..., 0] < NYU.width - 40).all()
        assert (uvd[..., 1] > 40).all() and (uvd[..., 1] < NYU.height - 40).all()
        assert (uvd[..., 2] > 500).all() and (uvd[..., 2] < 1050).all()
        assert ((f.joints_uvd[..., 0] >= 0) & (f.joints_uvd[..., 0] < NYU.width)).mean() > 0.999


def capsule_distance(points: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """Signed distance (B, N) from points (B, N, 3) to the union of capsules (B, P, 7); negative inside."""
    a, b, r = caps[:, None, :, 0:3], caps[:, None, :, 3:6], caps[:, None, :, 6]
    p = points[:, :, None]
    ba = b - a
    s = np.clip(np.sum((p - a) * ba, -1) / np.maximum(np.sum(ba * ba, -1), 1e-12), 0, 1)
    return (np.linalg.norm(p - a - s[..., None] * ba, axis=-1) - r).min(-1)


def test_joints_lie_inside_the_surface(frames):
    for caps in (frames.caps_synth, frames.caps_real):
        dist = capsule_distance(frames.joints_world, caps)
        assert dist.max() < 0.0  # every joint inside the union of capsules
    # Seen from each camera, the ray through a joint's pixel meets the surface before the joint, and
    # when it meets the joint's own capsule first, no further in front than that capsule's radius.
    for k, cam in enumerate(CAMERAS, start=1):
        caps = cam.caps_to_camera(frames.caps_synth)
        uvd = frames.joints_uvd[:, k - 1]
        u, v = np.floor(uvd[..., 0]).astype(np.int64)[:, :, None], np.floor(uvd[..., 1]).astype(np.int64)[:, :, None]
        hits = cast(caps, u + 0.5, v + 0.5)
        depth = hits.depth[..., 0]
        z = uvd[..., 2]
        assert (depth <= z + 1.5).all()
        rendered = GEN.render(frames, k, "synth", u, v)[..., 0]
        assert (rendered > 0).all() and (rendered <= z + 2.0).all()
        # Depth of the joint below the surface when nothing else is in front: at most a containing
        # capsule's radius plus the joint's distance from that capsule's axis.
        p, c = frames.joints_xyz[:, k - 1][:, :, None], caps[:, None]
        ba = c[..., 3:6] - c[..., 0:3]
        s = np.clip(((p - c[..., 0:3]) * ba).sum(-1) / np.maximum((ba * ba).sum(-1), 1e-9), 0, 1)
        axis_dist = np.linalg.norm(p - c[..., 0:3] - s[..., None] * ba, axis=-1)  # (B, 36, P)
        reach = np.where(axis_dist < c[..., 6], c[..., 6] + axis_dist, 0).max(-1)
        near_surface = depth >= z - reach - 1.5
        # the rest lies behind other parts or is seen edge-on (about 58 % near the surface at seed 3)
        assert near_surface.mean() > 0.45, near_surface.mean()
        assert near_surface[:, PALM_CENTRE].mean() > 0.3


def test_pixels_render_like_the_full_image(frames):
    f = frames.take([0, 1])
    rng = np.random.default_rng(0)
    for camera, domain in [(1, "real"), (2, "real"), (3, "real"), (1, "synth"), (3, "synth")]:
        full = GEN.render_full(f, camera, domain)
        assert full.shape == (2, 480, 640) and full.dtype == np.float32
        assert (full == np.round(full)).all()
        u = rng.integers(-20, 660, (2, 37, 23))
        v = rng.integers(-20, 500, (2, 37, 23))
        part = GEN.render(f, camera, domain, u, v)
        inside = (u >= 0) & (u < 640) & (v >= 0) & (v < 480)
        expected = np.where(inside, full[np.arange(2)[:, None, None], v.clip(0, 479), u.clip(0, 639)], 0)
        np.testing.assert_array_equal(part, expected, err_msg=f"{camera} {domain}")
        # the crop path (only the crop's pixels) equals cropping the full image
        c = f.joints_xyz[:, camera - 1, PALM_CENTRE]
        cfg = CropConfig(size=32)
        direct = normalize_depth(GEN.render(f, camera, domain, *source_pixels(c, cfg)), c[:, 2], cfg.cube_mm)
        np.testing.assert_array_equal(direct, crop_depth(full, c, cfg))


def test_real_and_synthetic_differ_like_the_spec_says():
    f = GEN.frames("test", np.arange(40))
    cfg = CropConfig(size=96)
    missing, rough, background, quantised = [], [], [], []
    for camera in (1, 2):
        c = f.joints_xyz[:, camera - 1, PALM_CENTRE]
        u, v = source_pixels(c, cfg)
        synth, real = GEN.render(f, camera, "synth", u, v), GEN.render(f, camera, "real", u, v)
        hand = synth > 0
        # missing readings on the hand region: none in synth, several percent in real
        missing.append((real[hand] == 0).mean())
        # noise: spread of second differences along rows on the hand
        for img, out in ((synth, rough), (real, rough)):
            d2 = img[:, :, 2:] - 2 * img[:, :, 1:-1] + img[:, :, :-2]
            ok = (img[:, :, 2:] > 0) & (img[:, :, :-2] > 0) & hand[:, :, 1:-1] & (np.abs(d2) < 20)
            out.append(d2[ok].std())
        # background surfaces inside the crop cube: only in real
        in_cube = normalize_depth(real, c[:, 2], cfg.cube_mm) < 1
        background.append((in_cube & ~hand).any(axis=(1, 2)).mean())
        assert (normalize_depth(synth, c[:, 2], cfg.cube_mm) < 1)[~hand].sum() == 0
        # real depths lie on the disparity grid (steps of ~1.5 mm at 750 mm), synthetic ones do not
        k = SensorConfig().disparity_steps * SensorConfig().baseline_mm * NYU.fx
        z = real[hand & (real > 0)]
        quantised.append(np.mean(np.abs(k / np.round(k / z) - z) <= 0.5))
        zs = synth[hand]
        assert np.mean(np.abs(k / np.round(k / zs) - zs) <= 0.5) < 0.85
    assert min(missing) > 0.02 and max(missing) < 0.25
    synth_rough, real_rough = rough[0::2], rough[1::2]
    assert min(real_rough) > 1.5 * max(synth_rough)
    assert min(background) > 0.2  # a fair share of real crops contain the body or the table
    assert min(quantised) == 1.0
    # and the full images: synthetic background is empty, real has the person and the room
    full_s, full_r = GEN.render_full(f.take([0]), 1, "synth"), GEN.render_full(f.take([0]), 1, "real")
    assert (full_s > 0).mean() < 0.15 and (full_r > 0).mean() > 0.5


def test_subjects_split_and_shapes_differ():
    train, test = GEN.frames("train", np.arange(64)), GEN.frames("test", np.arange(64))
    assert set(train.subject) == set(range(8)) and set(test.subject) == {8, 9}
    s = GEN.surfaces
    radii = s.finger_r.reshape(len(s.finger_r), -1)
    for t in (8, 9):
        # every test subject's finger thickness differs from every training subject's by > 2 % somewhere
        assert (np.abs(radii[:8] / radii[t] - 1).max(axis=1) > 0.02).all()
    bone = GEN.skeletons.phalanx.reshape(len(GEN.skeletons.phalanx), -1)
    assert len({tuple(np.round(b, 3)) for b in bone}) == 12  # 8 train, 2 test, 2 validation subjects
    assert set(GEN.frames("val", np.arange(64)).subject) == {10, 11}
    # the synthetic domain renders the same canonical thickness for everybody; the real one does not
    np.testing.assert_array_equal(train.caps_synth[:, 7:19, 6][0], train.caps_synth[:, 7:19, 6][1])
    assert not np.allclose(train.caps_real[0, 7:19, 6], train.caps_real[1, 7:19, 6])


def test_a_distractor_changes_only_the_real_domain_of_the_frames_that_draw_one():
    crop, idx = CropConfig(size=32), np.arange(40)
    base = HandGenerator(GeneratorConfig(seed=3))
    near = HandGenerator(GeneratorConfig(seed=3, distractor_p=0.5))
    fb, fn = base.frames("val", idx), near.frames("val", idx)
    np.testing.assert_array_equal(fb.joints_xyz, fn.joints_xyz)  # poses and labels are the default's
    assert fn.caps_real.shape[1] == fb.caps_real.shape[1] + 1  # one capsule more, in every frame
    np.testing.assert_array_equal(fn.caps_real[:, -2:], fb.caps_real[:, -2:])  # the head and upper arm stay last

    def crops(gen, frames, domain):
        centre = frames.joints_xyz[:, 0, PALM_CENTRE]
        u, v = source_pixels(centre, crop)
        return normalize_depth(gen.render(frames, 1, domain, u, v), centre[:, 2], crop.cube_mm)

    np.testing.assert_array_equal(crops(base, fb, "synth"), crops(near, fn, "synth"))  # the renders are untouched
    changed = (crops(base, fb, "real") != crops(near, fn, "real")).reshape(len(idx), -1).any(1)
    drawn = near.uniforms("val", idx)[:, DISTRACTOR_UNIFORMS][:, 0] < 0.5  # the frames whose object is present
    assert not changed[~drawn].any()  # a frame without one: its hidden ball leaves every pixel as it was
    assert changed[drawn].mean() > 0.5  # most objects land in the crop (some lie outside its 300 mm cube)
