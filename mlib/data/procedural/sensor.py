"""A Kinect-v1-like depth sensor model, evaluated pixel by pixel.

Every random quantity is a pure function of (key, u, v), where the key hashes the
generator seed, split, frame index, camera and a stream name: integer hashing
(splitmix64) gives white noise, and value noise (hashed lattice values, smoothly
interpolated) gives spatially correlated fields. So any subset of pixels gets exactly
the values the full image has there.

Effects, in the order a measurement goes through them:
* ragged edges: each pixel's ray leaves from a position displaced by correlated noise
  (block matching smears depth edges by a pixel or two);
* projector shadow: no reading where the projector, `baseline` mm beside the camera,
  cannot see the surface point (`render.occluded`);
* dropout at grazing angles and small holes;
* axial noise sigma_z = 1.2 mm + 1.9 mm (z/m - 0.4)^2 (Nguyen et al. 2012), white plus a
  correlated part, then disparity quantisation (1/8 pixel steps of b f / z, so the depth
  step grows with z^2), then whole millimetres as in NYU's PNGs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class SensorConfig:
    baseline_mm: float = 75.0  # projector to depth camera, along -x (shadows fall right of objects, as in NYU)
    disparity_steps: float = 8.0  # sub-pixel disparity resolution of the matcher
    edge_px: float = 1.4  # amplitude of the ragged-edge displacement, pixels
    edge_cell_px: float = 4.0  # correlation length of that displacement, the grazing dropout and the holes
    grazing_cos: tuple[float, float] = (0.08, 0.3)  # |cos| of view angle: always lost below, never above
    hole_level: float = 0.88  # value-noise level above which a pixel is a hole (~1 % of pixels, blobs of a few px)
    wobble_mm: float = 1.0  # correlated depth error (matcher bias), about its std
    wobble_cell_px: float = 12.0
    z_range_mm: tuple[float, float] = (400.0, 4000.0)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def hash_key(*parts) -> np.ndarray:
    """Combine integers or int arrays (broadcasting) into one uint64 key array."""
    h = np.uint64(0x243F6A8885A308D3)
    for p in parts:
        h = mix64(h ^ (np.asarray(p).astype(np.int64).view(np.uint64) + _GOLD))
    return np.asarray(h)


def stream(name: str) -> int:
    """A stable integer for a noise stream name."""
    return int.from_bytes(name.encode()[:8].ljust(8, b"\0"), "little") & 0x7FFF_FFFF_FFFF_FFFF


_P1, _P2 = np.uint64(0xD1B54A32D192ED03), np.uint64(0x8CB92BA72F3D8DD7)


def _cell_hash(key: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Hash of integer lattice points (i, j) under a (well-mixed) key."""
    with np.errstate(over="ignore"):
        return mix64(key + i.astype(np.int64).view(np.uint64) * _P1 + j.astype(np.int64).view(np.uint64) * _P2)


def _sub(key: np.ndarray, n: int) -> np.ndarray:
    """An independent sub-stream key."""
    with np.errstate(over="ignore"):
        return mix64(np.asarray(key, np.uint64) + np.uint64(n) * _GOLD)


def to_uniform(h: np.ndarray) -> np.ndarray:
    """uint64 hash -> float64 in (0, 1)."""
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def white(key: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Uniform (0, 1) per integer pixel; key (B,) broadcast against u, v (B, ...)."""
    return to_uniform(_cell_hash(_expand(key, u), u, v))


def value_noise(key: np.ndarray, x: np.ndarray, y: np.ndarray, cell: float, n: int = 1) -> np.ndarray:
    """n independent smooth noise fields (n, ...) in [-1, 1] at continuous pixel positions, correlated
    over ~`cell` pixels. The fields share the lattice hashes (16 bits each of one 64-bit hash)."""
    k = _expand(key, x)
    fx, fy = x / cell, y / cell
    ix, iy = np.floor(fx), np.floor(fy)
    tx, ty = fx - ix, fy - iy
    tx, ty = tx * tx * (3 - 2 * tx), ty * ty * (3 - 2 * ty)  # smoothstep: no creases at cell borders
    ix, iy = ix.astype(np.int64), iy.astype(np.int64)
    c = [_fields(_cell_hash(k, ix + dx, iy + dy), n) for dy in (0, 1) for dx in (0, 1)]
    top = c[0] + (c[1] - c[0]) * tx
    bottom = c[2] + (c[3] - c[2]) * tx
    return 2 * (top + (bottom - top) * ty) - 1


def _fields(h: np.ndarray, n: int) -> np.ndarray:
    """Up to four uniforms in [0, 1] from the 16-bit fields of a hash."""
    return np.stack([((h >> np.uint64(16 * i)) & np.uint64(0xFFFF)).astype(np.float64) / 65535.0 for i in range(n)])


def _expand(key: np.ndarray, like: np.ndarray) -> np.ndarray:
    key = np.asarray(key, dtype=np.uint64)
    return key.reshape(key.shape + (1,) * (like.ndim - key.ndim))


@dataclass
class PixelNoise:
    """All random fields of a sensor reading at pixels (u, v), shaped like u."""

    du: np.ndarray  # ragged-edge displacement of the pixel's ray, px
    dv: np.ndarray
    graze: np.ndarray  # uniform-ish in [0, 1]: lost if below the grazing-angle dropout probability
    hole: np.ndarray  # smooth field in [-1, 1]: hole above cfg.hole_level
    white: np.ndarray  # N(0, 1) per pixel
    wobble: np.ndarray  # smooth field in [-1, 1], long-range depth error


def pixel_noise(key: np.ndarray, u: np.ndarray, v: np.ndarray, cfg: SensorConfig) -> PixelNoise:
    """The noise fields of frames `key` (B,) at integer pixels u, v (B, ...)."""
    c = cfg.edge_cell_px
    coarse = value_noise(_sub(key, 1), u, v, c, n=4)
    fine = value_noise(_sub(key, 2), u, v, c / 3, n=2)  # a little high-frequency raggedness
    disp = cfg.edge_px * (coarse[:2] + 0.2 * fine)
    return PixelNoise(
        du=disp[0],
        dv=disp[1],
        graze=0.5 * (coarse[2] + 1),
        hole=coarse[3],
        white=ndtri(white(_sub(key, 3), u, v)),
        wobble=value_noise(_sub(key, 4), u, v, cfg.wobble_cell_px)[0],
    )


def dropout(noise: PixelNoise, cos_view: np.ndarray, cfg: SensorConfig) -> np.ndarray:
    """True where the sensor returns no reading: grazing surfaces (in blobs) and small holes."""
    lo, hi = cfg.grazing_cos
    p_graze = np.clip((hi - cos_view) / (hi - lo), 0, 1)
    return (noise.graze < p_graze) | (noise.hole > cfg.hole_level)


def axial_sigma(z_mm: np.ndarray) -> np.ndarray:
    """Nguyen et al. (2012) axial noise of the Kinect v1, mm."""
    return 1.2 + 1.9 * (z_mm / 1000.0 - 0.4) ** 2


def measure(noise: PixelNoise, z: np.ndarray, cfg: SensorConfig, focal: float) -> np.ndarray:
    """True depth (mm) -> the sensor's reading: noise, disparity quantisation, whole mm."""
    z = z + axial_sigma(z) * noise.white
    z = z + cfg.wobble_mm * 2.3 * noise.wobble  # value noise has std ~0.43
    k = cfg.disparity_steps * cfg.baseline_mm * focal
    with np.errstate(divide="ignore"):
        z = k / np.round(k / z)
    return np.round(z)
