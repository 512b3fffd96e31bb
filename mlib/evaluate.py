"""Hand pose metrics and the text format the field uses to publish NYU predictions.

One implementation of the metric for the whole project: the training code, the notebooks
and the command line all call the functions below.

File format: one line per test frame, J joints x 3 numbers, separated by spaces (commas
and tabs are accepted too). Published NYU results are (u, v, d) in camera 1: pixels and
depth in mm. `xyz` files hold camera coordinates in mm instead and say so on their first
line, `# format: xyz` (a file without that line is read as uvd unless --format says otherwise).

    python -m mlib.evaluate --gt GT.txt PRED.txt [PRED.txt ...] [--format uvd|xyz|auto] [--json]
    python -m mlib.evaluate --nyu-dir DIR PRED.txt [...] [--export-gt GT.txt]   # DIR/test/joint_data.mat
    python -m mlib.plots --gt GT.txt PRED.txt [PRED.txt ...] --out OUT.png   # the same files as figures
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from mlib.atomic import atomic_write
from mlib.cli import DefaultsShown
from mlib.data.camera import EVAL_JOINT_NAMES, EVAL_JOINTS, uvd_to_xyz, xyz_to_uvd
from mlib.data.crop import denormalize_joints

THRESHOLDS = (10, 20, 30, 40, 50, 80)  # mm, the success-rate thresholds we report
FORMATS = ("uvd", "xyz", "auto")
# The line an xyz file starts with. uvd files stay bare: they are the field's published format, which
# other tools read number by number.
FORMAT_LINE = re.compile(r"#\s*format:\s*(\S+)")

Array = np.ndarray | torch.Tensor


# ----------------------------------------------------------------------------- metric


class NonFiniteEvaluationError(ValueError):
    """An evaluation whose errors are not all finite: there is no number to report."""


def to_numpy(a: Array) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)  # float64: means over 100k errors should not drift


def joint_errors(pred_xyz: Array, gt_xyz: Array) -> np.ndarray:
    """Euclidean distance per frame and joint (mm), shape (N, J), from two (N, J, 3) xyz arrays."""
    pred, gt = to_numpy(pred_xyz), to_numpy(gt_xyz)
    if pred.shape != gt.shape or pred.shape[-1] != 3:
        raise ValueError(f"predictions {pred.shape} and ground truth {gt.shape} must both be (N, J, 3)")
    return np.linalg.norm(pred - gt, axis=-1)


def mean_error(errors: Array) -> float:
    """The headline number: mean over all frames and joints (mm)."""
    return float(np.mean(to_numpy(errors)))


def success_rate(errors: Array, thresholds: float | Sequence[float] = THRESHOLDS) -> np.ndarray:
    """Fraction of frames whose *worst* joint is within tau mm, one value per threshold."""
    worst = to_numpy(errors).reshape(len(errors), -1).max(axis=1)
    t = np.asarray(thresholds, dtype=np.float64)
    return (worst[:, None] <= t.ravel()[None, :]).mean(axis=0).reshape(t.shape)


def joint_labels(n_joints: int) -> list[str]:
    return list(EVAL_JOINT_NAMES) if n_joints == len(EVAL_JOINT_NAMES) else [f"joint_{j}" for j in range(n_joints)]


def summarize(errors: Array, thresholds: Sequence[float] = THRESHOLDS) -> dict:
    """Mean, median (over all frame-joint errors), per-joint means and success rates, JSON-ready."""
    e = to_numpy(errors)
    rates = success_rate(e, thresholds)
    return {
        "n_frames": int(e.shape[0]),
        "mean": mean_error(e),
        "median": float(np.median(e)),
        "per_joint": {name: float(m) for name, m in zip(joint_labels(e.shape[1]), e.mean(axis=0), strict=True)},
        "success_rate": {t: float(r) for t, r in zip(thresholds, rates, strict=True)},
    }


# ----------------------------------------------------------------------------- models


@torch.inference_mode()
def predict_store(
    model: torch.nn.Module,
    store,
    domain: str = "real",
    through_mapping: bool = True,
    device: str | torch.device = "cpu",
    indices: Sequence[int] | torch.Tensor | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Camera-1 predictions (N, 14, 3) in mm for the frames of a CropStore, ready for save_predictions.

    through_mapping: for real crops, predict p(m(f(x))) (a trained mapping m) or p(f(x)) (synthetic
    pretraining only). Synthetic crops always use p(f(x)).
    """
    idx = torch.arange(len(store)) if indices is None else torch.as_tensor(indices, dtype=torch.long)
    was_training = model.training
    model.eval()  # batch-norm statistics, not batch statistics, at test time
    out = []
    try:
        for chunk in idx.split(batch_size):
            # synthetic inputs never pass through m, whatever the caller asks
            pred = model(store.images(chunk, domain).to(device), real=domain == "real" and through_mapping)
            pred = pred.float().cpu()
            out.append(denormalize_joints(pred, store.centres[chunk, 0], store.cube[chunk].view(-1, 1, 1)))
    finally:
        model.train(was_training)  # called mid-training for validation
    return torch.cat(out).numpy()


