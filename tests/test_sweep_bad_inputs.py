"""Bad inputs of ``sweep`` and ``analyze``: one line, exit 2, nothing on disk, no allocation.

One test per class of issue 8's table: binary and non-regular spec files, foreign Parquet parts
and binary specs under ``analyze``, oversized designs under ``--dry-run``, ``$`` in a name,
sobol sizes that are not powers of 2, ``--workers`` above the cap, and seeds outside
0..2**63 - 1. (A disk turning read-only mid-sweep is in test_sweep_faults.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dealersim.base.procs import worker_cap
from dealersim.cli import main
from dealersim.studies.sweeps import MAX_RUNS, SEED_MAX, parse_spec_text, run_sweep

GOOD = """
name = "bad"
strategy = "overlay"
sampler = "grid"
replicates = 2
seed = 5
[fixed]
years = 0.25
[factors]
wall_initial = {low = 0.1, high = 0.5, levels = 2}
credit_policy = ["none", "double"]
"""
DEALERSIM = str(Path(sys.executable).parent / "dealersim")


def _refused(capsys, argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("dealersim: error: "), err
    return err


def _sweep_refused(tmp_path, capsys, spec: Path, *extra: str) -> str:
    out = tmp_path / "out"
    err = _refused(capsys, ["sweep", str(spec), "--out", str(out), *extra])
    assert not out.exists(), "something was written before the refusal"
    return err


def _spec(tmp_path, text: str) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return path


def test_binary_spec_file(tmp_path, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" * 50)
    err = _sweep_refused(tmp_path, capsys, spec)
    assert "not UTF-8 text" in err and str(spec) in err


@pytest.mark.slow
def test_spec_that_is_a_fifo_a_device_or_a_directory(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "a named pipe"), (Path("/dev/zero"), "a character device"),
                       (tmp_path, "a directory")):
        t = time.monotonic()
        proc = subprocess.run([DEALERSIM, "sweep", str(path), "--out", str(tmp_path / "o")],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and f"is {kind}" in proc.stderr, proc.stderr
        assert time.monotonic() - t < 100  # refused, not read
    assert not (tmp_path / "o").exists()


def test_oversized_spec_file(tmp_path, capsys):
    spec = _spec(tmp_path, GOOD + "#" * (2 << 20))
    assert "larger than 1,048,576 bytes" in _sweep_refused(tmp_path, capsys, spec)


def _finished_sweep(tmp_path) -> Path:
    out = tmp_path / "sweep"
    run_sweep(parse_spec_text(GOOD), out, workers=1)
    return out


def test_analyze_on_a_foreign_parquet_file_or_part(tmp_path, capsys):
    foreign = pa.table({"x": [1, 2, 3]})
    lone = tmp_path / "data.parquet"
    pq.write_table(foreign, lone)
    assert "is not a directory" in _refused(capsys, ["analyze", str(lone)])
    out = _finished_sweep(tmp_path)
    stray = out / "runs" / "part-foreign.parquet"
    pq.write_table(foreign, stray)
    err = _refused(capsys, ["analyze", str(out)])
    assert str(stray) in err and "not a dealersim sweep part" in err
    stray.write_bytes(b"PAR1 but not really")
    assert "not a Parquet file" in _refused(capsys, ["analyze", str(out)])
    assert not (out / "analysis").exists()


def test_analyze_with_a_binary_spec(tmp_path, capsys):
    out = _finished_sweep(tmp_path)
    (out / "spec.toml").write_bytes(b"\x00\x01\x02\xff" * 100)
    assert "not UTF-8 text" in _refused(capsys, ["analyze", str(out)])
    assert not (out / "analysis").exists()


def test_analyze_refuses_duplicates_and_incomplete_sweeps(tmp_path, capsys):
    out = _finished_sweep(tmp_path)
    part = sorted((out / "runs").glob("part-*.parquet"))[0]
    n = pq.ParquetFile(part).metadata.num_rows
    copy = out / "runs" / "part-copy.parquet"
    copy.write_bytes(part.read_bytes())
    assert f"{n} run ids appear more than once" in _refused(capsys, ["analyze", str(out)])
    copy.unlink()
    part.unlink()
    assert f"sweep incomplete: {8 - n} of 8 runs" in _refused(capsys, ["analyze", str(out)])


@pytest.mark.parametrize(("change", "needle"), [
    ("wall_initial = {low = 0.1, high = 0.5, levels = 2}\n"
     "manager_leadership = {low = 0.0, high = 1.0, levels = 2000}\n"
     "specialist_skill = {low = 0.5, high = 1.5, levels = 2000}\n"
     "launch_surprise = {low = 0.0, high = 0.5, levels = 2000}",
     f"above the cap of {MAX_RUNS:,} runs"),
    ("samples = 1e11", "samples: 100000000000.0 is not allowed"),
    ("samples = 100000000000", f"expected an integer from 1 to {MAX_RUNS:,}"),
    ("replicates = 100000000000", f"expected an integer from 1 to {MAX_RUNS:,}"),
])
def test_oversized_designs_are_refused_before_allocating(tmp_path, capsys, change, needle):
    text = GOOD.replace("replicates = 2\n", "") if "replicates" in change else GOOD
    text = text.replace("wall_initial = {low = 0.1, high = 0.5, levels = 2}", change) if (
        "levels = 2000" in change) else text.replace("[fixed]", change + "\n[fixed]")
    spec = _spec(tmp_path, text)
    tracemalloc.start()
    try:
        err = _sweep_refused(tmp_path, capsys, spec, "--dry-run")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert needle in err, err
    assert peak < 20e6, f"{peak / 1e6:.0f} MB allocated before the refusal"


def test_dry_run_of_a_good_spec_prints_the_size_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(_spec(tmp_path, GOOD)), "--out", str(out), "--dry-run"]) == 0
    assert "4 points x 2 replicates = 8 runs" in capsys.readouterr().out
    assert not out.exists()


def test_name_with_a_dollar_sign(tmp_path, capsys):
    spec = _spec(tmp_path, GOOD.replace('name = "bad"', 'name = "cost $x$ study"'))
    err = _sweep_refused(tmp_path, capsys, spec)
    assert "name: 'cost $x$ study' is not allowed" in err


def test_sobol_samples_must_be_a_power_of_two(tmp_path, capsys):
    text = GOOD.replace('sampler = "grid"', 'sampler = "sobol"\nsamples = 3').replace(
        ", levels = 2}", "}")
    err = _sweep_refused(tmp_path, capsys, _spec(tmp_path, text))
    assert "samples: sobol needs a power of 2" in err and "2 or 4" in err
    spec = parse_spec_text(text.replace("samples = 3", "samples = 4"))
    assert spec.n_points == 4 * (2 + 2)


def test_workers_above_the_cap(tmp_path, capsys):
    spec = _spec(tmp_path, GOOD)
    err = _sweep_refused(tmp_path, capsys, spec, "--workers", "100000")
    assert f"--workers: '100000' is too large; expected an integer in [1, {worker_cap()}]" in err
    assert "cap" in err
    with pytest.raises(ValueError, match="workers: 100000 is not allowed"):
        run_sweep(parse_spec_text(GOOD), tmp_path / "api", workers=100_000)
    assert not (tmp_path / "api").exists()


@pytest.mark.parametrize("seed", ["-1", str(SEED_MAX + 1), "1" * 32, '"12"', "1.5"])
def test_seeds_outside_the_one_range(tmp_path, capsys, seed):
    spec = _spec(tmp_path, GOOD.replace("seed = 5", f"seed = {seed}"))
    err = _sweep_refused(tmp_path, capsys, spec)
    assert f"seed: {seed.strip(chr(34))}" in err.replace(",", "").replace("'", "")
    assert f"from 0 to {SEED_MAX:,}" in err


def test_the_largest_seed_is_accepted(tmp_path, capsys):
    spec = _spec(tmp_path, GOOD.replace("seed = 5", f"seed = {SEED_MAX}"))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--dry-run"]) == 0
