"""Reproduce the paper's ablation (Fig. 4, Table 1) on the embedded data, with seeds.

    python -m benchmarks.lab.ablation --preset laptop --n 10 100 1000 all \\
        --variants synth_only real_only real_synth distr_match view_pred full --seeds 3 --out benchmarks/results/

Shares one stage-1 checkpoint per seed across variants, trains every (variant, n, seed) cell in
a run folder (default runs/ablation-<preset>), evaluates on the real test split, and writes
ablation-<preset>.json and ablation-<preset>.png to --out. Interrupted grids resume: finished
cells are reloaded, a half-trained one continues from its checkpoint. `--workers K` trains the grid
as K processes on the one run folder (one CPU thread each, or K processes on one GPU): each takes the
first cell nobody holds, so stage 1 of different seeds and the cells without stage 1 run side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from benchmarks.lab import REPO, RESULTS  # noqa: E402
from benchmarks.lab.record import replace_block  # noqa: E402
from benchmarks.lab.workers import launch_workers, worker_exits_cleanly  # noqa: E402
from mlib.analysis import (  # noqa: E402
    LATENT_KEYS,
    LATENT_MODELS,
    grid_cells,
    latent_analysis,
    paired_on_splits,
    room,
)
from mlib.atomic import write_json, write_text  # noqa: E402
from mlib.claims import grid_claims, latent_claims, mean_spread, seed_stats  # noqa: E402
from mlib.claims.book import best_baseline  # noqa: E402
from mlib.experiment import VARIANT_NAMES as NAMES  # noqa: E402
from mlib.experiment import (  # noqa: E402
    add_experiment_arguments,
    cell_dir,
    grid_table,
    load_result,
    open_from_args,
)
from mlib.paper_results import PAPER_ABLATION_MM, PAPER_N  # noqa: E402
from mlib.plots import plot_error_vs_n  # noqa: E402
from mlib.presets import PRESET_NAMES, STAGE2_LR_SCALES, for_variant  # noqa: E402
from mlib.variants import VARIANTS, stage_iterations  # noqa: E402

README_START, README_END = "<!-- grid: start -->", "<!-- grid: end -->"


def strip_option(argv: list[str], name: str) -> list[str]:
    """argv without `name VALUE` or `name=VALUE`."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == name:
            skip = True
        elif not a.startswith(name + "="):
            out.append(a)
    return out


def earlier_cells(folder: Path, variants: list[str], ns: list, seeds: list[int]) -> list:
    """The grid's cells of `seeds` read from their result copies <cell>.json in `folder`."""
    names = {cell_dir(folder, v, n, s).name for s in seeds for v in variants for n in ns}
    missing = sorted(name for name in names if not (folder / f"{name}.json").exists())
    if missing:
        raise FileNotFoundError(f"{folder}: no result copy for {', '.join(missing)}; train those seeds too")
    return [load_result(folder / f"{name}.json") for name in sorted(names)]


def parse_n(values: list[str]) -> list[int | str]:
    return [v if v == "all" else int(v) for v in values]


def commit() -> str:
    """The code's git commit; a copy of the code outside git (a background run's frozen copy) names the
    commit it was copied from in $MLIB_SOURCE_COMMIT."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    except OSError:
        head = ""
    return head or os.environ.get("MLIB_SOURCE_COMMIT", "unknown")


def seeds_label(cells: list[dict]) -> str:
    """'3 seeds', or '2-3 seeds per cell' when a report over finished cells is uneven."""
    counts = sorted({c["seeds"] for c in cells})
    if len(counts) == 1:
        return f"{counts[0]} seed(s)"
    return f"{counts[0]}-{counts[-1]} seeds per cell"


def grid_latents(exp, run_dir: Path, seeds: list[int], n: int = 100) -> dict:
    """Paper §4.4 at n labels (`mlib.analysis.latent_analysis`) over every seed whose Synth only,
    Real+Synth and Full cells still have their checkpoints in run_dir (cells read back from result
    copies have none). The analysed models' own test errors come along: a cell retrained on another
    machine is not bit-identical to the grid's copy."""
    models: dict[int, dict] = {}
    errors: dict[str, dict[str, float]] = {v: {} for v in LATENT_MODELS}
    for seed in seeds:
        files = {v: cell_dir(run_dir, v, n, seed) / "result.json" for v in LATENT_MODELS}
        ckpts = {v: Path(load_result(f).checkpoint) if f.exists() else None for v, f in files.items()}
        if not all(c is not None and c.exists() for c in ckpts.values()):
            print(f"latent analysis: seed {seed} left out (no checkpoints of its n={n} cells in {run_dir})")
            continue
        models[seed] = {v: exp.model(c) for v, c in ckpts.items()}
        for v, f in files.items():
            errors[v][str(seed)] = load_result(f).test_error_mm
    return latent_analysis(models, exp.test, n, exp.device, errors)


