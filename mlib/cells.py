"""One cell of the ablation grid: a variant trained at n labeled real frames and evaluated on the real
test split. Stage 1 (f and p on synthetic renders, shared by every variant) comes from the run folder,
the shipped weights (`mlib.pretrained`) or a fresh run; stage 2 trains the variant with Eq. 1; the
cell's `result.json` holds its errors.

    cfg = mlib.presets.resolve("ci", variant="full")
    res = train_variant("full", 100, cfg.train, cfg.model, splits.train, splits.test, "runs/full-100")
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from mlib.atomic import write_json
from mlib.checkpoint import start_from_pretrained
from mlib.data.datasets import CropStore, labeled_subset
from mlib.evaluate import evaluate_store
from mlib.models import ModelConfig, Murauer
from mlib.pretrained import find_stage1
from mlib.tblog import TensorBoardLog
from mlib.train import TrainConfig, Trainer, pick_device
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
    cfg: TrainConfig,
    model_cfg: ModelConfig,
    train: CropStore,
    val: CropStore | None,
    out_dir: str | Path,
    device: torch.device,
    resume: bool = True,
    progress: bool = True,
    tensorboard: bool = False,
) -> Path:
    """Stage 1 into `out_dir/stage1.pt` (reused if it is complete), or the shipped stage-1 file of the
    preset and seed when it was trained with this configuration on these renders and `out_dir` holds no
    stage 1 of its own (`cfg.use_shipped_stage1`). Returns the checkpoint path."""
    if cfg.use_shipped_stage1 and not (Path(out_dir) / "stage1.pt").exists():
        shipped = find_stage1(cfg, model_cfg, train)
        if shipped is not None:
            if progress:
                print(f"stage 1: the shipped {shipped.name} (set use_shipped_stage1=False to train it anew)")
            return shipped
    model, mcfg = build_model(model_cfg, cfg.seed, device)
    trainer = Trainer(model, mcfg, cfg, VARIANTS["synth_only"], train, val, 1, [], out_dir, device)
    if resume and trainer.ckpt_path.exists():
        trainer.resume()
    if trainer.iteration < trainer.iters:
        run_logged(trainer, progress, tensorboard)
    return trainer.ckpt_path


def run_logged(trainer: Trainer, progress: bool, tensorboard: bool) -> None:
    """`trainer.run`, with TensorBoard event files in the run folder when asked for (a resumed stage
    replaces the steps logged after its checkpoint)."""
    trainer.tensorboard = TensorBoardLog(trainer.out_dir, trainer.stage, trainer.iteration) if tensorboard else None
    try:
        trainer.run(progress)
    finally:
        if trainer.tensorboard is not None:
            trainer.tensorboard.close()


def train_variant(
    variant_name: str,
    n_labeled: int | str,
    cfg: TrainConfig,
    model_cfg: ModelConfig,
    train: CropStore,
    test: CropStore,
    out_dir: str | Path,
    device: torch.device | None = None,
    pretrained: str | Path | None = None,
    resume: bool = True,
    progress: bool = True,
    val: CropStore | None = None,
    tensorboard: bool = False,
) -> RunResult:
    """Train one cell of the ablation grid and evaluate it on the real test split: `cfg` resolved for the
    variant (`mlib.presets.resolve(preset, variant=...)`), `model_cfg` for the data's crops. `val` (labeled real
    frames of other subjects) gives the training curves' validation error and `summary["val_mean"]`,
    the number to choose settings on; the test split is only evaluated at the end. `tensorboard`
    writes TensorBoard event files into the run folder as well (`mlib.tblog`)."""
    if variant_name not in VARIANTS:
        raise ValueError(f"unknown variant {variant_name!r}; choose one of {sorted(VARIANTS)}")
    device = device or pick_device()
    variant, out_dir, t0 = VARIANTS[variant_name], Path(out_dir), time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    if variant.pretrained and pretrained is None:
        pretrained = pretrain(cfg, model_cfg, train, val, out_dir, device, resume, progress, tensorboard)
        t0 = time.perf_counter()  # stage 1's time is counted once, from its history, below
    model, mcfg = build_model(model_cfg, cfg.seed, device)
    history = start_from_pretrained(model, pretrained, device) if pretrained is not None else []
    trained_now = False
    if variant.stage2:
        labeled = labeled_subset(len(train), n_labeled, cfg.seed)
        trainer = Trainer(model, mcfg, cfg, variant, train, val, 2, labeled, out_dir, device)
        if resume and trainer.ckpt_path.exists():
            trainer.resume()
        if trainer.iteration < trainer.iters:
            run_logged(trainer, progress, tensorboard)
            trained_now = True
        history = history + trainer.history
    summary = evaluate_cell(model, variant, test, val, device)
    final = out_dir / "stage2.pt" if variant.stage2 else Path(pretrained)
    seconds = time.perf_counter() - t0
    if not variant.stage2 and history:  # Synth only: its training time is the shared stage 1's
        seconds += float(history[-1].get("seconds", 0.0))
    elif not trained_now and (out_dir / "result.json").exists():  # a finished cell: keep its training time
        seconds = json.loads((out_dir / "result.json").read_text()).get("seconds", seconds)
    result = RunResult(variant_name, n_labeled, summary["mean"], summary, history, str(out_dir), seconds, str(final))
    write_json(out_dir / "result.json", {k: v for k, v in dataclasses.asdict(result).items() if k != "history"})
    return result


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
