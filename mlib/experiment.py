"""One object a notebook (or a script) opens to get data, device, configuration and trained
models, so each notebook runs on its own and reuses what an earlier one trained:

    exp = Experiment.open("ci", run_dir="../runs/series-ci")
    res = exp.cell("full", 100)          # trains once, then reloads
    model = exp.model(res)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mlib.data.datasets import CropStore
from mlib.models import Murauer
from mlib.train import (
    RunResult,
    TrainConfig,
    cell_dir,
    load_data,
    load_trained_model,
    pick_device,
    run_cell,
    shared_pretrained,
)
from mlib.train import train_config as make_train_config

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Experiment:
    preset: str
    run_dir: Path
    cfg: TrainConfig
    train: CropStore
    test: CropStore
    device: torch.device
    progress: bool = True

    @classmethod
    def open(
        cls,
        preset: str = "ci",
        run_dir: str | Path | None = None,
        data_dir: str | Path | None = None,
        device: str = "auto",
        progress: bool = True,
        data_overrides: dict | None = None,
        **train_overrides,
    ) -> Experiment:
        """Load (or build) the preset's data and prepare a run folder (default runs/series-<preset>).

        `data_overrides` go to `data_config` (crop_size, frames, test_frames); the rest to the training config.
        """
        train_overrides = {k: v for k, v in train_overrides.items() if v is not None}
        data_overrides = {k: v for k, v in (data_overrides or {}).items() if v is not None}
        cfg = make_train_config(preset, **train_overrides)
        run_dir = Path(run_dir) if run_dir else ROOT / "runs" / f"series-{preset}"
        run_dir.mkdir(parents=True, exist_ok=True)
        train, test = load_data(preset, data_dir or ROOT / "data_cache", progress=progress, **data_overrides)
        return cls(preset, run_dir, cfg, train, test, pick_device(device), progress)

    def pretrained(self) -> Path:
        """The shared stage-1 checkpoint (trained on first use)."""
        return shared_pretrained(self.run_dir, self.cfg, self.train, self.test, self.device, self.progress)

    def cell(self, variant: str, n_labeled: int | str = 100) -> RunResult:
        """Train (or reload) one variant at n labeled real frames, evaluated on the real test split."""
        return run_cell(self.run_dir, variant, n_labeled, self.cfg, self.train, self.test, self.device, self.progress)

    def model(self, result: RunResult | str | Path) -> Murauer:
        path = result.checkpoint if isinstance(result, RunResult) else result
        return load_trained_model(path, self.device)

    def with_seed(self, seed: int) -> Experiment:
        """The same data and folder with another seed (its own stage-1 checkpoint and labeled subsets)."""
        return dataclasses.replace(self, cfg=dataclasses.replace(self.cfg, seed=seed))

    def grid(
        self, variants: Sequence[str], ns: Sequence[int | str], seeds: Sequence[int], only_finished: bool = False
    ) -> list[RunResult]:
        """Every (seed, variant, n) cell; finished cells are reloaded, so an interrupted grid resumes.
        `only_finished` trains nothing: it reloads the cells that finished and skips the others."""
        results = []
        for seed in seeds:
            exp = self.with_seed(seed)
            for variant in variants:
                # synth_only uses no real labels: one cell per seed serves every n
                for n in ns if variant != "synth_only" else ["all"]:
                    if only_finished and not (cell_dir(self.run_dir, variant, n, seed) / "result.json").exists():
                        continue
                    results.append(exp.cell(variant, n))
        return results


def grid_table(results: Sequence[RunResult], ns: Sequence[int | str] | None = None) -> dict[str, dict]:
    """table[variant][n] = (mean, std over seeds, number of seeds) of the test mean joint error, mm.
    synth_only, trained without real labels, is repeated at every n in `ns`."""
    cells: dict[str, dict] = {}
    for r in results:
        cells.setdefault(r.variant, {}).setdefault(r.n_labeled, []).append(r.test_error_mm)
    if ns is not None and "synth_only" in cells:
        errors = cells["synth_only"].pop("all")
        cells["synth_only"] = {n: errors for n in ns}
    return {v: {n: (float(np.mean(e)), float(np.std(e)), len(e)) for n, e in by_n.items()} for v, by_n in cells.items()}


def synthetic_frames_error(results: Sequence[RunResult]) -> float | None:
    """Mean over seeds of the error on the synthetic renders of the test frames; None for a variant
    that never learns to read synthetic frames (Real only), or for runs written before it was recorded."""
    values = [r.summary.get("synthetic_frames_mean") for r in results]
    return None if any(v is None for v in values) else float(np.mean(values))
