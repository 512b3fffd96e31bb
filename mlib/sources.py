"""The NYU-format files notebooks 00 and 07 read: the real ones when they are there, otherwise
stand-ins in exactly the same format, so every section runs and shows its figure.

* `nyu_test_frame`: NYU's first test frame (camera-1 depth PNG) and its 14 labelled joints
  (one line of `u v d` triples, the format of `nyu_test_groundtruth_label.txt`); without the real
  files, the first generated test frame exported in NYU's layout (`mlib.data.generate.export_nyu`).
* `field_files`: a ground-truth file and prediction files in the field's text format; without the
  real NYU evaluation files, the generated test split's ground truth and predictions written here:
  a mean-pose baseline and the finished models of a series run folder.

Each result says in words which data it holds (`description`), so a notebook can print it.
Relative paths are taken from the working directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

NYU_TEST_PNG = Path("test") / "depth_1_0000001.png"
NYU_TEST_LABELS = "nyu_test_groundtruth_label.txt"


def _path(path: str | Path) -> Path:
    """A path as given when absolute, else resolved from the working directory."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else path.resolve()


@dataclass
class FrameFiles:
    """One camera-1 depth PNG in NYU's encoding and a label file holding its 14 joints (u v d)."""

    depth_png: Path
    labels: Path
    real: bool  # True: NYU's own files
    description: str


def nyu_test_frame(nyu_dir: str | Path, preset: str, out_dir: str | Path) -> FrameFiles:
    """NYU's first test frame under `nyu_dir` (test/depth_1_0000001.png and the test label file),
    or, when either is missing, generated test frame 0 of `preset` exported in NYU's layout under
    `out_dir` (its joint_data.mat reduced to the 14 evaluation joints as a label file)."""
    from mlib.data.camera import EVAL_JOINTS
    from mlib.data.generate import export_nyu
    from mlib.data.nyu import read_joint_data
    from mlib.data.procedural.generator import HandGenerator
    from mlib.evaluate import save_predictions
    from mlib.presets import data_config

    root = _path(nyu_dir)
    png, labels = root / NYU_TEST_PNG, root / NYU_TEST_LABELS
    if png.is_file() and labels.is_file():
        return FrameFiles(png, labels, True, f"the real NYU test frame 1, camera 1 ({root})")
    cfg = data_config(preset)
    folder = Path(out_dir) / f"nyu-layout-{preset}"
    if not (folder / NYU_TEST_PNG).is_file():
        export_nyu(HandGenerator(cfg.generator), folder, {"test": 1}, progress=False)
    xyz = read_joint_data(folder / "test")["joint_xyz"][0, :1][:, EVAL_JOINTS]  # camera 1, the one frame
    save_predictions(folder / NYU_TEST_LABELS, xyz, fmt="uvd")
    why = "no real NYU frame" + (f" under {root}" if root.exists() else f" ({root} does not exist)")
    return FrameFiles(
        folder / NYU_TEST_PNG,
        folder / NYU_TEST_LABELS,
        False,
        f"generated test frame 0 of the {preset} data set, real domain, camera 1, written in NYU's layout ({why})",
    )


@dataclass
class FieldFiles:
    """A ground-truth file and prediction files in the field's text format (one frame per line)."""

    gt: Path
    predictions: list[Path]
    real: bool  # True: NYU's test set and published predictions
    description: str
    names: dict[str, str] = field(default_factory=dict)  # file stem -> name to show


def mean_pose_predictions(train, test) -> np.ndarray:
    """The mean-pose baseline: every test frame gets the training split's mean camera-1 pose
    relative to the palm centre, placed at the test frame's palm centre (the crop centre a model
    is given too). (N, 14, 3) mm."""
    from mlib.data.camera import EVAL_JOINTS

    train_j = train.joints[:, 0][:, EVAL_JOINTS].numpy()
    offset = (train_j - train.centres[:, 0, None].numpy()).mean(axis=0)
    return test.centres[:, 0, None].numpy() + offset


def finished_models(run_dir: str | Path | None, variants: tuple[str, ...] = ("synth_only", "full")) -> list[dict]:
    """result.json of the finished cells of a series run folder for the given variants, seed 0, the
    largest n of each variant first."""
    if not run_dir or not Path(run_dir).is_dir():
        return []
    found = []
    for variant in variants:
        cells = []
        for result in Path(run_dir).glob(f"{variant}-n*-seed0/result.json"):
            r = json.loads(result.read_text())
            n = r.get("n_labeled")
            if Path(r.get("checkpoint", "")).is_file():
                cells.append((float("inf") if n == "all" else float(n), r))
        found += [r for _, r in sorted(cells, key=lambda c: c[0], reverse=True)[:1]]
    return found


def field_files(
    gt_path: str | Path,
    published_dir: str | Path,
    preset: str,
    out_dir: str | Path,
    data_dir: str | Path | None = None,
    run_dir: str | Path | None = None,
) -> FieldFiles:
    """NYU's ground truth and the published prediction files when both are there; otherwise the
    generated test split of `preset` (ground truth written in the same format) with predictions
    written to `out_dir`: the mean-pose baseline and, when `run_dir` holds them, the series' finished
    Synth only and Full models (seed 0, the largest n trained)."""
    from mlib.checkpoint import load_trained_model
    from mlib.data import load_generated
    from mlib.data.camera import EVAL_JOINTS
    from mlib.evaluate import predict_store, save_predictions
    from mlib.experiment import VARIANT_NAMES
    from mlib.presets import data_config
    from mlib.variants import VARIANTS

    gt, published = _path(gt_path), _path(published_dir)
    files = sorted(published.glob("*.txt")) if published.is_dir() else []
    if gt.is_file() and files:
        return FieldFiles(gt, files, True, f"the NYU test set ({gt.name}) and {len(files)} published prediction files")
    splits = load_generated(data_config(preset), _path(data_dir or "data_cache"), False)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gt_file = save_predictions(
        out / f"generated_{preset}_test_groundtruth.txt", splits.test.joints[:, 0][:, EVAL_JOINTS]
    )
    preds = [save_predictions(out / "mean_pose.txt", mean_pose_predictions(splits.train, splits.test))]
    names = {"mean_pose": "mean pose (baseline)"}
    for r in finished_models(run_dir):
        model = load_trained_model(r["checkpoint"])
        if model.cfg.crop_size != splits.test.crop_size:  # trained on other data: not comparable
            continue
        stem = f"{r['variant']}_n{r['n_labeled']}"
        through = VARIANTS[r["variant"]].stage2  # a stage-2 model reads real frames through m
        preds.append(save_predictions(out / f"{stem}.txt", predict_store(model, splits.test, "real", through)))
        labels = f"n = {r['n_labeled']}" if VARIANTS[r["variant"]].uses_n else "no real labels"  # Synth only
        names[stem] = f"{VARIANT_NAMES[r['variant']]}, {labels} (this series)"
    missing = f"no NYU ground truth at {gt}" if not gt.is_file() else f"no prediction files in {published}"
    return FieldFiles(
        gt_file,
        preds,
        False,
        f"the generated {preset} test split ({len(splits.test)} frames, real domain, camera 1) with {len(preds)} "
        f"prediction file(s) written to {out} ({missing})",
        names,
    )
