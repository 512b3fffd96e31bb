import json
import math

import h5py
import numpy as np
import pytest
import scipy.io
import torch
from PIL import Image

from mlib.data import cache
from mlib.data.augment import AugmentConfig, AugmentParams, augment_images, augment_joints, sample_params
from mlib.data.datasets import Composition, CropStore, FourSetSampler, labeled_subset, make_batch
from mlib.data.nyu import NYUFolder, NYUFormatError, read_depth_png, read_joint_data, write_depth_png, write_joint_data


def test_depth_png_round_trip(tmp_path):
    d = np.random.default_rng(0).integers(0, 3000, size=(480, 640)).astype(np.float32)
    write_depth_png(tmp_path / "depth_1_0000001.png", d)
    np.testing.assert_array_equal(read_depth_png(tmp_path / "depth_1_0000001.png"), d)
    assert not list(tmp_path.glob("*.tmp")), "no temp files left behind"


def test_bad_pngs_name_the_file(tmp_path):
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(small)
    with pytest.raises(NYUFormatError, match=r"small\.png.*10x10"):
        read_depth_png(small)
    gray = tmp_path / "gray.png"
    Image.fromarray(np.zeros((480, 640), np.uint8)).save(gray)
    with pytest.raises(NYUFormatError, match=r"gray\.png.*mode"):
        read_depth_png(gray)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    with pytest.raises(NYUFormatError, match=r"broken\.png.*corrupt"):
        read_depth_png(broken)
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        read_depth_png(tmp_path / "missing.png")


def test_joint_data_round_trip_and_missing_keys(tmp_path):
    xyz = np.random.default_rng(0).normal(size=(3, 4, 36, 3))
    write_joint_data(tmp_path, xyz + 1, xyz)
    jd = read_joint_data(tmp_path)
    np.testing.assert_allclose(jd["joint_xyz"], xyz)
    assert jd["joint_names"][32] == "PALM_3"
    scipy.io.savemat(tmp_path / "joint_data.mat", {"joint_xyz": xyz})
    with pytest.raises(NYUFormatError, match=r"joint_data\.mat.*joint_uvd"):
        read_joint_data(tmp_path)


def test_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope.*train.*joint_data\.mat"):
        NYUFolder(tmp_path / "nope", "train")


def _dot_image(size: int, col: int, row: int) -> torch.Tensor:
    img = torch.ones(1, 1, size, size)
    img[0, 0, row - 1 : row + 2, col - 1 : col + 2] = 0.0
    return img


def test_augmentation_moves_image_and_joints_together():
    size, cube = 64, torch.tensor([300.0])
    col, row = 48, 24
    img = _dot_image(size, col, row)
    joint = torch.tensor([[[(col + 0.5) / size * 2 - 1, 1 - (row + 0.5) / size * 2, 0.0]]])
    cfg = AugmentConfig()
    for angle, shift in [(30, (15.0, -10.0, 0.0)), (-55, (0.0, 0.0, 0.0)), (0, (-12.0, 8.0, 0.0))]:
        p = AugmentParams(torch.tensor([math.radians(angle)]), torch.tensor([shift]), torch.zeros(1, 1, size, size))
        out, j = augment_images(img, p, cube, cfg), augment_joints(joint, p, cube)
        rows, cols = torch.nonzero(out[0, 0] < 1, as_tuple=True)
        jc, jr = (j[0, 0, 0] + 1) / 2 * size - 0.5, (1 - j[0, 0, 1]) / 2 * size - 0.5
        assert abs(cols.float().mean() - jc) < 1.0 and abs(rows.float().mean() - jr) < 1.0, (angle, shift)


def test_augmentation_depth_shift_noise_and_background():
    size, cube = 16, torch.tensor([300.0, 300.0])
    img = torch.ones(2, 1, size, size)
    img[:, :, 4:12, 4:12] = 0.2
    cfg = AugmentConfig()
    p = AugmentParams(torch.zeros(2), torch.tensor([[0.0, 0.0, 30.0], [0.0, 0.0, 0.0]]), torch.zeros(2, 1, size, size))
    out = augment_images(img, p, cube, cfg)
    np.testing.assert_allclose(out[0, 0, 6, 6].item(), 0.2 - 30 / 150, atol=1e-6)
    assert (out[:, :, 0, :] == 1).all(), "background stays +1"
    p = sample_params(2, size, cfg, torch.Generator().manual_seed(0))
    p.angle.zero_(), p.shift_mm.zero_()
    noisy = augment_images(img, p, cube, cfg)
    fg = img < 1
    resid = (noisy - img)[fg] * 150
    assert 3.5 < resid.std().item() < 6.5, "σ = 5 mm noise on the hand"
    assert (noisy[~fg] == 1).all(), "no noise on the background"


