"""`python -m mlib.data.generate`: render a preset's procedural NYU-like data set into a cache, or
export it in NYU's on-disk layout.

    python -m mlib.data.generate --preset laptop --out data_cache
    python -m mlib.data.generate --preset ci --export-nyu /tmp/nyu_like --frames 50

Ends with one JSON line: the cache file (or export folder) and the seconds it took.
"""

from __future__ import annotations

import argparse
import json
import time

from mlib.data.generate import export_nyu, generated_cache
from mlib.data.procedural.generator import HandGenerator
from mlib.presets import PRESET_NAMES, data_config


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Render the procedural NYU-like data set into a cache (or export it).")
    ap.add_argument("--preset", default="laptop", choices=sorted(PRESET_NAMES))
    ap.add_argument("--crop-size", type=int, default=None, help="crop side in pixels (preset default otherwise)")
    ap.add_argument("--frames", type=int, default=None, help="number of training frames (preset default otherwise)")
    ap.add_argument("--out", default="data_cache", help="folder for the cache file")
    ap.add_argument("--export-nyu", metavar="DIR", default=None, help="write NYU-layout PNGs + joint_data.mat instead")
    ap.add_argument(
        "--view-swap-index",
        type=int,
        default=None,
        help="with --export-nyu: the 0-based frame from which the view target is camera 3, not 2 (NYU's rig swap)",
    )
    args = ap.parse_args(argv)
    cfg = data_config(args.preset, args.crop_size, args.frames)
    t0 = time.perf_counter()
    if args.export_nyu:
        frames = {"train": cfg.train_frames, "val": cfg.val_frames, "test": cfg.test_frames}
        out = export_nyu(HandGenerator(cfg.generator), args.export_nyu, frames, view_swap_index=args.view_swap_index)
    else:
        out = generated_cache(cfg, args.out)
    print(json.dumps({"path": str(out), "seconds": round(time.perf_counter() - t0, 2)}))


if __name__ == "__main__":
    main()
