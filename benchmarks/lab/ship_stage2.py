"""Train the stage-2 models the notebooks compare against, for one seed, and ship them.

    OMP_NUM_THREADS=1 python -m benchmarks.lab.ship_stage2 --preset laptop --seed 0 \
        --run-dir runs/stage2-laptop --out mlib/pretrained

trains (or reloads) each cell of `CELLS` at the preset's settings, starting from the shipped stage 1,
then writes `out/stage2-<preset>-<variant>-n<n>-seed<k>.pt` (`mlib.pretrained.export_stage2`: float16
f, p and m, the configurations, the command, the commit, a fingerprint of the crops, the history and the
errors on the validation and test splits) and `out/stage2-<preset>.json` with every file's numbers and
size. A notebook loads these through `Experiment.comparison` instead of training them, unless its
`train_everything` parameter is set. Ship again only when the preset's settings change.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.lab import REPO
from benchmarks.lab.ship_stage1 import git_commit
from mlib.atomic import write_json
from mlib.cells import evaluate_cell, stage1_in_use
from mlib.checkpoint import load_trained_model
from mlib.experiment import Experiment
from mlib.presets import PRESET_NAMES
from mlib.pretrained import (
    STAGE2_MODULES,
    data_fingerprint,
    export_stage2,
    stage2_file,
    stage2_summary_path,
    weights_digest,
)
from mlib.train import uses_bf16
from mlib.variants import VARIANTS

# (variant, n): the comparisons of notebooks 02-04 (04 at n = 10 and 100), then Full at n = 100 (05 and 06
# compare it) and Real only (05; trained from scratch, the longest). View Pred. and Distr. Match at n = 100
# are the models 02 and 03 train live, and a series run reuses them: shipping them too would take the
# files past 20 MB (each file is 3.6 MB, most of it the mapping m).
CELLS: list[tuple[str, int]] = [("real_synth", 100), ("real_synth", 10), ("full", 10), ("full", 100), ("real_only", 100)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="laptop", choices=PRESET_NAMES)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--run-dir", default=None, help="where the cells train, resumable (default: runs/stage2-<preset>)")
    ap.add_argument("--data-dir", default=str(REPO / "data_cache"))
    ap.add_argument("--out", default=str(REPO / "mlib" / "pretrained"), help="folder of the shipped float16 files")
    ap.add_argument("--cells", nargs="+", default=None, help="only these variant:n cells (default: all of CELLS)")
    args = ap.parse_args(argv)
    cells = [(c.split(":")[0], int(c.split(":")[1])) for c in args.cells] if args.cells else CELLS
    if bad := [v for v, _ in cells if v not in VARIANTS or not VARIANTS[v].stage2]:
        raise SystemExit(f"--cells {bad[0]}: not a stage-2 variant; ship_stage1 ships stage 1 (Synth only)")
    run_dir = args.run_dir or str(REPO / "runs" / f"stage2-{args.preset}")
    exp = Experiment.open(args.preset, run_dir, args.data_dir, progress=True, seed=args.seed)
    command = "python -m benchmarks.lab.ship_stage2 " + " ".join(argv if argv is not None else sys.argv[1:])
    fingerprint, commit = data_fingerprint(exp.train), git_commit()  # the commit the files are written at
    summary_path = stage2_summary_path(Path(args.out), args.preset)
    rows = json.loads(summary_path.read_text())["files"] if summary_path.is_file() else {}  # --cells: the others stay
    for variant, n in cells:
        res, run = exp.cell(variant, n), exp.run_of(variant, n)
        stage1 = stage1_in_use(run, exp.splits, exp.stage1_dir())
        path = stage2_file(args.preset, variant, run.n_labeled, args.seed, args.out)
        # the numbers of the weights that ship: the shipped modules rounded to float16 as export_stage2 stores them
        model = load_trained_model(res.checkpoint, exp.device)
        for name in STAGE2_MODULES:
            getattr(model, name).half().float()
        shipped = evaluate_cell(model, VARIANTS[variant], exp.test, exp.val, exp.device)
        errors = {"val_real_mm": shipped["val_mean"], "test_real_mm": shipped["mean"],
                  "float32_test_real_mm": res.test_error_mm}  # fmt: skip
        digest = stage1 and weights_digest(stage1)
        export_stage2(res.checkpoint, path, run, errors, command, commit, fingerprint, digest, uses_bf16(run.train, exp.device))
        rows[path.name] = {"variant": variant, "n_labeled": n, "seed": args.seed, **errors, "train_seconds": res.seconds,
                           "bytes": path.stat().st_size, "command": command, "commit": commit}  # fmt: skip
        print(f"{variant} n={n}: test {errors['test_real_mm']:.2f} mm, validation {errors['val_real_mm']:.2f} -> {path}", flush=True)
    total = sum(r["bytes"] for r in rows.values())
    write_json(summary_path, {"preset": args.preset, "files": rows, "total_bytes": total})
    print(f"{len(rows)} files, {total / 1e6:.1f} MB in all -> {summary_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