def evaluate_store(
    model: torch.nn.Module,
    store,
    domain: str = "real",
    through_mapping: bool = True,
    device: str | torch.device = "cpu",
    indices: Sequence[int] | torch.Tensor | None = None,
    thresholds: Sequence[float] = THRESHOLDS,
) -> dict:
    """summarize() of a model's errors on (a subset of) a CropStore's camera-1 frames."""
    idx = torch.arange(len(store)) if indices is None else torch.as_tensor(indices, dtype=torch.long)
    pred = predict_store(model, store, domain, through_mapping, device, idx)
    gt = store.joints[idx, 0][:, EVAL_JOINTS]
    for what, values in (("labels", to_numpy(gt)), ("model's predictions", pred)):
        bad = np.flatnonzero(~np.isfinite(values).reshape(len(values), -1).all(axis=1))
        if len(bad):  # a mean over NaNs is not an error in mm: never report one
            frame = int(store.frame_ids[idx[bad[0]]])
            raise NonFiniteEvaluationError(
                f"the {what} of {len(bad)} of {len(idx)} frames are not finite (first: frame index {frame}) — "
                + ("check the data's joint labels" if what == "labels" else "the model is broken; retrain it")
            )
    return summarize(joint_errors(pred, gt), thresholds)


# ----------------------------------------------------------------------------- files


def _guess_format(values: np.ndarray) -> str:
    # Over a whole test set the hand crosses the optical axis, so xyz files have negative
    # x or y somewhere; (u, v) pixel coordinates of a visible hand never go negative.
    return "xyz" if (values[..., :2] < 0).any() else "uvd"


def load_joints(
    path: str | os.PathLike, fmt: str | None = None, n_joints: int = 14, n_frames: int | None = None
) -> np.ndarray:
    """Read a prediction / label file into (N, J, 3) xyz in mm.

    fmt: "uvd" (pixels + depth mm, NYU camera 1), "xyz" (mm), "auto" (the file's `# format:` line, else
    a guess, see _guess_format) or None (the file's `# format:` line, else uvd). A format given that
    contradicts the file's line is an error.
    n_frames: if given, the file must have exactly that many frames (e.g. the ground truth's).
    Any problem raises ValueError naming the file and the line.
    """
    values, fmt, _ = read_joint_file(path, fmt, n_joints, n_frames)
    return as_xyz(values, fmt)


def as_xyz(values: np.ndarray, fmt: str) -> np.ndarray:
    """A file's (N, J, 3) numbers as xyz mm, read in format `fmt` ("uvd" or "xyz")."""
    return uvd_to_xyz(values) if fmt == "uvd" else values


