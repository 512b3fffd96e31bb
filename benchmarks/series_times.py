"""How long the notebook series takes on this machine: the laptop series and the ci series of the same
run, side by side, with the machine's sgemm rate beside them.

    python -m benchmarks.series_times --out benchmarks/results/series-laptop-times.json

Run it from a fresh clone (`bash scripts/setup.sh` first; the data cache is rendered by notebook 00,
as a new user's is) with nothing else running. It measures the 2048² sgemm rate, executes the laptop
series and then the ci series with `python -m mlib.series --check` into folders of their own, and writes
each notebook's seconds, the totals, their ratio and the sgemm rates to `--out`, and prints the README's
table of times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.sgemm import sgemm_gflops
from mlib.atomic import write_json

REPO = Path(__file__).resolve().parents[1]
# The laptop series' target as a ratio to the ci series run beside it: 12 minutes on a machine where the
# ci series took 114 s (720 / 114).
TARGET_LAPTOP_OVER_CI = 6.3


def run_series(preset: str, out: Path) -> dict[str, float]:
    """One series run with --check; its notebooks' seconds (mlib.series' times.json)."""
    cmd = [sys.executable, "-m", "mlib.series", "--preset", preset, "--out", str(out), "--check"]
    subprocess.run(cmd, cwd=REPO, check=True)
    return json.loads((out / "times.json").read_text())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "series-laptop-times.json"))
    ap.add_argument("--run-dir", default=str(REPO / "runs" / "series-times"), help="where the executed notebooks go")
    args = ap.parse_args(argv)
    run_dir = Path(args.run_dir)
    sgemm = {"1_thread": sgemm_gflops(1), f"{os.cpu_count()}_threads": sgemm_gflops(os.cpu_count() or 1)}
    print(f"sgemm 2048²: {sgemm['1_thread']:.0f} GFLOP/s on 1 thread, {list(sgemm.values())[1]:.0f} on {os.cpu_count()}")
    t0 = time.perf_counter()
    laptop = run_series("laptop", run_dir / "laptop")
    laptop_wall = time.perf_counter() - t0
    ci = run_series("ci", run_dir / "ci")
    doc = {
        "about": "seconds per notebook of one series run each (python -m mlib.series --check), laptop then ci, "
        "on the same machine in one run, from a fresh clone with the data rendered by notebook 00",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "sgemm_2048_gflops": sgemm},
        "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip(),
        "laptop": laptop,
        "ci": ci,
        "laptop_total_s": sum(laptop.values()),
        "laptop_wall_s": laptop_wall,
        "ci_total_s": sum(ci.values()),
        "laptop_over_ci": sum(laptop.values()) / sum(ci.values()),
    }
    write_json(Path(args.out), doc)
    print("| notebook | `ci` s | `laptop` s |\n|---|---|---|")
    for name in laptop:
        print(f"| {name.removesuffix('.ipynb')} | {ci.get(name, float('nan')):.0f} | {laptop[name]:.0f} |")
    print(f"| **total** | **{doc['ci_total_s']:.0f}** | **{doc['laptop_total_s']:.0f}** |")
    met = "met" if doc["laptop_over_ci"] <= TARGET_LAPTOP_OVER_CI else "NOT met"
    print(f"laptop / ci: {doc['laptop_over_ci']:.1f} (target <= {TARGET_LAPTOP_OVER_CI}: {met}); written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
