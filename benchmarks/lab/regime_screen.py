"""The regime screens on seed 0: a predictor that is not capacity-bound, and a gap that labels do not close.

    OMP_NUM_THREADS=1 python -m benchmarks.lab.regime_screen --preset laptop [--candidates default distractor_0.5]

A candidate changes the generator's real domain or the model, and trains (or reloads) a few cells of
seed 0 in its own folder `<run-dir>/<candidate>`; every stage 2 runs the preset's schedule. Each cell
is measured on validation and test, on the real frames and, for a model that read renders, on the same
frames' synthetic renders. The criteria were fixed before any number was seen and are read on the
validation split (the test split's ratios are recorded beside them, not used to choose).

Hypothesis 3, a gap that labels do not close: `GeneratorConfig` fields that change the real domain
only. The renders stay as they are, so a candidate starts from the shipped stage 1 (its renders
fingerprint still matches). Cells: Synth only, Real+Synth at n = 1000, Real only with every label.
* Real+Synth's real error over its render error at n = 1000 >= 1.2 (1 would mean labels close the gap);
* Synth only's real error over Real only's (all labels) >= 1.3 (the paper's NYU: 21.3 / 14.7 = 1.45);
* Synth only's render error unchanged (it must be: the renders and the stage 1 are the default's).

Hypothesis 2, a predictor that is not capacity-bound: wider `ModelConfig` fields at the preset's crop,
with a stage 1 of its own (the preset's length). Cells: Synth only, Real only at n = 1000.
* Synth only's render error on validation below the preset network's (it has room to learn more);
* Real only at n = 1000 over Synth only >= 1.2 on the real frames (it overfits a thousand labels, as
  the paper's network does: about 34 / 21.3 = 1.6 on NYU).
`--mechanisms CANDIDATE --seeds 0 1 2` instead trains Real+Synth, Distr. Match and Full at n = 100 on a
candidate's data and judges each mechanism against Real+Synth by the one rule (paired, both splits).
The record `regime-screen-<preset>.json` is rewritten after each candidate; cells resume.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt

from benchmarks.lab import REPO, RESULTS
from benchmarks.lab.ablation import commit
from benchmarks.lab.record import replace_block
from benchmarks.lab.regime import link_stage1
from benchmarks.sgemm import sgemm_gflops
from mlib.analysis import paired_on_splits, room
from mlib.atomic import atomic_write, write_json
from mlib.claims import seed_stats
from mlib.claims.seeds import mean_spread
from mlib.data.datasets import labeled_subset
from mlib.evaluate import evaluate_store
from mlib.experiment import Experiment
from mlib.losses import LossWeights
from mlib.plots.evaluation import plot_setting_search
from mlib.presets import PRESET_NAMES, data_config
from mlib.variants import VARIANTS

REAL_GAP_CELLS = (("synth_only", "all"), ("real_synth", 1000), ("real_only", "all"))
PREDICTOR_CELLS = (("synth_only", "all"), ("real_only", 1000))


@dataclass(frozen=True)
class Candidate:
    hypothesis: int  # 2: the predictor, 3: the real domain
    about: str
    generator: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    cells: tuple = REAL_GAP_CELLS


# The paper's stage widths and a 1024-d latent at 64 px, with fewer blocks than its five per stage.
PAPER_WIDTHS = {"stem_channels": 32, "stage_channels": (64, 128, 256, 256), "latent_dim": 1024, "pose_hidden": 1024}
CANDIDATES: dict[str, Candidate] = {
    "default": Candidate(3, "the preset's generator and network", cells=REAL_GAP_CELLS + (("real_only", 1000),)),
    "distractor_0.5": Candidate(
        3,
        "an object beside the hand in half the real frames (a ball or a short rod, inside the crop's cube): "
        "nuisance variety the renders never show",
        generator={"distractor_p": 0.5},
    ),
    # beyond the criteria, a seed-0 look at the mechanisms at n = 100 where Synth only suffers most
    "distractor_1.0": Candidate(
        3, "an object beside the hand in every real frame", generator={"distractor_p": 1.0},
        cells=REAL_GAP_CELLS + (("real_synth", 100), ("distr_match", 100), ("full", 100)),
    ),
    # At the preset's base rate (1e-2) its stage 1 diverged in the warm-up (the pose loss jumped from 53 to 170
    # at iteration 500 and stayed there); 3e-3 is the next rate of the preset's grid (regime.py --lr-grid).
    "paper_widths_1block": Candidate(
        2, "the paper's stage widths, a 1024-d latent, one block per stage (f 1.3M parameters, 3x the preset's), "
        "base rate 3e-3", model={**PAPER_WIDTHS, "blocks_per_stage": 1}, train={"base_lr": 3e-3}, cells=PREDICTOR_CELLS,
    ),
}
CRITERIA = {
    3: {"real_synth_1000_real_over_render": 1.2, "synth_only_over_real_only_all": 1.3},
    2: {"real_only_1000_over_synth_only": 1.2, "synth_only_render_below_default": True},
}


def measure(exp: Experiment, variant: str, n) -> dict:
    """One cell, trained or reloaded: its real errors and, where it read renders, its render errors."""
    res = exp.cell(variant, n)
    cell = {"val_real_mm": res.summary["val_mean"], "test_real_mm": res.test_error_mm, "seconds": res.seconds}
    if res.summary.get("synthetic_frames_mean") is not None:  # p(f(x)) on the same frames' renders
        model = exp.model(res)
        cell["val_render_mm"] = evaluate_store(model, exp.val, "synth", through_mapping=False, device=exp.device)["mean"]
        cell["test_render_mm"] = res.summary["synthetic_frames_mean"]
    return cell


def ratios(row: dict, split: str, default: dict | None) -> dict:
    """The hypotheses' measures on one split, from the cells the candidate has."""
    c, out = row["cells"], {}
    real = lambda key: c[key][f"{split}_real_mm"]  # noqa: E731
    if "real_synth:1000" in c:
        out["real_synth_1000_real_over_render"] = real("real_synth:1000") / c["real_synth:1000"][f"{split}_render_mm"]
    if "synth_only:all" not in c:
        return out
    if "real_only:all" in c:
        out["synth_only_over_real_only_all"] = real("synth_only:all") / real("real_only:all")
    if "real_only:1000" in c:
        out["real_only_1000_over_synth_only"] = real("real_only:1000") / real("synth_only:all")
    if default is not None and "synth_only:all" in default["cells"] and row["hypothesis"] == 2:
        out["synth_only_render_below_default"] = (
            c["synth_only:all"][f"{split}_render_mm"] < default["cells"]["synth_only:all"][f"{split}_render_mm"]
        )
    return out


