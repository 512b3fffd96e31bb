"""Data: NYU's on-disk format, the procedural NYU-like generator, crops, augmentation, the HDF5
cache and the four-set mini-batches. `load_data(preset)` is the entry point the trainer, the
benchmarks and the notebooks share."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlib.data.datasets import Splits


def load_data(preset: str, data_dir: str | Path = "data_cache", progress: bool = True, **data_overrides) -> Splits:
    """The generated train, validation and test stores of a preset (building the cache when missing).
    `data_overrides` go to `mlib.data.generate.data_config` (crop_size, frames, test_frames, ...)."""
    from mlib.data.generate import data_config, load_generated  # the generator is only needed here

    return load_generated(data_config(preset, **data_overrides), data_dir, progress=progress)
