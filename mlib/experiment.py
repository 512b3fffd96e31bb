"""One object a notebook (or a script) opens to get data, device, configuration and trained
models, so each notebook runs on its own and reuses what an earlier one trained:

    exp = Experiment.open("ci", run_dir="../runs/series-ci")
    res = exp.cell("full", 100)          # trains once, then reloads
    model = exp.model(res)
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mlib.analysis import grid_cells
from mlib.atomic import LockHeld
from mlib.cells import RunResult, comparison_cell, shared_stage1, train_cell
from mlib.checkpoint import load_trained_model
from mlib.data import load_splits
from mlib.data.datasets import CropStore, Splits
from mlib.models import ModelConfig, Murauer
from mlib.presets import for_variant, resolve
from mlib.train import Run, TrainConfig, pick_device
from mlib.variants import VARIANTS

# ----------------------------------------------------------------------------- run folders


def cell_dir(run_dir: str | Path, variant_name: str, n_labeled: int | str, seed: int) -> Path:
    """Where one (variant, n, seed) cell of a run folder lives; a variant that reads no real label has
    one cell per seed."""
    return Path(run_dir) / f"{variant_name}-n{VARIANTS[variant_name].cell_n(n_labeled)}-seed{seed}"


# ----------------------------------------------------------------------------- the notebook-facing object


@dataclass
class Experiment:
    preset: str
    run_dir: Path
    cfg: TrainConfig  # shared by every variant: each cell applies its variant's stage-2 rate scale
    train: CropStore
    test: CropStore
    device: torch.device
    progress: bool = True
    val: CropStore | None = None  # labeled real frames of other subjects: training curves, tuning
    model_cfg: ModelConfig | None = None  # None: the preset's model for the training crops' size
    shipped: bool = True  # `comparison` may load a shipped stage-2 model instead of training it

    @classmethod
    def open(
        cls,
        preset: str = "ci",
        run_dir: str | Path | None = None,
        data_dir: str | Path | None = None,
        device: str = "auto",
        progress: bool = True,
        data_overrides: dict | None = None,
        model_overrides: dict | None = None,
        data: str = "generated",
        nyu_dir: str | Path | None = None,
        shipped: bool = True,
        **train_overrides,
    ) -> Experiment:
        """Load (or build) the preset's data and prepare a run folder. Relative paths, and the defaults
        `runs/series-<preset>` and `data_cache/`, are taken from the working directory.

        The preset is resolved by `mlib.presets.resolve`: `data_overrides` go to the data settings
        (crop_size, frames, test_frames, ...), `model_overrides` to the model's (its crop size follows the
        data's), the rest to the training config. None values are ignored. `data="nyu"` with `nyu_dir`
        trains and evaluates on an NYU-layout folder instead of the generated data set. `shipped=False`:
        `comparison` trains every model instead of loading the shipped ones.
        """
        setup = resolve(preset, data=data_overrides, model=model_overrides, train=train_overrides)
        run_dir = Path(run_dir) if run_dir else Path("runs") / f"series-{preset}"
        run_dir.mkdir(parents=True, exist_ok=True)
        splits = load_splits(setup.data, data, nyu_dir, data_dir or "data_cache", progress)
        return cls(
            preset,
            run_dir,
            setup.train,
            splits.train,
            splits.test,
            pick_device(device),
            progress,
            splits.val,
            setup.model,
            shipped,
        )

    @property
    def splits(self) -> Splits:
        return Splits(self.train, self.val, self.test)

    def stage1_dir(self) -> Path:
        """The folder of this seed's stage 1, shared by every cell of the run folder."""
        return self.run_dir / f"stage1-seed{self.cfg.seed}"

    def pretrained(self) -> Path:
        """The shared stage-1 checkpoint (trained on first use)."""
        return shared_stage1(self.run_of("synth_only", "all"), self.splits, self.device, self.stage1_dir(), self.progress)

    def cell(self, variant: str, n_labeled: int | str = 100, wait: bool = True) -> RunResult:
        """Train (or reload) one variant at n labeled real frames, evaluated on the real test split."""
        return train_cell(self.run_of(variant, n_labeled), self.splits, self.device, self.stage1_dir(), self.progress, wait)

    def comparison(self, variant: str, n_labeled: int | str = 100, wait: bool = True) -> RunResult:
        """A model the notebook compares against (not the one it teaches): this run folder's cell if it
        finished, else the shipped one where it matches this run exactly, else trained (`comparison_cell`)."""
        run = self.run_of(variant, n_labeled)
        return comparison_cell(run, self.splits, self.device, self.stage1_dir(), self.shipped, self.progress, wait)

    def cfg_for(self, variant: str) -> TrainConfig:
        """The training settings of a variant's cells: the preset's stage-2 rate scale for it applied,
        unless `cfg` sets one."""
        return for_variant(self.preset, self.cfg, variant)

    def run_of(self, variant: str, n_labeled: int | str = 100, out_dir: str | Path | None = None) -> Run:
        """The `mlib.train.Run` of a cell: its variant's settings, the model, its folder (default: the cell's)."""
        n_labeled = VARIANTS[variant].cell_n(n_labeled)  # no real labels used: one cell serves every n
        folder = Path(out_dir) if out_dir is not None else cell_dir(self.run_dir, variant, n_labeled, self.cfg.seed)
        return Run(variant, n_labeled, self.cfg_for(variant), self.model_config(), folder)

    def model_config(self) -> ModelConfig:
        """The model every cell builds: the one given, else the preset's for the training crops."""
        return self.model_cfg or resolve(self.preset, data={"crop_size": self.train.crop_size}).model

    def model(self, result: RunResult | str | Path) -> Murauer:
        path = result.checkpoint if isinstance(result, RunResult) else result
        return load_trained_model(path, self.device)

    def with_seed(self, seed: int) -> Experiment:
        """The same data and folder with another seed (its own stage-1 checkpoint and labeled subsets)."""
        return dataclasses.replace(self, cfg=dataclasses.replace(self.cfg, seed=seed))

    def grid(
        self,
        variants: Sequence[str],
        ns: Sequence[int | str],
        seeds: Sequence[int],
        only_finished: bool = False,
        shared: bool = False,
        poll_s: float = 5.0,
        comparisons: bool = False,
    ) -> list[RunResult]:
        """Every (seed, variant, n) cell, in that order; finished cells are reloaded, so an interrupted
        grid resumes. `only_finished` trains nothing: it reloads the cells that finished and skips the
        others. `shared=True` makes this process one of several workers on the same run folder: it takes
        the first cell nobody holds (a cell whose stage 1 another worker is training counts as held),
        and waits only when every cell left is held; all workers return the whole grid. `comparisons=True`
        takes each cell as `comparison` does (a shipped model where one matches), for a notebook that reads a
        grid rather than teaches how to train one."""
        cells = [
            (seed, variant, n)
            for seed in seeds
            for variant in variants
            # a variant that uses no real labels has one cell per seed, whatever n
            for n in (ns if VARIANTS[variant].uses_n else ["all"])
        ]
        if only_finished:
            cells = [c for c in cells if (cell_dir(self.run_dir, c[1], c[2], c[0]) / "result.json").exists()]
        results: dict[tuple, RunResult] = {}
        while any(c not in results for c in cells):  # (a cell listed twice is trained once)
            took = False
            for key in (c for c in cells if c not in results):
                seed, variant, n = key
                try:
                    exp = self.with_seed(seed)
                    results[key] = exp.comparison(variant, n, wait=not shared) if comparisons else exp.cell(variant, n, wait=not shared)
                except LockHeld:
                    continue
                took = True
                break  # start again from the top: earlier cells may have come free
            if not took:
                time.sleep(poll_s)
        return [results[c] for c in cells]


