"""A tiny calibration on a real Dask cluster (a scheduler and two workers on 127.0.0.1).

The seeded sampler makes the posterior independent of the executor: the Dask run's
``posterior.parquet`` equals the local engine's byte for byte.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_calibrate import DEALERSIM, TINY
from test_sweep_dask import cluster  # noqa: F401  (the fixture: scheduler + 2 workers)

from dealersim.studies.calibrate import parse_spec, run_calibration

pytestmark = pytest.mark.dask


def test_dask_calibration_equals_the_local_one(cluster, tmp_path):  # noqa: F811
    spec = tmp_path / "spec.toml"
    spec.write_text(TINY)
    out = tmp_path / "dask"
    proc = subprocess.run([DEALERSIM, "calibrate", str(spec), "--out", str(out), "--scheduler",
                           cluster, "--quiet"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Posterior predictive check" in proc.stdout
    local = tmp_path / "local"
    run_calibration(parse_spec(TINY), local, spec_text=TINY, workers=1)
    assert (out / "posterior.parquet").read_bytes() == \
        (local / "posterior.parquet").read_bytes()
    assert Path(out, "predictive_check.png").stat().st_size > 0


def test_an_unreachable_scheduler_writes_nothing(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(TINY)
    proc = subprocess.run([DEALERSIM, "calibrate", str(spec), "--out", str(tmp_path / "o"),
                           "--scheduler", "tcp://127.0.0.1:9"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and "--scheduler" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
