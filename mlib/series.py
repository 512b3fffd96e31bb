"""Execute the notebook series with papermill into a run folder.

    python -m mlib.series --preset ci --out runs/series-ci

Each notebook gets the parameters `preset`, `run_dir` and `data_dir`; executed copies and
the figures they show land in the run folder. A failing notebook stops the series with
papermill's error (it names the cell). `--check` verifies that every executed notebook has
no error output and shows at least one figure.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
from pathlib import Path

import nbformat
import papermill as pm

from mlib.presets import PRESET_NAMES

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DATA_SOURCE_PARAMS = ("dataset", "nyu_dir")  # reach only the notebooks that declare `dataset` (01-06)


def notebooks(only: list[str] | None = None, folder: Path = NOTEBOOKS) -> list[Path]:
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if only:
        found = [nb for nb in found if nb.name[:2] in only]
    return found


def extract_figures(executed: Path, figure_dir: Path) -> list[Path]:
    """Save every PNG a notebook displayed as <notebook>_<k>.png."""
    nb = nbformat.read(executed, as_version=4)
    figure_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png:
                path = figure_dir / f"{executed.stem}_{len(out):02d}.png"
                path.write_bytes(base64.b64decode(png))
                out.append(path)
    return out


def check_executed(executed: Path) -> list[str]:
    """Problems of an executed notebook: error outputs, or no figure at all."""
    nb = nbformat.read(executed, as_version=4)
    problems = []
    n_figures = 0
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"{executed.name}: cell {i} raised {output.get('ename')}: {output.get('evalue')}")
            if "image/png" in output.get("data", {}):
                n_figures += 1
    if n_figures == 0:
        problems.append(f"{executed.name}: shows no figure")
    return problems


def run_series(
    preset: str,
    out: Path,
    data_dir: Path,
    kernel: str = "murauer",
    only: list[str] | None = None,
    extra: dict | None = None,
    check: bool = False,
    cell_timeout: float | None = None,
    notebook_dir: Path = NOTEBOOKS,
) -> dict[str, float]:
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    for nb in notebooks(only, notebook_dir):
        executed = out / nb.name
        params = {"preset": preset, "run_dir": str(out.resolve()), "data_dir": str(data_dir.resolve()), **(extra or {})}
        declared = pm.inspect_notebook(str(nb))
        params = {k: v for k, v in params.items() if k in declared or k in ("preset", "run_dir", "data_dir")}
        if "dataset" not in declared:  # 00 and 07 read real NYU files of their own (their nyu_dir means that)
            params = {k: v for k, v in params.items() if k not in DATA_SOURCE_PARAMS}
        if "live_widgets" in declared:
            # Live widgets die with the kernel anyway, and nbclient can hang on their comm traffic
            # (jupyter/nbclient#312): batch runs draw the static figures only.
            params["live_widgets"] = False
        print(f"==> {nb.name}", flush=True)
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(
                str(nb),
                str(executed),
                parameters=params,
                kernel_name=kernel,
                cwd=str(notebook_dir),
                progress_bar=False,
                execution_timeout=cell_timeout,
            )
        finally:
            times[nb.name] = time.perf_counter() - t0
            if executed.exists():
                extract_figures(executed, out / "figures")
        if check:
            problems = check_executed(executed)
            if problems:
                raise RuntimeError("\n".join(problems))
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run the MURAUER notebook series with papermill.")
    ap.add_argument("--preset", default="ci", choices=PRESET_NAMES)
    ap.add_argument("--out", default=None, help="run folder (default runs/series-<preset>)")
    ap.add_argument("--data-dir", default=str(ROOT / "data_cache"))
    ap.add_argument("--data", default="generated", choices=["generated", "nyu"], help="data set of notebooks 01-06")
    ap.add_argument("--nyu-dir", default=None, help="with --data nyu: the folder holding NYU's train/ and test/")
    ap.add_argument("--kernel", default="murauer", help="Jupyter kernel name (scripts/setup.sh installs 'murauer')")
    ap.add_argument("--only", nargs="*", help="notebook numbers to run, e.g. 00 03")
    ap.add_argument("--check", action="store_true", help="fail if a notebook shows an error or no figure")
    ap.add_argument(
        "--cell-timeout",
        type=float,
        default=None,
        help="seconds one cell may run before the series fails (default: 900 for the ci preset, none otherwise)",
    )
    args = ap.parse_args(argv)
    out = Path(args.out or ROOT / "runs" / f"series-{args.preset}")
    t0 = time.perf_counter()
    try:
        timeout = args.cell_timeout if args.cell_timeout is not None else (900 if args.preset == "ci" else None)
        if args.data == "nyu" and not args.nyu_dir:
            ap.error("--data nyu needs --nyu-dir")
        extra = {"dataset": "nyu", "nyu_dir": str(Path(args.nyu_dir).resolve())} if args.data == "nyu" else {}
        times = run_series(
            args.preset,
            out,
            Path(args.data_dir),
            args.kernel,
            args.only,
            extra=extra,
            check=args.check,
            cell_timeout=timeout,
        )
    except pm.PapermillExecutionError as err:
        print(f"\nseries stopped: {err.ename} in cell {err.exec_count}: {err.evalue}", file=sys.stderr)
        print(f"the executed notebook with the error cell is in {out}", file=sys.stderr)
        return 1
    except TimeoutError as err:  # nbclient's CellTimeoutError: a cell ran past --cell-timeout
        print(f"\nseries stopped: a cell ran too long ({err}); see the executed notebook in {out}", file=sys.stderr)
        return 1
    except RuntimeError as err:
        print(f"\nseries check failed:\n{err}", file=sys.stderr)
        return 1
    print("\nper-notebook time:")
    for name, sec in times.items():
        print(f"  {name:40s} {sec:8.1f} s")
    print(f"  {'total':40s} {time.perf_counter() - t0:8.1f} s")
    (out / "times.json").write_text(json.dumps(times, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