def candidate_experiment(preset: str, name: str, run_dir: Path, data_dir: str, seed: int = 0) -> Experiment:
    """The candidate's data, model and training settings at `seed`, its cells in `<run_dir>/<name>`."""
    cand = CANDIDATES[name]
    gen = dataclasses.replace(data_config(preset).generator, **cand.generator)
    return Experiment.open(preset, run_dir / name, data_dir, progress=False, data_overrides={"generator": gen},
                           model_overrides=cand.model or None, **{**cand.train, "seed": seed})  # fmt: skip


def screen(preset: str, name: str, run_dir: Path, data_dir: str, only: list[str] | None = None) -> dict:
    cand = CANDIDATES[name]
    exp = candidate_experiment(preset, name, run_dir, data_dir)
    row = {"candidate": name, **dataclasses.asdict(cand), "cells": {}}
    for variant, n in cand.cells:
        if only and f"{variant}:{n}" not in only:
            continue
        t0 = time.perf_counter()
        row["cells"][f"{variant}:{n}"] = cell = measure(exp, variant, n)
        print(f"[{time.strftime('%H:%M:%S')}] {name} {variant}:{n}: val {cell['val_real_mm']:.2f} mm "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)  # fmt: skip
    return row


def judged(rows: dict[str, dict]) -> list[dict]:
    """Every row with its measures on both splits and whether it passes its hypothesis' criteria on validation."""
    default = rows.get("default")
    out = []
    for name in (k for k in CANDIDATES if k in rows):
        row = dict(rows[name])
        row["val"], row["test"] = ratios(row, "val", default), ratios(row, "test", default)
        crit = CRITERIA[row["hypothesis"]]
        if name != "default" and all(k in row["val"] for k in crit):
            row["passes_on_val"] = all(row["val"][k] is v if isinstance(v, bool) else row["val"][k] >= v
                                       for k, v in crit.items())  # fmt: skip
        out.append(row)
    return out


MECHANISM_ARMS = ("real_synth", "distr_match", "full")


