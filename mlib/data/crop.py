"""The crop: one implementation for NYU frames and generated frames alike.

A crop is the projection of a cube (default 300 mm) centred on the palm-centre joint.
Each crop pixel takes the depth of one source pixel (nearest resize), so a renderer
that can evaluate arbitrary pixels produces exactly the crop of its full image:
`source_pixels` tells it which ones.

Depth is normalised to [-1, 1] over the cube's depth range, background (no reading or
outside the cube) is +1. Joints are normalised as (xyz - centre) / (cube / 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlib.data.camera import NYU, Intrinsics, xyz_to_uvd


@dataclass(frozen=True)
class CropConfig:
    size: int = 64  # crop side in pixels
    cube_mm: float = 300.0  # side of the cube around the centre


class CropError(ValueError):
    """A crop that cannot be taken (centre behind the camera or outside the image)."""


def _frame_name(frame_ids, i: int) -> str:
    return f"frame {frame_ids[i]}" if frame_ids is not None else f"sample {i}"


def crop_window(
    centre_xyz: np.ndarray, cfg: CropConfig, intr: Intrinsics = NYU, frame_ids=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(u_c, v_c, half_u, half_v) of the cube's projection, each shaped like centre_xyz[..., 0].

    Raises CropError naming the frame if a centre is behind the camera or projects
    outside the image.
    """
    centre_xyz = np.asarray(centre_xyz, dtype=np.float64)
    if centre_xyz.shape[-1] != 3:
        raise CropError(f"crop centres must have a last axis of 3 (x, y, z mm), got shape {centre_xyz.shape}")
    flat = centre_xyz.reshape(-1, 3)
    bad_z = ~np.isfinite(flat).all(axis=1) | (flat[:, 2] <= 0)
    if bad_z.any():
        i = int(np.flatnonzero(bad_z)[0])
        raise CropError(
            f"{_frame_name(frame_ids, i)}: crop centre {flat[i].tolist()} mm is not in front of the camera "
            "(z must be a positive finite depth); check the joint annotation"
        )
    uvd = xyz_to_uvd(flat, intr)
    outside = (uvd[:, 0] < 0) | (uvd[:, 0] >= intr.width) | (uvd[:, 1] < 0) | (uvd[:, 1] >= intr.height)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise CropError(
            f"{_frame_name(frame_ids, i)}: crop centre projects to pixel ({uvd[i, 0]:.1f}, {uvd[i, 1]:.1f}), "
            f"outside the {intr.width}x{intr.height} image; the hand is not in view of this camera"
        )
    shape = centre_xyz.shape[:-1]
    half_u = (cfg.cube_mm / 2) * intr.fx / flat[:, 2]
    half_v = (cfg.cube_mm / 2) * intr.fy / flat[:, 2]
    return (uvd[:, 0].reshape(shape), uvd[:, 1].reshape(shape), half_u.reshape(shape), half_v.reshape(shape))


def source_pixels(
    centre_xyz: np.ndarray, cfg: CropConfig, intr: Intrinsics = NYU, frame_ids=None
) -> tuple[np.ndarray, np.ndarray]:
    """Integer source pixel (u, v) of every crop pixel: two int64 arrays shaped (..., S, S).

    Row i of the crop runs along v (downwards), column j along u. Pixels may lie outside
    the image; they read as background.
    """
    u_c, v_c, half_u, half_v = crop_window(centre_xyz, cfg, intr, frame_ids)
    steps = (np.arange(cfg.size) + 0.5) / cfg.size * 2 - 1  # crop pixel centres in [-1, 1]
    u = u_c[..., None, None] + half_u[..., None, None] * steps[None, :]
    v = v_c[..., None, None] + half_v[..., None, None] * steps[:, None]
    u, v = np.broadcast_arrays(u, v)
    return np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)


