"""The machine's 2048 x 2048 float32 matrix-multiply rate, to print beside every time measured on it.

    python benchmarks/sgemm.py            # GFLOP/s on 1 thread and on all cores
"""

from __future__ import annotations

import os
import time

import torch

SIZE = 2048


def sgemm_gflops(threads: int, repeats: int = 10) -> float:
    """The best of `repeats` 2048^2 matrix products on `threads` threads, in GFLOP/s."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b = torch.randn(SIZE, SIZE), torch.randn(SIZE, SIZE)
        a @ b  # warm-up
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - t0)
        return 2 * SIZE**3 / best / 1e9
    finally:
        torch.set_num_threads(before)


if __name__ == "__main__":
    cores = os.cpu_count() or 1
    print(f"sgemm {SIZE}^2: {sgemm_gflops(1):.0f} GFLOP/s on 1 thread, {sgemm_gflops(cores):.0f} on {cores}")