def test_nested_subsets():
    a, b, c = (set(labeled_subset(5000, n, seed=3)) for n in (10, 100, 1000))
    assert len(a) == 10 and len(b) == 100 and a <= b <= c
    assert set(labeled_subset(5000, 10, seed=4)) != a
    assert len(labeled_subset(50, "all")) == 50
    with pytest.raises(ValueError, match="n_labeled"):
        labeled_subset(50, 100)


def _fake_store(n=200, size=16) -> CropStore:
    return CropStore.random(n, size)


def test_four_set_sampler_composition_and_resume():
    labeled = labeled_subset(200, 10, seed=0)
    s = FourSetSampler(200, labeled, Composition(16, 16, 16, 16), seed=1)
    sets = s.sample()
    assert {k: len(v) for k, v in sets.items()} == {"pairs": 16, "real": 16, "synth": 16, "unlabeled": 16, "view": 0}
    assert set(sets["pairs"].tolist()) <= set(labeled.tolist()) and set(sets["real"].tolist()) <= set(labeled.tolist())
    state = s.state_dict()
    nxt = s.sample()
    s.load_state_dict(state)
    again = s.sample()
    assert all(torch.equal(nxt[k], again[k]) for k in nxt)
    # unlabeled draws reach beyond the labeled frames
    draws = torch.cat([s.sample()["unlabeled"] for _ in range(20)])
    assert len(set(draws.tolist()) - set(labeled.tolist())) > 100


def test_make_batch_pairs_share_the_transform():
    store = _fake_store()
    # make the pair's real and synthetic crops identical so equal transforms give equal outputs
    store.real.copy_(store.synth[:, 0])
    sets = FourSetSampler(len(store), labeled_subset(len(store), 20), seed=0).sample()
    b = make_batch(store, sets, augment=AugmentConfig(), generator=torch.Generator().manual_seed(0))
    assert set(b) == {"pair_real", "pair_synth", "real", "synth", "unlabeled"}
    assert torch.equal(b["pair_real"].x, b["pair_synth"].x)
    assert torch.equal(b["pair_real"].y, b["pair_synth"].y)
    assert b["unlabeled"].y is None and b["real"].y.shape == (16, 14, 3)
    # the view target is not augmented
    assert torch.equal(b["synth"].view, store.synth[sets["synth"], 1].float().unsqueeze(1))


def _write_small_cache(path, n=10, size=8):
    store = _fake_store(n, size)
    arrays = {k: getattr(store, k).numpy() for k in cache.FIELDS}

    def chunks(split):
        yield arrays

    return cache.write_cache(path, {"a": 1}, size, {"train": n, "test": n}, chunks), arrays


def corrupt_first_synth_chunk(path) -> None:
    """Flip bytes inside the training split's first chunk of synthetic images."""
    with h5py.File(path, "r") as f:
        offset = f["train/synth"].id.get_chunk_info(0).byte_offset
    raw = bytearray(path.read_bytes())
    raw[offset + 10 : offset + 20] = b"\xff" * 10
    path.write_bytes(bytes(raw))


def test_cache_round_trip_and_corruption_detected(tmp_path):
    path, arrays = _write_small_cache(tmp_path / "c.h5")
    cache.check_cache(path, {"a": 1})
    loaded = cache.read_split(path, "test")
    np.testing.assert_array_equal(loaded["synth"], arrays["synth"])
    with pytest.raises(cache.CacheError, match="other settings"):
        cache.check_cache(path, {"a": 2})
    # flip bytes inside the image data: the checksum catches it
    corrupt_first_synth_chunk(path)
    with pytest.raises(cache.CacheError, match=r"c\.h5"):
        cache.read_split(path, "train")


