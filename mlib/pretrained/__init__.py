"""Weights shipped with the library: stage 1, so stage 2 starts from a converged predictor in minutes,
and the stage-2 models the notebooks compare against, so a notebook trains only the model it teaches.

Stage 1 (f and p on synthetic renders) is shared by every variant and every n; training it to
convergence takes most of a CPU preset's budget. `benchmarks/lab/ship_stage1.py` trains it per seed and
writes `stage1-<preset>-seed<k>.pt` here: float16 weights of f and p only, the configurations they
were trained with, a fingerprint of the synthetic renders they saw, and their validation and test
errors. `find_stage1` returns such a file only when all of that matches the run asking for it.

`benchmarks/lab/ship_stage2.py` writes `stage2-<preset>-<variant>-n<n>-seed<k>.pt` the same way: float16
f, p and m (what predicts a pose; h and g are left out), and a fingerprint of the real crops too.
`find_stage2` returns one only when the run asking for it would train exactly that model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from importlib import resources
from pathlib import Path

import torch

from mlib.atomic import atomic_write, write_json
from mlib.train import TrainConfig

MODULES = ("f", "p")  # what stage 1 trains, and all a shipped stage-1 file holds
STAGE2_MODULES = ("f", "p", "m")  # all a pose prediction reads (real frames through m)
def shipped_dir() -> Path:
    """The folder of the shipped files inside the installed package."""
    return Path(str(resources.files("mlib.pretrained")))


def stage1_file(preset: str, seed: int, folder: str | Path | None = None) -> Path:
    return Path(folder or shipped_dir()) / f"stage1-{preset}-seed{seed}.pt"


def stage1_summary_path(folder: str | Path, preset: str) -> Path:
    return Path(folder) / f"stage1-{preset}.json"


def renders_fingerprint(store) -> str:
    """A short hash of the synthetic renders of a training store (every k-th frame, all cameras, plus
    the count and crop size): equal renders give equal fingerprints, whatever the real domain holds."""
    step = max(1, len(store) // 256)
    sample = store.synth[::step].to(torch.float16).contiguous().cpu().numpy()
    h = hashlib.sha256(f"{len(store)}:{store.crop_size}:".encode())
    h.update(sample.tobytes())
    return h.hexdigest()[:16]


def stage1_names(cfg_or_class=TrainConfig) -> list[str]:
    """The training settings that shape a finished stage 1 (iteration counts included: a shipped file
    is one finished schedule), read from the fields' `stage1` metadata (`mlib.train.setting`)."""
    return [f.name for f in dataclasses.fields(cfg_or_class) if f.metadata.get("stage1")]


def stage1_settings(train_cfg) -> dict:
    """`stage1_names`' values in `train_cfg`, as JSON would hold them."""
    d = json.loads(json.dumps(dataclasses.asdict(train_cfg)))
    return {k: d[k] for k in stage1_names(train_cfg)}


def f_p_settings(model_cfg) -> dict:
    """The model settings that shape f and p (m, h and g may differ: stage 2 builds them fresh), read
    from the fields' metadata (`mlib.models.F_P`)."""
    d = json.loads(json.dumps(dataclasses.asdict(model_cfg)))
    return {f.name: d[f.name] for f in dataclasses.fields(model_cfg) if f.metadata.get("shapes_f_p")}


