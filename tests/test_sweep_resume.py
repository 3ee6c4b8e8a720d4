"""SIGKILL a sweep midway, resume it, and get exactly the rows of an uninterrupted sweep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from dealersim.studies.sweep import parse_spec_text, read_runs, run_sweep

SPEC = """
name = "resume"
strategy = "overlay"
sampler = "lhs"
samples = 40
replicates = 3
seed = 99
[fixed]
years = 0.25
[factors]
wall_initial = {low = 0.0, high = 0.6}
manager_leadership = {low = 0.0, high = 1.0}
credit_policy = ["none", "split", "double", "team"]
"""
DEALERSIM = str(Path(sys.executable).parent / "dealersim")


def test_sigkill_then_resume_gives_every_run_exactly_once(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    out = tmp_path / "killed"
    proc = subprocess.Popen([DEALERSIM, "sweep", str(spec), "--out", str(out), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            parts = list((out / "runs").glob("part-*.parquet")) if (out / "runs").exists() else []
            if len(parts) >= 3 or proc.poll() is not None:
                break
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    partial = read_runs(out)
    assert 0 < len(partial) < 120, "the kill did not land midway"
    # leftovers of a writer killed mid-write must be ignored and cleaned up
    (out / "runs" / ".tmp-part-p0000099-r0000-deadbeef.parquet-1").write_bytes(b"PAR1 half")

    resumed = subprocess.run([DEALERSIM, "sweep", str(spec), "--out", str(out), "--resume",
                              "--workers", "2"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(partial)} already on disk" in resumed.stdout
    assert not list((out / "runs").glob(".tmp-*"))

    rows = read_runs(out)
    assert len(rows) == 120 and rows.run_id.is_unique
    fresh = tmp_path / "fresh"
    run_sweep(parse_spec_text(SPEC), fresh, workers=2)
    pd.testing.assert_frame_equal(rows, read_runs(fresh))
    # rows written before the kill are untouched by the resume
    pd.testing.assert_frame_equal(
        partial, rows[rows.run_id.isin(partial.run_id)].reset_index(drop=True))
