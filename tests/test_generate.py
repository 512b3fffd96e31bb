"""The direct render-into-cache path against the NYU on-disk path, and cache reuse."""

import numpy as np
import pytest

from mlib.data import load_generated
from mlib.data.generate import (
    build_generated_cache,
    cache_path,
    export_nyu,
    generated_cache,
    nyu_cache,
    nyu_crops,
    render_crops,
)
from mlib.data.nyu import NYUFolder
from mlib.data.procedural.generator import HandGenerator
from mlib.presets import data_config


@pytest.fixture(scope="module")
def small_cfg():
    return data_config("ci", frames=24, test_frames=8, val_frames=6)


def test_export_then_nyu_reader_gives_the_direct_crops(tmp_path, small_cfg):
    gen = HandGenerator(small_cfg.generator)
    export_nyu(gen, tmp_path, {"train": 4, "val": 2, "test": 3}, progress=False)
    for split, n in (("train", 4), ("val", 2), ("test", 3)):
        folder = NYUFolder(tmp_path, split)
        assert folder.is_generated and len(folder) == n
        via_disk = nyu_crops(folder, np.arange(n), small_cfg.crop)
        direct = render_crops(gen, gen.frames(split, np.arange(n)), small_cfg.crop)
        np.testing.assert_array_equal(via_disk["synth"], direct["synth"])  # synthetic: exactly
        for key in ("real", "real_view"):  # real: same sensor draw, so equal to float16 storage precision
            np.testing.assert_allclose(via_disk[key].astype(np.float32), direct[key].astype(np.float32), atol=1e-3)
        np.testing.assert_allclose(via_disk["joints"], direct["joints"], atol=1e-3)
        np.testing.assert_allclose(via_disk["centres"], direct["centres"], atol=1e-3)
    # and the whole folder through the NYU cache builder
    path = nyu_cache(tmp_path, small_cfg.crop, tmp_path / "cache", progress=False)
    assert path.exists()


def test_cache_is_reused_and_corruption_rebuilt(tmp_path, small_cfg):
    path = generated_cache(small_cfg, tmp_path, progress=False)
    assert path == cache_path(small_cfg, tmp_path)
    stamp = path.stat().st_mtime_ns
    assert generated_cache(small_cfg, tmp_path, progress=False) == path
    assert path.stat().st_mtime_ns == stamp, "a valid cache is reused, not rebuilt"
    train, val, test = load_generated(small_cfg, tmp_path, progress=False)
    assert len(train) == 24 and len(val) == 6 and len(test) == 8 and train.crop_size == 32
    # three disjoint groups of subjects: tuning on val never reads a test subject
    subjects = [set(s.subjects.tolist()) for s in (train, val, test)]
    assert all(subjects) and sum(map(len, subjects)) == len(set.union(*subjects))
    # corrupt the middle of the file: the checksums catch it and the loader rebuilds
    raw = bytearray(path.read_bytes())
    mid = len(raw) // 2
    raw[mid : mid + 4096] = bytes(4096)
    path.write_bytes(bytes(raw))
    train2 = load_generated(small_cfg, tmp_path, progress=False).train
    assert np.array_equal(train2.real.numpy(), train.real.numpy())


def test_validation_subjects_leave_train_and_test_frames_unchanged(small_cfg):
    import dataclasses

    gen = HandGenerator(small_cfg.generator)
    without = HandGenerator(dataclasses.replace(small_cfg.generator, n_val_subjects=0))
    for split in ("train", "test"):
        a, b = gen.frames(split, np.arange(5)), without.frames(split, np.arange(5))
        np.testing.assert_array_equal(a.joints_xyz, b.joints_xyz)
        np.testing.assert_array_equal(a.subject, b.subject)
    val = gen.frames("val", np.arange(4))
    assert set(val.subject.tolist()) == {10, 11}  # after the 8 train and 2 test subjects
    with pytest.raises(ValueError, match="no validation subjects"):
        without.frames("val", np.arange(2))