def test_truncated_cache_is_rebuilt(tmp_path):
    path, _ = _write_small_cache(tmp_path / "c.h5")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    killed_build = tmp_path / ".c.h5.k1ll3d.tmp"  # a build killed mid-write
    killed_build.write_bytes(data[:100])
    other = tmp_path / ".d.h5.x.tmp"  # another cache's build: not this lock's business
    other.write_bytes(b"")
    rebuilt = []
    out = cache.ensure_cache(
        path, {"a": 1}, lambda: rebuilt.append(1) or _write_small_cache(path)[0], log=lambda m: None
    )
    assert rebuilt == [1] and out == path
    cache.check_cache(path, {"a": 1})
    assert not killed_build.exists() and other.exists()


def test_memory_mapped_split_equals_the_loaded_one_and_follows_the_cache(tmp_path):
    from mlib.data.datasets import CropStore

    path, arrays = _write_small_cache(tmp_path / "c.h5")
    whole = CropStore.load(path, "train", mmap=False)
    mapped = CropStore.load(path, "train", mmap=True, progress=False)
    for k in cache.FIELDS:
        assert torch.equal(getattr(whole, k), getattr(mapped, k)), k
    folder = cache.mapped_dir(path)
    copies = sorted(p.name for p in folder.glob("train-*.npy"))
    assert copies == ["train-real.npy", "train-real_view.npy", "train-synth.npy"]
    assert not list(folder.glob(".*tmp")), "no temp file is left behind"
    # a batch gathered from the mapped store is the same batch
    idx = torch.tensor([3, 0, 2])
    assert torch.equal(whole.images(idx, "synth", camera=2), mapped.images(idx, "synth", camera=2))
    # reused while the cache is unchanged, redone when it changes
    stamp = (folder / "train-real.npy").stat().st_mtime_ns
    CropStore.load(path, "train", mmap=True, progress=False)
    assert (folder / "train-real.npy").stat().st_mtime_ns == stamp
    cache.write_cache(path, {"a": 1}, arrays["real"].shape[-1], {"train": len(arrays["real"])},
                      lambda split: iter([{**arrays, "real": arrays["real"] * 0}]))
    assert float(CropStore.load(path, "train", mmap=True, progress=False).real.abs().sum()) == 0.0


def test_memory_mapping_a_corrupt_cache_names_the_file(tmp_path):
    from mlib.data.datasets import CropStore

    path, _ = _write_small_cache(tmp_path / "c.h5")
    corrupt_first_synth_chunk(path)
    with pytest.raises(cache.CacheError, match=r"c\.h5"):
        CropStore.load(path, "train", mmap=True, progress=False)
    assert not list(cache.mapped_dir(path).glob("train-synth.npy")), "no half-unpacked copy is kept"
    with pytest.raises(cache.CacheError, match="no split 'nope'"):
        CropStore.load(path, "nope")


def test_synthetic_samples_from_several_cameras_keep_each_cameras_pose():
    store = _fake_store()
    sets = FourSetSampler(len(store), labeled_subset(len(store), 20), seed=0).sample()
    one = make_batch(store, sets, augment=None, generator=torch.Generator().manual_seed(0))
    three = make_batch(store, sets, augment=None, generator=torch.Generator().manual_seed(0), synth_cameras=3)
    cams = torch.randint(1, 4, sets["synth"].shape, generator=torch.Generator().manual_seed(0))
    assert set(cams.tolist()) == {1, 2, 3}
    idx = sets["synth"]
    assert torch.equal(three["synth"].x, store.synth[idx, cams - 1].float().unsqueeze(1))
    assert torch.equal(three["synth"].y, store.targets(idx, cams))
    for row, c in zip(idx.tolist(), cams.tolist()):  # each sample's pose is its own camera's
        assert torch.equal(store.targets(torch.tensor([row]), c), store.targets(idx, cams)[idx == row][:1])
    assert torch.equal(one["synth"].x, store.images(idx, "synth"))  # k = 1: camera 1, as before
    assert torch.equal(one["pair_synth"].x, three["pair_synth"].x), "only the synthetic set changes"


