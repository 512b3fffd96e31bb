"""What a run folder keeps of one training stage: the checkpoint (model, both optimisers and schedules,
the sampler's and the augmentation's random state, the history and the configurations), the check that a
checkpoint may be resumed under the current settings, and the history as JSON and CSV.

Checkpoints are written atomically (a crash never leaves half a file) and read with `weights_only=True`.
Resuming restores every random state, so a resumed run is bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from mlib.atomic import atomic_write, write_json
from mlib.models import ModelConfig, Murauer

if TYPE_CHECKING:
    from mlib.train import Trainer

# How checkpoints written before a setting existed were trained (Lc and Lm reached f, no decay).
BEFORE_SETTING_EXISTED = {
    "corr_trains_encoder": True,
    "adv_trains_encoder": True,
    "weight_decay": 0.0,
    "view_sets_unrotated": False,
    "scaled_schedule": False,
    "stage2_lr_scale": 1.0,
    "stage1_synth_cameras": 1,
    "precision": "auto",
    "adv_unlabeled_only": False,
    "batchnorm_per_set": False,
    "view_set": 0,
    "predictor_lr_scale": 1.0,
    "view_warmup_iters": 0,
    "disc_lr_scale": 1.0,
}


def atomic_save(obj: dict, path: Path) -> None:
    """torch.save to a temp file, then rename: a crash never leaves half a checkpoint."""
    with atomic_write(path) as tmp:
        torch.save(obj, tmp)


def load_checkpoint(path: str | Path, map_location="cpu") -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    return torch.load(path, map_location=map_location, weights_only=True)


def load_model_state(model: torch.nn.Module, state: dict, source: str, modules: tuple[str, ...] | None = None) -> None:
    """Load weights, failing with the list of differing shapes when the configurations differ."""
    own = model.state_dict()
    if modules is not None:
        state = {k: v for k, v in state.items() if k.split(".")[0] in modules}
    diffs = [
        f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in state.items()
        if k in own and own[k].shape != v.shape
    ]
    missing = [k for k in own if k not in state and (modules is None or k.split(".")[0] in modules)]
    if diffs or missing:
        msg = f"{source}: checkpoint does not fit this model configuration"
        if diffs:
            msg += "; shapes differ:\n  " + "\n  ".join(diffs[:20])
        if missing:
            msg += f"\n  {len(missing)} parameter(s) missing, e.g. {missing[:5]}"
        raise ValueError(msg)
    model.load_state_dict(state, strict=modules is None)


def trainer_state(tr: Trainer) -> dict:
    """Everything a trainer needs to continue exactly where it stopped."""
    return {
        "model": tr.model.state_dict(),
        "opt": tr.opt.state_dict(),
        "opt_h": tr.opt_h.state_dict(),
        "sched": tr.sched.state_dict(),
        "sched_h": tr.sched_h.state_dict(),
        "sampler": tr.sampler.state_dict(),
        "aug_gen": tr.aug_gen.get_state(),
        "iteration": tr.iteration,
        "stage": tr.stage,
        "history": tr.history,
        "model_cfg": json.dumps(dataclasses.asdict(tr.model_cfg)),
        "train_cfg": json.dumps(dataclasses.asdict(tr.cfg)),
        "variant": json.dumps(dataclasses.asdict(tr.variant)),
    }


def config_differences(ckpt: dict, cfg, variant, stage: int) -> list[str]:
    """The settings that shape a stage's result (`cfg`: a TrainConfig, `variant`: a Variant) and differ
    from the checkpoint's. Iteration counts and logging intervals may change: continuing to more
    iterations is a valid resume. A setting the checkpoint lacks is read as BEFORE_SETTING_EXISTED."""
    v = variant
    keys = ["preset", "seed", "set_size", "base_lr", "gamma", "augment", "weight_decay", "scaled_schedule"]
    keys += ["precision"]  # bf16 changes the numbers; the layout (channels_last) does not
    if stage == 1 or v.pretrained:  # stage 2 starts from stage 1: its settings shape the cell too
        keys += ["stage1_synth_cameras"]
    if stage == 2:  # only the settings this variant's terms use (Real only ignores the mapping's)
        keys += ["stage2_lr_scale"]
        keys += ["weights"] if v.synthetic or v.view or v.adversarial else []
        keys += ["corr_trains_encoder"] if v.synthetic else []
        keys += ["adv_trains_encoder"] if v.adversarial else []
        keys += ["view_sets_unrotated", "view_set"] if v.view else []
        keys += ["adv_unlabeled_only", "disc_lr_scale"] if v.adversarial else []
        keys += ["batchnorm_per_set", "predictor_lr_scale"] + (["view_warmup_iters"] if v.view else [])
    saved = BEFORE_SETTING_EXISTED | json.loads(ckpt["train_cfg"])
    now = json.loads(json.dumps(dataclasses.asdict(cfg)))
    diffs = [f"{k}: checkpoint {saved[k]!r}, now {now[k]!r}" for k in keys if saved[k] != now[k]]
    saved_variant = json.loads(ckpt.get("variant", "null"))
    if stage == 2 and saved_variant is not None and saved_variant != dataclasses.asdict(variant):
        diffs.append(f"variant: checkpoint {saved_variant}, now {dataclasses.asdict(variant)}")
    return diffs


def restore(tr: Trainer, path: str | Path) -> None:
    """Load a trainer's state from `path`, refusing a checkpoint trained with other settings."""
    ckpt = load_checkpoint(path, map_location=tr.device)
    diffs = config_differences(ckpt, tr.cfg, tr.variant, tr.stage)
    if diffs:
        raise ValueError(
            f"{path} was trained with another configuration ({'; '.join(diffs)}); "
            "train into another run folder, or delete the checkpoint to start over"
        )
    load_model_state(tr.model, ckpt["model"], str(path))
    tr.opt.load_state_dict(ckpt["opt"])
    tr.opt_h.load_state_dict(ckpt["opt_h"])
    tr.sched.load_state_dict(ckpt["sched"])
    tr.sched_h.load_state_dict(ckpt["sched_h"])
    tr.sampler.load_state_dict(ckpt["sampler"])
    tr.aug_gen.set_state(ckpt["aug_gen"].cpu())  # RNG states are CPU byte tensors, even a CUDA generator's
    tr.iteration = int(ckpt["iteration"])
    tr.history = list(ckpt["history"])