def read_joint_file(
    path: str | os.PathLike, fmt: str | None = None, n_joints: int = 14, n_frames: int | None = None
) -> tuple[np.ndarray, str, str | None]:
    """A file's numbers (N, J, 3) as written, the format to read them in ("uvd" or "xyz", see
    load_joints) and the format the file declares (None when it has no `# format:` line)."""
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}, expected one of {FORMATS}")
    path = Path(path)
    width = 3 * n_joints
    rows, lineno, declared = [], 0, None
    with open(path) as f:
        for lineno, line in enumerate(f, start=1):
            tokens = line.replace(",", " ").split()
            if not tokens or tokens[0].startswith("#"):
                said = FORMAT_LINE.match(line.strip())
                if said and not rows:
                    declared = said.group(1)
                    if declared not in ("uvd", "xyz"):
                        raise ValueError(f"{path}, line {lineno}: unknown format {declared!r} — write uvd or xyz")
                    if fmt in ("uvd", "xyz") and fmt != declared:
                        raise ValueError(
                            f"{path}, line {lineno}: the file says it holds {declared} values, not {fmt} — "
                            f"drop --format or pass --format {declared}"
                        )
                continue  # blank lines and comments do not count as frames
            if n_frames is not None and len(rows) == n_frames:
                raise ValueError(f"{path}, line {lineno}: more frames than the {n_frames} expected")
            if len(tokens) != width:
                raise ValueError(
                    f"{path}, line {lineno}: expected {width} numbers ({n_joints} joints x 3), found {len(tokens)}"
                )
            try:
                row = [float(t) for t in tokens]
            except ValueError:
                bad = next(t for t in tokens if not _is_float(t))
                raise ValueError(f"{path}, line {lineno}: {bad!r} is not a number") from None
            if not np.isfinite(row).all():
                raise ValueError(f"{path}, line {lineno}: non-finite value (nan or inf)")
            rows.append(row)
    if not rows:
        raise ValueError(f"{path}: no frames found")
    if n_frames is not None and len(rows) != n_frames:
        raise ValueError(f"{path}, line {lineno}: file ends after {len(rows)} frames, expected {n_frames}")
    values = np.asarray(rows, dtype=np.float64).reshape(-1, n_joints, 3)
    if declared is not None:
        fmt = declared
    elif fmt == "auto":
        fmt = _guess_format(values)
    return values, fmt or "uvd", declared


def check_reading(path: str | os.PathLike, values: np.ndarray, fmt: str, gt_xyz: np.ndarray) -> None:
    """Refuse to score a file in the format it does not hold. Read in the wrong one, a hand lands
    hundreds of mm away (pixels taken for mm or the reverse: 561.7 mm instead of 40.2 for one model),
    so a file whose other reading is three times closer to the ground truth holds the other format."""
    other = "xyz" if fmt == "uvd" else "uvd"
    as_read = mean_error(joint_errors(as_xyz(values, fmt), gt_xyz))
    as_other = mean_error(joint_errors(as_xyz(values, other), gt_xyz))
    if as_other < as_read / 3:
        raise ValueError(
            f"{path}: read as {fmt} its mean error is {as_read:.1f} mm, read as {other} {as_other:.1f} mm — "
            f"it holds {other} values: pass --format {other} (or start the file with '# format: {other}')"
        )


def _is_float(token: str) -> bool:
    try:
        float(token)
        return True
    except ValueError:
        return False


