"""Atomic file writes: a file is either its old self or completely new, never half-written.

    with atomic_write(path) as tmp:
        save_something(tmp)   # written beside `path`, renamed onto it only if this block succeeds

Every writer in mlib (checkpoints, caches, histories, results, PNGs, prediction files) goes through
here, so there is one temp-naming scheme and a crash or an exception never leaves a temp file behind.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temp path in `path`'s folder (created if missing); rename it onto `path` when the block
    ends without an exception, and remove it in every case."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_temp(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _new_temp(path: Path) -> Path:
    """A new empty file `.<name>.<random>.tmp` beside `path`, created with mode 0666 less the umask as
    open() would (tempfile.mkstemp makes 0600, which hides a shared machine's caches and checkpoints
    from the colleagues the umask lets read them). The writers reopen it in place, keeping that mode."""
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


def remove_killed_temps(folder: str | Path, target_name: str = "") -> list[Path]:
    """Remove the temp files `atomic_write` left in `folder` when its process was killed (SIGKILL skips
    the cleanup), all of them or only those for `target_name`. Call it only while holding the lock that
    guards the writers of that folder, or a live writer loses its file."""
    pattern = f".{target_name}.*.tmp" if target_name else ".*.tmp"
    stale = sorted(Path(folder).glob(pattern)) if Path(folder).is_dir() else []
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return stale


def write_text(path: str | Path, text: str) -> Path:
    with atomic_write(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path: str | Path, obj, indent: int = 1) -> Path:
    return write_text(path, json.dumps(obj, indent=indent, default=str))


class LockHeld(RuntimeError):
    """Another process holds a folder lock that was asked for without waiting."""


@contextmanager
def folder_lock(folder: str | Path, what: str, log=print, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on `folder` (its `.lock` file, through `filelock`) for the block, so two
    processes sharing a run folder (two notebooks, a notebook and a benchmark) never train or write the
    same thing at once. A second process waits, saying who holds the lock (`.lock-holder`), and then
    finds the work done or resumes it; with wait=False it gets LockHeld instead (a grid worker then
    takes another cell). The operating system drops the lock when its holder dies, even by SIGKILL; the
    temp files such a holder left in the folder are removed when the lock is next taken."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock, holder_file = FileLock(folder / ".lock"), folder / ".lock-holder"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = (holder_file.read_text().strip() if holder_file.exists() else "") or "another process"
        if not wait:
            raise LockHeld(f"{what}: {folder} is locked by {holder}") from None
        log(f"{what}: {folder} is locked by {holder}; waiting for it to finish")
        lock.acquire()
    try:
        holder_file.write_text(f"pid {os.getpid()}")
        remove_killed_temps(folder)  # every writer of this folder holds the lock, so these are orphans
        yield
    finally:
        holder_file.unlink(missing_ok=True)
        lock.release()
