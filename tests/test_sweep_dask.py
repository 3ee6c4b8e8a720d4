"""Sweeps on a real Dask cluster (a scheduler and two workers on 127.0.0.1).

The rows equal a local run; a worker killed mid-sweep, or the driver killed and resumed at once,
leaves every run exactly once; an unreachable scheduler writes nothing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dask
import pandas as pd
import pyarrow.parquet as pq
import pytest
from distributed import Client
from sweep_watch import rows_on_disk

from dealersim.cli import main
from dealersim.studies.sweeps import parse_spec_text, read_runs, run_sweep

pytestmark = pytest.mark.dask

SPEC = """
name = "dask"
strategy = "overlay"
sampler = "grid"
replicates = 4
seed = 7
[fixed]
years = 0.25
[factors]
wall_initial = {low = 0.0, high = 0.6, levels = 3}
credit_policy = ["none", "double", "team"]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:  # each was started in its own session: signal its whole group
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


cluster_procs: list[subprocess.Popen] = []
"""The processes of the running ``cluster`` fixture: the scheduler, then the workers."""
DEALERSIM = str(Path(sys.executable).parent / "dealersim")
FAULT_SPEC = SPEC.replace("levels = 3}", "levels = 5}").replace(
    'credit_policy = ["none", "double", "team"]',
    'credit_policy = ["none", "split", "double", "team"]').replace("replicates = 4",
                                                                   "replicates = 10")
"""200 runs (20 points x 10 replicates)."""


@pytest.fixture
def cluster(tmp_path):
    cluster_procs.clear()
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    common = dict(cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                  start_new_session=True)
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                               "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              **common)]
    try:
        for i in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                 "--no-dashboard", "--no-nanny", "--host", "127.0.0.1", "--name", f"w{i}",
                 "--local-directory", str(tmp_path / f"w{i}")], **common))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
            assert len(client.scheduler_info()["workers"]) == 2
        cluster_procs.extend(procs)
        yield address
    finally:
        _stop(procs[::-1])
    assert all(p.poll() is not None for p in procs)


def test_dask_rows_identical_to_local_pool(cluster, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    out = tmp_path / "dask"
    proc = subprocess.run([str(Path(sys.executable).parent / "dealersim"), "sweep", str(spec),
                           "--out", str(out), "--scheduler", cluster],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "36 runs done" in proc.stdout
    local = tmp_path / "local"
    run_sweep(parse_spec_text(SPEC), local, workers=2)
    dask_rows, local_rows = read_runs(out), read_runs(local)
    assert len(dask_rows) == 36 and dask_rows.run_id.is_unique
    pd.testing.assert_frame_equal(dask_rows, local_rows)  # no column excluded


def _wait_rows(proc: subprocess.Popen, out: Path, rows: int) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None and rows_on_disk(out) < rows:
        time.sleep(0.01)
    assert proc.poll() is None and rows_on_disk(out) >= rows, proc.poll()


def _duplicates(out: Path) -> int:
    ids = [i for p in (out / "runs").glob("part-*.parquet")
           for i in pq.read_table(p, columns=["run_id"]).column(0).to_pylist()]
    return len(ids) - len(set(ids))


def test_a_worker_killed_mid_sweep_leaves_every_run_once(cluster, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(FAULT_SPEC)
    out = tmp_path / "out"
    proc = subprocess.Popen([DEALERSIM, "sweep", str(spec), "--out", str(out), "--scheduler",
                             cluster, "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        _wait_rows(proc, out, 20)
        victim = cluster_procs[1]
        os.killpg(victim.pid, signal.SIGKILL)  # a worker dies with its task in flight
        victim.wait(timeout=30)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    rows = read_runs(out)
    print(f"FAULT dask worker killed: rows={len(rows)}, duplicates={_duplicates(out)}")
    assert proc.returncode == 0, err
    assert len(rows) == 200 and rows.run_id.is_unique and _duplicates(out) == 0


def test_driver_killed_on_dask_then_resumed_at_once(cluster, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(FAULT_SPEC)
    out = tmp_path / "out"
    proc = subprocess.Popen([DEALERSIM, "sweep", str(spec), "--out", str(out), "--scheduler",
                             cluster, "--quiet"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_rows(proc, out, 60)
        os.kill(proc.pid, signal.SIGKILL)  # tasks already on the workers may still land late
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    at_kill = rows_on_disk(out)
    resumed = subprocess.run([DEALERSIM, "sweep", str(spec), "--out", str(out), "--resume",
                              "--scheduler", cluster, "--quiet"],
                             capture_output=True, text=True, timeout=300)
    time.sleep(3)  # let any task of the killed driver still running on a worker land
    rows = read_runs(out)
    print(f"FAULT dask driver killed + resume: rows_at_kill={at_kill}, rows={len(rows)}, "
          f"duplicates={_duplicates(out)}")
    assert resumed.returncode == 0, resumed.stderr
    assert 0 < at_kill < 200
    assert len(rows) == 200 and rows.run_id.is_unique and _duplicates(out) == 0


def test_unreachable_scheduler_writes_nothing_and_a_rerun_is_not_refused(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    out = tmp_path / "deep" / "o"
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        code = main(["sweep", str(spec), "--out", str(out), "--scheduler",
                     f"tcp://127.0.0.1:{_free_port()}"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.strip().count("\n") == 0 and "--scheduler: cannot reach" in err
    assert not (tmp_path / "deep").exists(), "something was written before connecting"
    assert main(["sweep", str(spec), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert "36 runs done" in capsys.readouterr().out