def parse_rate_cells(items: list[str]) -> dict[float, Path]:
    """`--rate-cells SCALE=FOLDER ...` as {scale: folder}."""
    out = {}
    for item in items:
        scale, _, folder = item.partition("=")
        try:
            out[float(scale)] = Path(folder)
        except ValueError:
            raise SystemExit(f"--rate-cells {item!r}: give SCALE=FOLDER, e.g. 0.1=benchmarks/results/ablation-laptop-cells-x0.1") from None
        if not out[float(scale)].is_dir():
            raise SystemExit(f"--rate-cells {item!r}: {folder} is not a folder")
    return out


def choose_rates(preset: str, results: list, alternatives: dict[float, Path], seeds: list[int]) -> tuple[list, list[dict]]:
    """Per (variant, n) that an alternative folder holds for every seed: the stage-2 rate scale whose
    cells have the lowest mean validation error over the seeds, the same rule for every variant (the
    preset's scale is one candidate: the cells in `results`). Returns the results with each chosen
    scale's cells in place of the preset's, and the search's record."""
    by_key: dict[tuple, list] = {}
    for r in results:
        by_key.setdefault((r.variant, r.n_labeled), []).append(r)
    searches = []
    for (variant, n), base in by_key.items():
        preset_scale = STAGE2_LR_SCALES[preset].get(variant, 1.0)
        candidates = {preset_scale: base}
        for scale, folder in alternatives.items():
            files = [folder / f"{cell_dir(folder, variant, n, s).name}.json" for s in seeds]
            if all(f.exists() for f in files):
                candidates[scale] = [load_result(f) for f in files]
        if len(candidates) == 1:
            continue
        rows = [
            {
                "stage2_lr_scale": scale,
                "val_mm": seed_stats([r.summary["val_mean"] for r in rs]),
                "test_mm": seed_stats([r.test_error_mm for r in rs]),
            }
            for scale, rs in sorted(candidates.items(), reverse=True)
        ]
        chosen = min(rows, key=lambda r: r["val_mm"]["mean"])["stage2_lr_scale"]
        searches.append({"variant": variant, "n_labeled": n, "candidates": rows, "chosen": chosen})
        by_key[(variant, n)] = candidates[chosen]
    return [r for rs in by_key.values() for r in rs], searches


def per_n(cells: list[dict], ns: list) -> dict:
    """Per n: the room (Real+Synth's, and every stage-2 variant's under `by_variant`), each mechanism
    against Real+Synth and Full against the best baseline, paired by seed on both splits."""
    rooms = room(cells)
    by = {(c["variant"], c["n_labeled"]): c for c in cells}
    out = {}
    for n in ns:
        entry: dict = {}
        here = {r["variant"]: {k: r[k] for k in ("onto_stage1", "own") if k in r} for r in rooms if r["n_labeled"] == n}
        if "real_synth" in here:
            entry["room"] = {"variant": "real_synth", **here["real_synth"], "by_variant": here}
        if ("real_synth", n) in by:
            entry["vs_real_synth"] = {
                v: paired_on_splits(by[(v, n)], by[("real_synth", n)])
                for v in ("distr_match", "view_pred", "full")
                if (v, n) in by
            }
        base = best_baseline(cells, n)
        if base is not None and ("full", n) in by:
            entry["full_vs_best_baseline"] = {"baseline": base["variant"], **paired_on_splits(by[("full", n)], base)}
        out[str(n)] = entry
    return out


def committed_latents(path: Path) -> dict | None:
    """The latent analysis of an earlier report (its models' checkpoints are not in this run folder),
    each statistic's spread recomputed from its per-seed values by the one rule's `seed_stats`, and the
    commit that measured it named under `carried_over_from`."""
    if not path.exists():
        return None
    old = json.loads(path.read_text())
    latent = old.get("latent_analysis")
    if not latent or not latent.get("stats"):
        return None
    stats = {v: {k: seed_stats(s["per_seed"]) for k, s in by_key.items()} for v, by_key in latent["stats"].items()}
    return {**latent, "stats": stats, "carried_over_from": latent.get("carried_over_from", old.get("commit"))}


def cell_text(text: str) -> str:
    return text.replace("|", "\\|")  # a table cell may not hold a bare pipe


