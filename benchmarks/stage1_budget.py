"""The floor against stage 1's budget: how the Synth only model's error falls with its iterations.

    python benchmarks/regime.py --preset laptop --run-dir runs/regime-laptop-s1-16k --stage1-iters 16000 \
        --cells synth_only --only-seeds 0          # one such run per budget
    python benchmarks/stage1_budget.py --preset laptop \
        --runs 4000=runs/regime-laptop/lr-0.01 8000=runs/regime-laptop-s1-8k/lr-0.01 16000=runs/regime-laptop-s1-16k/lr-0.01

evaluates each finished seed-0 Synth only model on the synthetic renders and the real frames of the
validation and test splits and writes `stage1-budget-<preset>.json` (the stage-1 wall time from its
history). The preset's stage-1 budget is chosen on the validation numbers; the test ones are reported.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mlib.atomic import write_json
from mlib.evaluate import evaluate_store
from mlib.experiment import Experiment
from mlib.presets import PRESET_NAMES

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="laptop", choices=PRESET_NAMES)
    ap.add_argument("--runs", nargs="+", required=True, help="ITERS=RUN_DIR, each with a finished stage1-seed0")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)
    rows = []
    for item in args.runs:
        iters, _, run = item.partition("=")
        if not iters.isdigit() or not run:
            raise SystemExit(f"--runs: {item!r}; give ITERS=RUN_DIR")
        if not (Path(run) / "stage1-seed0" / "stage1.pt").exists():
            raise SystemExit(f"{run}: no stage1-seed0/stage1.pt; train it first (see this script's docstring)")
        exp = Experiment.open(args.preset, run, progress=False, stage1_iters=int(iters))
        model = exp.model(exp.cell("synth_only"))  # a finished stage 1 is loaded, not retrained
        row = {"stage1_iters": int(iters), "run_dir": run}
        for split, store in (("val", exp.val), ("test", exp.test)):
            for domain, name in (("synth", "synthetic"), ("real", "real")):
                err = evaluate_store(model, store, domain, through_mapping=False, device=exp.device)["mean"]
                row[f"{split}_{name}_mm"] = err
        row["test_gap_ratio"] = row["test_real_mm"] / row["test_synthetic_mm"]
        history = json.loads((Path(run) / "stage1-seed0" / "history-stage1.json").read_text())
        row["stage1_wall_s"] = float(history[-1]["seconds"])
        rows.append(row)
        print(
            f"{iters:>6s} iterations: validation renders {row['val_synthetic_mm']:.2f}, real {row['val_real_mm']:.2f} mm; "
            f"test renders {row['test_synthetic_mm']:.2f}, real {row['test_real_mm']:.2f} mm "
            f"(ratio {row['test_gap_ratio']:.2f}); stage 1 took {row['stage1_wall_s']:.0f} s",
            flush=True,
        )
    doc = {
        "about": "Seed-0 Synth only models of one preset trained for different stage-1 iteration counts (scaled "
        "schedule, the preset's base rate), each evaluated on the synthetic renders and the real frames of the "
        "validation and test splits; errors in mm; stage1_wall_s is the stage's wall time as its history recorded "
        "it (one thread, beside a second worker). test_gap_ratio = test real / test synthetic.",
        "preset": args.preset,
        "rows": rows,
    }
    write_json(Path(args.out) / f"stage1-budget-{args.preset}.json", doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
