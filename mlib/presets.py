"""One resolver for a preset's data, model and training settings.

    from mlib.presets import resolve
    p = resolve("laptop", data={"crop_size": 48}, train={"seed": 1})
    p.model.crop_size   # 48: the model's crop size always comes from the data

`ci` runs the whole series in minutes on 2 CPU cores (too small for the paper's effects), `laptop`
runs the paper's experiments scaled down to a CPU (which of the paper's effects appear there is measured
in `benchmarks/results/`, not promised), `paper` is the paper's network, crops and iteration counts for a GPU. Below paper scale the
settings keep the paper's schedule shape (`mlib.schedule`) and take rates chosen on the validation split.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mlib.data.generate import DATA_PRESETS, DataConfig, data_config
from mlib.models import PRESETS as MODEL_PRESETS
from mlib.models import ModelConfig, model_config
from mlib.train import TRAIN_PRESETS, TrainConfig, train_config

PRESET_NAMES = ("ci", "laptop", "paper")
assert set(PRESET_NAMES) == set(DATA_PRESETS) == set(MODEL_PRESETS) == set(TRAIN_PRESETS)


@dataclass(frozen=True)
class Preset:
    name: str
    data: DataConfig
    model: ModelConfig
    train: TrainConfig

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


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
        "adv_trains_encoder": False,  # Lm moves m only (f's features detached before m)
        "corr_trains_encoder": True,  # Lc moves f and m
        "batchnorm_per_set": True,  # f runs once per loader
        "view_set": 8,  # view samples as their own unrotated set of real frames and their renders
        "weight_decay": 1e-3,  # Adam's weight decay, h included
    },
}


def resolve(
    name: str,
    data: dict | None = None,
    model: dict | None = None,
    train: dict | None = None,
    release: bool = False,
) -> Preset:
    """The named preset with overrides per part (None values are ignored, so papermill parameters can
    pass through unset). The model's crop size is derived from the data's; asking for another is an error.
    `release=True` applies RELEASE under the overrides (an override still wins)."""
    if release:
        model = {**RELEASE["model"], **(model or {})}
        train = {**RELEASE["train"], **(train or {})}
    if name not in PRESET_NAMES:
        raise ValueError(f"unknown preset {name!r}; choose one of {list(PRESET_NAMES)}")
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
    return Preset(name, data_cfg, model_cfg, train_config(name, **train))
