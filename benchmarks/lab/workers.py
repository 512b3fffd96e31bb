"""Workers: a lab script that trains many cells runs itself as K processes sharing one run folder (the
grid's `mlib.experiment.Experiment.grid` with shared=True, the mechanism lab's arms), each taking the
first cell nobody holds; one launcher starts them, shows one progress bar and stops them together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm


def importable_env() -> dict[str, str]:
    """The environment with the repository on PYTHONPATH, so a worker started as `python -m
    benchmarks.lab.<script>` imports the lab from any working directory."""
    from benchmarks.lab import REPO

    paths = [str(REPO), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


def launch_workers(
    module: str, argv: Sequence[str], workers: int, run_dir: Path, done_files: Sequence[Path], flag: str = "--grid-worker"
) -> None:
    """Run `python -m module argv flag` as `workers` processes sharing `run_dir`, each with an equal share
    of the CPU threads (one each on 2 cores), and wait for all of them with one progress bar over
    `done_files` (each appears when one piece of work is finished: a cell's result.json, an arm's copy).
    Each worker's output goes to `run_dir/worker-<launcher pid>-<i>.log` (two launchers may share a run
    folder, each on its own cells); a failed worker stops the others and raises, naming its log."""
    run_dir.mkdir(parents=True, exist_ok=True)
    worker_exits_cleanly()  # a SIGTERM to the launcher too unwinds, so the `finally` below stops its workers
    threads = max(1, (os.cpu_count() or 1) // workers)
    env = {**importable_env(), "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    procs, logs = [], []
    for i in range(workers):
        log = run_dir / f"worker-{os.getpid()}-{i}.log"
        logs.append(log)
        with open(log, "w") as fh:
            cmd = [sys.executable, "-m", module, *argv, flag]
            procs.append(subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env))
    files = sorted(set(done_files))
    total_cells = len(files)
    done = lambda: sum(f.exists() for f in files)  # noqa: E731
    with tqdm(total=total_cells, desc=f"{module.rsplit('.', 1)[-1]}, {workers} workers", unit="cell") as bar:
        try:
            while any(p.poll() is None for p in procs):
                failed = [i for i, p in enumerate(procs) if p.poll() not in (None, 0)]
                if failed:
                    raise RuntimeError(f"grid worker {failed[0]} failed; see {logs[failed[0]]}")
                bar.n = min(done(), total_cells)
                bar.refresh()
                time.sleep(2.0)
            failed = [i for i, p in enumerate(procs) if p.returncode != 0]
            if failed:
                raise RuntimeError(f"grid worker {failed[0]} failed; see {logs[failed[0]]}")
            bar.n = min(done(), total_cells)
            bar.refresh()
        finally:
            for p in procs:
                if p.poll() is None:
                    p.terminate()  # a worker turns SIGTERM into SystemExit, so its temp files go (worker_exits_cleanly)
            for p in procs:
                p.wait()


def worker_exits_cleanly() -> None:
    """In a grid worker or its launcher: SIGTERM unwinds like an exception, so atomic writes remove their
    temp files, locks are released and a launcher stops its workers, instead of dying mid-write or
    leaving them orphaned."""
    def stop(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
