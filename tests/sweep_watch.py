"""What the interrupt tests share: rows on disk while a sweep writes; a child that hears Ctrl-C."""

from __future__ import annotations

import signal
from pathlib import Path

import pyarrow.parquet as pq


def rows_on_disk(out: Path) -> int:
    """Rows in the finished parts under ``out/runs`` (a part still being replaced counts 0)."""
    n = 0
    for part in (out / "runs").glob("part-*.parquet") if (out / "runs").is_dir() else ():
        try:
            n += pq.ParquetFile(part).metadata.num_rows
        except (OSError, ValueError):
            pass
    return n


def default_sigint() -> None:
    """``preexec_fn`` for a child that must hear SIGINT (Ctrl-C).

    A shell started with ``nohup`` starts its children with SIGINT ignored; a test that sends
    Ctrl-C to a child would then fail for reasons that are not the product's.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
