"""The run configuration's settings say, in their metadata, what the resume check, the shipped-stage-1
match and the command line make of them: a new field is picked up by all three without a key list."""

import dataclasses
import json
from dataclasses import dataclass

from mlib.checkpoint import before_setting_existed, compared_on_resume, config_differences
from mlib.presets import train_config
from mlib.pretrained import stage1_names, stage1_settings
from mlib.train import TrainConfig, setting
from mlib.train_cli import build_parser, option_ranges, setting_options
from mlib.variants import VARIANTS


@dataclass(frozen=True)
class WithKnob(TrainConfig):
    knob: float = setting(1.0, resume="stage2:adversarial", stage1=True, before=1.0, lowest=0.5, cli="a new knob")


def with_knob(value: float) -> WithKnob:
    base = train_config("ci", "full")
    return WithKnob(**{f.name: getattr(base, f.name) for f in dataclasses.fields(base)}, knob=value)


def test_a_new_setting_reaches_the_resume_check_the_stage1_match_and_the_cli():
    cfg = with_knob(2.0)
    # the resume check: compared in stage 2 of a variant with the adversarial switch, not elsewhere
    assert "knob" in compared_on_resume(cfg, VARIANTS["full"], 2)
    assert "knob" not in compared_on_resume(cfg, VARIANTS["view_pred"], 2)
    assert "knob" not in compared_on_resume(cfg, VARIANTS["full"], 1)
    # a checkpoint written before the knob existed was trained with its `before` value
    old = {"train_cfg": json.dumps({k: v for k, v in json.loads(json.dumps(dataclasses.asdict(cfg))).items() if k != "knob"})}
    assert before_setting_existed(cfg)["knob"] == 1.0
    assert config_differences(old, cfg, VARIANTS["full"], 2) == ["knob: checkpoint 1.0, now 2.0"]
    assert config_differences(old, with_knob(1.0), VARIANTS["full"], 2) == []
    # the shipped stage 1 must match it
    assert "knob" in stage1_names(cfg) and stage1_settings(cfg)["knob"] == 2.0
    # the command line: an option of the field's type
    assert setting_options(WithKnob)["knob"] == ("knob",)
    args = build_parser(WithKnob).parse_args(["--out", "x", "--knob", "0.5"])
    assert args.knob == 0.5
    # ... whose range is checked before anything runs
    assert option_ranges(WithKnob)["knob"] == ("lowest", 0.5)
    assert option_ranges()["lr"] == ("above", 0) and option_ranges()["lambda_m"] == ("lowest", 0)


def test_what_the_metadata_says_of_todays_settings():
    cfg = train_config("ci", "full")
    # iteration counts and intervals may change on resume; the paper's and the preset's rates may not
    keys = compared_on_resume(cfg, VARIANTS["full"], 2)
    assert {"preset", "seed", "base_lr", "stage2_lr_scale", "weights", "view_set"} <= set(keys)
    assert not {"stage1_iters", "stage2_iters", "log_every", "ckpt_every", "channels_last"} & set(keys)
    # Real only reads no synthetic frame: Lc's switch does not shape it, its stage 1 neither
    real_only = compared_on_resume(cfg, VARIANTS["real_only"], 2)
    assert "corr_trains_encoder" not in real_only and "stage1_synth_cameras" not in real_only
    assert stage1_names() == [
        "preset", "stage1_iters", "base_lr", "set_size", "gamma", "augment", "seed", "weight_decay",
        "scaled_schedule", "stage1_synth_cameras", "precision",
    ]  # fmt: skip
    # the options of `python -m mlib.train` that set a training field
    assert setting_options()["lr"] == ("base_lr",) and setting_options()["lambda_g"] == ("weights", "lambda_g")


def test_a_committed_checkpoint_from_before_a_setting_existed_still_resumes():
    """The shipped stage 1 of seed 1 was written before `disc_lr_scale` existed: the one migration
    (`before_setting_existed`) reads it as the value it was trained with, and the check passes."""
    import torch

    from mlib.presets import resolve
    from mlib.pretrained import stage1_file

    ckpt = torch.load(stage1_file("laptop", 1), map_location="cpu", weights_only=True)
    saved = json.loads(ckpt["train_cfg"])
    assert "disc_lr_scale" not in saved  # written by an older version of TrainConfig
    cfg = resolve("laptop", "synth_only", train={"seed": 1}).train
    assert config_differences(ckpt, cfg, VARIANTS["synth_only"], 1) == []
    assert config_differences(ckpt, dataclasses.replace(cfg, seed=0), VARIANTS["synth_only"], 1) == [
        "seed: checkpoint 1, now 0"
    ]
