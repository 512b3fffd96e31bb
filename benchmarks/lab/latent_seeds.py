"""Notebook 03's latent measures on three seeds: the committed spread its one-run claims are judged against.

    OMP_NUM_THREADS=1 python -m benchmarks.lab.latent_seeds --preset laptop --seeds 0 1 2

For each seed, Real+Synth and Distr. Match at n = 100 under this code's defaults (the cells of
`--run-dir`, trained where missing, each from the shipped stage 1 of its seed), measured exactly as
notebook 03 measures them with its default parameters: the median latent distance of corresponding real
and synthetic test frames (the first `n_pairs`), the fresh linear probe's accuracy and the kNN mixing
score on the first `n_probe` test frames per domain, and h's accuracy at the end of training. Writes
`latents-<preset>.json` (per seed, and each measure's mean and spread by the one rule's `seed_stats`);
`mlib/reference/` holds the copy the claims read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from benchmarks.lab import REPO, RESULTS
from benchmarks.lab.ablation import commit
from mlib.analysis import domain_mixing, domain_separability, pair_distances, paired_latents
from mlib.atomic import write_json
from mlib.claims import seed_stats
from mlib.experiment import Experiment
from mlib.presets import PRESET_NAMES

N_LABELED, N_PAIRS, N_PROBE, KNN_K = 100, 500, 2000, 10  # notebook 03's parameters
VARIANTS = ("real_synth", "distr_match")


def measure(exp: Experiment, variant: str) -> dict:
    res = exp.cell(variant, N_LABELED)
    model = exp.model(res)
    pairs = torch.arange(min(N_PAIRS, len(exp.test)))
    frames = torch.arange(min(N_PROBE, len(exp.test)))
    z_real, z_synth = paired_latents(model, exp.test, True, frames, exp.device)
    return {
        "median_pair_distance": float(np.median(pair_distances(model, exp.test, True, pairs, exp.device))),
        "probe": domain_separability(z_real, z_synth),
        "mixing": domain_mixing(z_real, z_synth, KNN_K),
        "h_accuracy": [r["disc_acc"] for r in res.history if "disc_acc" in r][-1] if variant == "distr_match" else None,
        "test_mm": res.test_error_mm,
        "val_mm": res.summary["val_mean"],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="laptop", choices=PRESET_NAMES)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--run-dir", default=None, help="default runs/stage2-<preset> (the shipped models' cells)")
    ap.add_argument("--data-dir", default=str(REPO / "data_cache"))
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)
    run_dir = Path(args.run_dir or REPO / "runs" / f"stage2-{args.preset}")
    per_seed: dict[str, dict[str, dict]] = {v: {} for v in VARIANTS}
    for seed in args.seeds:
        exp = Experiment.open(args.preset, run_dir, args.data_dir, progress=False, seed=seed)
        for variant in VARIANTS:
            per_seed[variant][str(seed)] = measure(exp, variant)
            print(f"seed {seed} {variant}: {per_seed[variant][str(seed)]}", flush=True)
    stats = {
        v: {k: seed_stats({s: row[k] for s, row in rows.items()}) for k in next(iter(rows.values())) if
                      all(row[k] is not None for row in rows.values())}
        for v, rows in per_seed.items()
    }  # fmt: skip
    write_json(Path(args.out) / f"latents-{args.preset}.json", {
        "about": __doc__.split("\n\n")[0],
        "command": f"OMP_NUM_THREADS=1 python -m benchmarks.lab.latent_seeds --preset {args.preset}",
        "commit": commit(),
        "parameters": {"n": N_LABELED, "n_pairs": N_PAIRS, "n_probe": N_PROBE, "knn_k": KNN_K},
        "seeds": args.seeds,
        "stats": stats,
        "per_seed": per_seed,
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
