"""`python -m mlib.train`: one cell of the ablation grid from the command line.

    python -m mlib.train --preset ci --variant full --n-labeled 100 --out runs/full-100 [--config FILE]

Every option can also come from `--config FILE` (JSON, or TOML on Python 3.11+), keyed by the option's
name (`lambda_g` or `lambda-g`); an option given on the command line wins over the file. The resolved
settings are written to the run folder as `config.json`. Ends with one JSON line (the test error, the
run folder); a user's mistake ends with one line `error: ...` and exit status 1 (`--debug`: traceback).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import shutil
import typing
from pathlib import Path

import torch

from mlib.atomic import LockHeld, folder_lock, write_json
from mlib.cells import train_variant
from mlib.checkpoint import load_trained_model
from mlib.cli import DefaultsShown, UserError, check_device, user_errors
from mlib.data import SOURCES, load_splits
from mlib.evaluate import predict_store, save_predictions
from mlib.losses import LossWeights
from mlib.presets import PRESET_NAMES, Preset, resolve
from mlib.tblog import require_tensorboard
from mlib.train import Run, TrainConfig, pick_device
from mlib.variants import VARIANTS

# The ranges of the options that set no TrainConfig field (a setting's range is in its metadata,
# `mlib.train.setting`): a count of frames or threads is at least 1.
OPTION_LOWEST = {"frames": 1, "test_frames": 1, "threads": 1}


def option_ranges(cfg_class: type = TrainConfig) -> dict[str, tuple[str, float]]:
    """Option dest -> ("lowest" or "above", bound): the settings' ranges from their metadata (a loss
    weight of Eq. 1 is not negative, Adam's rate is above 0, ...), then the other options'."""
    out = {}
    for f in (*dataclasses.fields(cfg_class), *dataclasses.fields(LossWeights)):
        for kind in ("lowest", "above"):
            if kind in f.metadata:
                out[f.metadata.get("option") or f.name] = (kind, f.metadata[kind])
    return out | {dest: ("lowest", bound) for dest, bound in OPTION_LOWEST.items()}


def setting_options(cfg_class: type = TrainConfig) -> dict[str, tuple[str, ...]]:
    """The options generated from the settings' metadata (`mlib.train.setting`, and LossWeights'):
    option dest -> the path of the field it sets (("base_lr",) or ("weights", "lambda_c"))."""
    out = {}
    for f in dataclasses.fields(cfg_class):
        if f.metadata.get("cli"):
            out[f.metadata.get("option") or f.name] = (f.name,)
    for f in dataclasses.fields(LossWeights):
        out[f.name] = ("weights", f.name)
    return out


def add_setting_options(group, cfg_class: type = TrainConfig) -> None:
    """One option per setting with a `cli` help, typed from its annotation (a bool: --x / --no-x)."""
    hints = {**typing.get_type_hints(cfg_class), **typing.get_type_hints(LossWeights)}
    by_name = {f.name: f for f in dataclasses.fields(cfg_class)} | {f.name: f for f in dataclasses.fields(LossWeights)}
    for dest, path in setting_options(cfg_class).items():
        f = by_name[path[-1]]
        kind = next((t for t in typing.get_args(hints[f.name]) if t is not type(None)), hints[f.name])
        flag = "--" + dest.replace("_", "-")
        if kind is bool:
            group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, help=f.metadata["cli"])
        else:
            group.add_argument(flag, dest=dest, type=kind, choices=f.metadata.get("choices"), help=f.metadata["cli"])


def build_parser(cfg_class: type = TrainConfig) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m mlib.train",
        description="Train MURAUER (or an ablation variant) on the generated data set or an NYU-layout folder.",
        formatter_class=DefaultsShown,
    )
    ap.add_argument("--config", metavar="FILE", help="JSON or TOML file of option values (names as below)")
    ap.add_argument("--preset", default="laptop", choices=sorted(PRESET_NAMES), help="data, model and schedule preset")
    ap.add_argument("--variant", default="full", choices=sorted(VARIANTS), help="the ablation variant (paper §4.3)")
    ap.add_argument("--n-labeled", default="100", help="number of labeled real frames, or 'all'")
    ap.add_argument("--out", help="run folder (checkpoints, history, result.json, config.json); required")
    ap.add_argument("--resume", action="store_true", help="continue from the run folder's checkpoints")
    ap.add_argument("--pretrained", help="stage-1 checkpoint to start stage 2 from (default: train or reuse one)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the initialisation, sampler and labeled subset")
    add_setting_options(ap.add_argument_group("training (default: the preset's)"), cfg_class)
    d = ap.add_argument_group("data")
    d.add_argument("--data", default="generated", choices=SOURCES, help="the generated data set or an NYU folder")
    d.add_argument("--nyu-dir", help="with --data nyu: the folder holding NYU's train/ and test/")
    d.add_argument("--data-dir", default="data_cache", help="folder of the preprocessed caches")
    d.add_argument("--frames", type=int, help="at most this many training frames (default: the preset's)")
    d.add_argument("--test-frames", type=int, help="at most this many test frames (default: the preset's)")
    d.add_argument("--val-frames", type=int, help="at most this many validation frames (default: the preset's)")
    d.add_argument("--save-predictions", metavar="FILE", help="write the test predictions (uvd, NYU's text format)")
    r = ap.add_argument_group("running")
    r.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")
    r.add_argument("--threads", type=int, help="CPU threads of torch (default: torch's choice)")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")
    r.add_argument("--no-tensorboard", action="store_true", help="write no TensorBoard event files (tensorboard/)")
    r.add_argument("--debug", action="store_true", help="show the traceback of an error instead of one line")
    return ap


def read_config_file(path: str, ap: argparse.ArgumentParser) -> dict:
    """Option values from a JSON or TOML file, keyed by option name with - or _; unknown names are errors."""
    file = Path(path)
    if not file.is_file():
        raise UserError(f"{file}: config file not found — check the path given to --config")
    try:
        if file.suffix == ".toml":
            import tomllib  # Python 3.11+

            values = tomllib.loads(file.read_text())
        else:
            values = json.loads(file.read_text())
    except ImportError:
        raise UserError(f"{file}: reading TOML needs Python 3.11 or newer — write the file as JSON") from None
    except ValueError as err:
        kind = "TOML" if file.suffix == ".toml" else "JSON"
        raise UserError(f"{file}: not valid {kind} ({err}) — fix the file") from None
    if not isinstance(values, dict):
        raise UserError(f"{file}: expected a table of option values — write {{\"lr\": 0.001, ...}}")
    actions = {a.dest: a for a in ap._actions if a.dest not in ("help", "config")}
    out = {}
    for key, value in values.items():
        dest = key.replace("-", "_")
        if dest not in actions:
            raise UserError(f"{file}: unknown option {key!r} — the names are those of `python -m mlib.train --help`")
        problem = config_value_problem(actions[dest], value)
        if problem:
            raise UserError(f"{file}: {key!r} is {json.dumps(value)}, {problem} — fix its value in the file")
        out[dest] = value
    return out


def config_value_problem(action: argparse.Action, value) -> str | None:
    """What is wrong with a config file's value for an option (None: nothing). argparse converts and
    checks only what the command line gives, so a file's 20.5 iterations or "false" flag would pass."""
    if action.dest == "n_labeled":
        return value_problem("n_labeled", value)
    if action.nargs == 0:  # a flag: --resume, --no-tensorboard, --corr-trains-encoder/--no-...
        return None if isinstance(value, bool) else "but it must be true or false"
    if action.type in (int, float):
        whole = action.type is int
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
            return f"but it must be {'a whole number' if whole else 'a number'}"
    elif not isinstance(value, str):
        return "but it must be a string"
    if action.choices is not None and value not in action.choices:
        return f"but it must be one of {', '.join(sorted(action.choices))}"
    return value_problem(action.dest, value)


