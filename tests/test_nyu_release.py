"""NYU read as the authors' release reads it (poier/murauer, source/data/NyuHandPoseDataset.py): the
view camera of every frame, the second test subject's cube, one camera for a frame's real and synthetic
view targets; caches keyed on the files read; labels checked when a split is read."""

import shutil

import numpy as np
import pytest
import torch

from mlib.data import load_splits
from mlib.data.datasets import make_batch
from mlib.data.generate import export_nyu
from mlib.data.nyu import NYUFolder, NYUFormatError, depth_filename, read_joint_data, write_joint_data
from mlib.data.procedural.generator import HandGenerator
from mlib.presets import data_config

FRAMES = {"train": 24, "val": 4, "test": 4}
SWAP = 10  # the exported folder's view target switches from camera 2 to camera 3 at this 0-based frame


@pytest.fixture(scope="module")
def swapped(tmp_path_factory):
    cfg = data_config("ci", frames=FRAMES["train"], test_frames=FRAMES["test"], val_frames=FRAMES["val"])
    root = tmp_path_factory.mktemp("nyu_swap")
    export_nyu(HandGenerator(cfg.generator), root, FRAMES, progress=False, view_swap_index=SWAP)
    return cfg, root


def as_real_nyu(root, dest):
    """A copy without the generator's marker: read with real NYU's rules."""
    shutil.copytree(root, dest, ignore=shutil.ignore_patterns("val", "mlib_generator.json"))
    return dest


def test_the_view_camera_follows_the_release(swapped, tmp_path):
    _, root = swapped
    real = as_real_nyu(root, tmp_path / "real")
    train, test = NYUFolder(real, "train"), NYUFolder(real, "test")
    cameras = {i: train.view_camera(i) for i in (0, 29114, 29115, 29116, 72756)}
    assert cameras == {0: 2, 29114: 2, 29115: 2, 29116: 3, 72756: 3}
    assert {test.view_camera(i) for i in (0, 2440, 2441, 8251)} == {3}
    # the second test subject's smaller cube from 0-based index 2441 (testseq2_start_id) on
    assert test.cube_mm(2440) == 300.0 and test.cube_mm(2441) == 250.0
    assert train.cube_mm(2441) == 300.0


def test_a_frames_real_and_synthetic_view_targets_show_the_same_camera(swapped, tmp_path):
    cfg, root = swapped
    store = load_splits(cfg, "nyu", root, tmp_path / "cache", progress=False).train
    expected = [2] * SWAP + [3] * (FRAMES["train"] - SWAP)
    assert store.view_camera.tolist() == expected
    idx = torch.arange(len(store))
    none = torch.zeros(0, dtype=torch.long)
    sets = {"pairs": idx, "real": none, "synth": idx, "unlabeled": none, "view": idx}
    batch = make_batch(store, sets, augment=None)
    for name in ("pair_synth", "synth", "view_synth"):
        assert torch.equal(batch[name].view[:, 0], store.synth[idx, store.view_camera - 1].float())
    assert torch.equal(batch["view_real"].view[:, 0], store.real_view.float())
    # by content: each frame's captured view is nearer the render of its own camera than of the other one
    for i, camera in enumerate(expected):
        real = batch["view_real"].view[i, 0]
        own = (real - batch["view_synth"].view[i, 0]).abs().mean()
        other = (real - store.synth[i, 5 - camera - 1].float()).abs().mean()
        assert own < other, f"frame {i}: camera {camera}'s render is not the nearer one"


def test_an_edited_label_or_a_replaced_png_is_cropped_anew(swapped, tmp_path):
    cfg, root = swapped
    folder = shutil.copytree(root, tmp_path / "nyu")
    cache_dir = tmp_path / "cache"
    first = load_splits(cfg, "nyu", folder, cache_dir, progress=False).train
    joints = read_joint_data(folder / "train")
    joints["joint_xyz"][:, 3, :, 0] += 5.0  # frame 3 moved 5 mm along x, edited in place
    write_joint_data(folder / "train", joints["joint_uvd"], joints["joint_xyz"])
    second = load_splits(cfg, "nyu", folder, cache_dir, progress=False).train
    torch.testing.assert_close(second.joints[3], first.joints[3] + torch.tensor([5.0, 0.0, 0.0]))
    assert torch.equal(second.joints[4], first.joints[4])
    png = folder / "train" / depth_filename(1, 3)
    png.write_bytes((folder / "train" / depth_filename(1, 9)).read_bytes())  # frame 2's PNG replaced
    third = load_splits(cfg, "nyu", folder, cache_dir, progress=False).train
    assert not torch.equal(third.real[2], second.real[2]) and torch.equal(third.real[4], second.real[4])
    assert len(list(cache_dir.glob("nyu-*.h5"))) == 3


@pytest.mark.parametrize("split", ["train", "test"])
def test_a_non_finite_label_is_refused_naming_file_frame_and_joint(swapped, tmp_path, split):
    cfg, root = swapped
    folder = shutil.copytree(root, tmp_path / "nyu")
    joints = read_joint_data(folder / split)
    joints["joint_xyz"][0, 2, 7, 1] = np.nan
    write_joint_data(folder / split, joints["joint_uvd"], joints["joint_xyz"])
    cache_dir = tmp_path / "cache"
    with pytest.raises(NYUFormatError) as err:
        load_splits(cfg, "nyu", folder, cache_dir, progress=False)
    message = str(err.value)
    assert f"{split}/joint_data.mat" in message and "frame 3 " in message and "joint 7" in message
    assert not list(cache_dir.glob("*.h5")) and not list(cache_dir.glob(".*.tmp"))
