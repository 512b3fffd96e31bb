"""Build preprocessed caches from the procedural generator or an NYU folder, and export
generated frames in NYU's on-disk layout.

    python -m mlib.data.generate --preset laptop --out data_cache
    python -m mlib.data.generate --preset ci --export-nyu /tmp/nyu_like --frames 50

The direct path renders only the source pixels of each crop (`crop.source_pixels`),
which equals cropping the full rendered frame, so it is fast and gives the same crops
as exporting PNGs and reading them back with the NYU reader.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import mlib.data.cache as cache
from mlib.data.camera import EVAL_JOINTS, PALM_CENTRE, xyz_to_uvd
from mlib.data.crop import CropConfig, crop_depth, joints_to_crop_pixels, normalize_depth, source_pixels
from mlib.data.nyu import (
    GENERATED_VIEW_CAMERA,
    GENERATOR_MARKER,
    NYUFolder,
    depth_filename,
    write_depth_png,
    write_joint_data,
)
from mlib.data.procedural.generator import Frames, GeneratorConfig, HandGenerator

VIEW_CAMERA = GENERATED_VIEW_CAMERA  # the side camera whose real frames are the view-prediction targets
# Generator fields added after caches were keyed, with the value that leaves every frame unchanged: left out
# of the key at that value, so an existing cache stays valid.
GENERATOR_FIELDS_ADDED = {"distractor_p": 0.0}


@dataclass(frozen=True)
class DataConfig:
    """Everything a generated cache depends on."""

    name: str = "laptop"
    crop: CropConfig = field(default_factory=CropConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    train_frames: int = 10_000
    test_frames: int = 2_000
    val_frames: int = 1_000  # labeled real frames of the validation subjects, for tuning

    def settings(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("name")  # the name is a label, not content
        d["view_camera"] = VIEW_CAMERA
        for key, off in GENERATOR_FIELDS_ADDED.items():  # at that value every frame is as before the field
            if d["generator"][key] == off:
                del d["generator"][key]
        return d


def cache_path(cfg: DataConfig, out_dir: str | Path) -> Path:
    return Path(out_dir) / f"murauer-{cfg.name}-{cfg.crop.size}px-{cache.settings_key(cfg.settings())}.h5"


def render_crop(gen: HandGenerator, frames: Frames, camera: int, domain: str, crop: CropConfig) -> np.ndarray:
    """Normalised crops (B, S, S) of camera 1..3 in domain 'real' or 'synth' (the direct path: only the
    crop's source pixels are rendered)."""
    centre = frames.joints_xyz[:, camera - 1, PALM_CENTRE]
    u, v = source_pixels(centre, crop, frame_ids=[f"{frames.split} frame {i}" for i in frames.index])
    return normalize_depth(gen.render(frames, camera, domain, u, v), centre[:, 2], crop.cube_mm)


def crop_joint_pixels(frames: Frames, camera: int, crop: CropConfig) -> np.ndarray:
    """The 14 evaluation joints of each frame in its camera-`camera` crop, (B, 14, 2) (column, row) pixels."""
    xyz = frames.joints_xyz[:, camera - 1]
    return joints_to_crop_pixels(xyz[:, EVAL_JOINTS], xyz[:, PALM_CENTRE], crop)


def render_crops(gen: HandGenerator, frames: Frames, crop: CropConfig) -> dict[str, np.ndarray]:
    """All cached fields of a batch of generated frames (the direct path)."""
    b = len(frames.index)
    centres = frames.joints_xyz[:, :, PALM_CENTRE]  # (B, 3 cameras, 3)

    def one(camera: int, domain: str) -> np.ndarray:
        return render_crop(gen, frames, camera, domain, crop)

    return {
        "real": one(1, "real").astype(np.float16),
        "real_view": one(VIEW_CAMERA, "real").astype(np.float16),
        "synth": np.stack([one(k, "synth") for k in (1, 2, 3)], axis=1).astype(np.float16),
        "joints": frames.joints_xyz.astype(np.float32),
        "centres": centres.astype(np.float32),
        "cube": np.full(b, crop.cube_mm, np.float32),
        "frame_ids": np.asarray(frames.index, np.int64),
        "subjects": np.asarray(frames.subject, np.int64),
        "view_camera": np.full(b, VIEW_CAMERA, np.int64),
    }


def build_generated_cache(
    cfg: DataConfig, out_dir: str | Path, chunk: int = 128, progress: bool = True, workers: int | None = None
) -> Path:
    """Render the train and test splits straight into a cache file (atomically), in `workers` processes
    (default: the CPU cores, at most 4, for a thousand frames or more). A frame is a pure function of
    (seed, split, index), so the file is the same whatever the number of workers."""
    sizes = {"train": cfg.train_frames, "test": cfg.test_frames, "val": cfg.val_frames}
    workers = workers or (min(4, os.cpu_count() or 1) if sum(sizes.values()) >= 1000 else 1)
    bar = tqdm(total=sum(sizes.values()), desc=f"rendering {cfg.name} data", unit="frame", disable=not progress)
    gen = HandGenerator(cfg.generator) if workers == 1 else None
    # spawned, not forked: a notebook's kernel may hold threads (torch's) that a fork would copy half-done
    pool = None if workers == 1 else ProcessPoolExecutor(workers, get_context("spawn"), _start_renderer, (cfg.generator,))

    def chunks(split: str) -> Iterator[dict[str, np.ndarray]]:
        parts = [np.arange(s, min(s + chunk, sizes[split])) for s in range(0, sizes[split], chunk)]
        if pool is None:
            rendered = (render_crops(gen, gen.frames(split, idx), cfg.crop) for idx in parts)
        else:
            rendered = _in_order(pool, [(split, idx, cfg.crop) for idx in parts], ahead=2 * workers)
        for part in rendered:
            yield part
            bar.update(len(part["frame_ids"]))

    try:
        return cache.write_cache(cache_path(cfg, out_dir), cfg.settings(), cfg.crop.size, sizes, chunks)
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)


