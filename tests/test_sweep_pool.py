"""Sweep workers are forked from the driver, and nothing outlives a killed driver.

A real ``dealersim sweep --workers 2`` with its progress bar on (stderr is a pipe; the bar is
asked for) runs in a subprocess. While it runs, every descendant is recorded with psutil:
each must be a child of the driver itself (forked, no fork server in between) and none may be
a fork server or a resource tracker. Then the driver is killed with SIGKILL, and within 5 s no
descendant may remain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

SPEC = """
name = "pool"
strategy = "overlay"
sampler = "grid"
replicates = 20
seed = 3
[fixed]
years = 0.5
[factors]
wall_initial = {low = 0.0, high = 0.6, levels = 5}
credit_policy = ["none", "split", "double", "team"]
"""
WAIT = 240


@pytest.mark.slow
def test_sweep_workers_forked_from_the_driver_and_gone_after_kill_9(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "dealersim", "sweep", str(spec), "--out",
                             str(out), "--workers", "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: dict[int, psutil.Process] = {}
    try:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                for child in psutil.Process(proc.pid).children(recursive=True):
                    seen.setdefault(child.pid, child)
            except psutil.Error:
                pass
            if len(seen) >= 2 and any((out / "runs").glob("part-*.parquet")):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the sweep ended before the test could look at it"
        assert len(seen) >= 2, "no pool workers seen"
        details = []
        for p in seen.values():
            try:
                details.append((p.pid, p.ppid(), " ".join(p.cmdline())))
            except psutil.Error:
                pass
        assert all(ppid == proc.pid for _, ppid, _ in details), details
        assert not any("forkserver" in c or "resource_tracker" in c for *_, c in details), \
            details
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        start = time.monotonic()
        _, alive = psutil.wait_procs(list(seen.values()), timeout=5)
        print(f"workers: {len(seen)}, left 5 s after kill -9: {len(alive)} "
              f"(gone in {time.monotonic() - start:.2f} s)")
        assert alive == []
    finally:
        if proc.poll() is None:
            proc.kill()
        for p in seen.values():
            try:
                p.kill()
            except psutil.Error:
                pass


POOL_CHECK = """
import os, threading
from tqdm.auto import tqdm
from dealersim.studies.engine import execute, local_executor, run_task

assert threading.active_count() == 1, "the test process must run one thread"
results = execute([], tasks=[[]], workers=2, progress=False, task_fn=run_task)
try:
    pool = results._pool
    assert pool is not None and pool._mp_context.get_start_method() == "fork"
    with tqdm(total=1, disable=False, file=open(os.devnull, "w")) as bar:
        bar.update(1)
        monitors = [t for t in threading.enumerate() if type(t).__name__ == "TMonitor"]
        assert monitors == [], "tqdm started its monitor thread"
finally:
    results.close()
pool = local_executor(1)
try:
    assert pool._mp_context.get_start_method() == "fork"
finally:
    pool.shutdown()
print("ok")
"""


def test_the_pool_starts_when_execute_is_called_before_any_bar():
    """execute() forks its pool at once (a caller's bar made afterwards cannot push it onto
    the fork server), and no bar starts tqdm's monitor thread.

    Run in a fresh interpreter: the test process has threads left by earlier tests (Dask,
    the dashboard), and a process with threads rightly does not fork its pool.
    """
    done = subprocess.run([sys.executable, "-c", POOL_CHECK], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
