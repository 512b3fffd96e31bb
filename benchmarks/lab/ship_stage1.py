"""Train the shared stage 1 (Synth only: f and p on synthetic renders) per seed and ship it.

    OMP_NUM_THREADS=1 python -m benchmarks.lab.ship_stage1 --preset laptop --seeds 0 1 2 \
        --run-dir runs/stage1-laptop --out mlib/pretrained

trains (or resumes) `run-dir/stage1-seed<k>/stage1.pt` at the preset's stage-1 settings, then writes
`out/stage1-<preset>-seed<k>.pt`: the float16 weights of f and p only, with the model and training
configurations, the command, the commit, the data's settings key, the stage-1 history and the model's
errors on the validation and test splits (real frames and their synthetic renders). Every stage-2 run of
the preset starts from these files by default (`mlib.pretrained`); `--train` more seeds only when the
preset's stage-1 settings change. `--workers 2` trains two seeds at once (one thread each).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.lab import REPO
from mlib.evaluate import evaluate_store
from mlib.experiment import Experiment
from mlib.presets import PRESET_NAMES
from mlib.pretrained import export_stage1, renders_fingerprint, shipped_dir, stage1_summary_path, write_stage1_summary


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="laptop", choices=PRESET_NAMES)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--run-dir", default=str(REPO / "runs" / "stage1-laptop"), help="where stage 1 trains (resumable)")
    ap.add_argument("--data-dir", default=str(REPO / "data_cache"))
    ap.add_argument("--out", default="mlib/pretrained", help="folder of the shipped float16 checkpoints")
    ap.add_argument("--workers", type=int, default=1, help="seeds trained at once, one process (one thread) each")
    ap.add_argument("--no-export", action="store_true", help="train only (a worker of --workers)")
    ap.add_argument(
        "--stage1-iters",
        type=int,
        default=None,
        help="a length study: train this many iterations instead of the preset's (export with --out elsewhere "
        "than the package, whose files the preset's stage-2 runs read)",
    )
    args = ap.parse_args(argv)
    if args.workers > 1:  # one process per group of seeds, then export in this one
        groups = [args.seeds[i :: args.workers] for i in range(args.workers)]
        procs = []
        for g in groups:
            cmd = [sys.executable, __file__, "--preset", args.preset, "--run-dir", args.run_dir, "--data-dir", args.data_dir]
            cmd += ["--no-export", "--seeds", *map(str, g)]
            cmd += ["--stage1-iters", str(args.stage1_iters)] if args.stage1_iters else []
            procs.append(subprocess.Popen(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}))
        if any(p.wait() != 0 for p in procs):
            raise SystemExit("a stage-1 worker failed; rerun the same command to resume")
    if args.stage1_iters and Path(args.out).resolve() == shipped_dir().resolve():
        raise SystemExit(f"--stage1-iters {args.stage1_iters}: give --out a folder of its own; mlib/pretrained holds the preset's stage 1")
    exp = Experiment.open(
        args.preset, args.run_dir, args.data_dir, progress=True, use_shipped_stage1=False, stage1_iters=args.stage1_iters
    )
    command = "python -m benchmarks.lab.ship_stage1 " + " ".join(argv if argv is not None else sys.argv[1:])
    rows = []
    for seed in args.seeds:
        e = exp.with_seed(seed)
        path = e.pretrained()  # trains or resumes; a finished stage 1 is reused
        if args.no_export:
            continue
        model = e.model(path)
        errors = {
            f"{split}_{name}_mm": evaluate_store(model, store, domain, through_mapping=False, device=e.device)["mean"]
            for split, store in (("val", e.val), ("test", e.test))
            for domain, name in (("synth", "synthetic"), ("real", "real"))
        }
        shipped = export_stage1(path, Path(args.out), args.preset, seed, errors, command, git_commit(), renders_fingerprint(e.train))
        rows.append({"seed": seed, "file": shipped.name, **errors})
        print(f"seed {seed}: " + ", ".join(f"{k} {v:.2f}" for k, v in errors.items()) + f" -> {shipped}", flush=True)
    if rows:
        write_stage1_summary(stage1_summary_path(Path(args.out), args.preset), args.preset, rows, command)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
