"""The procedural NYU-like data set: frames, the three-camera rig, and rendering.

    gen = HandGenerator(GeneratorConfig(seed=0))
    f = gen.frames("train", range(16))        # poses, subjects, joints per camera
    real = gen.render_full(f, 1, "real")     # (16, 480, 640) depth in mm, 0 = no reading
    synth = gen.render(f, 2, "synth", u, v)  # only the pixels (u, v), e.g. a crop's

A frame is a pure function of (seed, split, index): its pose comes from hashed uniforms,
its subject from the index, and all sensor noise is hashed per pixel (see sensor.py), so
rendering any subset of pixels gives exactly the full image's values there.

World frame = camera 1's frame (x right, y up, z forward, mm). Camera 1 looks at the
person from the front; cameras 2 and 3 look at the hand workspace from either side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlib.data.camera import NUM_JOINTS, NYU, xyz_to_uvd
from mlib.data.procedural import hand as H
from mlib.data.procedural.render import cast, occluded, rays
from mlib.data.procedural.sensor import SensorConfig, dropout, hash_key, measure, pixel_noise, stream, to_uniform

SPLITS = {"train": 0, "test": 1, "val": 2}
SCENE_LAYOUTS = ("arm_out", "close")  # GeneratorConfig.scene_layout
N_UNIFORMS = 64  # per frame: pose (first H.N_POSE_UNIFORMS), then scene, then the distractor
DISTRACTOR_UNIFORMS = slice(56, 64)  # GeneratorConfig.distractor_p's object
PIXELS_PER_STEP = 1 << 13  # pixels rendered at once: small steps stay in cache (measured fastest)


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int = 0
    n_train_subjects: int = 8
    n_test_subjects: int = 2
    # Validation subjects are in neither the train nor the test split: every tuned
    # setting is chosen on them, the test subjects are read for reported numbers only.
    n_val_subjects: int = 2
    # palm centre in camera 1: pixel u range, pixel v range, depth range (mm)
    workspace: tuple[float, float, float, float, float, float] = (200.0, 440.0, 150.0, 330.0, 650.0, 850.0)
    # Where the person stands (real domain). "arm_out": the hand is held out towards the cameras, as NYU's
    # subjects do: the upper arm (upper_arm_mm long) runs back from the elbow to the shoulder, and the torso
    # hangs from the shoulder, so the body stays mostly outside the side cameras' crops. "close": the
    # torso plane body_behind_mm behind the palm centre and the upper arm stretched from the elbow to its
    # shoulder, wherever that is (the layout before "arm_out"; a third of the view crops was body).
    scene_layout: str = "arm_out"
    upper_arm_mm: tuple[float, float] = (270.0, 330.0)
    body_behind_mm: tuple[float, float] = (100.0, 400.0)  # "close" only
    table_p: float = 0.5  # chance of a table below the hand (real domain)
    pinch_ik: bool = True  # pull the thumb tip onto the index tip in "pinch" poses
    # Chance that a frame's real domain holds an object near the hand (a ball or a short rod, e.g. a cup or
    # the other hand's fist; off: the renders and every other part of the frame are unchanged). A nuisance
    # the synthetic domain never shows and that real labels teach the predictor to ignore.
    distractor_p: float = 0.0
    sensor: SensorConfig = field(default_factory=SensorConfig)

    def __post_init__(self) -> None:
        if self.scene_layout not in SCENE_LAYOUTS:
            raise ValueError(f"GeneratorConfig.scene_layout={self.scene_layout!r}; choose one of {SCENE_LAYOUTS}")


# ---------------------------------------------------------------------------------------------------------------
# Camera rig


@dataclass(frozen=True)
class Camera:
    """Extrinsics world -> camera: x_cam = R x_world + t; NYU intrinsics for all."""

    name: str
    R: np.ndarray
    t: np.ndarray

    @property
    def position(self) -> np.ndarray:
        return -self.R.T @ self.t

    def to_camera(self, x: np.ndarray) -> np.ndarray:
        """Points (..., 3) in the world -> this camera's frame."""
        return x @ self.R.T + self.t

    def caps_to_camera(self, caps: np.ndarray) -> np.ndarray:
        return np.concatenate([self.to_camera(caps[..., 0:3]), self.to_camera(caps[..., 3:6]), caps[..., 6:]], -1)

    def rects_to_camera(self, rects: np.ndarray) -> np.ndarray:
        c = self.to_camera(rects[..., 0:3])
        axes = [rects[..., k : k + 3] @ self.R.T for k in (3, 6, 9)]
        return np.concatenate([c, *axes, rects[..., 12:]], -1)


