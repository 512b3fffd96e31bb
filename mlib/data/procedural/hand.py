"""A kinematic right hand made of capsules, reported in NYU's 36-joint layout.

Hand frame (mm): origin at the wrist centre, x radial (towards the thumb), y distal
(towards the fingers), z dorsal (out of the back of the hand). Cameras use x right,
y up, z forward, so a hand frame equal to a camera's shows that camera the palm, fingers
up, thumb on the image's right: a right hand seen from the front, as in NYU.

Three layers, all vectorised over a batch of frames:
* `Skeleton` (per subject): joint positions and bone lengths. Both domains share it, so
  both share the labels.
* `Surface` (per subject, or the canonical one): capsule radii, knuckles, sleeve.
  The synthetic domain renders the canonical surface on the subject's skeleton (a fitted
  model, like NYU's synthdepth); the real domain renders the subject's own surface.
* `Pose` (per frame): joint angles, forearm orientation, palm position in camera 1.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from scipy.special import ndtri

from mlib.data.camera import uvd_to_xyz

POSE_CLASSES = ("open", "fist", "point", "pinch", "random")
POSE_WEIGHTS = (0.2, 0.15, 0.15, 0.15, 0.35)

# Canonical adult hand (mm), fingers in F1..F4 order. Phalanx lengths are joint-centre
# distances; the distal one ends at the fingertip joint, the pad reaches one radius further.
MCP = np.array([[-30.0, 70.0, -2.0], [-13.0, 79.0, 0.0], [5.0, 83.0, 0.0], [25.0, 80.0, 0.0]])
CARPAL = np.array([[-19.0, 14.0, 0.0], [-7.0, 12.0, 0.0], [5.0, 12.0, 0.0], [15.0, 14.0, 0.0]])  # metacarpal bases
SPLAY = np.array([-12.0, -5.0, 0.0, 6.0])  # rest direction of each finger, degrees towards radial
SPREAD = np.array([-20.0, -8.0, 0.0, 12.0])  # abduction at full spread, degrees towards radial
PHALANX = np.array([[33.0, 20.0, 15.0], [42.0, 27.0, 17.0], [46.0, 28.0, 18.0], [41.0, 24.0, 17.0]])
FINGER_R = np.array([[8.0, 7.2, 6.5], [9.0, 8.2, 7.3], [9.4, 8.6, 7.6], [9.2, 8.3, 7.4]])
THUMB_CMC = np.array([20.0, 20.0, -9.0])
THUMB_BONES = np.array([45.0, 32.0, 23.0])  # metacarpal, proximal, distal
THUMB_R = np.array([12.5, 10.5, 9.2])  # the metacarpal capsule is the thenar eminence
PALM_R = 13.0
FOREARM_HALF_WIDTH = 13.0  # two parallel capsules give the wrist's flat cross-section
FOREARM_R = (19.0, 24.0)  # wrist part, forearm part
FOREARM_LEN = 260.0
# PALM_1..PALM_6: ulnar and radial wrist points, palm centre (the crop centre), ulnar palm
# edge, thenar, distal palm centre.
PALM_POINTS = np.array(
    [[-20.0, 0.0, 0.0], [18.0, 0.0, 0.0], [0.0, 42.0, 0.0], [-22.0, 48.0, 0.0], [16.0, 34.0, -6.0], [2.0, 66.0, 0.0]]
)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


THUMB_FLEX = np.array(
    [-1.0, 0.3, -0.3]
)  # the thumb's MCP and IP joints bend across the palm, towards the little finger


def thumb_frame(radial: np.ndarray, palmar: np.ndarray) -> np.ndarray:
    """Rotations (B, 3, 3), columns x, y, z, of the thumb metacarpal: y along the bone, pointing
    `radial` degrees from the hand's long axis within the palm plane and `palmar` degrees out of it
    towards the palm; -z is the way its joints flex."""
    a, b = np.radians(radial), np.radians(palmar)
    y = np.stack([np.sin(a) * np.cos(b), np.cos(a) * np.cos(b), -np.sin(b)], -1)
    z = -_unit(THUMB_FLEX - (y @ THUMB_FLEX)[:, None] * y)
    return np.stack([np.cross(y, z), y, z], axis=-1)


def rot(axis: int, deg: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about coordinate axis 0, 1 or 2 by `deg` degrees."""
    a = np.radians(np.asarray(deg, dtype=np.float64))
    c, s = np.cos(a), np.sin(a)
    out = np.zeros(a.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    out[..., axis, axis] = 1
    out[..., i, i], out[..., j, j], out[..., i, j], out[..., j, i] = c, c, -s, s
    return out


def _apply(r: np.ndarray, p: np.ndarray) -> np.ndarray:
    """R (B, 3, 3) applied to points (B, ..., 3)."""
    return np.einsum("bij,b...j->b...i", r, p)


@dataclass
class _Batched:
    """Dataclass of arrays with a leading subject/frame axis."""

    @classmethod
    def stack(cls, items: list):
        return cls(**{f.name: np.stack([getattr(x, f.name) for x in items]) for f in fields(cls)})

    def take(self, idx: np.ndarray):
        return type(self)(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})