_renderer: HandGenerator | None = None  # a rendering process's generator, built once


def _start_renderer(generator: GeneratorConfig) -> None:
    global _renderer
    _renderer = HandGenerator(generator)


def _render_part(split: str, idx: np.ndarray, crop: CropConfig) -> dict[str, np.ndarray]:
    return render_crops(_renderer, _renderer.frames(split, idx), crop)


def _in_order(pool: ProcessPoolExecutor, tasks: list[tuple], ahead: int) -> Iterator[dict[str, np.ndarray]]:
    """The results of `_render_part` over `tasks` in order, with at most `ahead` parts in flight (the
    paper preset's data would not fit in memory at once)."""
    pending: deque = deque()
    for task in tasks:
        pending.append(pool.submit(_render_part, *task))
        if len(pending) >= ahead:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def generated_cache(cfg: DataConfig, out_dir: str | Path = "data_cache", progress: bool = True) -> Path:
    """Path of a valid cache for `cfg`, building it when missing or bad."""
    path = cache_path(cfg, out_dir)
    return cache.ensure_cache(path, cfg.settings(), lambda: build_generated_cache(cfg, out_dir, progress=progress))


def crop_nyu_frame(
    folder: NYUFolder, index: int, camera: int, synthetic: bool, centre: np.ndarray, crop: CropConfig, cube: float
) -> np.ndarray:
    """The (S, S) normalised crop of one depth frame of an NYU-layout folder around `centre` (mm)."""
    cfg = dataclasses.replace(crop, cube_mm=cube)
    image = folder.depth(index, camera, synthetic)[None]
    path = str(folder.depth_path(index, camera, synthetic))
    return crop_depth(image, np.asarray(centre)[None], cfg, frame_ids=[path])[0]


