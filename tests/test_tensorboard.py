"""A training run's TensorBoard event files hold the logged scalars and the view images."""

import pytest

from mlib.train_cli import main as train_main

pytest.importorskip("tensorboard", reason="tensorboard is not installed (pip install tensorboard)")


def test_a_ci_run_leaves_event_files_with_the_logged_scalars(tmp_path, capsys):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    args = ["--preset", "ci", "--variant", "full", "--n-labeled", "8", "--stage1-iters", "2", "--stage2-iters", "3"]
    args += ["--frames", "16", "--test-frames", "4", "--val-frames", "4", "--no-progress", "--device", "cpu"]
    train_main(args + ["--data-dir", str(tmp_path / "cache"), "--out", str(out)])
    stage1 = EventAccumulator(str(out / "tensorboard" / "stage1")).Reload().Tags()
    for key in ("pose", "lr"):
        assert f"stage1/{key}" in stage1["scalars"]
    events = EventAccumulator(str(out / "tensorboard" / "stage2")).Reload()
    tags = events.Tags()
    for key in ("pose", "corr", "view", "adv", "disc_acc", "lr", "val_error_mm"):
        assert f"stage2/{key}" in tags["scalars"], key
    assert [e.step for e in events.Scalars("stage2/pose")] == [3]
    history = __import__("json").loads((out / "history-stage2.json").read_text())
    assert events.Scalars("stage2/val_error_mm")[-1].value == pytest.approx(history[-1]["val_error_mm"], rel=1e-6)
    assert tags["images"] == ["stage2/input_predicted_captured_view"]
    resolved = __import__("json").loads((out / "config.json").read_text())  # the resolved settings travel along
    assert resolved["train_config"]["stage2_iters"] == 3 and resolved["options"]["variant"] == "full"
    capsys.readouterr()
    train_main(args + ["--data-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "off"), "--no-tensorboard"])
    assert not (tmp_path / "off" / "tensorboard").exists()


def test_a_resumed_stage_replaces_the_steps_logged_after_its_checkpoint(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from test_train import make_trainer

    from mlib.tblog import TensorBoardCallback

    def with_tensorboard(trainer):
        trainer.callbacks.append(TensorBoardCallback())
        return trainer

    settings = dict(stage1_iters=8, stage2_iters=8, log_every=1, ckpt_every=4)
    stage1 = with_tensorboard(make_trainer(tmp_path, stage=1, variant="synth_only", **settings))
    stage1.run(progress=False)
    # A stage 2 killed after logging steps 5 and 6 but before its checkpoint at 8: the checkpoint says 4.
    killed = with_tensorboard(make_trainer(tmp_path, **settings))
    killed.run(progress=False, stop_at=4)
    at_4 = killed.ckpt_path.read_bytes()
    killed.run(progress=False, stop_at=6)
    killed.ckpt_path.write_bytes(at_4)
    resumed = with_tensorboard(make_trainer(tmp_path, **settings))
    resumed.resume()
    assert resumed.iteration == 4
    resumed.run(progress=False)

    def logged(trainer, stage):
        events = EventAccumulator(str(trainer.callbacks[0].folder)).Reload().Scalars(f"stage{stage}/pose")
        return [e.step for e in events], [e.value for e in events]

    steps, values = logged(resumed, 2)
    assert steps == [1, 2, 3, 4, 5, 6, 7, 8]  # once each, as an uninterrupted run logs them
    assert values[4:] == pytest.approx([r["pose"] for r in resumed.history if r["iteration"] > 4], rel=1e-6)
    assert logged(stage1, 1)[0] == [1, 2, 3, 4, 5, 6, 7, 8]  # stage 1's steps untouched by stage 2's resume
