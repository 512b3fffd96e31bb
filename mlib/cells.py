"""One cell of the ablation grid: a variant trained at n labeled real frames and evaluated on the real
test split. Stage 1 (f and p on synthetic renders, shared by every variant) comes from the run folder,
the shipped weights (`mlib.pretrained`) or a fresh run; stage 2 trains the variant with Eq. 1; the
cell's `result.json` holds its errors.

    p = mlib.presets.resolve("ci", variant="full")
    res = train_variant(Run("full", 100, p.train, p.model, Path("runs/full-100")), splits)
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from mlib.atomic import folder_lock, write_json
from mlib.checkpoint import load_trained_model, start_from_pretrained
from mlib.data.datasets import CropStore, Splits
from mlib.evaluate import evaluate_store
from mlib.models import ModelConfig, Murauer
from mlib.pretrained import find_stage1, find_stage2, weights_digest
from mlib.tblog import TensorBoardCallback
from mlib.train import Run, TrainData, Trainer, pick_device, uses_bf16
from mlib.variants import VARIANTS, Variant


@dataclass
class RunResult:
    variant: str
    n_labeled: int | str
    test_error_mm: float
    summary: dict
    history: list[dict]
    out_dir: str
    seconds: float
    checkpoint: str  # the checkpoint holding the final model (stage1.pt for synth_only)


def build_model(config: ModelConfig, seed: int, device: torch.device, **overrides) -> tuple[Murauer, ModelConfig]:
    """A freshly initialised model (seeded) from a ModelConfig with some fields replaced."""
    torch.manual_seed(seed)
    mcfg = dataclasses.replace(config, **overrides)
    return Murauer(mcfg).to(device), mcfg


def pretrain(
    run: Run, data: Splits | TrainData, device: torch.device | None = None, resume: bool = True,
    progress: bool = True, tensorboard: bool = False,
) -> Path:  # fmt: skip
    """Stage 1 of `run`'s settings into `run.out_dir/stage1.pt` (reused if it is complete), or the shipped
    stage-1 file of the preset and seed when it was trained with these settings on these renders and the
    folder holds no stage 1 of its own (`TrainConfig.use_shipped_stage1`). Returns the checkpoint path."""
    device = device or pick_device()
    cfg, out_dir = run.train, Path(run.out_dir)
    if cfg.use_shipped_stage1 and not (out_dir / "stage1.pt").exists():
        shipped = find_stage1(cfg, run.model, data.train)
        if shipped is not None:
            if progress:
                print(f"stage 1: the shipped {shipped.name} (set use_shipped_stage1=False to train it anew)")
            return shipped
    model, mcfg = build_model(run.model, cfg.seed, device)
    stage1 = dataclasses.replace(run, variant="synth_only", n_labeled="all", model=mcfg, out_dir=out_dir)
    trainer = Trainer(stage1, model, data, 1, logged(tensorboard))
    if resume and trainer.ckpt_path.exists():
        trainer.resume()
    if trainer.iteration < trainer.iters:
        trainer.run(progress)
    return trainer.ckpt_path


def logged(tensorboard: bool) -> list:
    """The callbacks of a trainer: TensorBoard event files in the run folder when asked for."""
    return [TensorBoardCallback()] if tensorboard else []


def train_variant(
    run: Run, data: Splits, device: torch.device | None = None, pretrained: str | Path | None = None,
    resume: bool = True, progress: bool = True, tensorboard: bool = False,
) -> RunResult:  # fmt: skip
    """Train one cell of the ablation grid (`run`: its variant, labels, settings resolved for the variant
    by `mlib.presets.resolve(preset, variant=...)` and folder) and evaluate it on `data.test`. The
    validation split (labeled real frames of other subjects) gives the training curves' validation error
    and `summary["val_mean"]`, the number to choose settings on; the test split is only evaluated at the
    end. Stage 1 comes from `pretrained`, else is trained (or reused) in the cell's folder. `tensorboard`
    writes TensorBoard event files into the run folder as well (`mlib.tblog`)."""
    if run.variant not in VARIANTS:
        raise ValueError(f"unknown variant {run.variant!r}; choose one of {sorted(VARIANTS)}")
    device = device or pick_device()
    variant, out_dir, t0 = VARIANTS[run.variant], Path(run.out_dir), time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    if variant.pretrained and pretrained is None:
        pretrained = pretrain(run, data, device, resume, progress, tensorboard)
        t0 = time.perf_counter()  # stage 1's time is counted once, from its history, below
    model, mcfg = build_model(run.model, run.train.seed, device)
    history = start_from_pretrained(model, pretrained, device) if pretrained is not None else []
    trained_now = False
    if variant.stage2:
        trainer = Trainer(dataclasses.replace(run, model=mcfg), model, data, 2, logged(tensorboard))
        if resume and trainer.ckpt_path.exists():
            trainer.resume()
        if trainer.iteration < trainer.iters:
            trainer.run(progress)
            trained_now = True
        history = history + trainer.history
    summary = evaluate_cell(model, variant, data.test, data.val, device)
    final = out_dir / "stage2.pt" if variant.stage2 else Path(pretrained)
    seconds = time.perf_counter() - t0
    if not variant.stage2 and history:  # Synth only: its training time is the shared stage 1's
        seconds += float(history[-1].get("seconds", 0.0))
    elif not trained_now and (out_dir / "result.json").exists():  # a finished cell: keep its training time
        seconds = json.loads((out_dir / "result.json").read_text()).get("seconds", seconds)
    result = RunResult(run.variant, run.n_labeled, summary["mean"], summary, history, str(out_dir), seconds, str(final))
    write_json(out_dir / "result.json", {k: v for k, v in dataclasses.asdict(result).items() if k != "history"})
    return result


def shared_stage1(run: Run, data: Splits, device: torch.device, stage1_dir: Path, progress: bool = True,
                  wait: bool = True) -> Path:  # fmt: skip
    """The stage-1 checkpoint in `stage1_dir`, trained once (under its lock) and shared by every variant
    of a seed; wait=False raises LockHeld while another process trains it."""
    with folder_lock(stage1_dir, f"stage 1 of seed {run.train.seed}", wait=wait):
        return pretrain(dataclasses.replace(run, out_dir=Path(stage1_dir)), data, device, progress=progress)


def train_cell(run: Run, data: Splits, device: torch.device, stage1_dir: Path, progress: bool = True,
               wait: bool = True) -> RunResult:  # fmt: skip
    """One cell of a grid in its run folder (`run.out_dir`), sharing its seed's stage 1 (`shared_stage1`):
    a finished cell is reloaded (its checkpoint is complete), an interrupted one resumes. wait=False
    raises LockHeld when another process holds the cell or its stage 1, instead of waiting for it."""
    pretrained = shared_stage1(run, data, device, stage1_dir, progress, wait) if VARIANTS[run.variant].pretrained else None
    with folder_lock(run.out_dir, f"cell {Path(run.out_dir).name}", wait=wait):
        return train_variant(run, data, device, pretrained, progress=progress)


def stage1_in_use(run: Run, data: Splits, stage1_dir: Path) -> Path | None:
    """The stage-1 checkpoint `train_cell` would start `run`'s stage 2 from without training one: the
    folder's own, else the shipped file that matches (None: a stage 1 would be trained, or none is used)."""
    if not VARIANTS[run.variant].pretrained:
        return None
    own = Path(stage1_dir) / "stage1.pt"
    if own.exists():
        return own
    return find_stage1(run.train, run.model, data.train) if run.train.use_shipped_stage1 else None


