"""Local sweeps on the shared engine: Parquet parts, rows, seeds, series, resume refusals."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from dealersim.cli import main
from dealersim.model.kpis import SUMMARY_KEYS
from dealersim.model.params import field_specs
from dealersim.model.results import package_version, simulate
from dealersim.studies.engine import seed_for
from dealersim.studies.sweeps import (
    load_sweep_spec,
    parse_spec_text,
    read_runs,
    read_series,
    run_sweep,
)

SPEC = """
name = "tiny"
strategy = "overlay"
sampler = "grid"
replicates = 3
seed = 11
[fixed]
years = 0.25
[factors]
wall_initial = {low = 0.1, high = 0.5, levels = 2}
credit_policy = ["none", "double"]
"""


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    res = run_sweep(parse_spec_text(SPEC), out, workers=1, per_task=2)
    return out, res


def test_serial_sweep_writes_parts_rows_and_manifest(serial):
    out, res = serial
    assert (res.total, res.ran, res.skipped, res.tasks) == (12, 12, 0, 6)
    parts = list((out / "runs").glob("part-*.parquet"))
    assert len(parts) == 6
    assert not list((out / "runs").glob(".tmp-*"))
    rows = read_runs(out)
    assert len(rows) == 12 and rows.run_id.is_unique
    for col in ("run_id", "point", "replicate", "seed", "version", "strategy", *SUMMARY_KEYS):
        assert col in rows.columns
    for f in field_specs():  # every parameter, not only the factors
        assert f.name in rows.columns
    assert set(rows.version) == {package_version()}
    assert (rows.years == 0.25).all()
    assert [seed_for(11, p, r) for p, r in zip(rows.point, rows.replicate, strict=True)] == list(
        rows.seed)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runs"] == 12 and manifest["complete"] is True
    assert (out / "spec.toml").read_text().strip() != ""


def test_a_row_reproduces_simulate(serial):
    out, _ = serial
    row = read_runs(out).iloc[7]
    res = simulate("overlay", seed=int(row.seed), years=0.25, wall_initial=float(row.wall_initial),
                   credit_policy=row.credit_policy)
    for k, v in res.summary.items():
        got = row[k]
        if v is None:
            assert pd.isna(got), k
        else:
            assert got == pytest.approx(v), k


def test_pool_rows_equal_serial_rows(serial, tmp_path):
    out, _ = serial
    res = run_sweep(parse_spec_text(SPEC), tmp_path, workers=2)
    assert res.ran == 12
    pd.testing.assert_frame_equal(read_runs(tmp_path), read_runs(out))


def test_series_kept_at_a_stride(tmp_path):
    text = SPEC.replace("replicates = 3", "replicates = 1") + "[outputs]\nseries_stride = 30\n"
    run_sweep(parse_spec_text(text), tmp_path, workers=1, per_task=3)
    series = read_series(tmp_path)
    assert set(series.run_id) == set(read_runs(tmp_path).run_id)
    assert len(series) > 4 * 2  # several days per run
    assert set(p.name for p in (tmp_path / "series").glob("part-*")) == set(
        p.name for p in (tmp_path / "runs").glob("part-*"))


def test_cli_refuses_to_overwrite_and_to_resume_another_spec(serial, tmp_path, capsys):
    out, _ = serial
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    assert main(["sweep", str(spec), "--out", str(out)]) == 2
    assert "--resume" in capsys.readouterr().err
    spec.write_text(SPEC.replace("seed = 11", "seed = 12"))
    assert main(["sweep", str(spec), "--out", str(out), "--resume"]) == 2
    assert "spec differs" in capsys.readouterr().err
    spec.write_text(SPEC)
    before = sorted(p.name for p in (out / "runs").iterdir())
    assert main(["sweep", str(spec), "--out", str(out), "--resume"]) == 0
    assert "0 runs done, 12 already on disk" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "runs").iterdir()) == before


def test_cli_sweep_end_to_end(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--workers", "1"]) == 0
    assert "12 runs done" in capsys.readouterr().out
    assert (tmp_path / "o" / "spec.toml").read_text() == SPEC
    assert len(read_runs(tmp_path / "o")) == 12


def test_reserialised_spec_keeps_the_factor_order(serial):
    out, _ = serial
    original = parse_spec_text(SPEC)
    reloaded = load_sweep_spec(out)
    assert reloaded.factor_names == original.factor_names
    assert reloaded.fingerprint() == original.fingerprint()