def nyu_crops(folder: NYUFolder, indices: np.ndarray, crop: CropConfig) -> dict[str, np.ndarray]:
    """Cached fields for frames of an NYU-layout folder (the same crop code as the direct path)."""
    joints = folder.joint_xyz[:, indices].transpose(1, 0, 2, 3)  # (B, cameras, 36, 3)
    centres = joints[:, :, PALM_CENTRE]
    cubes = np.array([folder.cube_mm(int(i)) for i in indices], np.float32)
    views = np.array([folder.view_camera(int(i)) for i in indices], np.int64)
    out = {k: [] for k in ("real", "real_view", "synth")}

    def one(i: int, row: int, camera: int, synthetic: bool) -> np.ndarray:
        return crop_nyu_frame(folder, i, camera, synthetic, centres[row, camera - 1], crop, float(cubes[row]))

    for row, i in enumerate(int(i) for i in indices):
        out["real"].append(one(i, row, 1, False))
        out["real_view"].append(one(i, row, int(views[row]), False))
        out["synth"].append(np.stack([one(i, row, k, True) for k in (1, 2, 3)]))
    return {
        "real": np.stack(out["real"]).astype(np.float16),
        "real_view": np.stack(out["real_view"]).astype(np.float16),
        "synth": np.stack(out["synth"]).astype(np.float16),
        "joints": joints.astype(np.float32),
        "centres": centres.astype(np.float32),
        "cube": cubes,
        "frame_ids": np.asarray(indices, np.int64),
        "subjects": np.full(len(indices), -1, np.int64),
        "view_camera": views,
    }


