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