def comparison_cell(run: Run, data: Splits, device: torch.device, stage1_dir: Path, shipped: bool = True,
                    progress: bool = True, wait: bool = True) -> RunResult:  # fmt: skip
    """A model a notebook compares against rather than teaches: the run folder's finished cell if there
    is one, else the shipped stage-2 file of the run's preset, variant, n and seed (`mlib.pretrained`)
    when the run would train exactly that model (then evaluated here on `data`), else trained by
    `train_cell`. shipped=False always trains (a notebook's `train_everything`)."""
    path = None
    if shipped and VARIANTS[run.variant].stage2 and not (Path(run.out_dir) / "result.json").exists():
        stage1 = stage1_in_use(run, data, stage1_dir)
        if stage1 is not None or not VARIANTS[run.variant].pretrained:  # else a new stage 1: not the shipped run
            digest = weights_digest(stage1) if stage1 is not None else None
            path = find_stage2(run, data.train, digest, uses_bf16(run.train, device))
    if path is None:
        return train_cell(run, data, device, stage1_dir, progress, wait)
    if progress:
        print(f"{run.variant} n={run.n_labeled}: the shipped {path.name} (train_everything=True trains it here)")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    summary = evaluate_cell(load_trained_model(path, device), VARIANTS[run.variant], data.test, data.val, device)
    seconds = float(ckpt["history"][-1].get("seconds", 0.0)) if ckpt["history"] else 0.0
    # out_dir names the cell (variant, n, seed) as a trained one's does; nothing is written there
    return RunResult(run.variant, run.n_labeled, summary["mean"], summary, list(ckpt["history"]), str(run.out_dir), seconds, str(path))


def evaluate_cell(
    model: Murauer, variant: Variant, test: CropStore, val: CropStore | None, device: torch.device
) -> dict:
    """A trained cell's summary on the real test frames, plus `val_mean` (the validation error, what
    settings are chosen on) and `synthetic_frames_mean`: the same model on the synthetic renders of the
    test frames, p(f(x)), the error a perfect real->synthetic mapping would leave (what lies between the
    two is all domain adaptation can win; None for a model that never saw a synthetic frame)."""
    through = variant.stage2  # a stage-2 model reads real frames through m
    summary = evaluate_store(model, test, "real", through_mapping=through, device=device)
    summary["val_mean"] = evaluate_store(model, val, "real", through, device)["mean"] if val is not None else None
    summary["synthetic_frames_mean"] = (
        evaluate_store(model, test, "synth", through_mapping=False, device=device)["mean"]
        if variant.synthetic
        else None
    )
    return summary