def nyu_split_frames(root: str | Path, max_frames: dict[str, int] | None = None, val_frames: int = 0):
    """Which frames of which folder make each split: (folder split, 0-based frame indices) per split.

    A `val/` folder (the generator's export writes one) is the validation split. Real NYU has none: its
    training frames show one person, so the validation split holds out the last `val_frames` training
    frames (a contiguous block of the recording, so neighbouring near-duplicates stay on one side)."""
    root = Path(root)
    if not (root / "test").is_dir():
        raise FileNotFoundError(f"{root / 'test'}: NYU test folder not found — an NYU folder holds train/ and test/")
    limit = max_frames or {}
    n_train = len(NYUFolder(root, "train"))
    n_test = len(NYUFolder(root, "test"))
    frames = {"test": ("test", np.arange(min(n_test, limit.get("test", n_test))))}
    if (root / "val").is_dir():
        n_val = len(NYUFolder(root, "val"))
        frames["val"] = ("val", np.arange(min(n_val, limit.get("val", n_val))))
        frames["train"] = ("train", np.arange(min(n_train, limit.get("train", n_train))))
    else:
        k = min(val_frames, n_train // 5)
        if k < 1:
            raise ValueError(f"{root}: no val/ folder and no training frames to hold out (val_frames={val_frames}) — "
                             "give --val-frames or add a val/ folder")
        frames["val"] = ("train", np.arange(n_train - k, n_train))
        frames["train"] = ("train", np.arange(min(n_train - k, limit.get("train", n_train))))
    return {s: frames[s] for s in ("train", "val", "test")}


def nyu_cache(
    root: str | Path,
    crop: CropConfig,
    out_dir: str | Path = "data_cache",
    max_frames: dict[str, int] | None = None,
    progress: bool = True,
    val_frames: int = 0,
) -> Path:
    """Preprocess an NYU-layout folder (train/, test/ and, if present, val/) into a cache file with the
    three splits, reusing a valid one. Every file a split needs is checked before any is read, and the
    cache is keyed on a fingerprint of those files (`NYUFolder.fingerprint`), not on the folder's path
    alone: a label edited or a PNG replaced in place gives a new cache."""
    splits = nyu_split_frames(root, max_frames, val_frames)
    folders = {s: NYUFolder(root, s, cube_mm=crop.cube_mm) for s in {src for src, _ in splits.values()}}
    for folder in folders.values():
        folder.check_files(cameras=(1, *folder.view_cameras()), synthetic=(1, 2, 3))
    sizes = {s: len(idx) for s, (_, idx) in splits.items()}
    ranges = {s: [src, int(idx[0]), int(idx[-1])] for s, (src, idx) in splits.items()}
    files = {s: folders[src].fingerprint(idx) for s, (src, idx) in splits.items()}
    settings = {"source": str(Path(root).resolve()), "crop": dataclasses.asdict(crop), "frames": ranges}
    settings["files"] = files  # what was read, not only where: an edit in place gives another cache
    path = Path(out_dir) / f"nyu-{crop.size}px-{cache.settings_key(settings)}.h5"
    counts = ", ".join(f"{s} {n}" for s, n in sizes.items())
    print(f"NYU data: {Path(root).resolve()} (frames: {counts}); cache {path.resolve()}", file=sys.stderr)

    def build() -> Path:
        bar = tqdm(total=sum(sizes.values()), desc="cropping NYU frames", unit="frame", disable=not progress)

        def chunks(split: str) -> Iterator[dict[str, np.ndarray]]:
            src, idx = splits[split]
            for start in range(0, len(idx), 64):
                part = idx[start : start + 64]
                yield nyu_crops(folders[src], part, crop)
                bar.update(len(part))

        try:
            return cache.write_cache(path, settings, crop.size, sizes, chunks)
        finally:
            bar.close()

    return cache.ensure_cache(path, settings, build)


def stale_reason(entry: cache.CacheFile) -> str | None:
    """Why a cache will never be read again, or None when it may be: one that cannot be read in this
    format, or an NYU cache whose folder's labels or PNGs have changed since it was cropped (nyu_cache
    makes a new one for the files as they are now). A generated cache is never judged stale: any
    generator setting a notebook or benchmark asks for names its own cache."""
    if entry.problem is not None:
        return entry.problem
    settings = entry.settings or {}
    if "files" not in settings:
        return None
    try:
        folders: dict[str, NYUFolder] = {}
        for split, (src, first, last) in settings["frames"].items():  # each split is a range (nyu_split_frames)
            folder = folders.setdefault(src, NYUFolder(settings["source"], src, cube_mm=settings["crop"]["cube_mm"]))
            if folder.fingerprint(np.arange(first, last + 1)) != settings["files"][split]:
                return f"{settings['source']}/{src}: labels or depth files changed since this cache was cropped"
    except (OSError, ValueError, KeyError, IndexError):
        return None  # its folder is gone or unreadable (a drive not mounted?): it cannot tell, so it keeps it
    return None


def export_nyu(
    gen: HandGenerator,
    root: str | Path,
    frames: dict[str, int],
    chunk: int = 16,
    progress: bool = True,
    view_swap_index: int | None = None,
) -> Path:
    """Write generated frames in NYU's layout: real depth for cameras 1 and the view camera,
    synthetic depth for cameras 1-3, and joint_data.mat per split. With `view_swap_index` k the view
    target switches from camera 2 to camera 3 at 0-based frame k of every split, as NYU's training
    recording does at its rig swap (real depth of all three cameras is written then)."""
    root = Path(root)
    real = (1, VIEW_CAMERA) if view_swap_index is None else (1, 2, 3)
    cameras = [(k, "real") for k in real] + [(k, "synth") for k in (1, 2, 3)]
    for split, n in frames.items():
        folder = root / split
        folder.mkdir(parents=True, exist_ok=True)
        uvd, xyz = [], []
        for start in tqdm(range(0, n, chunk), desc=f"exporting {split}", disable=not progress):
            f = gen.frames(split, np.arange(start, min(start + chunk, n)))
            for camera, domain in cameras:
                images = gen.render_full(f, camera, domain)
                for i, img in zip(f.index, images):
                    write_depth_png(folder / depth_filename(camera, int(i) + 1, domain == "synth"), img)
            xyz.append(f.joints_xyz)
            uvd.append(xyz_to_uvd(f.joints_xyz))
        # joint_data.mat stores (cameras, N, 36, 3)
        write_joint_data(folder, np.concatenate(uvd).transpose(1, 0, 2, 3), np.concatenate(xyz).transpose(1, 0, 2, 3))
        marker = {"generator": dataclasses.asdict(gen.cfg), "frames": n, "view_swap_index": view_swap_index}
        (folder / GENERATOR_MARKER).write_text(json.dumps(marker, indent=2))
    return root


if __name__ == "__main__":  # `python -m mlib.data.generate`: the command line (mlib.data_cli) needs the presets, not the reverse
    import runpy

    runpy.run_module("mlib.data_cli", run_name="__main__")
