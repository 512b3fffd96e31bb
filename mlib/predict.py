"""Predictions of a trained checkpoint on an NYU-layout folder's test split, in the field's text format.

    python -m mlib.predict runs/full-100/stage2.pt --nyu-dir DIR --out PRED.txt [--xyz]

Reads nothing but the checkpoint and DIR/test/, writes nothing but PRED.txt: the run folder is left as
it is. The crops are the ones a training run's cache holds, so the file equals the run's
`--save-predictions` file for the same test frames; score it with `python -m mlib.evaluate --nyu-dir DIR`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mlib.cli import DefaultsShown, UserError, check_device, user_errors


def predict_nyu(checkpoint: str | Path, nyu_dir: str | Path, device=None, progress: bool = True):
    """(N, 14, 3) xyz mm camera-1 predictions of a checkpoint of `mlib.train` for DIR/test/. A stage-2
    model reads real frames through its mapping m, a stage-1 model without it, as the run evaluated them."""
    from mlib.checkpoint import load_checkpoint, load_trained_model
    from mlib.data.loading import nyu_test_store
    from mlib.evaluate import predict_store
    from mlib.presets import data_config
    from mlib.train import pick_device

    device = device or pick_device()
    ckpt = load_checkpoint(checkpoint)
    if "model_cfg" not in ckpt:
        raise UserError(
            f"{checkpoint}: not a checkpoint of mlib.train (no model configuration) — give stage1.pt or stage2.pt"
        )
    preset = json.loads(ckpt.get("train_cfg", "{}")).get("preset", "laptop")
    crop_size = json.loads(ckpt["model_cfg"])["crop_size"]
    store = nyu_test_store(nyu_dir, data_config(preset, crop_size=crop_size).crop, progress)
    model = load_trained_model(checkpoint, device)
    through = ckpt.get("stage", 1) == 2
    return predict_store(model, store, "real", through, device)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m mlib.predict", description=__doc__.split("\n\n")[0], formatter_class=DefaultsShown
    )
    ap.add_argument("checkpoint", help="stage1.pt or stage2.pt of a run of mlib.train")
    ap.add_argument("--nyu-dir", required=True, help="the NYU-layout folder whose test/ split to predict")
    ap.add_argument("--out", required=True, help="the prediction file to write (one frame per line)")
    ap.add_argument(
        "--xyz",
        action="store_true",
        help="write camera coordinates in mm instead of NYU's uvd (the file then starts with '# format: xyz')",
    )
    ap.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--debug", action="store_true", help="show the traceback of an error instead of one line")
    args = ap.parse_args(argv)
    with user_errors(args.debug):
        from mlib.evaluate import save_predictions

        xyz = predict_nyu(args.checkpoint, args.nyu_dir, check_device(args.device), not args.no_progress)
        out = save_predictions(args.out, xyz, fmt="xyz" if args.xyz else "uvd")
        print(json.dumps({"predictions": str(out), "frames": len(xyz)}))


if __name__ == "__main__":
    main()
