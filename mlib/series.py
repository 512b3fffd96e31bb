"""Execute the notebook series with papermill into a run folder.

    python -m mlib.series --preset ci --out runs/series-ci      # in the repository root

Each notebook gets the parameters `preset`, `run_dir` and `data_dir`; executed copies and
the figures they show land in the run folder. A failing notebook stops the series with
papermill's error (it names the cell). Every kernel starts with `mlib.batch.install()`: text
progress bars instead of widgets, and a record of each displayed figure's titles and axis labels.
Text bars are saved at their final state (carriage-return updates collapsed). `--check` verifies
that every executed notebook has no error output, shows at least one figure, holds no widget output
(saved frozen) or progress bar that stopped short of its total, and that every figure has a title
and labelled axes (image panels without ticks: a title; colour bars: a label). The claims the
notebooks displayed (mlib.claims, recorded under `CLAIM_RECORD_MIME`) are listed with their verdicts in
`claims.md`, and their records in `claims.json`.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
import papermill as pm
from nbconvert.preprocessors import CoalesceStreamsPreprocessor, ExtractOutputPreprocessor

from mlib.atomic import write_json, write_text
from mlib.batch import CLAIM_RECORD_MIME, FIGURE_RECORD_MIME
from mlib.claims.rules import VERDICTS
from mlib.presets import PRESET_NAMES

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"  # the repository's notebooks, beside the package
DATA_SOURCE_PARAMS = ("dataset", "nyu_dir")  # reach only the notebooks that declare `dataset` (01-06)
# Run in every kernel before the first cell (a kernel start option, so the notebook itself is unchanged).
KERNEL_SETUP = "__import__('mlib.batch').batch.install()"
KERNEL_START_TIMEOUT_S = 600  # nbclient's 60 s is too short for a kernel starting on a busy machine
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
BAR_STATE = re.compile(r"(\d+)/(\d+) \[")  # tqdm's "n/total [elapsed<remaining" part


def notebooks(only: list[str] | None = None, folder: Path = NOTEBOOKS) -> list[Path]:
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if only:
        found = [nb for nb in found if nb.name[:2] in only]
    return found


def extract_figures(executed: Path, figure_dir: Path) -> list[Path]:
    """Save every PNG a notebook displayed as <notebook>_<k>.png (nbconvert's output extraction)."""
    nb = nbformat.read(executed, as_version=4)
    _, resources = ExtractOutputPreprocessor(extract_output_types={"image/png"}).preprocess(nb, {"outputs": {}})
    figure_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for k, png in enumerate(resources["outputs"].values()):  # in the notebook's order
        path = figure_dir / f"{executed.stem}_{k:02d}.png"
        path.write_bytes(png)
        out.append(path)
    return out


def collapse_progress(executed: Path) -> None:
    """Rewrite an executed notebook's stream outputs as a front end shows them (nbconvert's coalescing:
    consecutive streams joined, carriage-return updates collapsed), so a text progress bar is saved
    once, at its final state."""
    nb = nbformat.read(executed, as_version=4)
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    nbformat.write(nb, executed)


def figure_problems(record: dict) -> list[str]:
    """What a figure lacks, from its `mlib.batch.figure_record`: a title (the figure's or every
    panel's), axis labels on every panel with data, a title on frameless image panels, a label on
    every colour bar."""
    panels = [a for a in record["axes"] if not a["colorbar"] and a["has_data"]]
    problems = []
    if not record["suptitle"] and any(not a["title"] for a in panels):
        problems.append("has no title (neither a figure title nor one on every panel)")
    for j, a in enumerate(panels):
        name = f"panel {j + 1}" + (f" '{a['title']}'" if a["title"] else "")
        if a["frameless"]:
            if not a["title"]:
                problems.append(f"{name}: an image without axes needs a title")
            continue
        missing = [axis for axis in ("x", "y", "z") if a.get(f"{axis}label") == ""]
        if missing:
            problems.append(f"{name}: no {'/'.join(missing)}-axis label")
    if any(a["colorbar"] and not a["label"] for a in record["axes"]):
        problems.append("a colour bar has no label (its units)")
    return problems


def check_executed(executed: Path) -> list[str]:
    """Problems of an executed notebook: error outputs, no figure at all, widget outputs (saved
    frozen), progress bars that stopped short of their total, figures without a title or labels."""
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nbformat.read(executed, as_version=4), {})  # as shown
    problems = []
    n_figures = 0
    for i, cell in enumerate(nb.cells):
        where = f"{executed.name}: cell {i}"
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output.get("output_type") == "error":
                problems.append(f"{where} raised {output.get('ename')}: {output.get('evalue')}")
            if WIDGET_MIME in data:
                shown = str(data.get("text/plain", "")).strip()[:60]
                problems.append(f"{where}: a widget output, saved frozen ({shown!r}); batch runs need text bars")
            if output.get("output_type") == "stream":
                for line in output.get("text", "").split("\n"):
                    state = BAR_STATE.findall(line)
                    if state and int(state[-1][0]) < int(state[-1][1]):
                        problems.append(f"{where}: a progress bar stopped at {state[-1][0]}/{state[-1][1]}")
            if "image/png" in data:
                figure = f"figure {n_figures:02d}"
                n_figures += 1
                record = data.get(FIGURE_RECORD_MIME)
                if record is None:
                    problems.append(f"{where}, {figure}: no axes record (not run through mlib.series)")
                    continue
                problems += [f"{where}, {figure}: {p}" for p in figure_problems(record)]
    if n_figures == 0:
        problems.append(f"{executed.name}: shows no figure")
    return problems