@dataclass
class Skeleton(_Batched):
    mcp: np.ndarray  # (4, 3) finger MCP joints
    carpal: np.ndarray  # (4, 3) metacarpal bases (palm surface anchors)
    phalanx: np.ndarray  # (4, 3) proximal, middle, distal lengths
    thumb_cmc: np.ndarray  # (3,)
    thumb_bones: np.ndarray  # (3,)
    palm: np.ndarray  # (6, 3) PALM_1..PALM_6


@dataclass
class Surface(_Batched):
    finger_r: np.ndarray  # (4, 3) capsule radii per phalanx
    thumb_r: np.ndarray  # (3,)
    palm_r: np.ndarray  # () radius of the palm's capsules (half the palm thickness)
    palm_widen: np.ndarray  # () mm the outer palm capsules sit outside the metacarpals
    knuckle: np.ndarray  # () PIP/DIP bulge as a factor of the proximal radius (0: none)
    tip_ext: np.ndarray  # () mm the fingertip pad reaches beyond the canonical one
    forearm_r: np.ndarray  # (2,) wrist and forearm radii
    sleeve_start: np.ndarray  # () mm from the wrist centre towards the elbow
    sleeve_extra: np.ndarray  # () mm added to the forearm radius by the sleeve (0: no sleeve)


def canonical_skeleton() -> Skeleton:
    return Skeleton(MCP, CARPAL, PHALANX, THUMB_CMC, THUMB_BONES, PALM_POINTS)


def canonical_surface() -> Surface:
    z = np.zeros(())
    return Surface(FINGER_R, THUMB_R, np.array(PALM_R), z, z, z, np.array(FOREARM_R), z, z)


