"""How much of a generated real crop is scene (upper arm, head, torso, table) rather than hand.

The synthetic domain renders the hand and forearm only; the real domain adds the person and a table.
In the view camera's crop that scene is what the view decoder g must draw for real frames and never
for synthetic ones, so a large share of it asks the real latent to describe the body, not the pose.
NYU's subjects hold the hand out towards the cameras, so its side views show little of the body.

    share = scene_share(mlib.presets.data_config("laptop").generator, CropConfig(size=64), "train", 200, camera=2)
    share["share"], share["parts"]["upper_arm"]
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mlib.data.camera import PALM_CENTRE
from mlib.data.crop import CropConfig, normalize_depth, source_pixels
from mlib.data.procedural.generator import Frames, GeneratorConfig, HandGenerator

# The scene's parts as the generator builds them: the last two capsules of caps_real (head, upper arm)
# and the first two rectangles of rects_real (torso, table; the wall lies metres behind any crop).
SCENE_PARTS = {"head": ("caps", -2), "upper_arm": ("caps", -1), "torso": ("rects", 0), "table": ("rects", 1)}


def without(frames: Frames, parts: tuple[str, ...]) -> Frames:
    """The frames with some scene parts removed from the real domain (a rectangle gets a negative size,
    the generator's own way of leaving one out; a capsule is dropped)."""
    caps, rects = frames.caps_real, frames.rects_real.copy()
    drop = [caps.shape[1] + SCENE_PARTS[p][1] for p in parts if SCENE_PARTS[p][0] == "caps"]
    caps = np.delete(caps, drop, axis=1)
    for p in parts:
        if SCENE_PARTS[p][0] == "rects":
            rects[:, SCENE_PARTS[p][1], 12] = -1.0
    return dataclasses.replace(frames, caps_real=caps, rects_real=rects)


def real_renderer(gen_cfg: GeneratorConfig, crop: CropConfig, split: str, indices, camera: int):
    """Frames `indices` of a split and a function that renders any version of them (scene parts removed
    or not) as camera `camera`'s real crops, normalised as the crop store holds them (N, S, S)."""
    gen = HandGenerator(gen_cfg)
    frames = gen.frames(split, np.asarray(indices))
    centre = frames.joints_xyz[:, camera - 1, PALM_CENTRE]
    u, v = source_pixels(centre, crop, frame_ids=[f"{split} frame {i}" for i in frames.index])

    def crops(f: Frames) -> np.ndarray:
        return normalize_depth(gen.render(f, camera, "real", u, v), centre[:, 2], crop.cube_mm)

    return frames, crops


def scene_mask(full: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """Foreground pixels of `full` (below +1: background and out-of-cube pixels read +1) that change
    when scene parts are removed (`removed`: the same crops rendered without them)."""
    return (full < 1.0) & (np.abs(removed - full) > 1e-3)


def scene_pixels(gen_cfg: GeneratorConfig, crop: CropConfig, split: str, indices, camera: int) -> tuple[np.ndarray, np.ndarray]:
    """The real crops of camera `camera` for frames `indices` of a split, and the mask of their
    foreground pixels that are scene (upper arm, head, torso, table)."""
    frames, crops = real_renderer(gen_cfg, crop, split, indices, camera)
    full = crops(frames)
    return full, scene_mask(full, crops(without(frames, tuple(SCENE_PARTS))))


def scene_share(gen_cfg: GeneratorConfig, crop: CropConfig, split: str, n: int, camera: int) -> dict:
    """Over n frames of a split: the share of the real crop's foreground pixels (inside the crop's
    depth range) that are scene, all parts together and per part, in camera `camera`'s crop."""
    frames, crops = real_renderer(gen_cfg, crop, split, np.arange(n), camera)
    full = crops(frames)
    total = max(int((full < 1.0).sum()), 1)

    def share(parts: tuple[str, ...]) -> float:
        return int(scene_mask(full, crops(without(frames, parts))).sum()) / total

    return {"share": share(tuple(SCENE_PARTS)), "parts": {p: share((p,)) for p in SCENE_PARTS}, "frames": n}