def export_stage1(
    checkpoint: str | Path,
    out_dir: str | Path,
    preset: str,
    seed: int,
    errors: dict,
    command: str,
    commit: str,
    renders: str,
) -> Path:
    """Write the float16 f and p of a finished stage-1 checkpoint with its provenance and numbers."""
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=True)
    weights = {k: v.half() if v.is_floating_point() else v for k, v in ckpt["model"].items() if k.split(".")[0] in MODULES}
    train_cfg = json.loads(ckpt["train_cfg"])
    history = [{k: v for k, v in row.items() if k in ("iteration", "lr", "pose", "val_error_mm", "seconds")} for row in ckpt["history"]]
    shipped = {
        "model": weights,
        "modules": list(MODULES),
        "model_cfg": ckpt["model_cfg"],
        "train_cfg": ckpt["train_cfg"],
        "stage1_settings": json.dumps({k: train_cfg[k] for k in stage1_names()}),
        "renders_fingerprint": renders,
        "errors_mm": json.dumps(errors),
        "command": command,
        "commit": commit,
        "iteration": int(ckpt["iteration"]),
        "stage": 1,
        "history": history,
    }
    path = stage1_file(preset, seed, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        torch.save(shipped, tmp)
    return path


def find_stage1(train_cfg, model_cfg, store, folder: str | Path | None = None) -> Path | None:
    """The shipped stage-1 file for this configuration and these renders, or None if there is none or
    anything differs (then stage 1 is trained as usual)."""
    path = stage1_file(train_cfg.preset, train_cfg.seed, folder)
    if not path.is_file():
        return None
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    same = (
        json.loads(ckpt["stage1_settings"]) == stage1_settings(train_cfg)
        and {k: json.loads(ckpt["model_cfg"])[k] for k in f_p_settings(model_cfg)} == f_p_settings(model_cfg)
        and ckpt["renders_fingerprint"] == renders_fingerprint(store)
    )
    return path if same else None


def write_stage1_summary(path: str | Path, preset: str, rows: list[dict], command: str) -> None:
    """The shipped files' numbers side by side (json), also read by the README's table."""
    columns = [k for k in rows[0] if k.endswith("_mm")]
    mean = {k: sum(r[k] for r in rows) / len(rows) for k in columns}
    write_json(Path(path), {"preset": preset, "command": command, "seeds": rows, "mean": mean})


# ----------------------------------------------------------------------------- stage 2


def stage2_file(preset: str, variant: str, n_labeled: int | str, seed: int, folder: str | Path | None = None) -> Path:
    return Path(folder or shipped_dir()) / f"stage2-{preset}-{variant}-n{n_labeled}-seed{seed}.pt"


def stage2_summary_path(folder: str | Path, preset: str) -> Path:
    return Path(folder) / f"stage2-{preset}.json"


def data_fingerprint(store) -> str:
    """`renders_fingerprint` over the real crops as well: a stage-2 model depends on both domains."""
    step = max(1, len(store) // 256)
    h = hashlib.sha256(renders_fingerprint(store).encode())
    h.update(store.real[::step].to(torch.float16).contiguous().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


def weights_digest(path: str | Path, modules: tuple[str, ...] = MODULES) -> str:
    """A short hash of a checkpoint's weights of `modules` in float16: a shipped stage 1 and the float32
    checkpoint it was made from hash alike."""
    state = torch.load(path, map_location="cpu", weights_only=True)["model"]
    h = hashlib.sha256()
    for k in sorted(k for k in state if k.split(".")[0] in modules):
        t = state[k].half() if state[k].is_floating_point() else state[k]
        h.update(k.encode() + t.contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def export_stage2(
    checkpoint: str | Path, path: Path, run, errors: dict, command: str, commit: str, data: str,
    stage1: str | None, bf16: bool,
) -> Path:  # fmt: skip
    """Write the float16 f, p and m of a finished stage-2 checkpoint of `run` (a `mlib.train.Run`), with
    its configurations, provenance, history and numbers; `stage1`: the `weights_digest` of the stage 1 it
    started from (None: trained from scratch), `bf16`: whether its steps autocast to bf16."""
    ckpt = torch.load(checkpoint, map_location="cpu", weights_only=True)
    weights = {k: v.half() if v.is_floating_point() else v for k, v in ckpt["model"].items() if k.split(".")[0] in STAGE2_MODULES}
    shipped = {
        "model": weights,
        "modules": list(STAGE2_MODULES),
        "model_cfg": ckpt["model_cfg"],
        "train_cfg": ckpt["train_cfg"],
        "variant": run.variant,
        "n_labeled": str(run.n_labeled),
        "data_fingerprint": data,
        "stage1_digest": stage1,
        "bf16": bf16,
        "errors_mm": json.dumps(errors),
        "command": command,
        "commit": commit,
        "iteration": int(ckpt["iteration"]),
        "stage": 2,
        "history": ckpt["history"],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as tmp:
        torch.save(shipped, tmp)
    return path


def find_stage2(run, store, stage1: str | None, bf16: bool, folder: str | Path | None = None) -> Path | None:
    """The shipped stage-2 file of `run`'s variant, n and seed when that run would train exactly it
    (every training and model setting equal, the same real and synthetic crops, the same stage 1 by its
    `weights_digest`, the same bf16 autocast), else None."""
    path = stage2_file(run.train.preset, run.variant, run.n_labeled, run.train.seed, folder)
    if not path.is_file():
        return None
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    as_json = lambda cfg: json.loads(json.dumps(dataclasses.asdict(cfg)))  # noqa: E731
    same = (
        ckpt["variant"] == run.variant
        and ckpt["n_labeled"] == str(run.n_labeled)
        and json.loads(ckpt["train_cfg"]) == as_json(run.train)
        and json.loads(ckpt["model_cfg"]) == as_json(run.model)
        and ckpt["data_fingerprint"] == data_fingerprint(store)
        and ckpt.get("stage1_digest") == stage1
        and ckpt.get("bf16") == bf16
    )
    return path if same else None
