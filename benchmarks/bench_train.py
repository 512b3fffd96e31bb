"""Training speed, eager against the fast paths, side by side in one run: seconds per iteration at
batch 64, samples/s, the share of the step spent gathering and augmenting the batch, and the ratio
to eager, for stage 1 (Synth only: f and p on synthetic crops) and stage 2 (the `full` step: f on 64
inputs, m on the 48 real ones, p, g, h twice, two optimiser steps).

    python benchmarks/bench_train.py [--presets ci laptop paper] [--iters 20] [--device auto]
                                     [--modes eager channels_last bf16] [--compile] [--agreement 100]

Modes: `eager` is float32 in the contiguous layout; `channels_last` (the default path) stores images
and conv weights NHWC; `bf16` adds bf16 autocast (TrainConfig.precision="bf16"; on CUDA "auto" does
this already). `--compile` adds torch.compile of the modules on top of the last mode. Modes are timed
in interleaved rounds and each keeps its fastest round, so a background process slows all alike.
`--agreement N` trains the `ci` full step N iterations from the same seed in each mode and prints the
largest relative difference of its loss terms to eager's. Uses random crops (a step's speed does not
depend on the pixels), so it runs without a data cache.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from mlib.cells import build_model
from mlib.data.datasets import CropStore, make_batch
from mlib.models import parameter_counts
from mlib.presets import resolve
from mlib.train import Run, TrainData, Trainer, pick_device

MODES = {
    "eager": {"precision": "fp32", "channels_last": False},
    "channels_last": {"precision": "fp32", "channels_last": True},
    "bf16": {"precision": "bf16", "channels_last": True},
}
PAPER_SCHEDULE = 170_000 + 136_000  # iterations of stage 1 and stage 2 at paper scale


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def make_trainer(preset: str, stage: int, mode: str, device: torch.device, compile_: bool = False) -> Trainer:
    name = "synth_only" if stage == 1 else "full"
    setup = resolve(preset, variant=name, train=dict(stage2_iters=10**9, stage1_iters=10**9, log_every=10**9,
                                                     eval_every=0, ckpt_every=10**9, **MODES[mode]))  # fmt: skip
    cfg = setup.train
    model, mcfg = build_model(setup.model, 0, device)
    store = CropStore.random(1024, mcfg.crop_size)
    tr = Trainer(Run(name, 100, cfg, mcfg, Path("/tmp")), model, TrainData(store), stage)
    tr.prepare_device()  # the layout, and on CUDA the crops in GPU memory, as Trainer.run does
    if compile_:
        for name in ("f", "p", "m", "g", "h"):
            setattr(model, name, torch.compile(getattr(model, name)))
    tr.train_mode()
    return tr


def time_steps(tr: Trainer, iters: int) -> float:
    sync(tr.device)
    t0 = time.perf_counter()
    for _ in range(iters):
        tr.step()
    sync(tr.device)
    return (time.perf_counter() - t0) / iters


def time_data(tr: Trainer, iters: int) -> float:
    sync(tr.device)
    t0 = time.perf_counter()
    for _ in range(iters):
        make_batch(tr.train, tr.sampler.sample(), tr.device, tr.cfg.augment, tr.aug_gen, unrotated=tr.unrotated)
    sync(tr.device)
    return (time.perf_counter() - t0) / iters


def bench(preset: str, stage: int, modes: list[str], iters: int, rounds: int, device: torch.device,
          compile_: bool) -> list[dict]:  # fmt: skip
    trainers = {m: make_trainer(preset, stage, m, device) for m in modes}
    if compile_:
        trainers["compiled"] = make_trainer(preset, stage, modes[-1], device, compile_=True)
    best = {m: float("inf") for m in trainers}
    for tr in trainers.values():
        time_steps(tr, 3)  # warm-up (and compilation)
    for _ in range(rounds):
        for m, tr in trainers.items():
            best[m] = min(best[m], time_steps(tr, iters))
    t_data = time_data(trainers[modes[0]], iters)
    eager = best.get("eager", best[modes[0]])
    tr0 = trainers[modes[0]]
    return [
        {
            "preset": preset,
            "stage": stage,
            "mode": m,
            "crop": tr0.model_cfg.crop_size,
            "params_M": round(parameter_counts(tr0.model)["total"] / 1e6, 2),
            "s_per_iter": round(t, 4),
            "samples_per_s": round(tr0.cfg.batch_size / t, 1),
            "data_share": round(t_data / t, 3),
            "speedup_vs_eager": round(eager / t, 2),
            "projected_paper_schedule_h": round(PAPER_SCHEDULE * t / 3600, 2),
        }
        for m, t in best.items()
    ]


def agreement(modes: list[str], iters: int, device: torch.device) -> dict[str, float]:
    """Largest relative difference of the `ci` full step's loss terms over `iters` iterations, per
    mode against eager, from the same seed and the same batches."""
    curves = {}
    for m in ["eager", *[m for m in modes if m != "eager"]]:
        tr = make_trainer("ci", 2, m, device)
        curves[m] = torch.stack([torch.stack([t.float() for t in tr.step().values()]) for _ in range(iters)])
    ref = curves["eager"]
    return {m: float(((c - ref).abs() / ref.abs().clamp_min(1e-8)).max()) for m, c in curves.items() if m != "eager"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["ci", "laptop", "paper"])
    ap.add_argument("--stages", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=list(MODES))
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--compile", action="store_true", help="also time torch.compile of the modules")
    ap.add_argument("--agreement", type=int, default=0, help="iterations of the loss-agreement check (0: skip)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", default=None, help="also write the rows to this JSON file")
    args = ap.parse_args()
    device = pick_device(args.device)
    print(f"device: {device}, torch threads: {torch.get_num_threads()}", flush=True)
    rows = []
    for preset in args.presets:
        for stage in args.stages:
            slow = preset == "paper" and device.type == "cpu"
            iters = max(2, args.iters // 5) if slow else args.iters
            for row in bench(preset, stage, args.modes, iters, 1 if slow else args.rounds, device, args.compile):
                rows.append(row)
                print(json.dumps(row), flush=True)
    result = {"rows": rows}
    if args.agreement:
        result["agreement_max_rel_diff"] = agreement(args.modes, args.agreement, device)
        print("loss terms, largest relative difference to eager over", args.agreement, "iterations:",
              json.dumps(result["agreement_max_rel_diff"]))  # fmt: skip
    if args.out:
        from mlib.atomic import write_json

        write_json(args.out, {"device": str(device), "threads": torch.get_num_threads(), "modes": MODES, **result})

if __name__ == "__main__":
    main()