def sample_subject(rng: np.random.Generator) -> tuple[Skeleton, Surface]:
    """One person: bone lengths and palm width around the canonical hand (±~10 %), and their own
    finger/palm thickness (±~15 %), knuckles, fingertip pads and sleeve."""
    scale, width = rng.uniform(0.9, 1.1), rng.uniform(0.92, 1.08)

    def shape(p: np.ndarray) -> np.ndarray:
        return p * scale * np.array([width, 1.0, 1.0])

    skel = Skeleton(
        mcp=shape(MCP),
        carpal=shape(CARPAL),
        phalanx=PHALANX * scale * rng.uniform(0.96, 1.04, (4, 1)),
        thumb_cmc=shape(THUMB_CMC),
        thumb_bones=THUMB_BONES * scale * rng.uniform(0.94, 1.06),
        palm=shape(PALM_POINTS),
    )
    thick = rng.uniform(0.85, 1.15)
    tip = rng.uniform(0.9, 1.1)
    finger_r = FINGER_R * thick * rng.uniform(0.95, 1.05, (4, 1)) * rng.uniform(0.97, 1.03, (4, 3))
    finger_r[:, 2] *= tip
    thumb_r = THUMB_R * thick * rng.uniform(0.95, 1.05, 3) * np.array([rng.uniform(0.9, 1.15), 1.0, tip])
    has_sleeve = rng.random() < 0.75
    surf = Surface(
        finger_r=finger_r,
        thumb_r=thumb_r,
        palm_r=np.array(PALM_R * rng.uniform(0.85, 1.15)),
        palm_widen=np.array(rng.uniform(-2.0, 4.0)),
        knuckle=np.array(rng.uniform(1.0, 1.15)),
        tip_ext=np.array(rng.uniform(0.0, 4.0)),
        forearm_r=np.array(FOREARM_R) * rng.uniform(0.9, 1.15),
        sleeve_start=np.array(rng.uniform(15.0, 90.0)),
        sleeve_extra=np.array(rng.uniform(5.0, 18.0) if has_sleeve else 0.0),
    )
    return skel, surf


# ---------------------------------------------------------------------------------------------------------------
# Poses


@dataclass
class Pose(_Batched):
    cls: np.ndarray  # (B,) index into POSE_CLASSES
    finger: np.ndarray  # (B, 4, 4) degrees: MCP flexion, MCP abduction (radial +), PIP, DIP
    thumb: np.ndarray  # (B, 4) degrees: radial and palmar abduction of the metacarpal, MCP and IP flexion
    wrist: np.ndarray  # (B, 2) degrees: flexion (palmar +), deviation (radial +)
    forearm: np.ndarray  # (B, 4) degrees: tilt back, azimuth, lean, pronation (0: palm to camera 1)
    palm_uvd: np.ndarray  # (B, 3) palm centre in camera 1: pixel u, v and depth mm


# Per class: (lo, hi) degrees for MCP and PIP flexion of F1..F4, the thumb's four angles, and the spread.
_CLASS_RANGES = {
    "open": ([(-15, 20)] * 4, [(0, 25)] * 4, [(35, 65), (0, 25), (-5, 15), (-15, 20)], (0.0, 1.0)),
    "fist": ([(65, 90)] * 4, [(85, 110)] * 4, [(10, 30), (30, 50), (35, 55), (20, 50)], (-0.3, 0.2)),
    "point": (
        [(65, 90)] * 3 + [(-10, 20)],
        [(85, 110)] * 3 + [(0, 20)],
        [(5, 35), (25, 55), (20, 55), (10, 60)],
        (-0.2, 0.3),
    ),
    "pinch": (
        [(0, 70)] * 3 + [(25, 50)],
        [(0, 80)] * 3 + [(30, 65)],
        [(15, 45), (30, 60), (5, 35), (0, 35)],
        (0.0, 0.6),
    ),
    "random": ([(-20, 90)] * 4, [(0, 110)] * 4, [(-5, 70), (0, 75), (-10, 60), (-20, 80)], (-0.3, 1.0)),
}
LIMITS = {"mcp": (-20, 90), "pip": (0, 110), "dip": (-10, 80), "thumb": [(-5, 70), (0, 75), (-10, 60), (-20, 80)]}
N_POSE_UNIFORMS = 40


def _table(part: int) -> np.ndarray:
    """(classes, n, 2) array of one part of _CLASS_RANGES."""
    return np.array([np.array(_CLASS_RANGES[c][part], dtype=np.float64).reshape(-1, 2) for c in POSE_CLASSES])


