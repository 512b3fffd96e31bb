"""Data-layer figures: render throughput, cache build and reload times, and the
real/synthetic gap statistics, on this machine.

    python benchmarks/bench_data.py [--presets ci laptop] [--out /tmp/bench_cache]

Builds each preset's cache from scratch in a temporary folder (it never touches data_cache/).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.bench_render import crop_rate
from mlib.analysis import domain_gap_stats
from mlib.data.datasets import CropStore
from mlib.data.generate import build_generated_cache
from mlib.data.procedural.generator import HandGenerator
from mlib.presets import data_config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["ci", "laptop"])
    ap.add_argument("--frames", type=int, default=512, help="frames for the throughput measurement")
    args = ap.parse_args()
    gen = HandGenerator()
    gen.frames("train", np.arange(4))
    for size in (64, 128):
        rate = crop_rate(gen, args.frames, 128, size)
        print(json.dumps({"render_crops_per_s": round(rate), "crop": size}), flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench_cache_"))
    try:
        for preset in args.presets:
            cfg = data_config(preset)
            t0 = time.perf_counter()
            path = build_generated_cache(cfg, tmp, progress=False)
            build = time.perf_counter() - t0
            t0 = time.perf_counter()
            train, test = CropStore.load(path, "train"), CropStore.load(path, "test")
            reload = time.perf_counter() - t0
            row = {
                "preset": preset,
                "frames": len(train) + len(test),
                "crop": train.crop_size,
                "build_s": round(build, 1),
                "reload_s": round(reload, 2),
                "size_MB": round(path.stat().st_size / 1e6, 1),
                "gap_test": {k: round(v, 3) for k, v in domain_gap_stats(test).items()},
            }
            print(json.dumps(row), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
