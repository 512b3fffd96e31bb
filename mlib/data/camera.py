"""NYU camera maths and the 36-joint layout. The one place for intrinsics and projections.

NYU's convention: u grows to the right, v grows downwards, but y points *up*, so
y = (cy - v) * d / fy. Every projection in the project goes through this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Intrinsics:
    fx: float
    fy: float
    cx: float
    cy: float
    width: int = 640
    height: int = 480


NYU = Intrinsics(fx=588.036865, fy=587.075073, cx=320.0, cy=240.0)

_FINGER_JOINTS = ["KNU3_A", "KNU3_B", "KNU2_A", "KNU2_B", "KNU1_A", "KNU1_B"]
# F1 pinky, F2 ring, F3 middle, F4 index, TH thumb; KNU3 distal ... KNU1 proximal;
# A = far end of the bone, B = its base.
JOINT_NAMES: list[str] = [f"{finger}_{j}" for finger in ("F1", "F2", "F3", "F4", "TH") for j in _FINGER_JOINTS] + [
    f"PALM_{i}" for i in range(1, 7)
]
NUM_JOINTS = len(JOINT_NAMES)  # 36

# The 14 joints everybody evaluates on NYU (camera 1 only).
EVAL_JOINTS: list[int] = [0, 3, 6, 9, 12, 15, 18, 21, 24, 25, 27, 30, 31, 32]
EVAL_JOINT_NAMES: list[str] = [JOINT_NAMES[i] for i in EVAL_JOINTS]
# The hand's bones between the 14 evaluation joints (indices into EVAL_JOINTS; 13 = palm centre):
# finger tip -> PIP joint -> palm centre for the four fingers, thumb tip -> IP -> MCP -> palm centre,
# and the two wrist points.
EVAL_BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 13), (2, 3), (3, 13), (4, 5), (5, 13), (6, 7), (7, 13),
    (8, 9), (9, 10), (10, 13), (11, 13), (12, 13),
)  # fmt: skip
PALM_CENTRE = 32  # PALM_3, the crop centre

Array = np.ndarray | torch.Tensor


def _stack(parts: list, like: Array) -> Array:
    if isinstance(like, torch.Tensor):
        return torch.stack(parts, dim=-1)
    return np.stack(parts, axis=-1)


def uvd_to_xyz(uvd: Array, intr: Intrinsics = NYU) -> Array:
    """Pixel coordinates and depth (mm) -> camera coordinates (mm), last axis of size 3."""
    u, v, d = uvd[..., 0], uvd[..., 1], uvd[..., 2]
    return _stack([(u - intr.cx) * d / intr.fx, (intr.cy - v) * d / intr.fy, d], uvd)


def xyz_to_uvd(xyz: Array, intr: Intrinsics = NYU) -> Array:
    """Camera coordinates (mm) -> pixel coordinates and depth (mm), last axis of size 3."""
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    return _stack([intr.cx + x * intr.fx / z, intr.cy - y * intr.fy / z, z], xyz)


def pixel_rays(u: Array, v: Array, intr: Intrinsics = NYU) -> Array:
    """Direction (x, y, 1) of the ray through pixel (u, v); a point at depth d is d * ray."""
    ones = u * 0 + 1
    return _stack([(u - intr.cx) / intr.fx, (intr.cy - v) / intr.fy, ones], u)
