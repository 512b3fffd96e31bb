"""How much of the real view target is scene, per scene layout, and the gap ratio of the shipped stage 1.

    python -m benchmarks.lab.scene_share --preset laptop --frames 200

measures, on the generator of the preset with each scene layout, the share of the real crop's foreground
that is scene (upper arm, head, torso, table: what the synthetic domain never has) in the view cameras'
crops (2 and 3) and in the input camera's (1), on the training and validation subjects; reads the gap
ratio (Synth only on real test frames / on their synthetic renders) of each seed's shipped stage 1; and
writes both into `regime-<preset>.json` under `regime.view_target_scene_share` and
`regime.shipped_stage1_gap_ratio` (the rest of that file is left as it is).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from benchmarks.lab import RESULTS
from mlib.atomic import write_json
from mlib.claims import seed_stats
from mlib.data.procedural.generator import SCENE_LAYOUTS
from mlib.data.scene import scene_share
from mlib.presets import PRESET_NAMES, resolve
from mlib.pretrained import shipped_dir, stage1_summary_path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="laptop", choices=PRESET_NAMES)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)
    data = resolve(args.preset).data
    crop = data.crop
    shares = {"frames": args.frames, "default_layout": data.generator.scene_layout}
    for layout in SCENE_LAYOUTS:
        gen = dataclasses.replace(data.generator, scene_layout=layout)
        shares[layout] = {
            f"camera{cam}_{split}": scene_share(gen, crop, split, args.frames, camera=cam)
            for cam in (2, 3, 1)
            for split in ("train", "val")
        }
        for k, v in shares[layout].items():
            print(f"{layout:8s} {k:14s} scene {100 * v['share']:5.1f} % of the foreground", flush=True)
    path = Path(args.out) / f"regime-{args.preset}.json"
    doc = json.loads(path.read_text()) if path.is_file() else {"preset": args.preset, "regime": {}}
    doc.setdefault("regime", {})["view_target_scene_share"] = shares
    summary = stage1_summary_path(shipped_dir(), args.preset)
    if summary.is_file():
        rows = json.loads(summary.read_text())["seeds"]
        ratios = [r["test_real_mm"] / r["test_synthetic_mm"] for r in rows]
        doc["regime"]["shipped_stage1_gap_ratio"] = {
            **seed_stats(dict(zip((str(r["seed"]) for r in rows), ratios))),
            "about": "Synth only (the shipped stage 1) on real test frames / on their synthetic renders",
        }
        print(f"gap ratio of the shipped stage 1: {np.mean(ratios):.3f} over {len(ratios)} seed(s)")
    write_json(path, doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
