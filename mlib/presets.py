"""Every preset's values in one place, side by side, and the resolver that turns a preset, a variant and
overrides into the configurations a run uses:

    from mlib.presets import resolve
    p = resolve("laptop", variant="full", data={"crop_size": 48}, train={"seed": 1})
    p.model.crop_size          # 48: the model's crop size always comes from the data
    p.train.stage2_lr_scale    # 0.3: the laptop preset's validated stage-2 rate scale for Full

`ci` runs the whole series in minutes on 2 CPU cores (too small for the paper's effects), `laptop` runs
the paper's experiments scaled down to a CPU (which of the paper's effects appear there is measured in
`benchmarks/results/`, not promised), `paper` is the paper's network, crops and iteration counts for a
GPU. Below paper scale the settings keep the paper's schedule shape (`mlib.schedule`) and take rates
chosen on the validation split. The configuration classes live beside the code that reads them
(`DataConfig` in `mlib.data.generate`, `ModelConfig` in `mlib.models`, `TrainConfig` in `mlib.train`);
this module is the only place that knows a preset's values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields

from mlib.data.crop import CropConfig
from mlib.data.generate import DataConfig
from mlib.models import ModelConfig
from mlib.train import TrainConfig
from mlib.variants import VARIANTS

PRESET_NAMES = ("ci", "laptop", "paper")

# ----------------------------------------------------------------------------- data

DATA: dict[str, DataConfig] = {
    # a few thousand 32x32 crops: rendered in about a minute, enough for every cell of the series to run
    "ci": DataConfig("ci", CropConfig(size=32), train_frames=1_500, test_frames=400, val_frames=200),
    # 64x64 crops (half the paper's side) and 10,000 training frames: a CPU trains on them in minutes
    "laptop": DataConfig("laptop", CropConfig(size=64), train_frames=10_000, test_frames=2_000, val_frames=1_000),
    # the paper's 128x128 crops (appendix A.1) and NYU's 72,757 training and 8,252 test frames
    "paper": DataConfig("paper", CropConfig(size=128), train_frames=72_757, test_frames=8_252, val_frames=2_000),
}

# ----------------------------------------------------------------------------- model

MODEL: dict[str, ModelConfig] = {
    # 32x32 crops, tiny: CI smoke runs of the whole series in minutes.
    "ci": ModelConfig(
        crop_size=32,
        stem_channels=8,
        stage_channels=(16, 32, 32, 32),
        blocks_per_stage=1,
        latent_dim=64,
        pose_hidden=64,
        decoder_channels=(32, 16, 8, 8),
    ),
    # 64x64 crops, half the paper's widths, 3 blocks per stage: ~4M parameters, ~1-2 ms per sample
    # forward+backward on 2 CPU cores (the paper's network at 64x64 would take ~4.5 ms).
    "laptop": ModelConfig(
        crop_size=64,
        stem_channels=16,
        stage_channels=(32, 64, 128, 128),
        blocks_per_stage=3,
        latent_dim=512,
        pose_hidden=512,
        decoder_channels=(256, 128, 64, 32),
    ),
    # The paper's network at 128x128 crops (appendix A.1), ~25M parameters.
    "paper": ModelConfig(
        crop_size=128,
        stem_channels=32,
        stage_channels=(64, 128, 256, 256),
        blocks_per_stage=5,
        latent_dim=1024,
        pose_hidden=1024,
        decoder_channels=(512, 256, 128, 64),
    ),
}

# ----------------------------------------------------------------------------- training

TRAIN: dict[str, TrainConfig] = {
    # Base rates below paper scale are chosen on the validation split with the scaled schedule
    # (benchmarks/lab/regime.py --lr-grid; the search is in benchmarks/results/lr-search-<preset>.json).
    "ci": TrainConfig(
        "ci",
        base_lr=3e-2,
        stage1_iters=300,
        stage2_iters=200,
        log_every=20,
        eval_every=100,
        val_frames=200,
        ckpt_every=100,
    ),
    # Stage 1 at 16,000 iterations: on the validation split the real-frame error of Synth only fell
    # 20.86 -> 19.56 -> 19.24 mm at 4k / 8k / 16k (benchmarks/results/stage1-budget-laptop.json), the last
    # step within the seeds' spread; its shipped weights (mlib/pretrained) make this budget free for users.
    # Real only keeps the 5,500 iterations it had when every model took stage 1 + stage 2's steps.
    "laptop": TrainConfig(
        "laptop",
        base_lr=1e-2,
        stage1_iters=16_000,
        stage2_iters=1500,
        scratch_iters=5500,
        log_every=50,
        eval_every=250,  # six validation points (error and probe) over the preset's stage 2
        val_frames=500,
        ckpt_every=500,
    ),
    # The paper's rate and iterations (appendix A.1: 170k + 136k, 150 and 120 epochs of NYU's 1,137
    # iterations), on its own epoch rather than a scaled one.
    "paper": TrainConfig(
        "paper",
        base_lr=3.3e-4,
        scaled_schedule=False,
        stage1_iters=170_000,
        stage2_iters=136_000,
        log_every=200,
        eval_every=5000,
        val_frames=2000,
        ckpt_every=5000,
    ),
}

# Stage-2 rate scale per variant (stage-2 rate = base_lr x scale), chosen on the validation split with
# two scales per variant (benchmarks/lab/regime.py --lr-scales; the numbers are under "stage2_lr_scale_search"
# in benchmarks/results/regime-<preset>.json, and a test keeps the two equal). Unlisted variants: 1.
STAGE2_LR_SCALES: dict[str, dict[str, float]] = {
    "ci": {},
    "laptop": {
        "real_only": 0.3, "real_view": 0.3, "synth_adapt": 0.1,
        "real_synth": 0.3, "distr_match": 0.3, "view_pred": 0.3, "full": 0.3,
    },  # fmt: skip
    "paper": {},
}

# ----------------------------------------------------------------------------- the series

# The labeled-frame counts notebook 02 trains Real+Synth and View Pred. at (its `n_labeled_list = None`).
# At laptop one count keeps the series within minutes on 2 cores; notebook 05 shows the committed grid.
VIEW_NOTEBOOK_N_LABELED: dict[str, list[int]] = {"ci": [10, 100], "laptop": [100], "paper": [10, 100]}

assert set(PRESET_NAMES) == set(DATA) == set(MODEL) == set(TRAIN) == set(STAGE2_LR_SCALES) == set(VIEW_NOTEBOOK_N_LABELED)

# Every point where the authors' release (github poier/murauer, source/) differs from this code's
# reading of the paper, as switches of the model and training configurations; `resolve(..., release=True)`
# sets them all, and each stays its own switch.
RELEASE: dict[str, dict] = {
    "model": {
        "mapping_affine": True,  # its MappingBlock returns x + fc2(x): m and h are affine
        "disc_affine": True,
        "view_input": "pose_hidden",  # its decoder reads the last hidden layer of the pose path
    },
    "train": {
        "adv_unlabeled_only": True,  # h and Lm on its unlabeled loader's frames only
        "adv_trains_encoder": False,  # Lm moves m only (f's features detached before m); Lc moves f and m, as here
        "batchnorm_per_set": True,  # f runs once per loader
        "view_set": 8,  # view samples as their own unrotated set of real frames and their renders
        "weight_decay": 1e-3,  # Adam's weight decay, h included
    },
}

# ----------------------------------------------------------------------------- resolving


def _check_preset(name: str) -> None:
    if name not in PRESET_NAMES:
        raise ValueError(f"unknown preset {name!r}; choose one of {list(PRESET_NAMES)}")


def data_config(preset: str, crop_size: int | None = None, frames: int | None = None, **overrides) -> DataConfig:
    """A preset's data settings, with the crop size, the number of training frames or any field replaced."""
    _check_preset(preset)
    cfg = DATA[preset]
    if crop_size is not None:
        overrides["crop"] = dataclasses.replace(cfg.crop, size=crop_size)
    if frames is not None:
        overrides["train_frames"] = frames
    return dataclasses.replace(cfg, **overrides)