def look_at(name: str, position, target) -> Camera:
    """A camera at `position` looking at `target` with the world's y up (camera 1's convention)."""
    position, target = np.asarray(position, float), np.asarray(target, float)
    fwd = target - position
    fwd /= np.linalg.norm(fwd)
    right = np.cross([0.0, 1.0, 0.0], fwd)
    right /= np.linalg.norm(right)
    r = np.stack([right, np.cross(fwd, right), fwd])  # rows: camera x, y, z in world coordinates
    return Camera(name, r, -r @ position)


def _side(name: str, yaw_deg: float, elev_deg: float, dist: float, target) -> Camera:
    yaw, el = np.radians(yaw_deg), np.radians(elev_deg)
    offset = dist * np.array([np.sin(yaw) * np.cos(el), np.sin(el), -np.cos(yaw) * np.cos(el)])
    return look_at(name, np.asarray(target) + offset, target)


WORKSPACE_CENTRE = np.array([0.0, 0.0, 750.0])
# Like NYU's rig: one Kinect in front of the person, two to the sides of the hand workspace.
CAMERAS: tuple[Camera, Camera, Camera] = (
    Camera("front", np.eye(3), np.zeros(3)),
    _side("side right", 70.0, 12.0, 720.0, WORKSPACE_CENTRE),
    _side("side left", -65.0, -6.0, 800.0, WORKSPACE_CENTRE),
)


def rig() -> list[dict]:
    """The camera rig as plain data (for notebooks and exports): name, position (mm, world = camera 1),
    R and t (world -> camera), intrinsics."""
    intr = {"fx": NYU.fx, "fy": NYU.fy, "cx": NYU.cx, "cy": NYU.cy, "width": NYU.width, "height": NYU.height}
    return [
        {"camera": k, "name": c.name, "position": c.position.tolist(), "R": c.R.tolist(), "t": c.t.tolist(), **intr}
        for k, c in enumerate(CAMERAS, start=1)
    ]


# ---------------------------------------------------------------------------------------------------------------
# Frames


@dataclass
class Frames:
    """A batch of B generated frames. Geometry is in the world frame (= camera 1)."""

    split: str
    index: np.ndarray  # (B,) int64 frame index in the split, 0-based
    subject: np.ndarray  # (B,) int64 subject id; train and test ids are disjoint
    joints_xyz: np.ndarray  # (B, 3, 36, 3) mm, per camera in its own frame
    joints_uvd: np.ndarray  # (B, 3, 36, 3)
    joints_world: np.ndarray  # (B, 36, 3)
    pose: H.Pose
    caps_synth: np.ndarray  # (B, P, 7) canonical hand surface on the subject's skeleton, + forearm
    caps_real: np.ndarray  # (B, P', 7) the subject's own surface, sleeve, head and upper arm
    rects_real: np.ndarray  # (B, Q, 14) torso, table, wall (real domain only)

    def __len__(self) -> int:
        return len(self.index)

    def take(self, rows) -> Frames:
        """The frames at positions `rows` of this batch."""
        rows = np.asarray(rows)
        pick = {k: v[rows] for k, v in vars(self).items() if isinstance(v, np.ndarray)}
        return Frames(split=self.split, pose=self.pose.take(rows), **pick)


