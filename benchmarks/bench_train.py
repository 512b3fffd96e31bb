"""Stage-2 training speed per configuration: seconds per iteration at batch 64, samples/s,
and the share of the step spent gathering and augmenting the batch.

    python benchmarks/bench_train.py [--presets ci laptop paper] [--iters 20] [--device auto]

Uses random crops of each preset's size (the speed of a step does not depend on the pixels),
so it runs without a data cache. The whole `full` variant step is timed: f on 64 inputs,
m on the 48 real ones, p, g on all, h twice, two optimiser steps.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from mlib.data.datasets import CropStore, labeled_subset, make_batch
from mlib.models import model_config, parameter_counts
from mlib.train import VARIANTS, Trainer, build_model, pick_device, train_config


def random_store(n: int, size: int) -> CropStore:
    return CropStore.random(n, size)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench(preset: str, iters: int, device: torch.device, warmup: int = 3) -> dict:
    mcfg = model_config(preset)
    store = random_store(1024, mcfg.crop_size)
    cfg = train_config(preset, stage2_iters=10**9, log_every=10**9, eval_every=0, ckpt_every=10**9)
    model, mcfg = build_model(preset, 0, device)
    tr = Trainer(model, mcfg, cfg, VARIANTS["full"], store, None, 2, labeled_subset(len(store), 100), "/tmp", device)
    model.train()
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    for _ in range(warmup):
        tr.step()
    sync(device)
    # data share: gather + augment alone, then whole steps
    t0 = time.perf_counter()
    for _ in range(iters):
        make_batch(store, tr.sampler.sample(), device, cfg.augment, tr.aug_gen)
    sync(device)
    t_data = (time.perf_counter() - t0) / iters
    t0 = time.perf_counter()
    for _ in range(iters):
        tr.step()
    sync(device)
    t_step = (time.perf_counter() - t0) / iters
    return {
        "preset": preset,
        "crop": mcfg.crop_size,
        "params_M": round(parameter_counts(model)["total"] / 1e6, 2),
        "s_per_iter": round(t_step, 4),
        "samples_per_s": round(cfg.batch_size / t_step, 1),
        "data_share": round(t_data / t_step, 3),
        "projected_paper_schedule_h": round((170_000 + 136_000) * t_step / 3600, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["ci", "laptop", "paper"])
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    device = pick_device(args.device)
    print(f"device: {device}, torch threads: {torch.get_num_threads()}")
    for preset in args.presets:
        iters = max(3, args.iters // 5) if preset == "paper" and device.type == "cpu" else args.iters
        print(json.dumps(bench(preset, iters, device)), flush=True)


if __name__ == "__main__":
    main()