def sample_pixels(depth: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """depth[..., v, u] per frame with 0 (no reading) outside the image.

    depth: (H, W) or (B, H, W); u, v: (S, S) or (B, S, S) from `source_pixels`.
    """
    depth = np.asarray(depth)
    h, w = depth.shape[-2:]
    inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)
    uc, vc = np.clip(u, 0, w - 1), np.clip(v, 0, h - 1)
    if depth.ndim == 2:
        out = depth[vc, uc]
    else:
        out = depth[np.arange(depth.shape[0])[:, None, None], vc, uc]
    return np.where(inside, out, 0).astype(np.float32)


def normalize_depth(depth_mm: np.ndarray, centre_z: np.ndarray, cube_mm: float) -> np.ndarray:
    """Depth in mm (0 = no reading) -> [-1, 1] around the centre depth, background +1."""
    depth_mm = np.asarray(depth_mm, dtype=np.float32)
    cz = np.asarray(centre_z, dtype=np.float32).reshape(np.shape(centre_z) + (1, 1))
    rel = (depth_mm - cz) / (cube_mm / 2)
    background = (depth_mm <= 0) | (np.abs(rel) > 1)
    return np.where(background, 1.0, rel).astype(np.float32)


def denormalize_depth(crop: np.ndarray, centre_z: np.ndarray, cube_mm: float) -> np.ndarray:
    """Inverse of `normalize_depth`: mm, with background back to 0."""
    crop = np.asarray(crop, dtype=np.float32)
    cz = np.asarray(centre_z, dtype=np.float32).reshape(np.shape(centre_z) + (1, 1))
    return np.where(crop >= 1, 0.0, crop * (cube_mm / 2) + cz).astype(np.float32)


def crop_depth(
    depth_mm: np.ndarray, centre_xyz: np.ndarray, cfg: CropConfig, intr: Intrinsics = NYU, frame_ids=None
) -> np.ndarray:
    """Full depth image(s) in mm -> normalised crop(s) (..., S, S) float32."""
    centre_xyz = np.asarray(centre_xyz, dtype=np.float64)
    u, v = source_pixels(centre_xyz, cfg, intr, frame_ids)
    return normalize_depth(sample_pixels(depth_mm, u, v), centre_xyz[..., 2], cfg.cube_mm)


def normalize_joints(xyz, centre_xyz, cube_mm: float):
    """(..., J, 3) mm -> cube units; works on numpy arrays and torch tensors."""
    return (xyz - centre_xyz[..., None, :]) / (cube_mm / 2)


def denormalize_joints(joints, centre_xyz, cube_mm: float):
    """Inverse of `normalize_joints`: cube units -> mm in the camera frame."""
    return joints * (cube_mm / 2) + centre_xyz[..., None, :]


def joints_to_crop_pixels(
    xyz: np.ndarray, centre_xyz: np.ndarray, cfg: CropConfig, intr: Intrinsics = NYU
) -> np.ndarray:
    """Project joints (..., J, 3) mm into crop pixel coordinates (..., J, 2) as (column, row), for overlays."""
    u_c, v_c, half_u, half_v = crop_window(centre_xyz, cfg, intr)
    uvd = xyz_to_uvd(np.asarray(xyz, dtype=np.float64), intr)
    col = ((uvd[..., 0] - u_c[..., None]) / half_u[..., None] + 1) / 2 * cfg.size - 0.5
    row = ((uvd[..., 1] - v_c[..., None]) / half_v[..., None] + 1) / 2 * cfg.size - 0.5
    return np.stack([col, row], axis=-1)


def norm_to_crop_pixels(joints, size: int) -> np.ndarray:
    """Normalised joints (..., 3) -> crop (column, row), for overlays on augmented crops: the crop's image
    plane at the centre's depth, the approximation the augmentation makes (x right, y up, both in
    [-1, 1] across the crop; `mlib.data.augment`)."""
    joints = np.asarray(joints)
    return np.stack([(joints[..., 0] + 1) / 2 * size - 0.5, (1 - joints[..., 1]) / 2 * size - 0.5], axis=-1)