def value_problem(dest: str, value) -> str | None:
    """What is wrong with a number of the right type for option `dest` (its range), or None."""
    if dest == "n_labeled":
        if value == "all" or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            return None
        if isinstance(value, str) and value.isdigit() and int(value) >= 1:
            return None
        return "but it must be a whole number of at least 1, or all"
    ranges = option_ranges()
    if value is None or dest not in ranges:
        return None
    if not math.isfinite(value):
        return "but it must be a finite number"
    kind, bound = ranges[dest]
    if kind == "above" and not value > bound:
        return f"but it must be above {bound}"
    if kind == "lowest" and not value >= bound:
        return f"but it must be at least {bound}"
    return None


def check_options(args: argparse.Namespace) -> int | str:
    """The ranges of the numeric options given (a config file's were checked as it was read), before
    anything is read or written; returns --n-labeled as a number or 'all'."""
    for dest in ("n_labeled", *option_ranges()):
        value = getattr(args, dest, None)
        problem = value_problem(dest, value)
        if problem:
            option = "--" + dest.replace("_", "-")
            raise UserError(f"{option} {value}: {problem.removeprefix('but it ')} — give {option} a value in that range")
    return "all" if args.n_labeled == "all" else int(args.n_labeled)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line over the --config file over the defaults."""
    ap = build_parser()
    first, _ = ap.parse_known_args(argv)
    if first.config:
        with user_errors(first.debug):
            ap.set_defaults(**read_config_file(first.config, ap))
    args = ap.parse_args(argv)
    if not args.out:
        ap.error("the following arguments are required: --out (on the command line or in --config)")
    return args


def resolved_setup(args: argparse.Namespace) -> Preset:
    """The preset's data, model and training settings for the variant, with the options given."""
    options = setting_options()
    train = {path[0]: getattr(args, dest) for dest, path in options.items() if len(path) == 1} | {"seed": args.seed}
    weights = {path[1]: getattr(args, dest) for dest, path in options.items() if len(path) == 2 and getattr(args, dest) is not None}
    if weights:
        train["weights"] = dataclasses.replace(resolve(args.preset).train.weights, **weights)
    sizes = {"frames": args.frames, "test_frames": args.test_frames, "val_frames": args.val_frames}
    return resolve(args.preset, variant=args.variant, data=sizes, train=train)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with user_errors(args.debug):
        run_command_line(args)


