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
    events = EventAccumulator(str(out / "tensorboard")).Reload()
    tags = events.Tags()
    for key in ("pose", "lr"):
        assert f"stage1/{key}" in tags["scalars"]
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
