"""Data: NYU's on-disk format, the procedural NYU-like generator, crops, augmentation, the HDF5
cache and the four-set mini-batches. `load_data(preset)` and `load_splits(config)` are the entry
points the trainer, the benchmarks and the notebooks share; `source` picks the generated data set
(the default) or an NYU-layout folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlib.data.datasets import Splits
    from mlib.data.generate import DataConfig

SOURCES = ("generated", "nyu")


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
    from mlib.data.generate import load_generated, load_nyu  # the generator is only needed here

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


def load_data(
    preset: str,
    data_dir: str | Path = "data_cache",
    progress: bool = True,
    source: str = "generated",
    nyu_dir: str | Path | None = None,
    **data_overrides,
) -> Splits:
    """`load_splits` for a preset's data settings with overrides (crop_size, frames, test_frames, ...)."""
    from mlib.data.generate import data_config

    return load_splits(data_config(preset, **data_overrides), source, nyu_dir, data_dir, progress)
