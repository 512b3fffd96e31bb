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

import torch

from mlib.atomic import atomic_write, write_json
from mlib.models import ModelConfig, Murauer


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


def compared_on_resume(cfg, variant, stage: int) -> list[str]:
    """The settings of `cfg` (a TrainConfig) that shape this stage's result for `variant`, which a
    resumed checkpoint must share: read from each field's metadata (`mlib.train.setting`), so a new
    field with its metadata counts without any list here."""

    def applies(rule: str | None) -> bool:
        if rule is None:
            return False
        if rule == "always":
            return True
        if rule == "stage1":  # stage 2 starts from stage 1: its settings shape the cell too
            return stage == 1 or variant.pretrained
        _, _, switches = rule.partition(":")
        return stage == 2 and (not switches or any(getattr(variant, s) for s in switches.split("|")))

    return [f.name for f in dataclasses.fields(cfg) if applies(f.metadata.get("resume"))]


def before_setting_existed(cfg) -> dict:
    """What a checkpoint that lacks a setting of `cfg` was trained with (the fields' `before` metadata):
    the one migration older run folders need."""
    return {f.name: f.metadata["before"] for f in dataclasses.fields(cfg) if "before" in f.metadata}


def config_differences(ckpt: dict, cfg, variant, stage: int) -> list[str]:
    """The settings that shape a stage's result (`cfg`: a TrainConfig, `variant`: a Variant) and differ
    from the checkpoint's. Iteration counts and logging intervals may change: continuing to more
    iterations is a valid resume. A setting the checkpoint lacks is read as its `before` value."""
    saved = before_setting_existed(cfg) | json.loads(ckpt["train_cfg"])
    now = json.loads(json.dumps(dataclasses.asdict(cfg)))
    keys = compared_on_resume(cfg, variant, stage)
    diffs = [f"{k}: checkpoint {saved.get(k)!r}, now {now[k]!r}" for k in keys if saved.get(k) != now[k]]
    saved_variant = json.loads(ckpt.get("variant", "null"))
    if stage == 2 and saved_variant is not None and saved_variant != dataclasses.asdict(variant):
        diffs.append(f"variant: checkpoint {saved_variant}, now {dataclasses.asdict(variant)}")
    return diffs


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
