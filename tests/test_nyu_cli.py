"""`python -m mlib.train` on a broken NYU-layout folder or with a wrong argument: one line naming the
file, exit status 1, no traceback, and nothing half-written in the cache or the run folder."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlib.atomic import folder_lock
from mlib.data.generate import export_nyu
from mlib.data.nyu import depth_filename, read_joint_data, write_joint_data
from mlib.data.procedural.generator import HandGenerator
from mlib.presets import data_config
from mlib.train_cli import main as train_main

FRAMES = {"train": 16, "val": 4, "test": 4}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    cfg = data_config("ci", frames=FRAMES["train"], test_frames=FRAMES["test"], val_frames=FRAMES["val"])
    root = tmp_path_factory.mktemp("nyu_cli")
    export_nyu(HandGenerator(cfg.generator), root, FRAMES, progress=False)
    return root


def args_for(folder, tmp_path, *extra):
    out = ["--preset", "ci", "--variant", "full", "--n-labeled", "8", "--stage1-iters", "2", "--stage2-iters", "2"]
    out += ["--frames", "16", "--test-frames", "4", "--val-frames", "4", "--no-progress", "--device", "cpu"]
    out += ["--data-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "run")]
    return out + (["--data", "nyu", "--nyu-dir", str(folder)] if folder is not None else []) + list(extra)


def nan_label(split):
    def edit(folder):
        joints = read_joint_data(folder / split)
        joints["joint_xyz"][0, 1, 4, 2] = np.nan
        write_joint_data(folder / split, joints["joint_uvd"], joints["joint_xyz"])

    return edit


def truncate_png(folder):
    png = folder / "train" / depth_filename(1, 6)
    png.write_bytes(png.read_bytes()[:300])


def extra_frame(folder):
    shutil.copy(folder / "train" / depth_filename(1, 1), folder / "train" / depth_filename(1, 17))


BROKEN = {
    "nan_train_label": (nan_label("train"), "train/joint_data.mat: joint_xyz of frame 2"),
    "nan_test_label": (nan_label("test"), "test/joint_data.mat: joint_xyz of frame 2"),
    "truncated_png": (truncate_png, "depth_1_0000006.png: not a readable PNG"),
    "count_mismatch": (extra_frame, "17 depth_1_*.png files but joint_data.mat lists 16 frames"),
    "no_test": (lambda folder: shutil.rmtree(folder / "test"), "test: NYU test folder not found"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_folder_ends_in_one_line_and_leaves_nothing(exported, tmp_path, capsys, case):
    edit, expected = BROKEN[case]
    folder = shutil.copytree(exported, tmp_path / "nyu")
    edit(folder)
    with pytest.raises(SystemExit) as exit_:
        train_main(args_for(folder, tmp_path))
    message = str(exit_.value.code)
    assert message.startswith("error: ") and expected in message and " — " in message
    assert "\n" not in message
    cache = tmp_path / "cache"
    assert not list(cache.glob("*.h5")) and not list(cache.rglob("*.tmp")) and not list(cache.rglob("*.npy"))
    assert not (tmp_path / "run").exists()


def test_nyu_dir_without_data_nyu_and_a_missing_device_are_errors(exported, tmp_path):
    args = args_for(None, tmp_path, "--nyu-dir", str(exported))
    with pytest.raises(SystemExit, match=r"^error: .*--nyu-dir is only read with --data nyu — add --data nyu"):
        train_main(args)
    args = args_for(exported, tmp_path)
    args[args.index("--device") + 1] = "cuda:7"
    with pytest.raises(SystemExit, match=r"^error: --device cuda:7: this machine has"):
        train_main(args)
    assert not (tmp_path / "run").exists() and not (tmp_path / "cache").exists()


def test_more_labeled_frames_than_the_training_split_are_refused_before_anything_trains(exported, tmp_path, monkeypatch):
    import mlib.train_cli

    def never(*args, **kwargs):
        raise AssertionError("train_variant was called: stage 1 trains before --n-labeled is checked")

    monkeypatch.setattr(mlib.train_cli, "train_variant", never)
    args = args_for(exported, tmp_path)
    args[args.index("--n-labeled") + 1] = "17"
    with pytest.raises(SystemExit) as exit_:
        train_main(args)
    assert str(exit_.value.code) == (
        f"error: --n-labeled 17: the training split holds {FRAMES['train']} frames — give at most that many, or all"
    )
    assert not (tmp_path / "run").exists()


def test_a_late_error_leaves_no_half_made_run_folder_but_keeps_a_folder_it_did_not_make(exported, tmp_path, monkeypatch):
    pytest.importorskip("tensorboard", reason="the half-made folder of this test holds tensorboard/")
    import mlib.cells

    seen = []

    def fail(trainer, *args, **kwargs):  # an error once config.json and tensorboard/ are written
        seen.append(sorted(p.name for p in trainer.out_dir.iterdir()))
        raise ValueError("stage 1 failed — a late error")

    monkeypatch.setattr(mlib.cells.Trainer, "step", fail)  # the first step of stage 1 fails
    with pytest.raises(SystemExit, match="^error: stage 1 failed — a late error$"):
        train_main(args_for(exported, tmp_path))
    assert seen == [[".lock", ".lock-holder", "config.json", "tensorboard"]]
    assert not (tmp_path / "run").exists()
    (tmp_path / "run").mkdir()  # a folder the user made stays, with what it held
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match="^error: stage 1 failed"):
        train_main(args_for(exported, tmp_path))
    assert (tmp_path / "run" / "notes.txt").read_text() == "mine"


def test_a_second_trainer_on_a_busy_run_folder_exits_naming_the_holder(exported, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "mlib.train", *args_for(exported, tmp_path)]
    with folder_lock(tmp_path / "run", "test"):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: {tmp_path / 'run'}: another trainer (pid {os.getpid()}) is writing this run folder — "
        "wait for it or choose another --out"
    )
    assert not (tmp_path / "cache").exists() and {p.name for p in (tmp_path / "run").iterdir()} == {".lock"}


def test_debug_shows_the_traceback(exported, tmp_path):
    folder = shutil.copytree(exported, tmp_path / "nyu")
    truncate_png(folder)
    from mlib.data.nyu import NYUFormatError

    with pytest.raises(NYUFormatError):
        train_main(args_for(folder, tmp_path, "--debug"))


def test_evaluate_and_predict_on_the_folder_give_the_runs_error_and_predictions(exported, tmp_path, capsys):
    import json

    from mlib.evaluate import load_joints
    from mlib.evaluate import main as evaluate_main
    from mlib.predict import main as predict_main

    pred = tmp_path / "pred.txt"
    train_main(args_for(exported, tmp_path, "--save-predictions", str(pred)))
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    gt = tmp_path / "gt.txt"
    assert evaluate_main(["--nyu-dir", str(exported), str(pred), "--json", "--export-gt", str(gt)]) == 0
    scored = json.loads(capsys.readouterr().out)["pred"]["mean"]
    assert scored == pytest.approx(printed["test_error_mm"], abs=0.01)
    assert len(load_joints(gt)) == FRAMES["test"]
    assert evaluate_main(["--gt", str(gt), str(pred), "--json"]) == 0  # the exported file scores the same
    assert json.loads(capsys.readouterr().out)["pred"]["mean"] == pytest.approx(scored, abs=1e-3)
    run = tmp_path / "run"
    before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
    again = tmp_path / "again.txt"
    predict_main([str(run / "stage2.pt"), "--nyu-dir", str(exported), "--out", str(again), "--no-progress"])
    assert again.read_text() == pred.read_text()
    assert {p.name: p.stat().st_mtime_ns for p in run.iterdir()} == before  # the run folder untouched
    xyz = tmp_path / "xyz.txt"  # --xyz output scores the same without a --format: the file says what it holds
    predict_main([str(run / "stage2.pt"), "--nyu-dir", str(exported), "--out", str(xyz), "--xyz", "--no-progress"])
    capsys.readouterr()
    assert evaluate_main(["--nyu-dir", str(exported), str(xyz), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["xyz"]["mean"] == pytest.approx(scored, abs=1e-3)
