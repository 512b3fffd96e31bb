"""End to end on a small generated set: MURAUER learns far better than the mean pose."""

import numpy as np
import pytest
import torch

from mlib.cells import train_variant
from mlib.checkpoint import load_trained_model
from mlib.data import load_generated
from mlib.data.camera import EVAL_JOINTS
from mlib.data.crop import denormalize_joints
from mlib.data.datasets import Splits
from mlib.evaluate import evaluate_store, joint_errors
from mlib.presets import data_config, model_config, train_config
from mlib.train import Run


def test_full_beats_the_mean_pose_by_a_margin(tmp_path):
    train, _, test = load_generated(data_config("ci", frames=800, test_frames=200), tmp_path / "data", progress=False)
    mean_pose = train.targets(torch.arange(len(train))).mean(0)
    baseline = denormalize_joints(mean_pose.expand(len(test), 14, 3), test.centres[:, 0], test.cube.view(-1, 1, 1))
    gt = test.joints[:, 0][:, EVAL_JOINTS]
    mean_pose_error = joint_errors(baseline, gt).mean()

    cfg = train_config("ci", "full", stage1_iters=400, stage2_iters=300, eval_every=0, log_every=50, ckpt_every=1000)
    run = Run("full", 100, cfg, model_config("ci"), tmp_path / "run")
    result = train_variant(run, Splits(train, None, test), torch.device("cpu"), progress=False)
    assert np.isfinite(result.test_error_mm)
    assert result.test_error_mm < 0.8 * mean_pose_error, (result.test_error_mm, mean_pose_error)
    # The synthetic-frame error is the same model on the synthetic renders, without the mapping.
    model = load_trained_model(result.checkpoint)
    on_synth = evaluate_store(model, test, "synth", through_mapping=False, device=torch.device("cpu"))["mean"]
    assert result.summary["synthetic_frames_mean"] == pytest.approx(on_synth, rel=1e-6)
    assert result.summary["synthetic_frames_mean"] != pytest.approx(result.test_error_mm, rel=1e-3)
    terms = {k for row in result.history if row["stage"] == 2 for k in row}
    assert {"pose", "corr", "view", "adv", "disc", "disc_acc"} <= terms
