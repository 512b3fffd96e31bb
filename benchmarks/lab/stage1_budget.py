"""The floor against stage 1's budget: how the Synth only model's error falls with its iterations.

    python -m benchmarks.lab.ship_stage1 --preset laptop --seeds 0 --run-dir runs/stage1-laptop-32k \
        --out runs/stage1-laptop-32k/export --stage1-iters 32000      # one such run per budget
    python -m benchmarks.lab.stage1_budget --preset laptop --runs 16000=runs/stage1-laptop 32000=runs/stage1-laptop-32k

evaluates each finished seed-0 Synth only model on the synthetic renders and the real frames of the
validation and test splits and writes `stage1-budget-<preset>.json` (the stage-1 wall time from its
history) and `stage1-budget-<preset>.png`, each run's validation curve (the real validation frames its
training logged). The preset's stage-1 budget is chosen on the validation numbers; the test ones are
reported.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from benchmarks.lab import RESULTS
from mlib.atomic import atomic_write, write_json  # noqa: E402
from mlib.evaluate import evaluate_store  # noqa: E402
from mlib.experiment import Experiment  # noqa: E402
from mlib.presets import PRESET_NAMES  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="laptop", choices=PRESET_NAMES)
    ap.add_argument("--runs", nargs="+", required=True, help="ITERS=RUN_DIR, each with a finished stage1-seed0")
    ap.add_argument("--out", default=str(RESULTS))
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
        row["val_curve"] = [[r["iteration"], r["val_error_mm"]] for r in history if r.get("val_error_mm") is not None]
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
        "it (one thread, beside other workers). test_gap_ratio = test real / test synthetic. val_curve: [iteration, "
        "error on the first val_frames real validation frames] as the training logged it.",
        "preset": args.preset,
        "rows": rows,
    }
    write_json(Path(args.out) / f"stage1-budget-{args.preset}.json", doc)
    plot_curves(rows, Path(args.out) / f"stage1-budget-{args.preset}.png")
    return 0


def plot_curves(rows: list[dict], path: Path) -> None:
    """Each budget's validation error (real frames, as its training logged it) against the iteration."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for row in rows:
        it, err = zip(*row["val_curve"]) if row["val_curve"] else ((), ())
        ax.plot(it, err, lw=1.2, label=f"{row['stage1_iters']:,} iterations (final: {row['val_real_mm']:.2f} mm)")
    lowest = min((e for row in rows for _, e in row["val_curve"]), default=None)
    if lowest is not None:  # the early warm-up spikes would flatten the plateau the budget is chosen on
        ax.set_ylim(0.95 * lowest, 1.6 * lowest)
    ax.set_xlabel("stage-1 iteration")
    ax.set_ylabel("validation error, real frames (mm; clipped)")
    ax.set_title("Synth only, seed 0: the validation curve per stage-1 budget")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
