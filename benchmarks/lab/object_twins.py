"""Where the object beside the hand goes: each model of the distractor_1.0 screen at n = 100, read on its
real frames and on the same frames without the object.

    OMP_NUM_THREADS=1 python -m benchmarks.lab.object_twins --preset laptop --seeds 0 1 2

The generator draws the object from uniforms of its own (`DISTRACTOR_UNIFORMS`) and adds it last to the
real scene, so the default data set holds every real frame of the distractor_1.0 data set without its
object: the same pose, crop centre, sensor noise and render (checked here, frame by frame). That twin
answers what the research discipline asks of a mechanism that fails, per model (Synth only, Real+Synth,
Distr. Match, Full of a seed) and split (validation and test):
* the error on the frames with the object and on their twins: what the object costs each model;
* the latent shift the object causes, |z(x) - z(twin)|, beside the distance from the twin to its render;
* for each term of Eq. 1 the model trained with, its gradient on the latent at the object frames,
  λ·dL/dz (Lp with the frame's label, Lc towards its render, Lm through h, Lg towards its captured side
  view): the median size, and the median cosine between a descent step and the way back to the twin
  (positive: the term pulls the object out of the latent; negative: it keeps it);
* h's verdict on the object frames, their twins and the renders (the fraction it calls real);
* g's view against the captured side view with and without the object, on the pixels the object
  changes (does g draw it?).
The object's cost of each mechanism is judged against Real+Synth's by the one rule, paired by seed, on
both splits. `--lambda-m` reads the mechanisms' cells trained with another Lm weight (the regime
screen's `--lambda-m`; Synth only and Real+Synth have no Lm). Writes `object-twins-<preset>.json`, one
entry per λm.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from benchmarks.lab import REPO, RESULTS
from benchmarks.lab.ablation import commit
from benchmarks.lab.regime_screen import candidate_experiment, with_lambda_m
from mlib.adversarial import mapping_adversarial_loss
from mlib.analysis import paired_on_splits
from mlib.atomic import write_json
from mlib.claims import seed_stats
from mlib.data.camera import EVAL_JOINTS
from mlib.data.crop import denormalize_joints
from mlib.data.datasets import CropStore
from mlib.evaluate import joint_errors
from mlib.losses import LossWeights, correspondence_loss, pose_loss, view_loss
from mlib.models import Murauer
from mlib.presets import PRESET_NAMES
from mlib.variants import VARIANTS

CANDIDATE, TWIN, N_LABELED = "distractor_1.0", "default", 100
MODELS = ("synth_only", "real_synth", "distr_match", "full")
SPLITS = {"val": "per_seed_val_mm", "test": "per_seed_mm"}  # the one rule's keys for each split
BATCH = 250


def twins_match(store: CropStore, twin: CropStore) -> torch.Tensor:
    """Check that `twin` holds the frames of `store` (labels, crop centres, renders), and return which
    real frames the object shows in (any camera-1 pixel differs)."""
    if not (torch.equal(store.joints, twin.joints) and torch.equal(store.centres, twin.centres)):
        raise ValueError("the twin data set's labels or crop centres differ: it does not hold the same frames")
    idx = torch.arange(len(store))
    shown = []
    for chunk in idx.split(1000):
        if not torch.equal(store.images(chunk, "synth"), twin.images(chunk, "synth")):
            raise ValueError("the twin data set's renders differ: it does not hold the same frames")
        shown.append((store.images(chunk, "real") != twin.images(chunk, "real")).flatten(1).any(1))
    return torch.cat(shown)


def latent_gradient(term: str, model: Murauer, z: torch.Tensor, store: CropStore, idx: torch.Tensor,
                    z_render: torch.Tensor, weights: LossWeights) -> torch.Tensor:  # fmt: skip
    """λ·dL/dz of one term of Eq. 1 at the real latents z (B, D) of frames idx, per frame (each term is
    a sum over frames, so one backward pass gives every frame's own gradient)."""
    z = z.detach().requires_grad_(True)
    if term == "pose":
        loss = pose_loss(model.p(z).view(len(z), -1, 3), store.targets(idx))
    elif term == "corr":
        loss = weights.lambda_c * correspondence_loss(z, z_render)
    elif term == "adv":
        loss = weights.lambda_m * mapping_adversarial_loss(model.h(z))
    else:
        loss = weights.lambda_g * view_loss(model.view(z, store.centres[idx, 0]), store.views(idx, "real"))
    (grad,) = torch.autograd.grad(loss, z)
    return grad


def terms_of(variant: str) -> tuple[str, ...]:
    """The terms of Eq. 1 a variant's stage 2 trains with (none for Synth only)."""
    v = VARIANTS[variant]
    if not v.stage2:
        return ()
    return ("pose", *(("corr",) if v.synthetic else ()), *(("adv",) if v.adversarial else ()), *(("view",) if v.view else ()))


@torch.no_grad()
def measure(model: Murauer, variant: str, store: CropStore, twin: CropStore, shown: torch.Tensor,
            weights: LossWeights) -> dict:  # fmt: skip
    """Every measure of the docstring for one model on one split (frames the object shows in, for the
    latent and gradient measures; every frame for the errors)."""
    model.eval()
    mapped = VARIANTS[variant].stage2
    out: dict[str, list] = {}
    keep = lambda k, v: out.setdefault(k, []).append(v.detach().float().cpu())  # noqa: E731
    for idx in torch.arange(len(store)).split(BATCH):
        x, x_twin = store.images(idx, "real"), twin.images(idx, "real")
        z, z_twin = model.latent(x, real=mapped), model.latent(x_twin, real=mapped)
        z_render = model.latent(store.images(idx, "synth"), real=False)
        gt = store.joints[idx, 0][:, EVAL_JOINTS]
        for key, zz in (("error", z), ("error_twin", z_twin)):  # from the latents already here, not predict_store's second pass
            pred = denormalize_joints(model.p(zz).float().view(len(idx), -1, 3), store.centres[idx, 0], store.cube[idx].view(-1, 1, 1))
            keep(key, torch.as_tensor(joint_errors(pred, gt).mean(1)))
        shift = z - z_twin
        keep("shift", shift.norm(dim=1))
        keep("twin_to_render", (z_twin - z_render).norm(dim=1))
        with torch.enable_grad():
            for term in terms_of(variant):
                g = latent_gradient(term, model, z, store, idx, z_render, weights)
                keep(f"grad_{term}", g.norm(dim=1))
                # a descent step is -g, the way back to the twin is -shift
                keep(f"cos_{term}", torch.nn.functional.cosine_similarity(g, shift, dim=1))
        if VARIANTS[variant].adversarial:
            for key, zz in (("h_real_object", z), ("h_real_twin", z_twin), ("h_real_render", z_render)):
                keep(key, (model.h(zz).float() > 0.5).float())
        if VARIANTS[variant].view:
            pred = model.view(z, store.centres[idx, 0]).float()
            v, v_twin = store.views(idx, "real"), twin.views(idx, "real")
            changed = (v != v_twin).float()
            pixels = changed.flatten(1).sum(1).clamp_min(1)
            keep("g_mae_object_view", ((pred - v).abs() * changed).flatten(1).sum(1) / pixels)
            keep("g_mae_twin_view", ((pred - v_twin).abs() * changed).flatten(1).sum(1) / pixels)
            keep("view_changed", changed.flatten(1).any(1).float())
    cat = {k: torch.cat(v).numpy() for k, v in out.items()}
    s = shown.numpy()
    res = {"error_mm": float(cat["error"].mean()), "error_twin_mm": float(cat["error_twin"].mean())}
    res["object_cost_mm"] = res["error_mm"] - res["error_twin_mm"]
    res["median_shift"] = float(np.median(cat["shift"][s]))
    res["median_twin_to_render"] = float(np.median(cat["twin_to_render"][s]))
    for term in terms_of(variant):
        res[f"median_grad_{term}"] = float(np.median(cat[f"grad_{term}"][s]))
        res[f"median_cos_{term}"] = float(np.median(cat[f"cos_{term}"][s]))
    for key in ("h_real_object", "h_real_twin", "h_real_render"):
        if key in cat:
            res[key] = float(cat[key][s].mean())
    if "view_changed" in cat and cat["view_changed"].any():
        c = cat["view_changed"] > 0
        res["g_mae_object_view"] = float(cat["g_mae_object_view"][c].mean())
        res["g_mae_twin_view"] = float(cat["g_mae_twin_view"][c].mean())
    res["frames_object_shown"] = int(s.sum())
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="laptop", choices=PRESET_NAMES)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--run-dir", default=None, help="the regime screen's folder (default runs/regime-screen-<preset>)")
    ap.add_argument("--data-dir", default=str(REPO / "data_cache"))
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--lambda-m", type=float, default=None, help="the mechanisms' cells with this Lm weight")
    args = ap.parse_args(argv)
    run_dir = Path(args.run_dir or REPO / "runs" / f"regime-screen-{args.preset}")
    twin_exp = candidate_experiment(args.preset, TWIN, run_dir, args.data_dir)
    per_seed: dict[str, dict[str, dict]] = {m: {} for m in MODELS}
    for seed in args.seeds:
        exp = candidate_experiment(args.preset, CANDIDATE, run_dir, args.data_dir, seed)
        arm_exp = exp if args.lambda_m is None else with_lambda_m(exp, args.lambda_m)
        splits = {"val": (exp.val, twin_exp.val), "test": (exp.test, twin_exp.test)}
        shown = {k: twins_match(*v) for k, v in splits.items()}
        for variant in MODELS:
            of = arm_exp if VARIANTS[variant].adversarial else exp
            res = of.cell(variant, N_LABELED)
            model = of.model(res)
            weights = of.cfg_for(variant).weights
            per_seed[variant][str(seed)] = row = {k: measure(model, variant, *splits[k], shown[k], weights) for k in splits}
            for k in SPLITS:  # the measure must reproduce the cell's own evaluation
                own = res.test_error_mm if k == "test" else res.summary["val_mean"]
                if abs(row[k]["error_mm"] - own) > 0.05:
                    raise RuntimeError(f"{variant} seed {seed} {k}: {row[k]['error_mm']:.3f} mm here, {own:.3f} in its cell")
            print(f"seed {seed} {variant}: " + ", ".join(f"{k} {row['test'][k]:.3g}" for k in row["test"]), flush=True)

    def cell(variant: str, key: str) -> dict:  # a measure in the one rule's cell layout
        rows = per_seed[variant]
        return {"seed_ids": list(rows), **{name: [rows[s][k][key] for s in rows] for k, name in SPLITS.items()}}

    stats = {
        m: {split: {key: seed_stats({s: r[split][key] for s, r in rows.items()}) for key in next(iter(rows.values()))[split]}
            for split in SPLITS}
        for m, rows in per_seed.items()
    }  # fmt: skip
    verdicts = {m: paired_on_splits(cell(m, "object_cost_mm"), cell("real_synth", "object_cost_mm"))
                for m in ("distr_match", "full")}  # fmt: skip
    out = Path(args.out) / f"object-twins-{args.preset}.json"
    doc = json.loads(out.read_text()) if out.exists() else {"about": __doc__.split("\n\n")[0], "runs": {}}
    lambda_m = args.lambda_m if args.lambda_m is not None else exp.cfg.weights.lambda_m
    flag = "" if args.lambda_m is None else f" --lambda-m {args.lambda_m:g}"
    doc["runs"][f"lambda_m={lambda_m:g}"] = {
        "command": f"OMP_NUM_THREADS=1 python -m benchmarks.lab.object_twins --preset {args.preset}{flag}",
        "commit": commit(),
        "seeds": args.seeds,
        "object_cost_against_real_synth": verdicts,
        "stats": stats,
        "per_seed": per_seed,
    }
    write_json(out, doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