def sample_pose(u: np.ndarray, workspace: tuple[float, float, float, float, float, float]) -> Pose:
    """Poses from uniforms u (B, N_POSE_UNIFORMS), one row per frame, so a frame's pose depends on its row only.

    workspace: (u_lo, u_hi, v_lo, v_hi, z_lo, z_hi) for the palm centre in camera 1.
    """
    lerp = lambda rng, x: rng[..., 0] + (rng[..., 1] - rng[..., 0]) * x
    gauss = ndtri(np.clip(u, 1e-9, 1 - 1e-9))
    cls = np.searchsorted(np.cumsum(POSE_WEIGHTS), u[:, 0] * np.sum(POSE_WEIGHTS), side="right")
    cls = np.minimum(cls, len(POSE_CLASSES) - 1)
    mcp = lerp(_table(0)[cls], u[:, 1:5])
    pip = lerp(_table(1)[cls], u[:, 5:9])
    thumb = lerp(_table(2)[cls], u[:, 9:13])
    spread = lerp(_table(3)[cls, 0], u[:, 13])
    dip = np.clip(0.67 * pip + 8.0 * gauss[:, 14:18], *LIMITS["dip"])
    # Collateral ligaments tighten in flexion: little abduction of a bent MCP joint.
    abd = (spread[:, None] * SPREAD + 3.0 * gauss[:, 18:22]) * np.clip(1 - mcp / 90, 0.2, 1)
    finger = np.stack([np.clip(mcp, *LIMITS["mcp"]), abd, np.clip(pip, *LIMITS["pip"]), dip], axis=-1)
    wrist = np.stack([lerp(np.array([-50.0, 50.0]), u[:, 22]), lerp(np.array([-15.0, 25.0]), u[:, 23])], axis=-1)
    # Forearm like a person facing camera 1: elbow below/behind the hand, the palm mostly
    # towards the camera, sometimes turned anywhere.
    tilt = lerp(np.array([-10.0, 75.0]), u[:, 24])
    azimuth = lerp(np.array([-45.0, 45.0]), u[:, 25])
    lean = lerp(np.array([-50.0, 50.0]), u[:, 26])
    pronation = np.where(
        u[:, 27] < 0.7, np.clip(40.0 * gauss[:, 28], -100, 100), lerp(np.array([-180.0, 180]), u[:, 28])
    )
    forearm = np.stack([tilt, azimuth, lean, pronation], axis=-1)
    w = np.asarray(workspace, dtype=np.float64)
    palm_uvd = np.stack([lerp(w[0:2], u[:, 29]), lerp(w[2:4], u[:, 30]), lerp(w[4:6], u[:, 31])], axis=-1)
    return Pose(cls.astype(np.int64), finger, thumb, wrist, forearm, palm_uvd)


# ---------------------------------------------------------------------------------------------------------------
# Kinematics


def _chain(base, r0, abd, flex, lengths) -> np.ndarray:
    """Joint positions (B, 4, 3) of a three-bone chain: base, two joints, tip.

    r0 (B, 3, 3) rest frame with y along the bone; abduction about its z (towards +x), flexion
    about x towards -z."""
    r = r0 @ rot(2, -abd) @ rot(0, -flex[:, 0])
    pts = [base]
    for k in range(3):
        if k:
            r = r @ rot(0, -flex[:, k])
        pts.append(pts[-1] + r[:, :, 1] * lengths[:, k : k + 1])
    return np.stack(pts, axis=1)