def claims_recorded(executed: Path) -> list[dict]:
    """Every claim an executed notebook displayed (its `mlib.claims` records), with the notebook and
    cell (numbered as in the committed notebook: papermill's injected parameters cell is not counted), in order."""
    nb = nbformat.read(executed, as_version=4)
    cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    found = []
    for i, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            for record in output.get("data", {}).get(CLAIM_RECORD_MIME, {}).get("claims", []):
                found.append({"notebook": executed.name, "cell": i, **record})
    return found


def claims_table(claims: list[dict]) -> str:
    """The claims of a series run as a markdown table (written to claims.md in the run folder)."""
    rows = ["| notebook | cell | claim | verdict here | committed laptop results |", "|---|---|---|---|---|"]
    for c in claims:
        ref = c["reference_verdict"] or "no counterpart"
        claim = c["shown"].replace("|", "\\|")  # a display name like "Real+Synth | Distr. Match" stays in its column
        rows.append(f"| {c['notebook']} | {c['cell']} | {claim} | {c['verdict']} ({c['preset']}) | {ref} |")
    return "\n".join(rows) + f"\n\n{claims_summary([c['verdict'] for c in claims])}\n"


def claims_summary(verdicts: list[str]) -> str:
    """The line under a claims table: how many claims got each verdict."""
    counts = {v: verdicts.count(v) for v in VERDICTS}
    return (
        f"{counts['holds']} of {len(verdicts)} claims hold at this preset, {counts['within noise']} within noise, "
        f"{counts['does not hold']} do not hold, {counts['no verdict']} give no verdict (one seed, no committed spread)."
    )


def write_claims(out: Path, claims: list[dict]) -> None:
    """claims.md (the table) and claims.json (the records) of a run folder."""
    write_text(out / "claims.md", claims_table(claims))
    write_json(out / "claims.json", claims)


def parameter_value(text: str):
    """A -p value as papermill's command line reads it: int, float, True/False/None, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"True": True, "False": False, "None": None}.get(text, text)


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
    params: dict | None = None,
) -> dict[str, float]:
    """Execute the notebooks into `out`. `extra` holds the data source (`dataset`, `nyu_dir`: only
    notebooks 01-06 get them); `params` are set in every notebook that declares them (`-p NAME VALUE`)."""
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    overrides = params
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
        params |= {k: v for k, v in (overrides or {}).items() if k in declared}
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
                start_timeout=KERNEL_START_TIMEOUT_S,
                extra_arguments=[f"--IPKernelApp.exec_lines={KERNEL_SETUP}"],
            )
        finally:
            times[nb.name] = time.perf_counter() - t0
            if executed.exists():
                collapse_progress(executed)
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
    ap.add_argument("--data-dir", default="data_cache")
    ap.add_argument("--notebooks", default=str(NOTEBOOKS), help="folder of the notebooks to run (default notebooks/)")
    ap.add_argument("--data", default="generated", choices=["generated", "nyu"], help="data set of notebooks 01-06")
    ap.add_argument("--nyu-dir", default=None, help="with --data nyu: the folder holding NYU's train/ and test/")
    ap.add_argument("--kernel", default="murauer", help="Jupyter kernel name (scripts/setup.sh installs 'murauer')")
    ap.add_argument("--only", nargs="*", help="notebook numbers to run, e.g. 00 03")
    ap.add_argument(
        "--check",
        action="store_true",
        help="fail on an error, no figure, a frozen widget or progress bar, or a figure without a title or axis labels",
    )
    ap.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="set a parameter in every notebook that declares it, as papermill's -p does (e.g. -p nyu_dir /none)",
    )
    ap.add_argument(
        "--cell-timeout",
        type=float,
        default=None,
        help="seconds one cell may run before the series fails (default: 900 for the ci preset, none otherwise)",
    )
    ap.add_argument(
        "--list-claims", action="store_true", help="run nothing: write claims.md from the executed notebooks in --out"
    )
    args = ap.parse_args(argv)
    out = Path(args.out or Path("runs") / f"series-{args.preset}")
    if args.list_claims:
        claims = [c for nb in notebooks(args.only, out) for c in claims_recorded(nb)]
        write_claims(out, claims)
        print(claims_table(claims))
        return 0
    if not notebooks(args.only, Path(args.notebooks)):
        ap.error(f"no notebooks in {Path(args.notebooks).resolve()}; run from the repository root or pass --notebooks")
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
            notebook_dir=Path(args.notebooks),
            params={name: parameter_value(value) for name, value in args.param},
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
    write_json(out / "times.json", times)
    executed = [out / name for name in times if (out / name).exists()]
    claims = [c for nb in executed for c in claims_recorded(nb)]
    if claims:
        write_claims(out, claims)
        print(f"\n{sum(c['verdict'] == 'holds' for c in claims)} of {len(claims)} claims hold; the list is in {out / 'claims.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
