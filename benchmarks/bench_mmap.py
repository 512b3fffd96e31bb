"""Memory of training from a large cache: in memory against memory-mapped, side by side.

    python benchmarks/bench_mmap.py [--frames 12000] [--size 128] [--steps 20]

Writes a cache of random crops (`--frames` frames at `--size`², the paper's crop; the full NYU set
at 128² holds 72,757 training frames, about 12 GB) into a temporary folder, then in two child
processes loads its train split whole or memory-mapped (`CropStore.load(mmap=...)`) and runs
`--steps` four-set batch gathers over random frames (the data side of a training step, without a
model). Each child reports, after the gathers, its anonymous memory (RssAnon: what the process holds
itself), its file-backed pages (RssFile: page cache the kernel can drop under pressure) and its peak
resident set (VmHWM). The memory-mapped store's own memory should not grow with the set.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = """
import json, sys, time, torch
from mlib.data.datasets import CropStore, FourSetSampler, labeled_subset, make_batch
path, mmap, steps = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
def status():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {k: int(fields[k].split()[0]) / 1024 for k in ("RssAnon", "RssFile", "VmHWM")}
t0 = time.perf_counter()
store = CropStore.load(path, "train", mmap=mmap, progress=False)
load_s = time.perf_counter() - t0
sampler = FourSetSampler(len(store), labeled_subset(len(store), min(1000, len(store))), seed=0)
t0 = time.perf_counter()
for _ in range(steps):
    make_batch(store, sampler.sample(), augment=None)
print(json.dumps({"mmap": mmap, "load_s": round(load_s, 2), "batch_ms": round(1000 * (time.perf_counter() - t0) / steps, 2),
                  **{k + "_MiB": round(v) for k, v in status().items()}}))
"""


def write_cache(path: Path, frames: int, size: int) -> float:
    from mlib.data import cache

    rng = np.random.default_rng(0)
    rows = 1024

    def chunks(split):
        for start in range(0, frames, rows):
            m = min(rows, frames - start)
            yield {
                "real": rng.standard_normal((m, size, size), np.float32).astype(np.float16),
                "real_view": rng.standard_normal((m, size, size), np.float32).astype(np.float16),
                "synth": rng.standard_normal((m, 3, size, size), np.float32).astype(np.float16),
                "joints": rng.standard_normal((m, 3, 36, 3), np.float32) * 30 + np.float32(750),
                "centres": rng.standard_normal((m, 3, 3), np.float32) + np.float32(750),
                "cube": np.full(m, 300.0, np.float32),
                "frame_ids": np.arange(start, start + m),
                "subjects": np.zeros(m, np.int64),
                "view_camera": np.full(m, 2, np.int64),
            }

    t0 = time.perf_counter()
    cache.write_cache(path, {"bench": frames}, size, {"train": frames}, chunks)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=12_000)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_mmap_"))
    try:
        path = tmp / "cache.h5"
        write_s = write_cache(path, args.frames, args.size)
        image_gib = args.frames * 5 * args.size**2 * 2 / 2**30
        print(json.dumps({"frames": args.frames, "crop": args.size, "image_GiB": round(image_gib, 2),
                          "write_s": round(write_s, 1)}), flush=True)  # fmt: skip
        for mmap in ("1", "0", "1"):  # the second mapped run reuses the unpacked copies
            out = subprocess.run([sys.executable, "-c", CHILD, str(path), mmap, str(args.steps)],
                                 capture_output=True, text=True)  # fmt: skip
            if out.returncode:
                raise SystemExit(f"the {'mapped' if mmap == '1' else 'in-memory'} run failed:\n{out.stderr}")
            print(out.stdout.strip(), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