ARM_FIELDS = ("seed_ids", "per_seed_mm", "per_seed_val_mm", "per_seed_synthetic_mm", "per_seed_labeled_train_mm",
              "per_seed_h_accuracy", "per_seed_probe", "per_seed_seconds")  # fmt: skip


def arm_fields(exp: Experiment, res, seed: int) -> dict:
    """One cell's entries of a mechanisms record: its test and validation errors on the real frames, its
    error on the test frames' renders (the room's numerator), its error on the labeled real frames it
    trained on (against validation: overfitting), h's accuracy and the fresh probe's at the end of
    training (None where the cell has no h), and its wall time."""
    labeled = labeled_subset(len(exp.train), res.n_labeled, seed) if VARIANTS[res.variant].uses_n else None
    last = lambda key: next((r[key] for r in reversed(res.history) if key in r), None)  # noqa: E731
    train_mm = None if labeled is None else evaluate_store(exp.model(res), exp.train, "real", True, exp.device, labeled)["mean"]
    return {
        "seed_ids": seed, "per_seed_mm": res.test_error_mm, "per_seed_val_mm": res.summary["val_mean"],
        "per_seed_synthetic_mm": res.summary.get("synthetic_frames_mean"), "per_seed_labeled_train_mm": train_mm,
        "per_seed_h_accuracy": last("disc_acc") if VARIANTS[res.variant].adversarial else None,
        "per_seed_probe": last("probe") if VARIANTS[res.variant].stage2 else None, "per_seed_seconds": round(res.seconds, 1),
    }  # fmt: skip


def with_lambda_m(exp: Experiment, lambda_m: float) -> Experiment:
    """The same experiment with Lm's weight λm replaced, its cells in `lambda_m-<value>` inside the
    folder, sharing the seed's stage 1 (λm does not enter stage 1)."""
    sub = dataclasses.replace(exp, run_dir=exp.run_dir / f"lambda_m-{lambda_m:g}", cfg=dataclasses.replace(
        exp.cfg, weights=dataclasses.replace(exp.cfg.weights, lambda_m=lambda_m)))  # fmt: skip
    link_stage1(exp.stage1_dir(), sub.stage1_dir(), exp.cfg.stage1_iters)
    return sub


def mechanisms_key(name: str, lambda_m: float | None) -> str:
    """The record's key of a `--mechanisms` run."""
    return name if lambda_m is None else f"{name} lambda_m={lambda_m:g}"


def mechanisms(preset: str, name: str, seeds: list[int], run_dir: Path, data_dir: str, n: int = 100,
               arms: tuple[str, ...] = MECHANISM_ARMS, lambda_m: float | None = None) -> dict:
    """Real+Synth and the mechanisms in `arms` at n on a candidate's data, over seeds (each from its seed's
    stage 1: the shipped one where the candidate keeps the network, its own otherwise), each mechanism judged
    against Real+Synth by the one rule, paired by seed, on both splits. Each cell keeps its wall times.
    `lambda_m` replaces Lm's weight in the mechanisms' cells (`with_lambda_m`); Real+Synth has no Lm."""
    arms = ("real_synth", *(a for a in arms if a != "real_synth"))
    cells = {v: {"variant": v, "n_labeled": n, **{k: [] for k in ARM_FIELDS}} for v in ("synth_only", *arms)}
    for seed in seeds:
        exp = candidate_experiment(preset, name, run_dir, data_dir, seed)
        arm_exp = exp if lambda_m is None else with_lambda_m(exp, lambda_m)
        for v in ("synth_only", *arms):
            of = exp if v in ("synth_only", "real_synth") else arm_exp
            res = of.cell(v, n)
            for key, value in arm_fields(of, res, seed).items():
                cells[v][key].append(value)
            print(f"[{time.strftime('%H:%M:%S')}] {name} {v}:{n} seed {seed}: val {res.summary['val_mean']:.2f} mm", flush=True)
    cells["synth_only"]["n_labeled"] = "all"
    verdicts = {v: paired_on_splits(cells[v], cells["real_synth"]) for v in arms[1:]}
    rooms = room(list(cells.values()))
    arms_flag = "" if arms == MECHANISM_ARMS else f" --arms {' '.join(arms)}"
    arms_flag += "" if lambda_m is None else f" --lambda-m {lambda_m:g}"
    return {"candidate": name, "n": n, "lambda_m": lambda_m, "commit": commit(), "command": f"OMP_NUM_THREADS=1 python -m "
            f"benchmarks.lab.regime_screen --preset {preset} --mechanisms {name} --seeds {' '.join(map(str, seeds))}"
            f"{arms_flag}", "cells": cells, "room": rooms, "against_real_synth": verdicts}  # fmt: skip