def test_a_cache_from_before_the_view_camera_field_reads_its_settings_camera(tmp_path):
    """Generated caches written before each frame carried its view camera record the one camera in their
    settings; they stay valid. A cache with neither is rebuilt (check_cache refuses it)."""
    store = _fake_store(10, 8)
    arrays = {k: getattr(store, k).numpy() for k in cache.FIELDS if k != "view_camera"}
    for settings, valid in (({"view_camera": 3}, True), ({"a": 1}, False)):
        path = tmp_path / f"old-{valid}.h5"
        with h5py.File(path, "w") as f:
            f.attrs.update(format_version=cache.FORMAT_VERSION, key=cache.settings_key(settings), complete=True)
            f.attrs["settings"] = json.dumps(settings)
            for name, value in arrays.items():
                f.create_dataset(f"train/{name}", data=value)
        if valid:
            cache.check_cache(path, settings)
            assert CropStore.load(path, "train", mmap=False).view_camera.tolist() == [3] * 10
            assert CropStore.load(path, "train", mmap=True, progress=False).view_camera.tolist() == [3] * 10
        else:
            with pytest.raises(cache.CacheError, match="does not say which camera"):
                cache.check_cache(path, settings)


def test_old_caches_are_listed_with_sizes_and_pruned_but_never_the_one_in_use(tmp_path, capsys):
    from mlib.atomic import folder_lock
    from mlib.data.generate import export_nyu, nyu_cache
    from mlib.data.procedural.generator import HandGenerator
    from mlib.data_cli import main
    from mlib.presets import data_config

    cfg = data_config("ci")
    root = export_nyu(HandGenerator(cfg.generator), tmp_path / "nyu", {"train": 4, "val": 2, "test": 2}, progress=False)
    data = tmp_path / "cache"
    before = nyu_cache(root, cfg.crop, data, progress=False)
    cache.read_split_mapped(before, "train", progress=False)  # its memory-mapped copies count and go with it
    joints = read_joint_data(root / "train")  # a label edited: the next run crops a new cache
    joints["joint_xyz"][0, 1, 4, 2] += 1.0
    write_joint_data(root / "train", joints["joint_uvd"], joints["joint_xyz"])
    current = nyu_cache(root, cfg.crop, data, progress=False)
    old_format, _ = _write_small_cache(data / "murauer-old-8px-000000000000.h5")
    with h5py.File(old_format, "a") as f:
        f.attrs["format_version"] = 0
    held, _ = _write_small_cache(data / "murauer-held-8px-111111111111.h5")
    with h5py.File(held, "a") as f:
        f.attrs["format_version"] = 0
    (data / ".gone.h5.lock.d").mkdir()  # what a cache deleted by hand, or a failed build, leaves
    (data / ".gone.h5.lock.d" / ".lock").touch()
    (data / "gone.h5.mmap").mkdir()
    (data / "gone.h5.mmap" / "train-real.npy").write_bytes(b"x" * 100)
    sizes = {p.name: p.stat().st_size for p in (before, current, old_format, held)}
    sizes[before.name] += sum(p.stat().st_size for p in cache.mapped_dir(before).rglob("*") if p.is_file())

    main(["--list-caches", "--out", str(data)])
    lines = capsys.readouterr().out.strip().splitlines()
    rows = {line.split()[3]: line.split()[:3] for line in lines[:-1]}
    assert rows == {name: [f"{size / 2**20:.1f}", "MB", "current" if name == current.name else "stale"]
                    for name, size in sizes.items()}
    assert "labels or depth files changed since this cache was cropped" in next(r for r in lines if before.name in r)
    assert "cache format 0 != 1" in next(r for r in lines if old_format.name in r)
    listed = json.loads(lines[-1])
    assert listed["bytes"] == sum(sizes.values()) and listed["stale_bytes"] == listed["bytes"] - sizes[current.name]
    assert before.exists() and old_format.exists() and (data / ".gone.h5.lock.d").exists()  # listing deletes nothing

    with folder_lock(cache.lock_dir(held), "another process"):  # a cache someone is using right now
        main(["--prune-caches", "--out", str(data)])
    pruned = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert pruned["removed"] == sorted([before.name, old_format.name]) and pruned["busy"] == [held.name]
    assert pruned["leftovers_removed"] == [".gone.h5.lock.d", "gone.h5.mmap"]
    assert sorted(p.name for p in data.iterdir()) == sorted(
        [current.name, f".{current.name}.lock.d", held.name, f".{held.name}.lock.d"]
    )
    cache.check_cache(current)  # the cache in use is whole
    assert nyu_cache(root, cfg.crop, data, progress=False) == current
