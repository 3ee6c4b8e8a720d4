"""SIGKILL a sweep midway, resume it, and get exactly the rows of an uninterrupted sweep."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from dealersim.cli import main
from dealersim.studies.sweeps import SpecError, parse_spec_text, read_runs, read_series, run_sweep

pytestmark = pytest.mark.slow

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
    partial = read_runs(out, complete=False)
    assert 0 < len(partial) < 120, "the kill did not land midway"
    with pytest.raises(SpecError, match=f"sweep incomplete: {len(partial)} of 120 runs"):
        read_runs(out)
    # leftovers of a writer killed mid-write must be ignored and cleaned up
    (out / "runs" / ".part-p0000099-r0000-0123456789ab.parquet.x1y2.tmp").write_bytes(b"PAR1")
    (out / "runs" / ".tmp-part-p0000099-r0000-deadbeef.parquet-1").write_bytes(b"PAR1 half")

    resumed = subprocess.run([DEALERSIM, "sweep", str(spec), "--out", str(out), "--resume",
                              "--workers", "2"], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(partial)} already on disk" in resumed.stdout
    assert not list((out / "runs").glob(".*tmp*"))

    rows = read_runs(out)
    assert len(rows) == 120 and rows.run_id.is_unique
    fresh = tmp_path / "fresh"
    run_sweep(parse_spec_text(SPEC), fresh, workers=2)
    pd.testing.assert_frame_equal(rows, read_runs(fresh))
    # rows written before the kill are untouched by the resume
    pd.testing.assert_frame_equal(
        partial, rows[rows.run_id.isin(partial.run_id)].reset_index(drop=True))


def _legacy_copy(src, dst, chunk: int, duplicate: int) -> int:
    """``src`` as an older dealersim left it: random part names, other bundles, a part twice."""
    shutil.copytree(src, dst)
    for d in ("runs", "series"):
        shutil.rmtree(dst / d)
        (dst / d).mkdir()
    runs = pq.read_table(src / "runs").sort_by("run_id")
    series = pq.read_table(src / "series")
    names = []
    for i in range(0, runs.num_rows, chunk):
        part = runs.slice(i, chunk)
        name = f"part-{part.column('run_id')[0]}-{uuid.uuid4().hex[:8]}.parquet"
        pq.write_table(part, dst / "runs" / name)
        mask = [r in set(part.column("run_id").to_pylist())
                for r in series.column("run_id").to_pylist()]
        pq.write_table(series.filter(mask), dst / "series" / name)
        names.append(name)
    for name in names[:duplicate]:  # a worker of a killed driver that finished its task late
        for d in ("runs", "series"):
            (dst / d / name.replace(".parquet", "-late.parquet")).write_bytes(
                (dst / d / name).read_bytes())
    doc = json.loads((dst / "manifest.json").read_text())
    del doc["per_task"]
    doc["complete"] = True  # what older versions wrote despite the duplicates
    (dst / "manifest.json").write_text(json.dumps(doc))
    return sum(pq.ParquetFile(dst / "runs" / n).metadata.num_rows for n in names[:duplicate])


def test_resume_repairs_duplicates_left_by_an_older_version(tmp_path, capsys):
    text = SPEC.replace("samples = 40", "samples = 8") + "[outputs]\nseries_stride = 30\n"
    (tmp_path / "spec.toml").write_text(text)
    good = tmp_path / "good"
    run_sweep(parse_spec_text(text), good, workers=1, per_task=4)
    old = tmp_path / "old"
    dups = _legacy_copy(good, old, chunk=5, duplicate=2)
    assert dups == 10
    with pytest.raises(SpecError, match="10 run ids appear more than once; .* to repair"):
        read_runs(old)
    assert main(["sweep", str(tmp_path / "spec.toml"), "--out", str(old), "--resume",
                 "--workers", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "10 duplicate rows dropped" in out
    pd.testing.assert_frame_equal(read_runs(old), read_runs(good))
    key = ["run_id", "day"]
    pd.testing.assert_frame_equal(
        read_series(old).sort_values(key).reset_index(drop=True),
        read_series(good).sort_values(key).reset_index(drop=True))
    assert not any("-late" in p.name for p in (old / "runs").iterdir())