def results_markdown(report: dict) -> str:
    """The grid and its claims (`grid_markdown`), then the latent statistics behind the last claims."""
    return "\n".join([grid_markdown(report), *latent_markdown(report)]) + "\n"


def grid_markdown(report: dict) -> str:
    """The grid beside the paper's Fig. 4 numbers on NYU, then every claim with its verdict: the table
    the README quotes, written from the report so no number in it is typed by hand."""
    cells = {(c["variant"], c["n_labeled"]): c for c in report["cells"]}
    ns = list(dict.fromkeys(c["n_labeled"] for c in report["cells"]))
    paper_col = {n: len(PAPER_N) - 1 if n == "all" else PAPER_N.index(n) if n in PAPER_N else None for n in ns}
    seeds = seeds_label(report["cells"])
    head = "| variant | " + " | ".join(f"n={n}" for n in ns) + " |"
    lines = [
        f"Mean joint error (mm) on the real test split, {report['preset']} preset ({seeds}, mean ± std), "
        "beside the paper's NYU value (Fig. 4; n=all is NYU's 72,757 frames):",
        "",
        head,
        "|---" * (len(ns) + 1) + "|",
    ]
    for v in dict.fromkeys(c["variant"] for c in report["cells"]):
        row = []
        for n in ns:
            c = cells.get((v, n))
            ours = mean_spread(c["mean_error_mm"], c["std_error_mm"], c["seeds"]) if c else "–"
            col = paper_col.get(n)
            paper = PAPER_ABLATION_MM[NAMES[v]][col] if col is not None and NAMES[v] in PAPER_ABLATION_MM else None
            row.append(f"{ours} (paper {paper})" if paper is not None else ours)
        lines.append(f"| {cell_text(NAMES[v])} | " + " | ".join(row) + " |")
    lines += [""] + rate_markdown(report) + paired_markdown(report)
    lines += ["", "| claim (test split; verdicts by the paired rule over this grid's seeds) | verdict |", "|---|---|"]
    for c in report["claims"]:
        lines.append(f"| {cell_text(c['shown'])} | {c['verdict']} |")
    return "\n".join(lines)


def rate_markdown(report: dict) -> list[str]:
    """The stage-2 rate scales chosen on validation where the grid searched them, with every candidate's
    mean validation (and test) error over the seeds."""
    rows = report.get("stage2_rate_search") or []
    if not rows:
        return []
    lines = [
        "Stage-2 rate scales searched on validation (the same candidates and rule for every variant: the lowest "
        "mean validation error over the seeds); validation / test mm per candidate, the chosen one in bold:",
        "",
    ]
    for r in rows:
        parts = [
            ("**{}**" if c["stage2_lr_scale"] == r["chosen"] else "{}").format(
                f"× {c['stage2_lr_scale']:g}: {c['val_mm']['mean']:.2f} / {c['test_mm']['mean']:.2f}"
            )
            for c in r["candidates"]
        ]
        lines.append(f"* n={r['n_labeled']}, {NAMES[r['variant']]}: " + "; ".join(parts))
    return lines + [""]


