"""A sweep on a real Dask cluster (a scheduler and two workers on 127.0.0.1) gives the same rows."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from dealersim.studies.sweep import parse_spec_text, read_runs, run_sweep

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


@pytest.fixture
def cluster(tmp_path):
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
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
            assert len(client.scheduler_info()["workers"]) == 2
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


def test_unreachable_scheduler_is_reported(tmp_path, capsys):
    import dask

    from dealersim.cli import main

    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        code = main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--scheduler",
                     f"tcp://127.0.0.1:{_free_port()}"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.strip().count("\n") == 0 and "--scheduler" in err