def _rect(centre, normal, e1, e2, h1, h2) -> np.ndarray:
    b = centre.shape[0]
    parts = [np.broadcast_to(np.asarray(x, float), (b, 3)) for x in (centre, normal, e1, e2)]
    return np.concatenate(parts + [np.broadcast_to(np.asarray(h, float), (b,))[:, None] for h in (h1, h2)], 1)


class HandGenerator:
    def __init__(self, cfg: GeneratorConfig = GeneratorConfig()):
        self.cfg = cfg
        n = cfg.n_train_subjects + cfg.n_test_subjects + cfg.n_val_subjects
        subjects = [H.sample_subject(np.random.default_rng([cfg.seed, 101, sid])) for sid in range(n)]
        self.skeletons = H.Skeleton.stack([s for s, _ in subjects])
        self.surfaces = H.Surface.stack([s for _, s in subjects])
        self.canonical = H.Surface.stack([H.canonical_surface()])

    def subject_ids(self, split: str) -> np.ndarray:
        """Subject ids of a split: train 0..n_train-1, test after them, validation last (so adding
        validation subjects leaves every train and test frame as it was)."""
        c = self.cfg
        if split == "train":
            return np.arange(c.n_train_subjects)
        if split == "test":
            return c.n_train_subjects + np.arange(c.n_test_subjects)
        if split == "val":
            if c.n_val_subjects < 1:
                raise ValueError("this generator has no validation subjects (n_val_subjects=0)")
            return c.n_train_subjects + c.n_test_subjects + np.arange(c.n_val_subjects)
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")

    def uniforms(self, split: str, index: np.ndarray) -> np.ndarray:
        """(B, N_UNIFORMS) in (0, 1): everything random about a frame, hashed from (seed, split, index)."""
        return to_uniform(hash_key(self.cfg.seed, SPLITS[split], index[:, None], np.arange(N_UNIFORMS)[None]))

    def frames(self, split: str, indices) -> Frames:
        """Frames `indices` of a split; each is a deterministic function of (seed, split, index)."""
        ids = self.subject_ids(split)
        index = np.asarray(indices, dtype=np.int64).reshape(-1)
        if (index < 0).any():
            raise ValueError("frame indices must be >= 0")
        u = self.uniforms(split, index)
        subject = ids[index % len(ids)]
        skel, surf = self.skeletons.take(subject), self.surfaces.take(subject)
        pose = H.sample_pose(u[:, : H.N_POSE_UNIFORMS], self.cfg.workspace)
        if self.cfg.pinch_ik:
            pose = H.pinch_ik(skel, pose)
        chains, palm = H.hand_points(skel, pose)
        g, f, origin = H.world_pose(pose, skel.palm[:, 2])
        joints_world = origin[:, None] + np.einsum("bij,bnj->bni", g, H.joints36(chains, palm))

        canon = self.canonical.take(np.zeros(len(index), np.int64))
        caps_synth = np.concatenate(
            [
                H.to_world(H.hand_capsules(chains, skel, canon, False), g, origin),
                H.to_world(H.forearm_capsules(canon, False), f, origin),
            ],
            axis=1,
        )
        elbow = origin + f[:, :, 1] * -H.FOREARM_LEN
        body_caps, rects = self._scene(u[:, H.N_POSE_UNIFORMS :], joints_world[:, 32], elbow)
        near = [self._distractor(u[:, DISTRACTOR_UNIFORMS], joints_world[:, 32])] if self.cfg.distractor_p > 0 else []
        caps_real = np.concatenate(
            [
                H.to_world(H.hand_capsules(chains, skel, surf, True), g, origin),
                H.to_world(H.forearm_capsules(surf, True), f, origin),
                *near,
                body_caps,  # last: mlib.data.scene finds the head and the upper arm from the end
            ],
            axis=1,
        )
        xyz = np.stack([cam.to_camera(joints_world) for cam in CAMERAS], axis=1)
        assert xyz.shape[2] == NUM_JOINTS
        return Frames(split, index, subject, xyz, xyz_to_uvd(xyz), joints_world, pose, caps_synth, caps_real, rects)

    def _distractor(self, u: np.ndarray, palm: np.ndarray) -> np.ndarray:
        """One capsule (B, 1, 7) near the hand from uniforms u (B, 8): beside the palm in camera 1's image
        plane, 80-140 mm from its centre, at its depth or up to 80 mm behind it, so it lies inside the
        300 mm crop cube. A frame without one gets a 5 mm ball at the palm centre, hidden inside the palm
        (every frame keeps the same capsule count)."""
        lerp = lambda lo, hi, x: lo + (hi - lo) * x  # noqa: E731
        present = u[:, 0] < self.cfg.distractor_p
        angle, dist = 2 * np.pi * u[:, 1], lerp(80.0, 140.0, u[:, 2])
        centre = palm + np.stack([dist * np.cos(angle), dist * np.sin(angle), lerp(-20.0, 80.0, u[:, 3])], 1)
        cos_t, phi = lerp(-1.0, 1.0, u[:, 4]), 2 * np.pi * u[:, 5]
        sin_t = np.sqrt(1.0 - cos_t**2)
        axis = np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], 1) * lerp(0.0, 60.0, u[:, 6])[:, None]
        radius = lerp(15.0, 35.0, u[:, 7])
        a = np.where(present[:, None], centre - axis, palm)
        b = np.where(present[:, None], centre + axis, palm)
        r = np.where(present, radius, 5.0)
        return np.concatenate([a, b, r[:, None]], 1)[:, None]

    def _scene(self, u: np.ndarray, palm: np.ndarray, elbow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The person's torso, head and upper arm, a table, a wall (world frame), from uniforms u (B, >= 12)."""
        lerp = lambda lo, hi, x: lo + (hi - lo) * x
        b = len(u)
        half_w = lerp(170.0, 230.0, u[:, 1])
        if self.cfg.scene_layout == "arm_out":  # shoulder = elbow + upper arm, back (+z), up, to the body's side
            back = np.stack([lerp(0.1, 0.6, u[:, 9]), lerp(0.0, 0.8, u[:, 10]), np.ones(b)], 1)
            back /= np.linalg.norm(back, axis=1, keepdims=True)
            shoulder_at = elbow + back * lerp(*self.cfg.upper_arm_mm, u[:, 11])[:, None]
            z, cx, top = shoulder_at[:, 2] + 30.0, shoulder_at[:, 0] + half_w - 40.0, shoulder_at[:, 1] + 40.0
        else:
            z = palm[:, 2] + lerp(*self.cfg.body_behind_mm, u[:, 0])
            # The right hand is on the person's right: the torso's centre is to the image's right of it.
            cx = palm[:, 0] + lerp(80.0, 250.0, u[:, 2])
            top = palm[:, 1] + lerp(50.0, 300.0, u[:, 3])
        yaw = np.radians(lerp(-20.0, 20.0, u[:, 4]))
        normal = np.stack([-np.sin(yaw), 0 * yaw, -np.cos(yaw)], 1)
        e1 = np.stack([np.cos(yaw), 0 * yaw, -np.sin(yaw)], 1)
        torso = _rect(np.stack([cx, top - 350.0, z], 1), normal, e1, [0, 1, 0], half_w, 350.0)
        head = np.stack([cx, top + 125.0, z - 20.0], 1)
        shoulder = np.stack([cx - half_w + 40.0, top - 40.0, z - 30.0], 1)
        ones = np.ones(b)
        caps = np.stack(
            [
                np.concatenate([head, head, lerp(80.0, 100.0, u[:, 5])[:, None]], 1),
                np.concatenate([elbow, shoulder, 45.0 * ones[:, None]], 1),
            ],
            axis=1,
        )
        table_y = np.minimum(palm[:, 1] - 130.0, elbow[:, 1] - 30.0) - lerp(0.0, 100.0, u[:, 6])
        has_table = u[:, 7] < self.cfg.table_p
        table = _rect(
            np.stack([palm[:, 0], table_y, palm[:, 2] + 50.0], 1),
            [0, 1, 0],
            [1, 0, 0],
            [0, 0, 1],
            np.where(has_table, 700.0, -1.0),
            450.0,
        )
        wall = _rect(
            np.stack([0 * ones, 0 * ones, lerp(1800.0, 3000.0, u[:, 8])], 1),
            [0, 0, -1],
            [1, 0, 0],
            [0, 1, 0],
            np.inf,
            np.inf,
        )
        return caps, np.stack([torso, table, wall], axis=1)

    # -----------------------------------------------------------------------------------------------------------
    # Rendering

    def render(self, frames: Frames, camera: int, domain: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Depth (B, H, W) float32 in whole mm at integer pixels u, v (B, H, W) of camera 1..3.

        domain "synth": the canonical model, clean, background 0; "real": the subject's hand and
        the scene through the sensor model, 0 = no reading. Pixels outside the image read 0."""
        if camera not in (1, 2, 3):
            raise ValueError(f"camera must be 1, 2 or 3, got {camera!r}")
        if domain not in ("real", "synth"):
            raise ValueError(f"domain must be 'real' or 'synth', got {domain!r}")
        u, v = np.broadcast_arrays(np.asarray(u, np.int64), np.asarray(v, np.int64))
        if u.ndim != 3 or u.shape[0] != len(frames):
            raise ValueError(f"u, v must be shaped (B={len(frames)}, H, W), got {u.shape}")
        cam = CAMERAS[camera - 1]
        out = np.zeros(u.shape, np.float32)
        # Bounded work per step keeps memory flat; every pixel's value is independent of the grouping.
        step = max(1, PIXELS_PER_STEP // max(1, u[0].size if len(u) else 1))
        for s in range(0, len(frames), step):
            f, us, vs = frames.take(np.arange(s, min(s + step, len(frames)))), u[s : s + step], v[s : s + step]
            if domain == "synth":
                hits = cast(cam.caps_to_camera(f.caps_synth), us + 0.5, vs + 0.5, normals=False)
                depth = np.where(np.isfinite(hits.depth), np.round(hits.depth), 0.0)
            else:
                depth = self._sense(f, cam, camera, us, vs)
            inside = (us >= 0) & (us < NYU.width) & (vs >= 0) & (vs < NYU.height)
            out[s : s + step] = np.where(inside, depth, 0.0)
        return out

    def render_full(self, frames: Frames, camera: int, domain: str) -> np.ndarray:
        """(B, 480, 640) depth of whole images: `render` over every pixel."""
        v, u = np.mgrid[0 : NYU.height, 0 : NYU.width]
        b = len(frames)
        return self.render(
            frames, camera, domain, np.broadcast_to(u, (b,) + u.shape), np.broadcast_to(v, (b,) + v.shape)
        )

    def _sense(self, frames: Frames, cam: Camera, camera: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        s = self.cfg.sensor
        key = hash_key(self.cfg.seed, SPLITS[frames.split], frames.index, camera, stream("kinect"))
        noise = pixel_noise(key, u, v, s)
        uc, vc = u + 0.5 + noise.du, v + 0.5 + noise.dv
        caps = cam.caps_to_camera(frames.caps_real)
        hits = cast(caps, uc, vc, cam.rects_to_camera(frames.rects_real))
        hit = np.isfinite(hits.depth)
        d = rays(uc, vc)
        p = np.where(hit, hits.depth, 0.0) * d
        cos_view = np.abs((hits.normal * d).sum(0)) / np.sqrt((d * d).sum(0))
        shadow = occluded(caps, p + 0.5 * hits.normal, np.array([-s.baseline_mm, 0.0, 0.0]), uc, vc, active=hit)
        z = measure(noise, np.where(hit, hits.depth, 1.0), s, NYU.fx)
        lo, hi = s.z_range_mm
        ok = hit & ~shadow & ~dropout(noise, cos_view, s) & (z >= lo) & (z <= hi)
        return np.where(ok, z, 0.0)
