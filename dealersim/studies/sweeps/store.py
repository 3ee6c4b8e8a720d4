"""The sweep directory: Parquet parts, the writer's lock, the manifest, verified readers.

Layout::

    OUT/.lock            held (flock) by the live writer; records its pid, host and start time
    OUT/spec.toml        the spec as given
    OUT/manifest.json    design size, factors, fingerprint, version, runs per part, complete flag
    OUT/runs/part-<first run id>-<hash of the run ids>.parquet     one row per run
    OUT/series/<same name>                                           daily series (if kept)

A sweep cannot double-count:

* **One writer.** :class:`SweepLock` takes ``fcntl.flock`` on ``OUT/.lock`` before anything is
  written; a second writer (a second sweep or a ``--resume``) is refused in one line naming the
  holder. The kernel releases the lock when the holder dies, so a stale lock is taken over.
* **Deterministic parts.** The design's runs are cut into fixed bundles of ``per_task`` runs
  (stored in the manifest, reused by every resume), and a bundle's part is named by its run ids
  (:func:`part_name`) and written by atomic replace. A task that runs twice (a Dask retry, a
  worker of a killed driver finishing late) replaces its part with the same rows.
* **Verified readers.** :func:`read_runs` and :func:`read_series` check one row per run id,
  run ids inside the design and, unless asked not to, a complete sweep; otherwise they raise a
  one-line :class:`~dealersim.studies.sweeps.spec.SpecError`.
* **Repair.** :func:`repair` (run by every resume) rewrites parts left by older versions (random
  names, possibly duplicated rows) into the deterministic bundles, keeping one row per run id.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dealersim.base.io import atomic_file, write_text
from dealersim.base.procs import keep_from_workers
from dealersim.model.kpis import SUMMARY
from dealersim.model.params import field_specs
from dealersim.model.results import package_version
from dealersim.studies.engine import RunSpec
from dealersim.studies.sweeps.design import RUN_ID_RE
from dealersim.studies.sweeps.spec import SpecError, SweepSpec, load_spec

RUN_COLUMNS = ("run_id", "point", "replicate", "strategy", "seed", "version")
LOCK = ".lock"
MANIFEST = "manifest.json"
PART_GLOB = "part-*.parquet"
TEMP_GLOBS = (".part-*.tmp", ".tmp-*")
"""Temporary files of a writer that died mid-write (now and in older versions)."""
CHECKSUM_SUFFIX = ".sha256"
CHECKSUM_DIR = "_sha256"
"""Each part ``runs/part-X.parquet`` has its SHA-256 in ``runs/_sha256/part-X.parquet.sha256``
(hex, one line), written before the part lands; a part whose bytes no longer match is refused
on every read. (Parquet readers skip folders starting with ``_``, so ``pq.read_table("runs")``
still reads the parts.)"""
_PARAM_TYPES = {"float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(),
                "choice": pa.string()}


class SweepBusy(SpecError):
    """Another live process holds the sweep directory's lock."""


def arrow_schema() -> pa.Schema:
    """The Parquet schema of a run row: run columns, every ``Params`` field, every KPI.

    KPI column types come from the KPI registry (:attr:`dealersim.model.kpis.KPI.arrow_type`).
    """
    cols = [
        ("run_id", pa.string()), ("point", pa.int64()), ("replicate", pa.int64()),
        ("strategy", pa.string()), ("seed", pa.int64()), ("version", pa.string()),
    ]
    cols += [(s.name, _PARAM_TYPES[s.kind]) for s in field_specs()]
    cols += [(k.name, pa.type_for_alias(k.arrow_type)) for k in SUMMARY]
    return pa.schema(cols)


