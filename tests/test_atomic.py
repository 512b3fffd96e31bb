"""The one atomic writer: all or nothing, and never a temp file left behind."""

import json

import pytest

from mlib.atomic import atomic_write, write_json, write_text


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "sub" / "result.json"
    write_json(path, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_write(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed mid-write")
    assert json.loads(path.read_text()) == {"a": 1}
    assert sorted(p.name for p in path.parent.iterdir()) == ["result.json"]


def test_a_completed_write_replaces_the_file(tmp_path):
    path = write_text(tmp_path / "x.txt", "old")
    with atomic_write(path) as tmp:
        assert tmp.parent == path.parent and tmp != path
        tmp.write_text("new")
    assert path.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["x.txt"]


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_follow_the_umask_like_open(tmp_path, umask):
    """Caches (h5py), checkpoints (torch.save) and text files get the mode open() would give them."""
    import os
    import stat

    import h5py
    import torch

    old = os.umask(umask)
    try:
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
        written = [write_text(tmp_path / "atomic.txt", "x")]
        with atomic_write(tmp_path / "cache.h5") as tmp, h5py.File(tmp, "w") as f:
            f["x"] = [1, 2]
        with atomic_write(tmp_path / "stage1.pt") as tmp:
            torch.save({"x": 1}, tmp)
        written += [tmp_path / "cache.h5", tmp_path / "stage1.pt"]
    finally:
        os.umask(old)
    assert stat.S_IMODE(plain.stat().st_mode) == 0o666 & ~umask
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in written} == {p.name: oct(0o666 & ~umask) for p in written}