def test_settings_change_the_cache_name(tmp_path, small_cfg):
    other = data_config("ci", frames=24, test_frames=8, crop_size=48)
    assert cache_path(other, tmp_path) != cache_path(small_cfg, tmp_path)
    path = build_generated_cache(small_cfg, tmp_path, progress=False)
    assert not list(tmp_path.glob("*.tmp")), "no temp file left"
    assert path.name.startswith("murauer-ci-32px-")


def test_a_generator_field_at_its_off_value_keeps_the_cache_name_it_had_before_the_field():
    import dataclasses

    from mlib.data.generate import GENERATOR_FIELDS_ADDED

    cfg = data_config("laptop")
    for key, off in GENERATOR_FIELDS_ADDED.items():
        assert getattr(cfg.generator, key) == off and key not in cfg.settings()["generator"]
        on = dataclasses.replace(cfg, generator=dataclasses.replace(cfg.generator, **{key: 0.5}))
        assert on.settings()["generator"][key] == 0.5 and cache_path(on, "d") != cache_path(cfg, "d")
    # the laptop cache's key as every run folder and notebook has known it
    assert cache_path(cfg, "d").name == "murauer-laptop-64px-6c639cf94fce.h5"


def test_rendering_processes_write_the_same_cache_as_one(tmp_path, small_cfg):
    import h5py

    one = build_generated_cache(small_cfg, tmp_path / "one", chunk=5, progress=False, workers=1)
    two = build_generated_cache(small_cfg, tmp_path / "two", chunk=5, progress=False, workers=2)
    with h5py.File(one) as a, h5py.File(two) as b:
        for split in ("train", "test", "val"):
            assert set(a[split]) == set(b[split])
            for name in a[split]:
                np.testing.assert_array_equal(a[split][name][()], b[split][name][()], err_msg=f"{split}/{name}")


def test_a_small_export_is_small_in_every_split(tmp_path, monkeypatch, capsys):
    import mlib.data_cli
    from mlib.data.nyu import read_joint_data

    asked = []
    monkeypatch.setattr(mlib.data_cli, "export_nyu", lambda gen, root, frames, **kw: asked.append(frames) or root)
    for extra in ([], ["--frames", "40"], ["--frames", "40", "--test-frames", "3"], ["--frames", "20000"]):
        mlib.data_cli.main(["--preset", "laptop", "--export-nyu", str(tmp_path / "x"), *extra])
    assert asked == [
        {"train": 10_000, "val": 1_000, "test": 2_000},  # the preset's splits
        {"train": 40, "val": 4, "test": 8},  # in the preset's proportions
        {"train": 40, "val": 4, "test": 3},
        {"train": 20_000, "val": 1_000, "test": 2_000},  # never more than the preset's
    ]
    monkeypatch.undo()
    mlib.data_cli.main(["--preset", "ci", "--export-nyu", str(tmp_path / "nyu"), "--frames", "8"])
    frames = {s: read_joint_data(tmp_path / "nyu" / s)["joint_xyz"].shape[1] for s in ("train", "val", "test")}
    assert frames == {"train": 8, "val": 1, "test": 2}
    assert len(list((tmp_path / "nyu" / "test").glob("depth_1_*.png"))) == 2


def test_the_cache_command_builds_the_cache_the_trainer_reads(monkeypatch, capsys):
    import mlib.data_cli
    from mlib.presets import resolve

    asked = []
    monkeypatch.setattr(mlib.data_cli, "generated_cache", lambda cfg, out: asked.append(cfg) or out)
    mlib.data_cli.main(["--preset", "ci", "--frames", "40"])  # validation and test: the preset's, as for mlib.train
    mlib.data_cli.main(["--preset", "ci", "--frames", "40", "--val-frames", "5", "--test-frames", "6"])
    assert asked[0] == resolve("ci", data={"frames": 40}).data
    assert asked[1] == resolve("ci", data={"frames": 40, "val_frames": 5, "test_frames": 6}).data