def paired_markdown(report: dict) -> list[str]:
    """Per n, each comparison's per-seed differences (mm, arm - baseline) on both splits with the
    rule's verdict, and the room: the table behind the grid's verdicts."""
    by_n = report.get("by_n") or {}
    if not by_n:
        return []
    fmt = lambda d: "–" if "per_seed" not in d else (  # noqa: E731
        f"{d['mean']:+.2f} ({', '.join(f'{v:+.2f}' for v in d['per_seed'].values())})"
    )
    lines = [
        "Paired by seed (each seed's stage 1 and labelled subset are shared): arm − baseline in mm, mean "
        "(per seed), and the verdict of the rule (`mlib.claims.seeds`: a t-test at 10 %, two-sided) on each "
        "split; a comparison *holds* only where both splits agree.",
        "",
        "| n | arm | baseline | test | validation | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for n, entry in by_n.items():
        rows = [(NAMES[v], "Real+Synth", p) for v, p in entry.get("vs_real_synth", {}).items()]
        if "full_vs_best_baseline" in entry:
            fb = entry["full_vs_best_baseline"]
            rows.append((NAMES["full"], f"best baseline: {NAMES[fb['baseline']]}", fb))
        for arm, base, p in rows:
            lines.append(
                f"| {n} | {cell_text(arm)} | {cell_text(base)} | {fmt(p['test'])} | {fmt(p['val'])} | {p['verdict']} |"
            )
    lines += [
        "",
        "The room (`mlib.analysis.room`): onto the stage-1 predictor, Synth only's error on the synthetic "
        "renders over Real+Synth's real error (what a perfect mapping could bring it to; NYU in the paper: "
        "0.77 at n = 100); and Real+Synth's own render error over its real error. Mean ± std (per seed):",
        "",
        "| n | onto stage 1 | own |",
        "|---|---|---|",
    ]
    for n, entry in by_n.items():
        r = entry.get("room")
        if r:
            show = lambda s: (  # noqa: E731
                f"{mean_spread(s['mean'], s['std'], len(s['per_seed']))} ({', '.join(f'{v:.2f}' for v in s['per_seed'].values())})"
            )
            lines.append(f"| {n} | {show(r['onto_stage1']) if 'onto_stage1' in r else '–'} | {show(r['own'])} |")
    return lines


def latent_markdown(report: dict) -> list[str]:
    """The latent statistics behind the last claims, per model, and the test error of each analysed
    model beside its grid cell's (they differ where the cell was retrained for its checkpoint)."""
    latent = report.get("latent_analysis") or {}
    if not latent.get("stats"):
        return []
    n, seeds = latent["n_labeled"], latent["seeds"]
    grid = {c["variant"]: c for c in report["cells"] if c["n_labeled"] == n}
    lines = [
        "",
        f"Latent statistics at n={n} (paper §4.4), seeds {', '.join(map(str, seeds))}, mean ± std:",
        "",
        "| model | " + " | ".join(LATENT_KEYS) + " | analysed models' test mm, per seed | grid cell's, per seed |",
        "|---" * (len(LATENT_KEYS) + 3) + "|",
    ]
    for v, stats in latent["stats"].items():
        values = [mean_spread(stats[k]["mean"], stats[k]["std"] or 0.0, len(seeds), digits=3) for k in LATENT_KEYS]
        analysed = latent.get("models_test_error_mm", {}).get(v, {})
        grid_seeds = grid[v]["per_seed_mm"] if v in grid else []
        lines.append(
            f"| {cell_text(NAMES[v])} | "
            + " | ".join(values)
            + f" | {', '.join(f'{analysed[str(s)]:.2f}' for s in seeds if str(s) in analysed) or '–'}"
            + f" | {', '.join(f'{e:.2f}' for e in grid_seeds) or '–'} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="laptop", choices=PRESET_NAMES)
    ap.add_argument("--n", nargs="+", default=["10", "100", "1000", "all"])
    ap.add_argument("--variants", nargs="+", default=list(NAMES), choices=list(NAMES))
    ap.add_argument("--seeds", type=int, default=3, help="number of seeds (0 .. seeds-1)")
    ap.add_argument(
        "--only-seeds",
        type=int,
        nargs="+",
        default=None,
        help="train just these of the seeds (with --workers K, K processes share them); "
        "report only with --cells-from",
    )
    ap.add_argument(
        "--cells-from",
        default=None,
        help="read the cells of the seeds not in --only-seeds (without it: of every seed, training nothing) "
        "from the <cell>.json copies in this folder (an earlier run of the same code and preset, e.g. "
        "benchmarks/results/ablation-laptop-cells); the latent analysis still reads the run folder's checkpoints",
    )
    add_experiment_arguments(ap)
    ap.add_argument(
        "--only-finished",
        action="store_true",
        help="train nothing: report the cells that finished (each cell says over how many seeds)",
    )
    ap.add_argument(
        "--workers",
        type=int,
        default=1,
        help="train the grid as K processes sharing the run folder (one CPU thread each, or one GPU), then report",
    )
    ap.add_argument(
        "--stage2-lr-scale",
        type=float,
        default=None,
        help="every stage-2 variant at this rate scale (stage-2 rate = base rate x scale) instead of the "
        "preset's per-variant choice: the cells of a rate search, in a run folder of their own",
    )
    ap.add_argument(
        "--rate-cells",
        nargs="+",
        default=[],
        metavar="SCALE=FOLDER",
        help="result copies of the grid's cells trained at another stage-2 rate scale (--stage2-lr-scale); "
        "per (variant, n) they hold for every seed, the scale with the lowest mean validation error is used",
    )
    ap.add_argument("--grid-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--run-dir", default=None, help="where cells are trained (default runs/ablation-<preset>)")
    ap.add_argument("--readme", default=None, help="also refill this README's grid block with the grid and its claims")
    args = ap.parse_args(argv)
    ns = parse_n(args.n)
    run_dir = Path(args.run_dir or REPO / "runs" / f"ablation-{args.preset}")
    if args.only_seeds is not None:
        seeds = sorted(set(args.only_seeds))
    else:  # --cells-from alone: the whole grid from the copies, nothing trained
        seeds = [] if args.cells_from else list(range(args.seeds))
    exp = open_from_args(args, run_dir)
    if args.stage2_lr_scale is not None:  # an explicit scale wins over the preset's (mlib.presets.for_variant)
        exp = dataclasses.replace(exp, cfg=dataclasses.replace(exp.cfg, stage2_lr_scale=args.stage2_lr_scale))
    if args.grid_worker:  # one of --workers K processes: take free cells until the grid is done
        worker_exits_cleanly()
        exp.grid(args.variants, ns, seeds, shared=True)
        return 0
    if args.workers > 1 and not args.only_finished and seeds:
        worker_argv = strip_option(list(argv if argv is not None else sys.argv[1:]), "--workers")
        cells = [cell_dir(run_dir, v, n, s) for s in seeds for v in args.variants for n in ns]
        launch_workers("benchmarks.lab.ablation", worker_argv, args.workers, run_dir, [c / "result.json" for c in cells])
    results = exp.grid(args.variants, ns, seeds, only_finished=args.only_finished)
    if args.only_seeds is not None and not args.cells_from:  # one part of a grid split by seeds: no report
        return 0
    if args.cells_from:
        others = [s for s in range(args.seeds) if s not in seeds]
        results = earlier_cells(Path(args.cells_from), args.variants, ns, others) + results
    rate_search: list[dict] = []
    if args.rate_cells:
        results, rate_search = choose_rates(args.preset, results, parse_rate_cells(args.rate_cells), list(range(args.seeds)))
    chosen_scale = {(r["variant"], r["n_labeled"]): r["chosen"] for r in rate_search}
    table = grid_table(results, ns)

    cells = grid_cells(results, args.variants, ns)
    for c in cells:  # what shaped each cell's numbers: its iterations and its stage-2 rate scale
        variant = VARIANTS[c["variant"]]
        c["stage1_iters"] = stage_iterations(exp.cfg, variant, 1) if variant.pretrained else 0
        c["stage2_iters"] = stage_iterations(exp.cfg, variant, 2) if variant.stage2 else 0
        if variant.stage2:
            default = for_variant(args.preset, exp.cfg, c["variant"]).stage2_lr_scale
            c["stage2_lr_scale"] = chosen_scale.get((c["variant"], c["n_labeled"]), default)
    by_n = per_n(cells, ns)
    # the grid is judged on its own seeds, paired (it is what later runs compare with)
    claims = grid_claims(cells, args.preset, NAMES, compare_committed=False, rooms=room(cells))
    # every seed of the grid: those trained here and those read back (if their checkpoints are still here)
    latent = grid_latents(exp, run_dir, list(range(args.seeds))) if 100 in ns else None
    if 100 in ns and not (latent and latent["stats"]):  # no checkpoints here: the committed analysis, re-judged
        latent = committed_latents(Path(args.out) / f"ablation-{args.preset}.json")
    if latent is not None and latent["stats"]:
        claims += latent_claims(latent["stats"], args.preset, latent["n_labeled"], compare_committed=False)
    report = {
        "preset": args.preset,
        "commit": commit(),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "device": str(exp.device),
            "threads": torch.get_num_threads(),
        },
        "train_config": dataclasses.asdict(exp.cfg),  # routing, loss weights, schedule: what shaped the numbers
        "train_frames": len(exp.train),
        "test_frames": len(exp.test),
        "cells": cells,
        "stage2_rate_search": rate_search,
        "by_n": by_n,
        "claims": claims.records(),
        "latent_analysis": latent,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / f"ablation-{args.preset}.json", report)
    write_text(out / f"ablation-{args.preset}.md", results_markdown(report))
    if args.readme:
        replace_block(Path(args.readme), README_START, README_END, grid_markdown(report))

    fig, ax = plt.subplots(figsize=(8, 5))
    plot_error_vs_n(
        {NAMES[v]: table[v] for v in args.variants if v in table},
        ax=ax,
        title=f"Ablation on the embedded data, {args.preset} preset, {seeds_label(cells)}",
        n_all=len(exp.train),
    )
    fig.tight_layout()
    fig.savefig(out / f"ablation-{args.preset}.png", dpi=120)

    width = max(len(NAMES[v]) for v in args.variants)
    print("variant".ljust(width) + "".join(f"n={n}".rjust(18) for n in ns))
    for v in args.variants:
        print(NAMES[v].ljust(width) + "".join(mean_spread(*table[v][n]).rjust(18) for n in ns))
    print(claims)
    print("\n".join(paired_markdown(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
