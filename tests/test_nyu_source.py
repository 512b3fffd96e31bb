"""Training and evaluating on an NYU-layout folder: the generator's export read back through the NYU
source gives the direct path's crops, losses and errors; broken folders are errors naming the file."""

import json

import numpy as np
import pytest
import torch

from mlib.data import load_splits
from mlib.data.camera import EVAL_JOINTS
from mlib.data.generate import export_nyu, nyu_split_frames
from mlib.data.nyu import NYUFolder, NYUFormatError, depth_filename
from mlib.data.procedural.generator import HandGenerator
from mlib.evaluate import evaluate_files
from mlib.presets import data_config
from mlib.train_cli import main as train_main

FRAMES = {"train": 32, "val": 8, "test": 8}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    cfg = data_config("ci", frames=FRAMES["train"], test_frames=FRAMES["test"], val_frames=FRAMES["val"])
    root = tmp_path_factory.mktemp("nyu_like")
    export_nyu(HandGenerator(cfg.generator), root, FRAMES, progress=False)
    return cfg, root


def test_the_nyu_source_gives_the_direct_paths_crops(exported, tmp_path):
    cfg, root = exported
    via_nyu = load_splits(cfg, "nyu", root, tmp_path / "cache", progress=False)
    direct = load_splits(cfg, "generated", None, tmp_path / "cache", progress=False)
    for split in ("train", "val", "test"):
        a, b = getattr(via_nyu, split), getattr(direct, split)
        assert len(a) == len(b) == FRAMES[split]
        assert torch.equal(a.synth, b.synth) and torch.equal(a.frame_ids, b.frame_ids)
        for key in ("real", "real_view"):  # the same sensor draw, equal to float16 storage precision
            torch.testing.assert_close(getattr(a, key).float(), getattr(b, key).float(), atol=1e-3, rtol=0)
        torch.testing.assert_close(a.joints, b.joints, atol=1e-3, rtol=0)


def test_training_from_the_folder_matches_the_direct_path(exported, tmp_path, capsys):
    _, root = exported
    common = ["--preset", "ci", "--variant", "full", "--n-labeled", "20", "--stage1-iters", "12", "--stage2-iters", "8"]
    common += ["--data-dir", str(tmp_path / "cache"), "--no-progress", "--device", "cpu"]
    common += ["--frames", "32", "--test-frames", "8", "--val-frames", "8"]
    out = {}
    for source in ("generated", "nyu"):
        extra = ["--data", "nyu", "--nyu-dir", str(root)] if source == "nyu" else []
        pred = tmp_path / f"pred-{source}.txt"
        train_main(common + extra + ["--out", str(tmp_path / source), "--save-predictions", str(pred)])
        out[source] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        out[source]["history"] = json.loads((tmp_path / source / "history-stage2.json").read_text())
    a, b = out["generated"], out["nyu"]
    assert a["test_error_mm"] == pytest.approx(b["test_error_mm"], abs=0.1)
    for row_a, row_b in zip(a["history"], b["history"]):
        assert row_a["pose"] == pytest.approx(row_b["pose"], rel=1e-2)
    # the exported predictions are in the field's format and score the same error with mlib.evaluate
    gt = tmp_path / "gt.txt"
    folder = NYUFolder(root, "test")
    np.savetxt(gt, folder.joint_uvd[0][:, EVAL_JOINTS].reshape(len(folder), -1))
    scored = float(evaluate_files(gt, [b["predictions"]])["pred-nyu"].mean())
    assert scored == pytest.approx(b["test_error_mm"], abs=0.05)


def test_a_broken_folder_is_an_error_naming_the_file(exported, tmp_path):
    import shutil

    _, root = exported
    broken = tmp_path / "broken"
    shutil.copytree(root, broken)
    (broken / "train" / depth_filename(1, 5)).unlink()
    with pytest.raises(FileNotFoundError, match="depth_1_0000005.png: missing"):
        NYUFolder(broken, "train").check_files()
    (broken / "train" / depth_filename(1, 5)).write_bytes((root / "train" / depth_filename(1, 5)).read_bytes())
    (broken / "train" / depth_filename(1, 99)).write_bytes((root / "train" / depth_filename(1, 5)).read_bytes())
    with pytest.raises(NYUFormatError, match="33 depth_1_\\*.png files but joint_data.mat lists 32 frames"):
        NYUFolder(broken, "train").check_files()
    shutil.rmtree(broken / "test")
    with pytest.raises(FileNotFoundError, match="test: NYU test folder not found"):
        nyu_split_frames(broken)


def test_real_nyu_reads_the_releases_view_camera_and_holds_out_validation_frames(exported, tmp_path):
    import shutil

    _, root = exported
    real = tmp_path / "real"
    shutil.copytree(root, real, ignore=shutil.ignore_patterns("val", "mlib_generator.json"))
    folder = NYUFolder(real, "train")
    assert not folder.is_generated
    # the release's rule: camera 2 below 0-based index 29116, camera 3 from it on (tests/test_nyu_release.py)
    assert folder.view_camera(0) == 2 and folder.view_camera(29116) == 3
    assert NYUFolder(real, "test").view_camera(0) == 3  # the test split has no swap: camera 3 throughout
    splits = nyu_split_frames(real, val_frames=6)
    assert splits["val"][0] == "train" and list(splits["val"][1]) == list(range(26, 32))
    assert list(splits["train"][1]) == list(range(26)) and len(splits["test"][1]) == 8