def model_config(preset: str, **overrides) -> ModelConfig:
    """A preset's model with some fields replaced, e.g. model_config("laptop", latent_dim=256)."""
    _check_preset(preset)
    known = {f.name for f in fields(ModelConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown ModelConfig field(s) {unknown}; known fields: {sorted(known)}")
    return dataclasses.replace(MODEL[preset], **overrides)


def train_config(preset: str, variant: str | None = None, **overrides) -> TrainConfig:
    """A preset's training settings with some fields replaced; with a variant, its stage-2 rate scale
    applied (an explicit `stage2_lr_scale` wins)."""
    _check_preset(preset)
    cfg = dataclasses.replace(TRAIN[preset], **overrides)
    return for_variant(preset, cfg, variant) if variant is not None else cfg


def for_variant(preset: str, cfg: TrainConfig, variant: str) -> TrainConfig:
    """`cfg` ready for a variant: an explicit `stage2_lr_scale` stays, an unset one (None) becomes the
    preset's validated choice for the variant (STAGE2_LR_SCALES), and 1 where there is none."""
    _check_preset(preset)
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {sorted(VARIANTS)}")
    if cfg.stage2_lr_scale is not None:
        return cfg
    return dataclasses.replace(cfg, stage2_lr_scale=STAGE2_LR_SCALES[preset].get(variant, 1.0))


@dataclass(frozen=True)
class Preset:
    name: str
    data: DataConfig
    model: ModelConfig
    train: TrainConfig

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def resolve(
    name: str,
    variant: str | None = None,
    data: dict | None = None,
    model: dict | None = None,
    train: dict | None = None,
    release: bool = False,
) -> Preset:
    """The named preset with overrides per part (None values are ignored, so papermill parameters can
    pass through unset). The model's crop size is derived from the data's; asking for another is an error.
    With `variant`, the training settings are that variant's (its stage-2 rate scale applied); without,
    `train.stage2_lr_scale` stays unset until `for_variant` (one configuration shared by several variants).
    `release=True` applies RELEASE under the overrides (an override still wins)."""
    _check_preset(name)
    if release:
        model = {**RELEASE["model"], **(model or {})}
        train = {**RELEASE["train"], **(train or {})}
    data, model, train = ({k: v for k, v in (d or {}).items() if v is not None} for d in (data, model, train))
    data_cfg = data_config(name, **data)
    crop = data_cfg.crop.size
    if model.get("crop_size", crop) != crop:
        raise ValueError(
            f"model crop_size={model['crop_size']} differs from the data's crop size {crop}: "
            "set the crop size through the data overrides (data={'crop_size': ...}); the model follows it"
        )
    model_cfg = model_config(name, **{**model, "crop_size": crop})
    if train.get("preset", name) != name:
        raise ValueError(f"train overrides name preset {train['preset']!r} inside preset {name!r}")
    return Preset(name, data_cfg, model_cfg, train_config(name, variant, **train))
