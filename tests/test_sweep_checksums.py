"""Sweep parts prove themselves: a changed byte is refused like a truncated part.

Every part (runs and series) is written with Parquet page checksums and its SHA-256 in
``part-X.parquet.sha256``; both are verified on every read, so :func:`read_runs`,
:func:`read_series` and a ``--resume`` refuse a damaged part in one line instead of returning
changed values.

The flip test: a finished 8-run sweep (4 points x 2 replicates, 0.25-year runs, with daily
series), then 60 single-byte flips at positions drawn with ``numpy.random.default_rng(2026)``
over every part file, one flip at a time (restored after each). Each flip must either be
refused with a one-line ``SpecError`` naming the part, or leave every value identical to the
undamaged sweep. Tolerance: none (exact equality of the DataFrames).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from dealersim.studies.sweeps import SpecError, parse_spec_text, read_runs, run_sweep
from dealersim.studies.sweeps.store import checksum_path, read_series

SPEC = """
name = "flips"
strategy = "overlay"
sampler = "grid"
replicates = 2
seed = 5
[fixed]
years = 0.25
[factors]
wall_initial = {low = 0.1, high = 0.5, levels = 2}
credit_policy = ["none", "double"]
[outputs]
series_stride = 30
"""
FLIPS = 60
SEED = 2026


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("flips") / "sweep"
    run_sweep(parse_spec_text(SPEC), out, workers=1, progress=False)
    return out


def parts(out: Path) -> list[Path]:
    return sorted([*out.glob("runs/part-*.parquet"), *out.glob("series/part-*.parquet")])


def test_every_part_has_its_checksum(sweep):
    found = parts(sweep)
    assert any(p.parent.name == "series" for p in found), "the spec keeps series"
    assert found and all(checksum_path(p).is_file() for p in found)
    import pyarrow.parquet as pq  # the folder still reads as one Parquet dataset

    assert pq.read_table(sweep / "runs").num_rows == 8


def test_60_flipped_bytes_none_changes_a_value_silently(sweep, tmp_path):
    out = tmp_path / "sweep"
    shutil.copytree(sweep, out)
    runs, series = read_runs(out), read_series(out)
    files = parts(out)
    sizes = np.array([p.stat().st_size for p in files])
    rng = np.random.default_rng(SEED)
    refused = identical = 0
    changed: list[str] = []
    for _ in range(FLIPS):
        k = int(rng.choice(len(files), p=sizes / sizes.sum()))  # by bytes: every byte alike
        offset = int(rng.integers(sizes[k]))
        bit = 1 << int(rng.integers(8))
        original = files[k].read_bytes()
        damaged = bytearray(original)
        damaged[offset] ^= bit
        files[k].write_bytes(bytes(damaged))
        try:
            try:
                after_runs, after_series = read_runs(out), read_series(out)
            except SpecError as exc:
                message = str(exc)
                assert "\n" not in message and files[k].name in message, message
                refused += 1
                continue
            same = after_runs.equals(runs) and after_series.equals(series)
            identical += same
            if not same:
                changed.append(f"{files[k].name}@{offset}")
        finally:
            files[k].write_bytes(original)
    print(f"flips: {FLIPS}, refused {refused}, values identical {identical}, "
          f"changed silently {len(changed)}")
    assert changed == [], f"values changed without an error: {changed}"
    assert refused + identical == FLIPS


def test_a_flipped_byte_is_refused_on_resume(sweep, tmp_path):
    from dealersim.cli import main

    out = tmp_path / "sweep"
    shutil.copytree(sweep, out)
    part = parts(out)[0]
    data = bytearray(part.read_bytes())
    data[len(data) // 2] ^= 0x10
    part.write_bytes(bytes(data))
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    assert main(["sweep", str(spec), "--out", str(out), "--resume", "--workers", "1",
                 "--quiet"]) == 2
    with pytest.raises(SpecError, match="damaged"):
        read_runs(out)


def test_page_checksums_are_written(sweep):
    import pyarrow.parquet as pq

    part = parts(sweep)[0]
    data = bytearray(part.read_bytes())
    chunk = pq.ParquetFile(part).metadata.row_group(0).column(0)
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    data[start + chunk.total_compressed_size - 1] ^= 0xFF  # the last byte of a page's data
    damaged = part.with_name("damaged.parquet")
    damaged.write_bytes(bytes(data))
    with pytest.raises(OSError, match="(?i)crc|checksum|corrupt"):
        pq.ParquetFile(damaged, page_checksum_verification=True).read()