MEASURES = {  # the table's columns: a measure of `ratios` and its heading
    "real_synth_1000_real_over_render": "Real+Synth n=1000 real / render (>= 1.2)",
    "synth_only_over_real_only_all": "Synth only / Real only all (>= 1.3)",
    "real_only_1000_over_synth_only": "Real only n=1000 / Synth only (>= 1.2)",
}


def table(rows: list[dict]) -> str:
    """The research log's table: per candidate its cells' validation errors and its measures (validation,
    test in brackets), and whether it passes its criteria on validation."""
    def err(row, key, kind="real"):
        c = row["cells"].get(key)
        return f"{c[f'val_{kind}_mm']:.2f}" if c and f"val_{kind}_mm" in c else "–"

    def measure(row, key):
        return f"{row['val'][key]:.2f} ({row['test'][key]:.2f})" if key in row["val"] else "–"

    head = ["candidate", "hyp.", "Synth only real / render mm", "Real+Synth n=1000 mm", "Real only all mm",
            "Real only n=1000 mm", *MEASURES.values(), "passes"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        passes = {True: "yes", False: "no"}.get(row.get("passes_on_val"), "reference")
        cols = [row["candidate"], str(row["hypothesis"]),
                f"{err(row, 'synth_only:all')} / {err(row, 'synth_only:all', 'render')}",
                err(row, "real_synth:1000"), err(row, "real_only:all"), err(row, "real_only:1000"),
                *(measure(row, k) for k in MEASURES), passes]  # fmt: skip
        lines.append("| " + " | ".join(cols) + " |")
    extra = [f"{row['candidate']} {key.replace(':', ' n=')} {err(row, key)}" for row in rows for key in row["cells"]
             if key.endswith(":100")]  # fmt: skip
    note = "Validation errors of seed 0; measures on validation (test in brackets)."
    return "\n".join(lines) + f"\n\n{note}" + (" At n = 100 (validation mm): " + "; ".join(extra) + "." if extra else "")


def lambda_m_search(runs: dict[str, dict], name: str, seed: int = 0) -> dict | None:
    """λm chosen on validation for a candidate's mechanisms, from its `--mechanisms` runs at `seed`: per
    arm the validation error at each λm the runs tried (the preset's λm from the plain run), and the
    λm with the lowest; Real+Synth (no Lm) beside them. None with fewer than two λm."""
    at: dict[float, dict] = {}
    for run in runs.values():
        if run["candidate"] != name:
            continue
        lm = run.get("lambda_m") or LossWeights().lambda_m
        for arm, cell in run["cells"].items():
            if seed in cell["seed_ids"]:
                at.setdefault(lm, {})[arm] = cell["per_seed_val_mm"][cell["seed_ids"].index(seed)]
    if len(at) < 2:
        return None
    settings = sorted(at)
    arms = [a for a in MECHANISM_ARMS[1:] if any(a in at[x] for x in settings)]
    val = {a: [at[x].get(a) for x in settings] for a in arms}
    chosen = {a: min((x for x in settings if at[x].get(a) is not None), key=lambda x: at[x][a]) for a in arms}
    real_synth = next(at[x]["real_synth"] for x in settings if "real_synth" in at[x])
    return {"candidate": name, "seed": seed, "lambda_m": settings, "val_mm": val, "real_synth_val_mm": real_synth,
            "chosen": chosen}  # fmt: skip


def plot_lambda_m_search(search: dict, path: Path) -> None:
    names = {"distr_match": "Distr. Match", "full": "Full"}
    ax = plot_setting_search(search["lambda_m"], {names[a]: v for a, v in search["val_mm"].items()},
                             ("Real+Synth", search["real_synth_val_mm"]), "λm, the weight of Lm (Eq. 1)",
                             f"{search['candidate']}, n = 100, seed {search['seed']}: λm chosen on validation")  # fmt: skip
    with atomic_write(path) as tmp:
        ax.figure.savefig(tmp, dpi=120, format="png")
    plt.close(ax.figure)


def mechanisms_table(runs: dict[str, dict]) -> str:
    """The research log's table of every `--mechanisms` run: per arm its errors (mean ± spread over seeds),
    the fields the regime asks for, and its difference from Real+Synth paired by seed on each split with
    the one rule's verdicts."""
    def ms(cell: dict, key: str, digits: int = 2) -> str:
        values = [v for v in cell.get(key, []) if v is not None]
        if not values:
            return "–"
        st = seed_stats(values)
        return mean_spread(st["mean"], st["std"], len(values), digits)

    head = ["run", "arm", "seeds", "test mm", "val mm", "render mm (test)", "labeled train mm", "h acc.", "probe",
            "room onto stage 1", "− Real+Synth test / val mm", "verdict (paired, both splits)", "wall s"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, run in runs.items():
        rooms = {r["variant"]: r for r in run.get("room", [])}
        for arm, cell in run["cells"].items():
            if arm == "synth_only":
                continue
            v = run["against_real_synth"].get(arm)
            diff = f"{v['test']['mean']:+.2f} / {v['val']['mean']:+.2f}" if v else "–"
            r = rooms.get(arm, {}).get("onto_stage1")
            cols = [key, arm, str(len(cell["seed_ids"])), ms(cell, "per_seed_mm"), ms(cell, "per_seed_val_mm"),
                    ms(cell, "per_seed_synthetic_mm"), ms(cell, "per_seed_labeled_train_mm"),
                    ms(cell, "per_seed_h_accuracy"), ms(cell, "per_seed_probe"),
                    mean_spread(r["mean"], r["std"], len(r["per_seed"])) if r else "–", diff,
                    v["verdict"] if v else "reference", ms(cell, "per_seed_seconds", 0)]  # fmt: skip
            lines.append("| " + " | ".join(cols) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="laptop", choices=PRESET_NAMES)
    ap.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    ap.add_argument("--cells", nargs="+", default=None, help="a worker: only these cells (e.g. real_only:1000)")
    ap.add_argument("--run-dir", default=None, help="default runs/regime-screen-<preset>")
    ap.add_argument("--data-dir", default=str(REPO / "data_cache"))
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--log", default=str(RESULTS / "README.md"), help="the research log whose screen table to fill ('' for none)")
    ap.add_argument("--mechanisms", default=None, choices=list(CANDIDATES),
                    help="instead of the screen: Real+Synth, Distr. Match and Full at n = 100 on this candidate over --seeds")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--arms", nargs="+", default=list(MECHANISM_ARMS), choices=list(MECHANISM_ARMS),
                    help="with --mechanisms: the arms to train (Real+Synth always)")
    ap.add_argument("--lambda-m", type=float, default=None, help="with --mechanisms: Lm's weight in the mechanisms' cells")
    args = ap.parse_args(argv)
    run_dir = Path(args.run_dir or REPO / "runs" / f"regime-screen-{args.preset}")
    out = Path(args.out) / f"regime-screen-{args.preset}.json"
    doc = json.loads(out.read_text()) if out.exists() else {}
    if args.mechanisms:
        doc.setdefault("mechanisms", {})[mechanisms_key(args.mechanisms, args.lambda_m)] = mechanisms(
            args.preset, args.mechanisms, args.seeds, run_dir, args.data_dir, arms=tuple(args.arms), lambda_m=args.lambda_m)
        search = lambda_m_search(doc["mechanisms"], args.mechanisms)
        if search is not None:
            doc.setdefault("lambda_m_search", {})[args.mechanisms] = search
            plot_lambda_m_search(search, out.with_name(f"regime-screen-{args.preset}-lambda-m-{args.mechanisms}.png"))
        write_json(out, doc)
        if args.log:
            replace_block(Path(args.log), "<!-- mechanisms: start -->", "<!-- mechanisms: end -->", mechanisms_table(doc["mechanisms"]))
        return 0
    rows = {r["candidate"]: r for r in doc.get("rows", [])}
    doc |= {
        "about": __doc__.split("\n\n")[0] + " Seed 0; the criteria on the validation split.",
        "command": f"OMP_NUM_THREADS=1 python -m benchmarks.lab.regime_screen --preset {args.preset}",
        "commit": commit(),
        "sgemm_2048_gflops_1_thread": round(sgemm_gflops(threads=1), 1),
        "criteria": {str(k): v for k, v in CRITERIA.items()},
    }
    for name in args.candidates:
        rows[name] = screen(args.preset, name, run_dir, args.data_dir, args.cells)
        write_json(out, doc | {"rows": judged(rows)})
    if args.log:
        replace_block(Path(args.log), "<!-- screen: start -->", "<!-- screen: end -->", table(judged(rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
