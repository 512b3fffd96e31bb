"""The data entry points the trainer, the benchmarks and the notebooks share: the train, validation and
test stores for some data settings, rendered by the generator or cropped from an NYU-layout folder,
cached on disk and built only when missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

import mlib.data.cache as cache
from mlib.data.camera import PALM_CENTRE
from mlib.data.crop import CropConfig
from mlib.data.datasets import CropStore, Splits
from mlib.data.generate import DataConfig, crop_nyu_frame, generated_cache, nyu_cache
from mlib.data.nyu import NYUFolder

SOURCES = ("generated", "nyu")


def load_generated(cfg: DataConfig, out_dir: str | Path = "data_cache", progress: bool = True) -> Splits:
    """The train, validation and test CropStores of a generated data set; a cache found corrupt while
    loading is rebuilt once."""
    path = generated_cache(cfg, out_dir, progress)
    try:
        return Splits.load(path)
    except cache.CacheError as err:
        print(f"rebuilding cache: {err}")
        path.unlink(missing_ok=True)
        return Splits.load(generated_cache(cfg, out_dir, progress))  # rebuilt under the cache's lock


def load_nyu(root: str | Path, cfg: DataConfig, out_dir: str | Path = "data_cache", progress: bool = True) -> Splits:
    """The train, validation and test stores of an NYU-layout folder, cropped at the preset's crop
    settings; at most the preset's frame counts per split (the `paper` preset's are NYU's own)."""
    limit = {"train": cfg.train_frames, "test": cfg.test_frames, "val": cfg.val_frames}
    return Splits.load(nyu_cache(root, cfg.crop, out_dir, limit, progress, val_frames=cfg.val_frames))


def load_splits(
    cfg: DataConfig,
    source: str = "generated",
    nyu_dir: str | Path | None = None,
    data_dir: str | Path = "data_cache",
    progress: bool = True,
) -> Splits:
    """The train, validation and test stores for data settings `cfg`: rendered by the generator
    (`source="generated"`) or cropped from the NYU-layout folder `nyu_dir` (`source="nyu"`); either
    way cached in `data_dir` and built only when missing."""
    if source not in SOURCES:
        raise ValueError(f"unknown data source {source!r}; choose one of {list(SOURCES)}")
    if source == "nyu":
        if nyu_dir is None:
            raise ValueError("source 'nyu' needs nyu_dir, the folder holding NYU's train/ and test/")
        if not Path(nyu_dir).is_dir():
            raise FileNotFoundError(
                f"{nyu_dir}: NYU folder not found — give the folder that holds NYU's train/ and test/"
            )
        return load_nyu(nyu_dir, cfg, data_dir, progress)
    return load_generated(cfg, data_dir, progress=progress)


def nyu_test_store(root: str | Path, crop: CropConfig, progress: bool = True) -> CropStore:
    """The camera-1 real crops of an NYU-layout folder's test split, in memory and with the crops a
    training run's cache holds (`nyu_crops`), for predicting without a cache or a training split.
    The store has no view or synthetic crops (those fields are zeros)."""
    folder = NYUFolder(root, "test", cube_mm=crop.cube_mm)
    folder.check_files(cameras=(1,))
    joints = folder.joint_xyz.transpose(1, 0, 2, 3)  # (N, cameras, 36, 3), float64 as nyu_crops crops
    centres = joints[:, :, PALM_CENTRE]
    cubes = np.array([folder.cube_mm(i) for i in range(len(folder))], np.float32)
    frames = tqdm(range(len(folder)), desc="cropping NYU test frames", unit="frame", disable=not progress)
    real = np.stack([crop_nyu_frame(folder, i, 1, False, centres[i, 0], crop, float(cubes[i])) for i in frames])
    n, size = len(folder), crop.size
    zeros = torch.zeros(1, 3, size, size, dtype=torch.float16)
    return CropStore(
        real=torch.from_numpy(real.astype(np.float16)),
        real_view=zeros[:, 0].expand(n, -1, -1),
        synth=zeros.expand(n, -1, -1, -1),
        joints=torch.from_numpy(joints.astype(np.float32)),
        centres=torch.from_numpy(centres.astype(np.float32)),
        cube=torch.from_numpy(cubes),
        frame_ids=torch.arange(n),
        subjects=torch.full((n,), -1),
        view_camera=torch.tensor([folder.view_camera(i) for i in range(n)]),
    )