def run_command_line(args: argparse.Namespace) -> None:
    """Checks the arguments, holds the run folder's lock, trains and reports."""
    n = check_options(args)
    if args.nyu_dir is not None and args.data != "nyu":
        raise UserError(f"{args.nyu_dir}: --nyu-dir is only read with --data nyu — add --data nyu to train on it")
    device = check_device(args.device) or pick_device()
    if not args.no_tensorboard:
        require_tensorboard()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    setup = resolved_setup(args)
    out = Path(args.out)
    created = not out.exists()
    try:
        # One writer per run folder: a second trainer on it would overwrite the first one's checkpoints.
        with folder_lock(out, "training run", wait=False):
            try:
                train_command(args, setup, n, out, device)
            except BaseException:
                # A folder this run made and that holds no checkpoint has nothing to resume: its lock,
                # config.json and tensorboard/ would only pass for a run. Removed under the lock, so no
                # other trainer is writing there.
                if created and not any(out.glob("stage*.pt")):
                    shutil.rmtree(out, ignore_errors=True)
                raise
    except LockHeld as err:
        holder = str(err).rsplit(" is locked by ", 1)[-1]
        raise UserError(
            f"{out}: another trainer ({holder}) is writing this run folder — wait for it or choose another --out"
        ) from None


def train_command(args: argparse.Namespace, setup: Preset, n: int | str, out: Path, device: torch.device) -> None:
    if any(out.glob("stage*.pt")) and not args.resume:
        raise UserError(f"{out}: already holds checkpoints — pass --resume to continue or choose another --out")
    data = load_splits(setup.data, args.data, args.nyu_dir, args.data_dir, not args.no_progress)
    if VARIANTS[args.variant].stage2 and n != "all" and n > len(data.train):  # before stage 1 trains for it
        raise UserError(
            f"--n-labeled {n}: the training split holds {len(data.train)} frames — give at most that many, or all"
        )
    options = {k: v for k, v in vars(args).items() if k not in ("debug",)}
    resolved = {"options": options, "train_config": dataclasses.asdict(setup.train), "device": str(device)}
    write_json(out / "config.json", resolved)
    res = train_variant(
        Run(args.variant, n, setup.train, setup.model, out), data, device, args.pretrained,
        resume=args.resume, progress=not args.no_progress, tensorboard=not args.no_tensorboard,
    )  # fmt: skip
    predictions = None
    if args.save_predictions:  # the field's text format, scored by `python -m mlib.evaluate`
        model = load_trained_model(res.checkpoint, device)
        xyz = predict_store(model, data.test, "real", VARIANTS[args.variant].stage2, next(model.parameters()).device)
        predictions = str(save_predictions(args.save_predictions, xyz, fmt="uvd"))
    print(
        json.dumps(
            {
                "variant": res.variant,
                "n_labeled": res.n_labeled,
                "test_error_mm": round(res.test_error_mm, 3),
                "val_error_mm": None if res.summary["val_mean"] is None else round(res.summary["val_mean"], 3),
                "seconds": round(res.seconds, 1),
                "out": res.out_dir,
                "predictions": predictions,
            }
        )
    )


if __name__ == "__main__":
    main()