def save_predictions(path: str | os.PathLike, joints_xyz: Array, fmt: str = "uvd", decimals: int = 3) -> Path:
    """Write (N, J, 3) xyz mm predictions in the published text format; load_joints reads them back.
    An xyz file starts with `# format: xyz`, so it is never scored as uvd.

    The write is atomic (temp file + rename), so an interrupted run never leaves half a file.
    """
    if fmt not in ("uvd", "xyz"):
        raise ValueError(f"format must be 'uvd' or 'xyz', got {fmt!r}")
    xyz = to_numpy(joints_xyz)
    if xyz.ndim != 3 or xyz.shape[-1] != 3:
        raise ValueError(f"joints must be (N, J, 3), got {xyz.shape}")
    values = xyz_to_uvd(xyz) if fmt == "uvd" else xyz
    if not np.isfinite(values).all():
        raise ValueError("non-finite joints (for uvd, every joint needs z > 0)")
    path = Path(path)
    header = "format: xyz (camera-1 coordinates, mm)" if fmt == "xyz" else ""  # see FORMAT_LINE
    with atomic_write(path) as tmp:
        np.savetxt(tmp, values.reshape(len(values), -1), fmt=f"%.{decimals}f", delimiter=" ", header=header)
    return path


def evaluate_files(
    gt_path: str | os.PathLike,
    pred_paths: Sequence[str | os.PathLike],
    fmt: str | None = None,
    gt_fmt: str | None = None,
    n_joints: int = 14,
) -> dict[str, np.ndarray]:
    """Errors (N, J) of each prediction file against the ground truth, keyed by file stem."""
    return evaluate_against(load_joints(gt_path, gt_fmt, n_joints), pred_paths, fmt, n_joints)


def nyu_ground_truth(nyu_dir: str | os.PathLike) -> np.ndarray:
    """The test split's 14 evaluation joints of camera 1 in uvd (N, 14, 3), read from
    `nyu_dir/test/joint_data.mat`: what `nyu_test_groundtruth_label.txt` holds for NYU."""
    from mlib.data.nyu import NYUFolder  # the MATLAB reader is not needed to score text files

    return NYUFolder(nyu_dir, "test").joint_uvd[0][:, EVAL_JOINTS]


def save_uvd(path: str | os.PathLike, uvd: np.ndarray, decimals: int = 3) -> Path:
    """Write (N, J, 3) uvd joints in the field's text format, one frame per line, atomically."""
    path = Path(path)
    with atomic_write(path) as tmp:
        np.savetxt(tmp, np.asarray(uvd).reshape(len(uvd), -1), fmt=f"%.{decimals}f", delimiter=" ")
    return path


def evaluate_against(
    gt_xyz: np.ndarray, pred_paths: Sequence[str | os.PathLike], fmt: str | None = None, n_joints: int = 14
) -> dict[str, np.ndarray]:
    """Errors (N, J) of each prediction file against ground truth (N, J, 3) xyz mm, keyed by file stem.
    A file without a `# format:` line must look like the format it is read in (check_reading)."""
    gt = gt_xyz
    results = {}
    for p in map(Path, pred_paths):
        name = p.stem if p.stem not in results else str(p)
        values, used, declared = read_joint_file(p, fmt, n_joints, n_frames=len(gt))
        if declared is None:
            check_reading(p, values, used, gt)
        results[name] = joint_errors(as_xyz(values, used), gt)
    return results


# ----------------------------------------------------------------------------- tables


