"""Run folders are safe to share: one process at a time per cell, and a run killed with SIGKILL at
any moment resumes to the result of an uninterrupted run."""

import os
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from mlib.atomic import atomic_write, folder_lock

TRAIN_SCRIPT = textwrap.dedent(
    """
    import torch
    from test_train import fake_store  # the tests' folder is on the worker's PYTHONPATH
    from pathlib import Path
    from mlib.cells import train_cell
    from mlib.data.datasets import Splits
    from mlib.experiment import cell_dir
    from mlib.presets import model_config, train_config
    from mlib.train import Run
    torch.set_num_threads(1)
    store = fake_store()
    cfg = train_config("ci", "real_synth", stage1_iters=16, stage2_iters=16, log_every=2, eval_every=0, ckpt_every=2)
    run = Run("real_synth", 20, cfg, model_config("ci"), cell_dir({run_dir!r}, "real_synth", 20, 0))
    train_cell(run, Splits(store, None, store), torch.device("cpu"), Path({run_dir!r}) / "stage1-seed0", progress=False)
    """
)


def run_script(run_dir, tests_dir) -> subprocess.Popen:
    code = TRAIN_SCRIPT.format(run_dir=str(run_dir))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tests_dir), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)


def final_state(run_dir):
    return torch.load(run_dir / "real_synth-n20-seed0" / "stage2.pt", weights_only=True)["model"]


