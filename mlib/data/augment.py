"""Online augmentation of normalised crops, in batched torch ops (paper appendix A.1).

Per sample, each time it is drawn: in-plane rotation U[-60°, 60°] about the crop centre,
crop-centre jitter N(0, 5 mm) per axis, white depth noise σ = 5 mm. One draw of the
parameters can be applied to several images (a corresponding real/synthetic pair gets
the same transform). The view-prediction target is not augmented.

Geometry: in a crop, the normalised image coordinate (x right, y up, in [-1, 1]) equals
the normalised joint coordinate x_n, y_n of a point at the centre's depth. So jittering the
centre by t mm shifts image and joints by t / (cube / 2), and a rotation by θ of the image
about its centre rotates the joints' (x_n, y_n) by θ. Perspective makes this exact only at
the centre depth; that is the usual approximation of crop-level augmentation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    max_rotation_deg: float = 60.0
    centre_jitter_mm: float = 5.0
    depth_noise_mm: float = 5.0


@dataclass
class AugmentParams:
    angle: torch.Tensor  # (B,) radians, counter-clockwise as seen in the image
    shift_mm: torch.Tensor  # (B, 3) crop-centre jitter in mm
    noise_seed: torch.Tensor  # (B, 1, S, S) standard normal draws for the depth noise


def sample_params(
    batch: int, size: int, cfg: AugmentConfig, generator: torch.Generator | None = None, device=None
) -> AugmentParams:
    """Draw one set of transform parameters per sample."""
    g = dict(generator=generator, device=device)
    angle = (torch.rand(batch, **g) * 2 - 1) * math.radians(cfg.max_rotation_deg)
    shift = torch.randn(batch, 3, **g) * cfg.centre_jitter_mm
    noise = torch.randn(batch, 1, size, size, **g)
    return AugmentParams(angle, shift, noise)


def _rotation(angle: torch.Tensor) -> torch.Tensor:
    c, s = torch.cos(angle), torch.sin(angle)
    return torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)  # (B, 2, 2)


def augment_images(
    images: torch.Tensor, params: AugmentParams, cube_mm: torch.Tensor, cfg: AugmentConfig
) -> torch.Tensor:
    """Rotate/shift normalised crops (B, 1, S, S) and add depth noise; background stays +1."""
    b = images.shape[0]
    half = (cube_mm.to(images.dtype) / 2).view(b, 1)
    t = params.shift_mm.to(images.dtype) / half  # (B, 3) in normalised units
    rot = _rotation(params.angle.to(images.dtype))
    # Output pixel o (x right, y up) shows the input at R^-1 o + t_xy. grid_sample's y points
    # down, so flip y on both sides of the mapping.
    flip = torch.tensor([[1.0, 0.0], [0.0, -1.0]], dtype=images.dtype, device=images.device)
    linear = flip @ rot.transpose(1, 2) @ flip
    offset = (flip @ t[:, :2, None]).view(b, 2, 1)
    theta = torch.cat([linear, offset], dim=2)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    # grid_sample pads with 0; sampling (img - 1) and adding 1 back pads with background.
    out = F.grid_sample(images - 1, grid, mode="nearest", padding_mode="zeros", align_corners=False) + 1
    foreground = out < 1
    shifted = (
        out
        - t[:, 2].view(b, 1, 1, 1)
        + params.noise_seed.to(images.dtype) * (cfg.depth_noise_mm / half).view(b, 1, 1, 1)
    )
    # A surface pushed out of the cube's depth range by the jitter becomes background, as a fresh crop would.
    keep = foreground & (shifted.abs() <= 1)
    return torch.where(keep, shifted, torch.ones_like(out))


def augment_joints(joints: torch.Tensor, params: AugmentParams, cube_mm: torch.Tensor) -> torch.Tensor:
    """The same transform on normalised joints (B, J, 3): shift by the jitter, rotate x, y."""
    b = joints.shape[0]
    half = (cube_mm.to(joints.dtype) / 2).view(b, 1, 1)
    shifted = joints - params.shift_mm.to(joints.dtype).view(b, 1, 3) / half
    rot = _rotation(params.angle.to(joints.dtype))
    xy = shifted[..., :2] @ rot.transpose(1, 2)
    return torch.cat([xy, shifted[..., 2:]], dim=-1)


def augment_centres(centres_mm: torch.Tensor, params: AugmentParams) -> torch.Tensor:
    """Crop centres after the jitter (B, 3) mm: what the view decoder is conditioned on."""
    return centres_mm + params.shift_mm.to(centres_mm.dtype)
