"""Preprocessed crops in one HDF5 file per data set and setting.

Layout, per split group ("train", "test"), N frames, crop side S:
  real       (N, S, S)     float16  real camera-1 crop, normalised depth
  real_view  (N, S, S)     float16  real side-camera crop (view-prediction target)
  synth      (N, 3, S, S)  float16  synthetic crops of cameras 1..3
  joints     (N, 3, 36, 3) float32  joints in mm, per camera, NYU 36-joint layout
  centres    (N, 3, 3)     float32  crop centre (palm centre) per camera, mm
  cube       (N,)          float32  crop cube side, mm
  frame_ids  (N,)          int64    0-based frame index in the split
  subjects   (N,)          int64    subject id (-1 when unknown)
  view_camera (N,)         int64    the camera real_view shows; the frame's synthetic view target is
                                    synth[view_camera - 1] (caches written before this field record
                                    one camera for all frames in their settings, `view_camera`)
A split whose images would not fit comfortably in memory (the full NYU set at 128² is about 12 GB) is
unpacked once, chunk by chunk, into uncompressed `.npy` files beside the cache and memory-mapped
(`read_split_mapped`): training then pages in the frames it gathers instead of holding the set.
The file name carries a hash of every setting that changes its content. Files are
written to a temp name and renamed when complete, carry a `complete` flag and a
Fletcher-32 checksum per chunk, and are checked on open; a bad file is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from tqdm.auto import tqdm

from mlib.atomic import LockHeld, atomic_write, folder_lock, remove_killed_temps

FORMAT_VERSION = 1
FIELDS = ("real", "real_view", "synth", "joints", "centres", "cube", "frame_ids", "subjects", "view_camera")
SMALL_FIELDS = ("joints", "centres", "cube", "frame_ids", "subjects")  # in every cache, read whole to check them
IMAGE_FIELDS = ("real", "real_view", "synth")
# Splits whose images take more than this are memory-mapped by default (CropStore.load, mmap=None).
MMAP_ABOVE_BYTES = 2 << 30


class CacheError(RuntimeError):
    """A cache file that is incomplete, corrupt or made with other settings."""


def settings_key(settings: dict) -> str:
    """Stable short hash of JSON-serialisable settings (with the format version)."""
    blob = json.dumps({"format": FORMAT_VERSION, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _field_specs(size: int) -> dict[str, tuple[tuple[int, ...], str]]:
    return {
        "real": ((size, size), "float16"),
        "real_view": ((size, size), "float16"),
        "synth": ((3, size, size), "float16"),
        "joints": ((3, 36, 3), "float32"),
        "centres": ((3, 3), "float32"),
        "cube": ((), "float32"),
        "frame_ids": ((), "int64"),
        "subjects": ((), "int64"),
        "view_camera": ((), "int64"),
    }


def write_cache(
    path: Path,
    settings: dict,
    size: int,
    splits: dict[str, int],
    chunks: Callable[[str], Iterator[dict[str, np.ndarray]]],
) -> Path:
    """Write a cache atomically. `chunks(split)` yields dicts of FIELDS arrays, in frame order."""
    path = Path(path)
    specs = _field_specs(size)
    # h5py closes the file before atomic_write renames it into place
    with atomic_write(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["key"] = settings_key(settings)
        f.attrs["settings"] = json.dumps(settings, sort_keys=True, default=str)
        f.attrs["complete"] = False
        for split, n in splits.items():
            grp = f.create_group(split)
            dsets = {}
            for name, (shape, dtype) in specs.items():
                chunk_rows = max(1, min(n, 256))
                dsets[name] = grp.create_dataset(
                    name, shape=(n, *shape), dtype=dtype, chunks=(chunk_rows, *shape), fletcher32=True
                )
            row = 0
            for chunk in chunks(split):
                m = len(chunk["frame_ids"])
                for name in FIELDS:
                    dsets[name][row : row + m] = chunk[name]
                row += m
            if row != n:
                raise CacheError(f"{path}: split {split!r} produced {row} frames, expected {n}")
        f.attrs["complete"] = True
    return path


def check_cache(path: Path, settings: dict | None = None) -> None:
    """Raise CacheError if the file is unreadable, incomplete, or made with other settings."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            if not f.attrs.get("complete", False):
                raise CacheError(f"{path}: incomplete cache (its writer did not finish)")
            if f.attrs.get("format_version") != FORMAT_VERSION:
                raise CacheError(f"{path}: cache format {f.attrs.get('format_version')} != {FORMAT_VERSION}")
            if settings is not None and f.attrs.get("key") != settings_key(settings):
                raise CacheError(f"{path}: cache was made with other settings")
            for split in f:
                grp = f[split]
                missing = [k for k in FIELDS if k not in grp and k != "view_camera"]
                if missing:
                    raise CacheError(f"{path}: split {split!r} lacks {missing}")
                if "view_camera" not in grp and "view_camera" not in json.loads(f.attrs.get("settings", "{}")):
                    raise CacheError(f"{path}: split {split!r} does not say which camera its view targets show")
                n = {grp[k].shape[0] for k in FIELDS if k in grp}
                if len(n) != 1:
                    raise CacheError(f"{path}: split {split!r} fields have different frame counts {sorted(n)}")
                # Reading the small fields whole checks their checksums; the images are
                # checked chunk by chunk when loaded.
                for k in SMALL_FIELDS:
                    grp[k][...]
    except CacheError:
        raise
    except (OSError, KeyError, ValueError) as err:
        raise CacheError(f"{path}: unreadable cache ({err})") from err