# ====================================================================== the lock
class SweepLock:
    """The writer's lock on a sweep directory (``fcntl.flock`` on ``OUT/.lock``).

    Creates ``out`` when it is acquired. The lock belongs to the open file, so the kernel
    releases it when the holder exits or is killed; the file itself stays (removing it would
    let two writers lock two different files).

    Example:
        >>> with SweepLock("out/x"):          # doctest: +SKIP
        ...     ...                            # the only writer of out/x
    """

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.path = self.out / LOCK
        self.fd: int | None = None

    def acquire(self) -> SweepLock:
        """Take the lock or raise :class:`SweepBusy` naming the holder."""
        self.out.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SweepBusy(
                f"--out: {str(self.out)!r} is being written by another sweep ({holder(self.out)}); "
                "wait for it to finish or stop it, then use --resume"
            ) from None
        self.fd = fd
        keep_from_workers(fd)
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        try:
            with open(self.path, "w", encoding="utf-8") as fh:  # same inode: the lock stays
                fh.write(json.dumps(info) + "\n")
        except OSError:
            self.release()
            raise
        return self

    def release(self) -> None:
        """Release the lock (closing the descriptor; the kernel does the same on exit)."""
        if self.fd is not None:
            keep_from_workers(self.fd, keep=False)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> SweepLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(out: str | Path) -> str:
    """Who holds (or last held) the lock of ``out``: ``pid 123 on host, started ...``."""
    for _ in range(20):  # the holder writes its details just after taking the lock
        try:
            info = json.loads(Path(out, LOCK).read_text(encoding="utf-8"))
            return f"pid {info['pid']} on {info['host']}, started {info['started']}"
        except (OSError, ValueError, KeyError, TypeError):
            time.sleep(0.025)
    return "pid unknown"


# ====================================================================== the manifest
def read_manifest(out: str | Path) -> dict[str, Any]:
    """``OUT/manifest.json`` as a dict.

    Raises:
        SpecError: One line when ``out`` holds no sweep or the manifest is unreadable.
    """
    out = Path(out)
    path = out / MANIFEST
    if not out.is_dir():
        what = "does not exist" if not out.exists() else "is not a directory"
        raise SpecError(f"DIR: {str(out)!r} {what}; expected a sweep directory")
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise SpecError(f"DIR: {str(out)!r} holds no sweep (no manifest.json); expected a "
                        "directory written by 'dealersim sweep'") from None
    except (OSError, ValueError) as exc:
        raise SpecError(f"{path}: unreadable ({type(exc).__name__}); expected the manifest "
                        "written by 'dealersim sweep'") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), int):
        raise SpecError(f"{path}: not a sweep manifest; expected the one written by "
                        "'dealersim sweep'")
    return doc


def write_manifest(out: str | Path, doc: dict[str, Any]) -> None:
    """Write ``OUT/manifest.json`` atomically."""
    write_text(Path(out) / MANIFEST, json.dumps(doc, indent=2, default=str) + "\n")


def new_manifest(spec: SweepSpec, per_task: int, created: str) -> dict[str, Any]:
    """The manifest of a new sweep of ``spec`` cut into parts of ``per_task`` runs."""
    return {
        "name": spec.name,
        "fingerprint": spec.fingerprint(),
        "strategy": spec.strategy,
        "sampler": spec.sampler,
        "samples": spec.samples,
        "replicates": spec.replicates,
        "seed": spec.seed,
        "fixed": spec.fixed,
        "factors": [f.describe() for f in spec.factors],
        "points": spec.n_points,
        "runs": spec.n_runs,
        "per_task": per_task,
        "series_stride": spec.series_stride,
        "kpis": list(spec.kpis),
        "version": package_version(),
        "created": created,
        "complete": False,
    }


def load_sweep_spec(out: str | Path) -> SweepSpec:
    """The spec of the sweep in ``out``, with its factors in the order the sweep used.

    ``spec.toml`` may have been re-serialised (which can move inline tables), so the factor order
    (which fixes the point numbering) is taken from ``manifest.json``.

    Raises:
        SpecError: One line when ``out`` holds no sweep or its spec is unreadable.
    """
    out = Path(out)
    manifest = read_manifest(out)
    spec = load_spec(out / "spec.toml")
    order = [f["name"] for f in manifest.get("factors", []) if isinstance(f, dict)]
    if sorted(order) == sorted(spec.factor_names):
        by = {f.name: f for f in spec.factors}
        spec = dataclasses.replace(spec, factors=tuple(by[n] for n in order))
    return spec