def hand_points(skel: Skeleton, pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """Finger chains (B, 5, 4, 3) (F1..F4, thumb; base..tip) in the hand frame, and PALM points (B, 6, 3)."""
    b = pose.finger.shape[0]
    chains = []
    for f in range(4):
        r0 = np.broadcast_to(rot(2, -SPLAY[f]), (b, 3, 3))
        a = pose.finger[:, f]
        chains.append(_chain(skel.mcp[:, f], r0, a[:, 1], a[:, [0, 2, 3]], skel.phalanx[:, f]))
    chains.append(thumb_chain(skel, pose.thumb))
    return np.stack(chains, axis=1), skel.palm


def thumb_chain(skel: Skeleton, t: np.ndarray) -> np.ndarray:
    """Thumb CMC, MCP, IP, tip (B, 4, 3) for angles t (B, 4) = radial and palmar abduction of
    the metacarpal at the CMC joint, MCP and IP flexion (degrees)."""
    r0 = thumb_frame(t[:, 0], t[:, 1])
    return _chain(
        skel.thumb_cmc, r0, np.zeros(len(t)), np.concatenate([np.zeros((len(t), 1)), t[:, 2:]], 1), skel.thumb_bones
    )


def pinch_ik(skel: Skeleton, pose: Pose, iters: int = 10, gap_mm: float = 16.0) -> Pose:
    """Bend the thumb of "pinch" poses so that its tip meets the index fingertip, pad to pad
    (damped least squares on the four thumb angles, within their limits)."""
    sel = np.flatnonzero(pose.cls == POSE_CLASSES.index("pinch"))
    if not len(sel):
        return pose
    sk, p = skel.take(sel), pose.take(sel)
    index = _chain(
        sk.mcp[:, 3],
        np.broadcast_to(rot(2, -SPLAY[3]), (len(sel), 3, 3)),
        p.finger[:, 3, 1],
        p.finger[:, 3, [0, 2, 3]],
        sk.phalanx[:, 3],
    )
    t = p.thumb.copy()
    tip = thumb_chain(sk, t)[:, 3]
    target = index[:, 3] + gap_mm * _unit(tip - index[:, 3])
    lo, hi = np.array(LIMITS["thumb"], dtype=np.float64).T
    for _ in range(iters):
        tip = thumb_chain(sk, t)[:, 3]
        jac = np.stack([(thumb_chain(sk, t + 0.5 * np.eye(4)[k])[:, 3] - tip) / 0.5 for k in range(4)], -1)  # (B, 3, 4)
        err = target - tip
        jjt = jac @ jac.transpose(0, 2, 1) + np.eye(3) * 0.25
        step = (jac.transpose(0, 2, 1) @ np.linalg.solve(jjt, err[..., None]))[..., 0]
        t = np.clip(t + np.clip(step, -15, 15), lo, hi)
    thumb = pose.thumb.copy()
    thumb[sel] = t
    return Pose(pose.cls, pose.finger, thumb, pose.wrist, pose.forearm, pose.palm_uvd)


def joints36(chains: np.ndarray, palm: np.ndarray) -> np.ndarray:
    """NYU order: per finger tip, distal joint (twice), middle joint (twice), base; then PALM_1..6."""
    order = [3, 2, 2, 1, 1, 0]
    return np.concatenate([chains[:, f, order] for f in range(5)] + [palm], axis=1)


def forearm_frame(pose: Pose) -> np.ndarray:
    """World (= camera 1) rotation of the forearm frame (B, 3, 3); equals the hand frame at a neutral wrist."""
    tilt, azimuth, lean, pronation = pose.forearm.T
    return rot(2, lean) @ rot(1, azimuth) @ rot(0, -tilt) @ rot(1, pronation)


def world_pose(pose: Pose, palm_centre_local: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hand rotation G, forearm rotation F, wrist origin o): x_world = o + G x_hand."""
    f = forearm_frame(pose)
    g = f @ rot(0, -pose.wrist[:, 0]) @ rot(2, -pose.wrist[:, 1])
    centre = uvd_to_xyz(pose.palm_uvd)
    return g, f, centre - _apply(g, palm_centre_local)


def _capsules(parts: list) -> np.ndarray:
    """[(a (B,3), b (B,3), r (B,) or scalar), ...] -> (B, P, 7)."""
    out = []
    for a, b, r in parts:
        r = np.broadcast_to(np.asarray(r, dtype=np.float64), a.shape[:1])
        out.append(np.concatenate([a, b, r[:, None]], axis=1))
    return np.stack(out, axis=1)


def hand_capsules(chains: np.ndarray, skel: Skeleton, surf: Surface, with_details: bool) -> np.ndarray:
    """Capsules (B, P, 7) = (a, b, radius) of hand and forearm-free parts, in the hand frame.

    `with_details` adds the per-subject knuckle spheres (the real surface); the count of
    capsules depends only on this flag, so batches stack."""
    parts = []
    radial = np.array([1.0, 0.0, 0.0])
    # Palm: a fan of overlapping capsules from the metacarpal bases to the MCP joints, with
    # in-betweens so that the palm's surface has no deep grooves.
    widen = surf.palm_widen[:, None] * radial
    base, knuckle = skel.carpal.copy(), chains[:, :4, 0].copy()
    base[:, 0] -= widen
    base[:, 3] += widen
    knuckle[:, 0] -= widen
    knuckle[:, 3] += widen
    for f in range(4):
        parts.append((base[:, f], knuckle[:, f], surf.palm_r))
        if f < 3:
            parts.append(((base[:, f] + base[:, f + 1]) / 2, (knuckle[:, f] + knuckle[:, f + 1]) / 2, surf.palm_r))
    # Fingers: one capsule per phalanx; the distal one ends in the fingertip pad.
    for f in range(4):
        c = chains[:, f]
        tip = c[:, 3] + surf.tip_ext[:, None] * _unit(c[:, 3] - c[:, 2])
        ends = [c[:, 1], c[:, 2], tip]
        for k in range(3):
            parts.append((c[:, k], ends[k], surf.finger_r[:, f, k]))
    th = chains[:, 4]
    tip = th[:, 3] + surf.tip_ext[:, None] * _unit(th[:, 3] - th[:, 2])
    thumb_ends = [th[:, 1], th[:, 2], tip]
    for k in range(3):
        parts.append((th[:, k], thumb_ends[k], surf.thumb_r[:, k]))
    # The web between thumb and index finger.
    parts.append(((th[:, 0] + th[:, 1]) / 2, (chains[:, 3, 0] + skel.carpal[:, 3]) / 2, 0.6 * surf.thumb_r[:, 0]))
    if with_details:
        for f in range(4):
            for k in (1, 2):
                c = chains[:, f, k]
                parts.append((c, c, surf.knuckle * surf.finger_r[:, f, k - 1]))
        c = th[:, 2]
        parts.append((c, c, surf.knuckle * surf.thumb_r[:, 1]))
    return _capsules(parts)


def forearm_capsules(surf: Surface, with_sleeve: bool) -> np.ndarray:
    """Forearm (and sleeve) capsules (B, P, 7) in the forearm frame (wrist centre at the origin)."""
    b = surf.forearm_r.shape[0]
    parts = []
    for side in (-1.0, 1.0):
        off = np.array([side * FOREARM_HALF_WIDTH, 0.0, 0.0])
        for (y0, y1), r in zip([(-5.0, -80.0), (-80.0, -FOREARM_LEN)], surf.forearm_r.T):
            parts.append((np.tile(off + [0, y0, 0], (b, 1)), np.tile(off + [0, y1, 0], (b, 1)), r))
        if with_sleeve:
            # A sleeve of extra 0 is hidden inside the forearm: same capsule count for every subject.
            a = np.zeros((b, 3)) + off
            a[:, 1] = -surf.sleeve_start
            end = np.tile(off + [0, -FOREARM_LEN, 0], (b, 1))
            parts.append((a, end, surf.forearm_r[:, 0] * 0.95 + surf.sleeve_extra))
    return _capsules(parts)


def to_world(caps: np.ndarray, rot_: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Capsules (B, P, 7) from a local frame into the world: x -> origin + R x."""
    a = _apply(rot_, caps[..., 0:3]) + origin[:, None]
    b = _apply(rot_, caps[..., 3:6]) + origin[:, None]
    return np.concatenate([a, b, caps[..., 6:7]], axis=-1)