def test_a_second_process_waits_for_the_lock(tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from mlib.atomic import folder_lock\nimport time\nwith folder_lock({str(tmp_path)!r}, 'x'):\n"
            "    print('held', flush=True); time.sleep(2)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    said = []
    t0 = time.perf_counter()
    with folder_lock(tmp_path, "cell x", log=said.append):
        waited = time.perf_counter() - t0
    holder.wait()
    assert waited > 0.5 and len(said) == 1 and "locked by pid" in said[0] and "waiting" in said[0]


def test_taking_a_lock_removes_the_temp_files_of_a_killed_holder_and_nothing_else(tmp_path):
    orphan = tmp_path / ".stage2.pt.abc123.tmp"  # what SIGKILL inside atomic_write leaves behind
    orphan.write_bytes(b"half a checkpoint")
    (tmp_path / "stage2.pt").write_bytes(b"kept")
    (tmp_path / "notes.tmp").write_bytes(b"not ours: no leading dot")
    with folder_lock(tmp_path, "cell x"):
        assert not orphan.exists()
        with atomic_write(tmp_path / "result.json") as tmp:  # a write of the holder itself survives
            tmp.write_text("{}")
    assert (tmp_path / "stage2.pt").read_bytes() == b"kept" and (tmp_path / "notes.tmp").exists()
    assert (tmp_path / "result.json").read_text() == "{}"


def test_sigkill_at_any_moment_resumes_to_the_uninterrupted_result(tmp_path, request):
    tests_dir = request.path.parent
    clean = tmp_path / "clean"
    assert run_script(clean, tests_dir).wait() == 0
    killed = tmp_path / "killed"
    # kill after the first, then after a later checkpoint of either stage, then let it finish
    for marker in ("stage1-seed0/stage1.pt", "real_synth-n20-seed0/stage2.pt"):
        proc = run_script(killed, tests_dir)
        while not (killed / marker).exists() and proc.poll() is None:
            time.sleep(0.05)
        proc.kill()
        proc.wait()
    assert run_script(killed, tests_dir).wait() == 0
    a, b = final_state(clean), final_state(killed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert (killed / "real_synth-n20-seed0" / "result.json").exists()
    assert not list(killed.rglob("*.tmp")), "no temp file left by the kills"


def test_a_held_cell_or_stage_1_raises_instead_of_waiting(tmp_path):
    import pytest
    from test_train import fake_store

    from mlib.atomic import LockHeld
    from mlib.cells import train_cell
    from mlib.data.datasets import Splits
    from mlib.experiment import cell_dir
    from mlib.presets import model_config, train_config
    from mlib.train import Run

    store, mcfg = fake_store(), model_config("ci")
    cfg = train_config("ci", "full", stage1_iters=2, stage2_iters=2, log_every=1, eval_every=0, ckpt_every=2)

    def cell(variant):
        run = Run(variant, 20, cfg, mcfg, cell_dir(tmp_path, variant, 20, 0))
        return train_cell(run, Splits(store, None, store), torch.device("cpu"), tmp_path / "stage1-seed0", False, wait=False)

    with folder_lock(tmp_path / "stage1-seed0", "test"):
        with pytest.raises(LockHeld, match="stage 1 of seed 0"):
            cell("full")
    with folder_lock(cell_dir(tmp_path, "real_only", 20, 0), "test"):
        with pytest.raises(LockHeld, match="real_only-n20-seed0"):
            cell("real_only")
    assert not (cell_dir(tmp_path, "full", 20, 0) / "result.json").exists()


def test_a_shared_grid_worker_skips_held_cells_and_returns_the_whole_grid(tmp_path, monkeypatch):
    from mlib.atomic import LockHeld
    from mlib.experiment import Experiment
    from mlib.presets import train_config

    held = {("full", 10, 0): 2, ("real_only", 10, 1): 1}  # held by another worker for this many tries
    calls = []

    def cell(self, variant, n, wait=True):
        key = (variant, n, self.cfg.seed)
        calls.append(key)
        assert wait is False
        if held.get(key, 0) > 0:
            held[key] -= 1
            raise LockHeld(f"{key} is held")
        return key

    monkeypatch.setattr(Experiment, "cell", cell)
    exp = Experiment("ci", tmp_path, train_config("ci"), None, None, torch.device("cpu"), progress=False)
    got = exp.grid(["real_only", "full"], [10], [0, 1], shared=True, poll_s=0.0)
    assert got == [("real_only", 10, 0), ("full", 10, 0), ("real_only", 10, 1), ("full", 10, 1)]
    # the held cell was passed over for the next free one, then taken once it came free
    assert calls[:3] == [("real_only", 10, 0), ("full", 10, 0), ("real_only", 10, 1)]
    assert calls.count(("full", 10, 0)) == 3 and len(set(calls)) == 4


def test_a_cell_listed_twice_is_trained_once_and_returned_twice(tmp_path, monkeypatch):
    from mlib.experiment import Experiment
    from mlib.presets import train_config

    calls = []
    monkeypatch.setattr(Experiment, "cell", lambda self, v, n, wait=True: calls.append((v, n)) or (v, n))
    exp = Experiment("ci", tmp_path, train_config("ci"), None, None, torch.device("cpu"), progress=False)
    for shared in (False, True):
        calls.clear()
        assert exp.grid(["real_only"], [100, 100], [0], shared=shared, poll_s=0.0) == [("real_only", 100)] * 2
        assert calls == [("real_only", 100)]


def test_loss_weights_and_model_settings_given_on_the_command_line_reach_the_configs(monkeypatch):
    import argparse

    from mlib.experiment import Experiment, add_experiment_arguments, open_from_args
    from mlib.losses import LossWeights

    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="ci")
    add_experiment_arguments(ap)
    seen = {}
    monkeypatch.setattr(Experiment, "open", classmethod(lambda cls, *a, **kw: seen.update(kw)))
    open_from_args(ap.parse_args(["--lambda-g", "1e-3"]), "/tmp/x")
    assert seen["weights"] == LossWeights(lambda_g=1e-3)  # the others stay the preset's
    open_from_args(ap.parse_args([]), "/tmp/x")
    assert seen["weights"] == LossWeights() and seen["model_overrides"] is None
    assert seen["scratch_iters"] is None  # None: the preset's budget
    open_from_args(ap.parse_args(["--scratch-iters", "11000"]), "/tmp/x")
    assert seen["scratch_iters"] == 11000
    open_from_args(ap.parse_args(["--model-setting", "stage_channels=[8,16,16,16]", "blocks_per_stage=2"]), "/tmp/x")
    assert seen["model_overrides"] == {"stage_channels": (8, 16, 16, 16), "blocks_per_stage": 2}
    with pytest.raises(SystemExit, match="not JSON"):
        open_from_args(ap.parse_args(["--model-setting", "stage_channels=wide"]), "/tmp/x")


def test_a_stopped_launcher_stops_its_workers(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    worker = tmp_path / "stand_in_worker.py"  # a grid worker's stand-in: says who it is, then waits to be stopped
    worker.write_text(
        "import os, sys, time\n"
        "open(os.path.join(sys.argv[1], f'pid-{os.getpid()}'), 'w').close()\n"
        "time.sleep(120)\n"
    )
    launcher = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from benchmarks.lab.workers import launch_workers; "
            f"launch_workers('stand_in_worker', [{str(tmp_path)!r}], 2, Path({str(tmp_path)!r}), "
            f"[Path({str(tmp_path / 'cell' / 'result.json')!r})])",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},  # the workers run it as `python -m stand_in_worker`
    )
    deadline = time.time() + 60
    while len(list(tmp_path.glob("pid-*"))) < 2 and time.time() < deadline:
        time.sleep(0.2)
    pids = [int(p.name.split("-")[1]) for p in tmp_path.glob("pid-*")]
    assert len(pids) == 2, "the workers did not start"
    launcher.send_signal(signal.SIGTERM)
    launcher.wait(timeout=30)

    def alive(pid: int) -> bool:  # a zombie (exited, not yet reaped by its orphaned parent) counts as gone
        try:
            return open(f"/proc/{pid}/stat").read().split()[2] != "Z"
        except FileNotFoundError:
            return False

    deadline = time.time() + 10
    while any(alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in pids), "a worker outlived its launcher"