# ====================================================================== parts
def part_name(run_ids: Sequence[str]) -> str:
    """The file name of the part holding exactly ``run_ids``: the first id and a hash of all."""
    digest = hashlib.sha256("\n".join(run_ids).encode()).hexdigest()[:12]
    return f"part-{run_ids[0]}-{digest}.parquet"


def plan(specs: Sequence[RunSpec], per_task: int) -> list[list[RunSpec]]:
    """The sweep's fixed bundles: consecutive runs of the whole design, ``per_task`` at a time.

    A resume uses the same ``per_task`` (from the manifest), so a run id always lands in the
    same part, whichever session or worker writes it.
    """
    return [list(specs[i : i + per_task]) for i in range(0, len(specs), per_task)]


def checksum_path(part: Path) -> Path:
    """Where the SHA-256 of ``part`` is kept (``_sha256/part-X.parquet.sha256`` beside it)."""
    return part.parent / CHECKSUM_DIR / (part.name + CHECKSUM_SUFFIX)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_table(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` atomically, with page checksums and its SHA-256 beside it.

    The checksum file lands first, then the part (by atomic replace): a part on disk always has
    its checksum.
    """
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh, write_page_checksum=True)
            fh.flush()
            os.fsync(fh.fileno())
        write_text(checksum_path(path), file_sha256(tmp) + "\n")


def _remove_part(path: Path) -> None:
    """Remove a part and its checksum."""
    path.unlink(missing_ok=True)
    checksum_path(path).unlink(missing_ok=True)


def write_part(out: Path, run_ids: Sequence[str], rows: list[dict[str, Any]],
               series: pd.DataFrame | None) -> str:
    """Write one bundle's rows (and series) as its deterministic part; return the name.

    The series part is written first and the run part last, each by atomic replace, so a run
    part on disk means the bundle is complete.
    """
    name = part_name(run_ids)
    schema = arrow_schema()
    table = pa.Table.from_pydict(
        {col: [r.get(col) for r in rows] for col in schema.names}, schema=schema
    )
    ts = None
    if series is not None and len(series):
        ts = pa.Table.from_pandas(series, preserve_index=False)
    _write_bundle(out, name, table, ts)
    return name


def _write_bundle(out: Path, name: str, table: pa.Table, series: pa.Table | None) -> None:
    if series is not None and series.num_rows:
        _write_table(series, out / "series" / name)
    _write_table(table, out / "runs" / name)


def clean_temp(out: Path) -> int:
    """Remove temporary files left by writers that died mid-write; return how many."""
    n = 0
    for d in (out / "runs", out / "series"):
        for pattern in TEMP_GLOBS:
            for p in [*d.glob(pattern), *(d / CHECKSUM_DIR).glob(pattern)]:
                p.unlink(missing_ok=True)
                n += 1
        for p in (d / CHECKSUM_DIR).glob(f"part-*{CHECKSUM_SUFFIX}"):  # its part never landed
            if not (d / p.name.removesuffix(CHECKSUM_SUFFIX)).exists():
                p.unlink(missing_ok=True)
                n += 1
    return n


def _bad_part(path: Path, why: str) -> SpecError:
    return SpecError(f"{path}: {why}; expected only parts written by 'dealersim sweep' in "
                     f"{path.parent} (move the file out)")


def _verify_part(path: Path) -> None:
    """Refuse a part whose bytes differ from the SHA-256 written with it.

    A part written by a version that kept no checksum file is read as it is (its pages' own
    checksums, when present, are still verified by :func:`_open_part`).
    """
    sums = checksum_path(path)
    try:
        expected = sums.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad_part(path, f"its checksum file is unreadable ({type(exc).__name__})") from None
    try:
        actual = file_sha256(path)
    except OSError as exc:
        raise _bad_part(path, f"unreadable ({exc.strerror or type(exc).__name__})") from None
    if actual != expected:
        raise _bad_part(path, f"damaged: its bytes no longer match the SHA-256 written with it "
                        f"in {sums.name} (a changed byte or a damaged disk)")


def _open_part(path: Path) -> pq.ParquetFile:
    _verify_part(path)
    try:
        pf = pq.ParquetFile(path, page_checksum_verification=True)
    except (pa.ArrowException, OSError) as exc:
        raise _bad_part(path, f"not a Parquet file ({type(exc).__name__})") from None
    names = set(pf.schema_arrow.names)
    if "run_id" not in names or pf.schema_arrow.field("run_id").type != pa.string():
        raise _bad_part(path, "not a dealersim sweep part (no run_id column)")
    return pf


def _read_part(path: Path, columns: Sequence[str] | None = None,
               required: Sequence[str] = RUN_COLUMNS) -> pa.Table:
    pf = _open_part(path)
    missing = [c for c in required if c not in pf.schema_arrow.names]
    if missing:
        raise _bad_part(path, f"not a dealersim sweep part (no {', '.join(missing)} column)")
    cols = None if columns is None else [c for c in columns if c in pf.schema_arrow.names]
    try:
        return pf.read(columns=cols)
    except (pa.ArrowException, OSError) as exc:
        raise _bad_part(path, f"unreadable ({type(exc).__name__})") from None


def part_run_ids(out: str | Path) -> dict[str, list[str]]:
    """Run ids in each part of ``OUT/runs`` (by file name), reading only that column."""
    return {p.name: _read_part(p, ["run_id"]).column("run_id").to_pylist()
            for p in sorted(Path(out, "runs").glob(PART_GLOB))}


def check_run_ids(out: str | Path, ids: Sequence[str], manifest: dict[str, Any], *,
                  complete: bool) -> None:
    """Check one row per run id, ids inside the design and (if ``complete``) all of them.

    Raises:
        SpecError: One line saying what is wrong and how to repair it.
    """
    unique = set(ids)
    resume = f"run 'dealersim sweep {Path(out, 'spec.toml')} --out {out} --resume'"
    if len(unique) != len(ids):
        extra = len(ids) - len(unique)
        raise SpecError(f"{out}: {extra} run ids appear more than once; {resume} to repair")
    points, reps = int(manifest.get("points", 0)), int(manifest.get("replicates", 0))
    outside = [i for i in ids if not _in_design(i, points, reps)]
    if outside:
        raise SpecError(f"{out}: {len(outside)} run ids are outside the design (e.g. "
                        f"{outside[0]!r}); expected only this sweep's parts in {out}/runs")
    if complete and len(unique) < manifest["runs"]:
        raise SpecError(f"{out}: sweep incomplete: {len(unique)} of {manifest['runs']} runs; "
                        f"{resume} to finish it")


def _in_design(rid: str, points: int, replicates: int) -> bool:
    m = RUN_ID_RE.fullmatch(rid) if isinstance(rid, str) else None
    return bool(m) and int(m[1]) < points and int(m[2]) < replicates


def read_runs(out: str | Path, columns: Sequence[str] | None = None, *,
              complete: bool = True) -> pd.DataFrame:
    """All run rows of a sweep directory as a DataFrame sorted by run id, verified.

    Args:
        out: The sweep directory.
        columns: Columns to read (default: all); ``run_id`` is always read.
        complete: Require every run of the design (``False``: a partial sweep is fine, but
            duplicated or foreign run ids are still refused).

    Raises:
        SpecError: One line for a directory without a sweep, a foreign or damaged part, a run
            id that appears twice, or (with ``complete``) missing runs.
    """
    manifest = read_manifest(out)
    cols = None if columns is None else list(dict.fromkeys(["run_id", *columns]))
    tables = [_read_part(p, cols) for p in sorted(Path(out, "runs").glob(PART_GLOB))]
    ids = [i for t in tables for i in t.column("run_id").to_pylist()]
    check_run_ids(out, ids, manifest, complete=complete)
    if not tables:
        return arrow_schema().empty_table().to_pandas()
    try:
        table = pa.concat_tables(tables, promote_options="default")
    except pa.ArrowException as exc:
        raise SpecError(f"{out}: parts with clashing column types ({type(exc).__name__}); "
                        "expected parts written by one dealersim version") from None
    return table.to_pandas().sort_values("run_id", kind="stable").reset_index(drop=True)


def read_series(out: str | Path, *, complete: bool = True) -> pd.DataFrame:
    """All kept daily series of a sweep directory (empty when none were kept), verified.

    Only series parts whose run part exists are read (a run part lands after its series part),
    after the run parts passed the checks of :func:`read_runs`.
    """
    manifest = read_manifest(out)
    parts = part_run_ids(out)
    check_run_ids(out, [i for ids in parts.values() for i in ids], manifest, complete=complete)
    frames = [_read_part(p, required=("run_id",)).to_pandas()
              for p in sorted(Path(out, "series").glob(PART_GLOB)) if p.name in parts]
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


# ====================================================================== repair
def repair(out: Path, bundles: Sequence[Sequence[RunSpec]]) -> dict[str, int]:
    """Bring ``OUT`` to the deterministic layout of ``bundles`` (run by every resume).

    Temporary files are removed. Parts whose name is not one of the bundles' (written by an
    older version with random names, possibly holding the same run twice) are compacted: their
    rows are deduplicated by run id (a run's row depends only on its seed, so copies are equal)
    and every bundle they cover completely is written as its own part; then they are removed,
    and the bundles they covered only in part run again. A planned name holding other run ids
    (not possible unless a file was renamed) is removed and its bundle runs again. Series parts
    whose run part is missing are removed.

    Returns:
        Counts: ``legacy_parts`` compacted, ``duplicates`` dropped, ``rewritten`` parts written
        from them, ``removed`` files.
    """
    clean_temp(out)
    planned = {part_name([s.run_id for s in b]): [s.run_id for s in b] for b in bundles}
    on_disk = part_run_ids(out)
    legacy = {n: ids for n, ids in on_disk.items() if n not in planned or ids != planned[n]}
    stats = {"legacy_parts": len(legacy), "duplicates": 0, "rewritten": 0, "removed": 0}
    if legacy:
        stats.update(_compact(out, planned, on_disk, legacy))
    runs = {p.name for p in (out / "runs").glob(PART_GLOB)}
    for p in (out / "series").glob(PART_GLOB):
        if p.name not in runs:
            _remove_part(p)
            stats["removed"] += 1
    return stats


def _compact(out: Path, planned: dict[str, list[str]], on_disk: dict[str, list[str]],
             legacy: dict[str, list[str]]) -> dict[str, int]:
    done = {n for n in on_disk if n not in legacy}
    names = sorted(legacy)
    tables = [_read_part(out / "runs" / n) for n in names]
    first: dict[str, tuple[int, int]] = {}  # run id -> (legacy part, row) of its first copy
    total = 0
    for k, t in enumerate(tables):
        for i, rid in enumerate(t.column("run_id").to_pylist()):
            first.setdefault(rid, (k, i))
            total += 1
    series = {n: _read_part(out / "series" / n, required=("run_id",))
              for n in names if (out / "series" / n).exists()}
    schema = arrow_schema()
    rewritten = 0
    for name, ids in planned.items():
        if name in done or any(i not in first for i in ids):
            continue
        table = pa.concat_tables(
            [tables[first[i][0]].slice(first[i][1], 1).select(schema.names).cast(schema)
             for i in ids])
        wanted = {(names[first[i][0]], i) for i in ids}
        kept = [t.filter(pa.array([(n, r) in wanted for r in t.column("run_id").to_pylist()],
                                  type=pa.bool_()))
                for n, t in series.items()]
        ts = pa.concat_tables(kept) if kept else None
        _write_bundle(out, name, table, ts)
        rewritten += 1
    for name in legacy:  # only after every covered bundle has its own part
        for d in ("runs", "series"):
            _remove_part(out / d / name)
    return {"duplicates": total - len(first), "rewritten": rewritten, "removed": len(legacy)}
