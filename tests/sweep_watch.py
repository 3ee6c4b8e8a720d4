"""What the sweep fault tests share: counting rows on disk while a sweep is still writing."""

from __future__ import annotations

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