def read_split(path: Path, split: str) -> dict[str, np.ndarray]:
    """Load one split fully into memory; corrupt chunks raise CacheError naming the file."""
    try:
        with h5py.File(path, "r") as f:
            if split not in f:
                raise CacheError(f"{path}: no split {split!r}; it has {sorted(f)}")
            return _with_view_camera(f, split, {k: f[split][k][...] for k in FIELDS if k in f[split]})
    except CacheError:
        raise
    except (OSError, KeyError, ValueError) as err:
        raise CacheError(f"{path}: unreadable cache ({err}); delete it to rebuild") from err


def _with_view_camera(f: h5py.File, split: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`arrays` with the per-frame view camera: the stored field, or for a cache written before it
    existed the one camera its settings record (the generator's side camera)."""
    if "view_camera" not in arrays:
        camera = json.loads(f.attrs.get("settings", "{}")).get("view_camera")
        if camera is None:
            raise CacheError(
                f"{f.filename}: split {split!r} does not say which camera its view targets show — "
                "delete the file to rebuild it"
            )
        arrays["view_camera"] = np.full(len(arrays["frame_ids"]), int(camera), np.int64)
    return arrays


def image_bytes(path: Path, split: str) -> int:
    """Bytes the split's image fields take once read (uncompressed)."""
    try:
        with h5py.File(path, "r") as f:
            if split not in f:
                raise CacheError(f"{path}: no split {split!r}; it has {sorted(f)}")
            return sum(f[split][k].size * f[split][k].dtype.itemsize for k in IMAGE_FIELDS)
    except (OSError, KeyError) as err:
        raise CacheError(f"{path}: unreadable cache ({err}); delete it to rebuild") from err


def mapped_dir(path: Path) -> Path:
    """Where the memory-mappable copies of a cache's images live: beside the cache, one folder per file."""
    return Path(path).with_name(Path(path).name + ".mmap")


def read_split_mapped(path: Path, split: str, progress: bool = True, rows_per_read: int = 1024) -> dict[str, np.ndarray]:
    """One split with its images memory-mapped (read-only pages of uncompressed `.npy` copies) and
    the small fields in memory. The copies are written once per cache file, `rows_per_read` frames at
    a time (every chunk's checksum is verified on the way), each atomically, and are redone when the
    cache file changes (its size and modification time are stamped beside them)."""
    path = Path(path)
    folder = mapped_dir(path)
    st = path.stat()
    stamp = {"cache": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    stamp_file = folder / f"{split}.stamp.json"
    try:
        # one process unpacks, the others wait and then find the copies fresh
        with folder_lock(folder, f"memory-mapped copies of {path.name}"), h5py.File(path, "r") as f:
            if split not in f:
                raise CacheError(f"{path}: no split {split!r}; it has {sorted(f)}")
            grp = f[split]
            out = _with_view_camera(f, split, {k: grp[k][...] for k in FIELDS if k not in IMAGE_FIELDS and k in grp})
            fresh = stamp_file.exists() and json.loads(stamp_file.read_text()) == stamp
            if not fresh:  # stale copies go first (folder_lock removed a killed unpack's temps): they can be gigabytes
                for old in folder.glob(f"{split}-*.npy"):
                    old.unlink()
            for k in IMAGE_FIELDS:
                target = folder / f"{split}-{k}.npy"
                if not fresh or not target.exists():
                    _unpack(grp[k], target, f"unpacking {path.name} {split}/{k}", progress, rows_per_read)
            if not fresh:
                folder.mkdir(parents=True, exist_ok=True)
                with atomic_write(stamp_file) as tmp:
                    tmp.write_text(json.dumps(stamp))
    except CacheError:
        raise
    except (OSError, KeyError, ValueError) as err:
        raise CacheError(f"{path}: unreadable cache ({err}); delete it to rebuild") from err
    for k in IMAGE_FIELDS:
        # copy-on-write mapping: torch can wrap it without a read-only warning, and nothing reaches the file
        out[k] = np.load(folder / f"{split}-{k}.npy", mmap_mode="c")
        # batches gather random frames: read ahead of a fault would fetch megabytes of frames nobody asked for
        raw = getattr(out[k], "_mmap", None)
        if raw is not None and hasattr(mmap, "MADV_RANDOM"):
            raw.madvise(mmap.MADV_RANDOM)
        if out[k].shape[0] != len(out["frame_ids"]):
            raise CacheError(f"{folder / f'{split}-{k}.npy'}: {out[k].shape[0]} frames, the cache has "
                             f"{len(out['frame_ids'])}; delete {folder} to redo it")
    return out


def _unpack(dset: h5py.Dataset, target: Path, desc: str, progress: bool, rows: int) -> None:
    n = dset.shape[0]
    with atomic_write(target) as tmp, tqdm(total=n, desc=desc, unit="frame", disable=not progress) as bar:
        mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=dset.dtype, shape=dset.shape)
        for start in range(0, n, rows):
            mm[start : start + rows] = dset[start : start + rows]
            bar.update(min(rows, n - start))
        mm.flush()
        del mm


def ensure_cache(path: Path, settings: dict, build: Callable[[], Path], log: Callable[[str], None] = print) -> Path:
    """Return a valid cache at `path`, building it (or rebuilding a bad one) when needed. Two processes
    asking for the same cache at once (two grid workers) build it once: the second waits on the lock
    and then finds the file valid."""
    path = Path(path)
    with folder_lock(lock_dir(path), f"cache {path.name}", log=log):
        remove_killed_temps(path.parent, path.name)  # a build killed mid-write leaves gigabytes behind
        if path.exists():
            try:
                check_cache(path, settings)
                return path
            except CacheError as err:
                log(f"rebuilding cache: {err}")
                path.unlink()
        return build()


def lock_dir(path: Path) -> Path:
    """The folder whose lock guards building and checking one cache file (ensure_cache)."""
    return Path(path).with_name(f".{Path(path).name}.lock.d")


# ----------------------------------------------------------------------------- listing and pruning


@dataclass(frozen=True)
class CacheFile:
    """A cache file in a data folder: its size on disk with its memory-mapped copies, its settings, and
    why it can never be read again (another format version, incomplete, unreadable), if so."""

    path: Path
    bytes: int
    settings: dict | None
    problem: str | None


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) if Path(folder).is_dir() else 0


def list_caches(folder: str | Path) -> list[CacheFile]:
    """Every cache file (`*.h5`) in `folder`, by name."""
    out = []
    for path in sorted(Path(folder).glob("*.h5")):
        try:
            check_cache(path)
            with h5py.File(path, "r") as f:
                settings, problem = json.loads(f.attrs.get("settings", "{}")), None
        except CacheError as err:
            settings, problem = None, str(err).removeprefix(f"{path}: ")
        out.append(CacheFile(path, path.stat().st_size + folder_bytes(mapped_dir(path)), settings, problem))
    return out


def remove_cache(path: Path) -> int:
    """Delete a cache file, its memory-mapped copies and its lock folder; the bytes freed. Raises
    LockHeld, deleting nothing, while another process builds, checks or unpacks it."""
    path = Path(path)
    freed = path.stat().st_size + folder_bytes(mapped_dir(path)) if path.exists() else 0
    with folder_lock(lock_dir(path), f"cache {path.name}", wait=False):
        if mapped_dir(path).is_dir():
            with folder_lock(mapped_dir(path), f"memory-mapped copies of {path.name}", wait=False):
                shutil.rmtree(mapped_dir(path))
        remove_killed_temps(path.parent, path.name)
        path.unlink(missing_ok=True)
        shutil.rmtree(lock_dir(path), ignore_errors=True)  # ours, held: no one else is inside
    return freed


def remove_leftovers(folder: str | Path) -> list[Path]:
    """Remove what caches that are gone left in `folder`: their lock folders (one per cache ever built
    or asked for) and memory-mapped copies, each only while its lock is free; the paths removed. A
    process that opened such a lock just before it went waits on a lock file no one else will find, so
    at worst it builds the same cache as another one, atomically."""
    folder = Path(folder)
    removed = []
    for lock in sorted(folder.glob(".*.lock.d")):
        cache_file = folder / lock.name.removeprefix(".").removesuffix(".lock.d")
        if cache_file.exists():
            continue
        try:
            with folder_lock(lock, f"cache {cache_file.name}", wait=False):
                remove_killed_temps(folder, cache_file.name)  # a build killed mid-write
                shutil.rmtree(lock)
            removed.append(lock)
        except LockHeld:
            continue  # being built right now
    for copies in sorted(folder.glob("*.h5.mmap")):
        if copies.is_dir() and not copies.with_suffix("").exists():
            try:
                with folder_lock(copies, "memory-mapped copies", wait=False):
                    shutil.rmtree(copies)
                removed.append(copies)
            except LockHeld:
                continue
    return removed
