"""Data: NYU's on-disk format, the procedural NYU-like generator, crops, augmentation, the HDF5
cache and the four-set mini-batches. `load_splits(config)` (in `mlib.data.loading`, the config from
`mlib.presets.resolve(preset).data`) is the entry point the trainer, the benchmarks and the notebooks
share; `source` picks the generated data set (the default) or an NYU-layout folder."""

__all__ = ["SOURCES", "load_generated", "load_nyu", "load_splits"]


def __getattr__(name: str):
    # Imported on first use rather than here, so that `python -m mlib.data.generate` does not find
    # the module it runs already imported by its package.
    if name in __all__:
        from mlib.data import loading

        return getattr(loading, name)
    raise AttributeError(f"module 'mlib.data' has no attribute {name!r}")
