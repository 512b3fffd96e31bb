"""`python -m mlib.data.generate`: render a preset's procedural NYU-like data set into a cache, or
export it in NYU's on-disk layout.

    python -m mlib.data.generate --preset laptop --out data_cache
    python -m mlib.data.generate --preset ci --export-nyu /tmp/nyu_like --frames 50 [--val-frames N] [--test-frames N]

An export's validation and test splits shrink with --frames unless given (export_frames); a cache keeps
the preset's, as `python -m mlib.train` does, so it is the cache a training run reads.

    python -m mlib.data.generate --list-caches [--out data_cache]    # every cache, its size, stale or not
    python -m mlib.data.generate --prune-caches [--out data_cache]   # delete the stale ones and leftover locks
Ends with one JSON line: the cache file (or export folder) and the seconds it took.
"""

from __future__ import annotations

import argparse
import json
import time

from mlib.atomic import LockHeld
from mlib.data.cache import list_caches, remove_cache, remove_leftovers
from mlib.data.generate import DataConfig, export_nyu, generated_cache, stale_reason
from mlib.data.procedural.generator import HandGenerator
from mlib.presets import PRESET_NAMES, data_config


def export_frames(preset: DataConfig, train: int | None, val: int | None, test: int | None) -> dict[str, int]:
    """Frames per split of an export: those given, the preset's for the rest, except that with a training
    count given the validation and test splits not given shrink with it, in the preset's proportions (at
    least one frame each): an export of 40 training frames is small, not 40 frames beside the preset's
    full validation and test splits."""
    counts = {"train": train, "val": val, "test": test}
    for split, n in counts.items():
        full = getattr(preset, f"{split}_frames")
        if n is None:
            scaled = max(1, round(full * train / preset.train_frames)) if train is not None else full
            counts[split] = min(full, scaled)
    return counts


def caches_command(folder: str, prune: bool) -> dict:
    """List the caches of `folder`, one line each: size (with memory-mapped copies), current or stale and
    why; with `prune`, delete the stale ones (never one that may still be read, nor one another process
    holds) and the lock folders and copies of caches that are gone. Returns the summary line's fields."""
    summary = {"folder": folder, "bytes": 0, "stale_bytes": 0, "removed": [], "busy": []}
    for entry in list_caches(folder):
        reason = stale_reason(entry)
        status = "current" if reason is None else "stale"
        summary["bytes"] += entry.bytes
        if reason is not None:
            summary["stale_bytes"] += entry.bytes
            if prune:
                try:
                    remove_cache(entry.path)
                    summary["removed"].append(entry.path.name)
                    status = "removed"
                except LockHeld:
                    summary["busy"].append(entry.path.name)
                    status = "busy"
        print(f"{entry.bytes / 2**20:10.1f} MB  {status:<8} {entry.path.name}" + (f"  ({reason})" if reason else ""))
    if prune:
        summary["leftovers_removed"] = [p.name for p in remove_leftovers(folder)]
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Render the procedural NYU-like data set into a cache (or export it).")
    ap.add_argument("--preset", default="laptop", choices=sorted(PRESET_NAMES))
    ap.add_argument("--crop-size", type=int, default=None, help="crop side in pixels (preset default otherwise)")
    ap.add_argument("--frames", type=int, default=None, help="number of training frames (preset default otherwise)")
    ap.add_argument(
        "--val-frames",
        type=int,
        default=None,
        help="number of validation frames (preset default otherwise; with --export-nyu and --frames: scaled with it)",
    )
    ap.add_argument(
        "--test-frames",
        type=int,
        default=None,
        help="number of test frames (preset default otherwise; with --export-nyu and --frames: scaled with it)",
    )
    ap.add_argument("--out", default="data_cache", help="folder for the cache file")
    ap.add_argument("--list-caches", action="store_true", help="list the caches in --out: size, in use or stale")
    ap.add_argument(
        "--prune-caches",
        action="store_true",
        help="delete the stale caches in --out (another version's, or an NYU folder's whose files changed) "
        "and the locks and copies of caches that are gone",
    )
    ap.add_argument("--export-nyu", metavar="DIR", default=None, help="write NYU-layout PNGs + joint_data.mat instead")
    ap.add_argument(
        "--view-swap-index",
        type=int,
        default=None,
        help="with --export-nyu: the 0-based frame from which the view target is camera 3, not 2 (NYU's rig swap)",
    )
    args = ap.parse_args(argv)
    if args.list_caches or args.prune_caches:
        print(json.dumps(caches_command(args.out, args.prune_caches)))
        return
    counts = {k: v for k, v in (("val_frames", args.val_frames), ("test_frames", args.test_frames)) if v is not None}
    cfg = data_config(args.preset, args.crop_size, args.frames, **counts)
    t0 = time.perf_counter()
    if args.export_nyu:
        frames = export_frames(data_config(args.preset), args.frames, args.val_frames, args.test_frames)
        out = export_nyu(HandGenerator(cfg.generator), args.export_nyu, frames, view_swap_index=args.view_swap_index)
    else:
        out = generated_cache(cfg, args.out)
    print(json.dumps({"path": str(out), "seconds": round(time.perf_counter() - t0, 2)}))


if __name__ == "__main__":
    main()
