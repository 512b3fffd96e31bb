"""Stand-ins for NYU's files (notebooks 00 and 07 without ../shared): same format, known content."""

from pathlib import Path

import numpy as np

from mlib import evaluate as ev
from mlib.data.camera import EVAL_JOINTS, uvd_to_xyz
from mlib.data.nyu import read_depth_png
from mlib.data.procedural.generator import HandGenerator
from mlib.presets import data_config
from mlib.sources import field_files, mean_pose_predictions, nyu_test_frame


def test_relative_paths_are_taken_from_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "nyu" / "test").mkdir(parents=True)
    for p in (tmp_path / "nyu" / "test" / "depth_1_0000001.png", tmp_path / "nyu" / "nyu_test_groundtruth_label.txt"):
        p.write_text("")
    monkeypatch.chdir(tmp_path)
    files = nyu_test_frame("nyu", "ci", tmp_path / "out")
    assert files.real and files.depth_png == (tmp_path / "nyu" / "test" / "depth_1_0000001.png").resolve()


def test_the_stand_in_frame_is_generated_test_frame_0_in_nyus_encoding(tmp_path):
    files = nyu_test_frame(tmp_path / "missing", "ci", tmp_path / "out")
    assert not files.real and "generated test frame 0" in files.description
    frames = HandGenerator(data_config("ci").generator).frames("test", [0])
    depth = read_depth_png(files.depth_png)
    assert np.array_equal(depth, HandGenerator(data_config("ci").generator).render_full(frames, 1, "real")[0])
    uvd = np.loadtxt(files.labels).reshape(14, 3)  # one line, the label file's format
    np.testing.assert_allclose(uvd_to_xyz(uvd), frames.joints_xyz[0, 0, EVAL_JOINTS], atol=0.01)


def test_real_files_are_used_when_both_are_there(tmp_path):
    (tmp_path / "test").mkdir()
    for p in (tmp_path / "test" / "depth_1_0000001.png", tmp_path / "nyu_test_groundtruth_label.txt"):
        p.write_text("")
    files = nyu_test_frame(tmp_path, "ci", tmp_path / "out")
    assert files.real and files.depth_png.parent == tmp_path / "test"
    assert not (tmp_path / "out").exists()


def test_field_stand_in_files_have_one_line_per_test_frame_and_a_worse_baseline(tmp_path):
    files = field_files(tmp_path / "gt.txt", tmp_path / "published", "ci", tmp_path / "out", run_dir=None)
    assert not files.real and [p.name for p in files.predictions] == ["mean_pose.txt"]
    gt = ev.load_joints(files.gt)
    errors = ev.evaluate_files(files.gt, files.predictions)["mean_pose"]
    assert errors.shape == (len(gt), 14) and np.isfinite(errors).all()
    # the baseline places the mean pose at each frame's palm centre: exact there, off elsewhere
    assert errors[:, -1].max() < 0.01 and errors.mean() > 10


def test_mean_pose_of_a_store_with_one_pose_is_that_pose():
    class Store:  # the two fields the baseline reads
        def __init__(self, joints, centres):
            import torch

            self.joints, self.centres = torch.as_tensor(joints), torch.as_tensor(centres)

    pose = np.random.default_rng(0).normal(0, 50, (1, 3, 36, 3)).astype(np.float32)
    centre = pose[:, :, 32]
    train = Store(np.repeat(pose, 4, 0), np.repeat(centre, 4, 0))
    test = Store(pose + 100, centre + 100)
    np.testing.assert_allclose(mean_pose_predictions(train, test), (pose + 100)[:, 0][:, EVAL_JOINTS], atol=1e-4)


def test_published_files_are_used_when_there(tmp_path):
    (tmp_path / "published").mkdir()
    gt = tmp_path / "gt.txt"
    xyz = np.random.default_rng(0).normal([0, 0, 800], 30, (3, 14, 3))
    ev.save_predictions(gt, xyz)
    ev.save_predictions(tmp_path / "published" / "m.txt", xyz)
    files = field_files(gt, tmp_path / "published", "ci", tmp_path / "out")
    assert files.real and files.gt == gt and [Path(p).name for p in files.predictions] == ["m.txt"]
