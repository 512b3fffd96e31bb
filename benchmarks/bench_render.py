"""Throughput of the procedural data generator.

    python benchmarks/bench_render.py [--frames 256] [--chunk 128]

Counts the five crops a cached frame needs (real camera 1 and 2, synthetic cameras 1-3),
each rendered at only its own source pixels around the palm centre, and times full frames.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from mlib.data.camera import PALM_CENTRE
from mlib.data.crop import CropConfig, source_pixels
from mlib.data.procedural.generator import HandGenerator

CROPS = [(1, "real"), (2, "real"), (1, "synth"), (2, "synth"), (3, "synth")]


def crop_rate(gen: HandGenerator, n: int, chunk: int, size: int) -> float:
    cfg = CropConfig(size=size)
    t0 = time.perf_counter()
    for start in range(0, n, chunk):
        f = gen.frames("train", np.arange(start, min(start + chunk, n)))
        for camera, domain in CROPS:
            u, v = source_pixels(f.joints_xyz[:, camera - 1, PALM_CENTRE], cfg)
            gen.render(f, camera, domain, u, v)
    return n * len(CROPS) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=256)
    ap.add_argument("--chunk", type=int, default=128)
    args = ap.parse_args()
    gen = HandGenerator()
    gen.frames("train", np.arange(4))  # warm-up
    for size in (64, 128):
        rate = crop_rate(gen, args.frames, args.chunk, size)
        print(f"crops {size}x{size}: {rate:7.0f} crops/s ({rate / len(CROPS):6.1f} frames/s, 5 crops each)")
    f = gen.frames("test", np.arange(8))
    for camera, domain in [(1, "synth"), (1, "real"), (2, "real")]:
        t0 = time.perf_counter()
        gen.render_full(f, camera, domain)
        print(
            f"full frame 640x480 camera {camera} {domain:5s}: {(time.perf_counter() - t0) / len(f) * 1000:6.1f} ms/frame"
        )


if __name__ == "__main__":
    main()