def _table(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = [header, ["---"] * len(header), *rows]
        return "\n".join("| " + " | ".join(r) + " |" for r in lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: "  ".join(
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
    )
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def format_table(summaries: dict[str, dict], markdown: bool = False, per_joint: bool = True) -> str:
    """Summary table (one row per method) and, optionally, per-joint errors (one column per method)."""
    taus = list(next(iter(summaries.values()))["success_rate"])
    header = ["method", "mean (mm)", "median (mm)"] + [f"<= {t:g} mm" for t in taus]
    rows = [
        [name, f"{s['mean']:.2f}", f"{s['median']:.2f}"] + [f"{100 * s['success_rate'][t]:.1f}%" for t in taus]
        for name, s in summaries.items()
    ]
    out = _table(header, rows, markdown)
    if per_joint:
        joints = list(next(iter(summaries.values()))["per_joint"])
        rows = [[j] + [f"{s['per_joint'][j]:.2f}" for s in summaries.values()] for j in joints]
        out += "\n\nper-joint mean error (mm)\n\n" + _table(["joint", *summaries], rows, markdown)
    return out


# ----------------------------------------------------------------------------- mean-pose baseline (B)


def mean_training_pose(train, indices: Sequence[int] | torch.Tensor | None = None) -> torch.Tensor:
    """The mean of the training frames' normalised camera-1 targets (14, 3), in cube units around the
    crop centre: the one pose a predictor that ignores its input would output."""
    idx = torch.arange(len(train)) if indices is None else torch.as_tensor(indices, dtype=torch.long)
    return train.targets(idx).float().mean(0)


def mean_pose_errors(
    train, test, indices: Sequence[int] | torch.Tensor | None = None, train_indices=None
) -> np.ndarray:
    """Errors (N, 14) in mm of the mean-pose baseline on a store's camera-1 frames: every frame gets
    the mean training pose, placed at its own crop centre and scaled by its own cube. A model worth
    its training beats this number; one that does not has learned little more than the average hand."""
    idx = torch.arange(len(test)) if indices is None else torch.as_tensor(indices, dtype=torch.long)
    pose = mean_training_pose(train, train_indices)
    pred = denormalize_joints(pose.expand(len(idx), -1, -1), test.centres[idx, 0], test.cube[idx].view(-1, 1, 1))
    return joint_errors(pred, test.joints[idx, 0][:, EVAL_JOINTS])


# ----------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m mlib.evaluate", description=__doc__.split("\n\n")[0], formatter_class=DefaultsShown
    )
    ap.add_argument("predictions", nargs="*", help="prediction files, one frame per line")
    ap.add_argument("--gt", help="ground-truth file (uvd, like nyu_test_groundtruth_label.txt)")
    ap.add_argument("--nyu-dir", help="instead of --gt: the ground truth of DIR/test/joint_data.mat (14 joints, uvd)")
    ap.add_argument("--export-gt", metavar="FILE", help="write the ground truth in the field's text format (uvd)")
    declared = "(default: the format a file names on its '# format:' line, else uvd)"
    ap.add_argument("--format", choices=FORMATS, help=f"format of the prediction files {declared}")
    ap.add_argument("--gt-format", choices=FORMATS, help=f"format of the ground-truth file {declared}")
    ap.add_argument("--joints", type=int, default=14, help="joints per frame")
    ap.add_argument("--json", action="store_true", help="print one JSON object keyed by file stem")
    ap.add_argument("--debug", action="store_true", help="show the traceback of an error instead of one line")
    args = ap.parse_args(argv)
    if (args.gt is None) == (args.nyu_dir is None):
        ap.error("give the ground truth as --gt FILE or --nyu-dir DIR (one of them)")
    if not args.predictions and not args.export_gt:
        ap.error("give prediction files to score, or --export-gt FILE")

    try:
        if args.nyu_dir is not None:
            gt_uvd = nyu_ground_truth(args.nyu_dir)
            if args.joints != gt_uvd.shape[1]:
                raise ValueError(f"{args.nyu_dir}: NYU's ground truth has {gt_uvd.shape[1]} joints — drop --joints")
            gt_xyz = uvd_to_xyz(gt_uvd)
        else:
            gt_xyz = load_joints(args.gt, args.gt_format, args.joints)
        if args.export_gt:
            print(f"saved {save_uvd(args.export_gt, xyz_to_uvd(gt_xyz) if args.gt else gt_uvd)}", file=sys.stderr)
        if not args.predictions:
            return 0
        results = evaluate_against(gt_xyz, args.predictions, args.format, args.joints)
    except (OSError, ValueError) as e:
        if args.debug:
            raise
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    summaries = {name: summarize(e) for name, e in results.items()}
    print(json.dumps(summaries, indent=2) if args.json else format_table(summaries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
