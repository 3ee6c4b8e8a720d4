"""Atomic files and directories: a reader never sees a half-written output.

Every writer in dealersim goes through here: :func:`atomic_dir` for an output directory
(``compare``, ``blame``, ``run --out``), :func:`atomic_file` for one file (Parquet parts,
manifests, generated docs).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_dir(out: str | Path, *, force: bool = False) -> Iterator[Path]:
    """Write a directory atomically: yield a temporary sibling, rename it to ``out`` at the end.

    If the body raises (including ``KeyboardInterrupt``) the temporary directory is removed
    and ``out`` is untouched. An existing ``out`` is replaced only if it is empty or ``force``.

    Raises:
        FileExistsError: ``out`` exists, is not empty and ``force`` is false.
        NotADirectoryError: ``out`` exists and is not a directory.
    """
    out = Path(out)
    check_out(out, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    try:
        yield tmp
        check_out(out, force=force)
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, trash / out.name)
            os.rename(tmp, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_out(out: Path, *, force: bool) -> None:
    """Raise if ``out`` cannot be (re)written (see :func:`atomic_dir`)."""
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise NotADirectoryError(f"--out: {str(out)!r} is a file; expected a directory")
        if any(out.iterdir()) and not force:
            raise FileExistsError(
                f"--out: {str(out)!r} exists and is not empty; use --force to replace it"
            )




@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; ``os.replace`` it onto ``path`` if the body succeeds.

    A reader sees the old file or the whole new one, never a partial one; if the body raises the
    temporary file is removed and ``path`` is untouched. Writing the same ``path`` twice leaves one
    file (the later one).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual mode
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(text)
    return Path(path)