def write_history(history: list[dict], out_dir: str | Path, stage: int) -> None:
    """history-stage<N>.json and .csv in the run folder (one row per log interval)."""
    if not history:
        return
    stem = Path(out_dir) / f"history-stage{stage}"
    write_json(stem.with_suffix(".json"), history)
    keys = sorted({k for row in history for k in row})
    with atomic_write(stem.with_suffix(".csv")) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(history)


def start_from_pretrained(model: Murauer, pretrained: str | Path, device: torch.device) -> list[dict]:
    """Load f and p from a stage-1 checkpoint into `model`; returns stage 1's history, every row marked
    stage 1 (a shipped file keeps only the columns its plots need)."""
    ckpt = load_checkpoint(pretrained, map_location=device)
    load_model_state(model, ckpt["model"], str(pretrained), modules=("f", "p"))
    return [{"stage": 1, **row} for row in ckpt.get("history", [])]


def load_trained_model(path: str | Path, device: torch.device | str = "cpu") -> Murauer:
    """Rebuild a model from a checkpoint of this module (its configuration travels with it)."""
    ckpt = load_checkpoint(path, map_location=device)
    mcfg = ModelConfig(**json.loads(ckpt["model_cfg"]))
    model = Murauer(mcfg).to(device)
    modules = tuple(ckpt["modules"]) if "modules" in ckpt else None  # a shipped stage 1 holds f and p only
    load_model_state(model, ckpt["model"], str(path), modules=modules)
    return model.eval()