def load_result(path: str | Path) -> RunResult:
    """A finished cell read back from its result.json alone (no checkpoint, no history): how a report
    combines cells trained in an earlier run folder whose checkpoints are gone."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such cell result; train the cell, or point at the folder holding its copy")
    d = json.loads(path.read_text())
    missing = {"variant", "n_labeled", "test_error_mm", "summary"} - set(d)
    if missing:
        raise ValueError(f"{path}: not a cell result (missing {sorted(missing)})")
    summary = dict(d["summary"])
    if "success_rate" in summary:  # JSON turned the thresholds (mm) into strings
        summary["success_rate"] = {int(k): v for k, v in summary["success_rate"].items()}
    return RunResult(
        variant=d["variant"],
        n_labeled=d["n_labeled"],
        test_error_mm=float(d["test_error_mm"]),
        summary=summary,
        history=[],
        # a copy <cell>.json without its folder's path names the cell by its file name
        out_dir=d.get("out_dir", str(path.parent if path.name == "result.json" else path.with_suffix(""))),
        seconds=float(d.get("seconds", 0.0)),
        checkpoint=d.get("checkpoint", ""),
    )


def grid_table(results: Sequence[RunResult], ns: Sequence[int | str]) -> dict[str, dict]:
    """table[variant][n] = (mean, spread, number of seeds) of the test error: the grid's cells
    (`mlib.analysis.grid_cells`, the one aggregation) as a table; a variant trained without real labels
    (synth_only) is repeated at every n in `ns`."""
    variants = list(dict.fromkeys(r.variant for r in results))
    table: dict[str, dict] = {}
    for c in grid_cells(results, variants, ns):
        table.setdefault(c["variant"], {})[c["n_labeled"]] = (c["mean_error_mm"], c["std_error_mm"], c["seeds"])
    return table


VARIANT_NAMES = {
    "synth_only": "Synth only",
    "real_only": "Real only",
    "real_synth": "Real+Synth",
    "distr_match": "Real+Synth | Distr. Match",
    "view_pred": "Real+Synth | View Pred.",
    "full": "Full (MURAUER)",
    "real_view": "Real only | View Pred.",
    "synth_adapt": "Synth only | Distr. Match",
    "view_only": "View Pred. only (no pose labels in stage 2)",
}  # the paper's names (§4.3, Fig. 4); the last three are each mechanism on its own
assert set(VARIANT_NAMES) == set(VARIANTS)


def synthetic_frames_error(results: Sequence[RunResult]) -> float | None:
    """Mean over seeds of the error on the synthetic renders of the test frames; None for a variant
    that never learns to read synthetic frames (Real only), or for runs written before it was recorded."""
    values = [r.summary.get("synthetic_frames_mean") for r in results]
    return None if any(v is None for v in values) else float(np.mean(values))


def add_experiment_arguments(ap) -> None:
    """The command-line options every grid script shares: data source, sizes, device, iterations."""
    ap.add_argument("--data-dir", default=None, help="where the data cache lives (default data_cache/)")
    ap.add_argument("--data", default="generated", choices=["generated", "nyu"])
    ap.add_argument("--nyu-dir", default=None, help="with --data nyu: the folder holding NYU's train/ and test/")
    ap.add_argument("--frames", type=int, default=None, help="override the preset's number of training frames")
    ap.add_argument("--test-frames", type=int, default=None, help="override the preset's number of test frames")
    ap.add_argument("--device", default="auto")
    ap.add_argument(
        "--stage1-synth-cameras",
        type=int,
        default=None,
        choices=[1, 2, 3],
        help="stage 1 draws synthetic samples from the renders of this many cameras (default: the preset's)",
    )
    ap.add_argument("--stage1-iters", type=int, default=None)
    ap.add_argument("--stage2-iters", type=int, default=None)
    ap.add_argument(
        "--scratch-iters",
        type=int,
        default=None,
        help="iterations of the variants trained from scratch (Real only, real_view; default: the preset's)",
    )
    ap.add_argument(
        "--model-setting",
        nargs="+",
        default=[],
        metavar="FIELD=VALUE",
        help="override ModelConfig fields, VALUE as JSON, e.g. stage_channels=[48,96,192,192] blocks_per_stage=2",
    )
    ap.add_argument(
        "--train-setting",
        nargs="+",
        default=[],
        metavar="FIELD=VALUE",
        help="override TrainConfig fields, VALUE as JSON, e.g. corr_trains_encoder=false (a report over cells "
        "trained under another setting than today's default names the one they had)",
    )
    for term, meaning in (("c", "Lc"), ("g", "Lg"), ("m", "Lm")):
        ap.add_argument(f"--lambda-{term}", type=float, default=None, help=f"weight of {meaning} (default: the preset's)")


def open_from_args(args, run_dir: str | Path) -> Experiment:
    """`Experiment.open` from the options of `add_experiment_arguments` (and `--preset`)."""
    given = {f"lambda_{t}": getattr(args, f"lambda_{t}", None) for t in "cgm"}
    model = settings_from(getattr(args, "model_setting", []), "--model-setting", "stage_channels=[32,64,128,128]")
    train = settings_from(getattr(args, "train_setting", []), "--train-setting", "corr_trains_encoder=false")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    if set(train) - known:
        raise SystemExit(f"--train-setting: unknown field(s) {sorted(set(train) - known)}; TrainConfig has {sorted(known)}")
    weights = dataclasses.replace(resolve(args.preset).train.weights, **{k: v for k, v in given.items() if v is not None})
    return Experiment.open(
        args.preset,
        run_dir,
        args.data_dir,
        args.device,
        data=args.data,
        nyu_dir=args.nyu_dir,
        data_overrides={"frames": args.frames, "test_frames": args.test_frames},
        model_overrides=model or None,
        stage1_iters=args.stage1_iters,
        stage2_iters=args.stage2_iters,
        scratch_iters=getattr(args, "scratch_iters", None),
        stage1_synth_cameras=getattr(args, "stage1_synth_cameras", None),
        weights=weights,
        **train,
    )


def settings_from(items: list[str], option: str, example: str) -> dict:
    """FIELD=VALUE items of a command line, each VALUE as JSON (a list becomes a tuple)."""
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise SystemExit(f"{option} {item!r}: the value is not JSON (e.g. {example})") from None
        out[name] = tuple(parsed) if isinstance(parsed, list) else parsed
    return out
