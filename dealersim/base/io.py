"""Atomic files and directories, bounded reads, and the one door for TOML.

Every writer in dealersim goes through here: :func:`atomic_dir` for an output directory
(``compare``, ``blame``, ``run --out``), :func:`atomic_file` for one file (Parquet parts,
manifests, generated docs).

Every TOML file the project reads (a scenario, a sweep spec, a calibration spec) goes through
:func:`read_toml_text` and :func:`parse_toml`: one size cap (:data:`TOML_MAX_BYTES`) and one depth
cap (:data:`TOML_MAX_DEPTH`), each refused in one line. :func:`read_bounded` reads any stream
(an upload) up to a cap without reading the rest.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

TOML_MAX_BYTES = 1 << 20
"""The size cap of every TOML file the project reads (1 MiB; a spec is a few hundred bytes)."""
TOML_MAX_DEPTH = 16
"""The nesting cap of every TOML file: tables, arrays and inline tables (the deepest the project
uses is 3, e.g. ``[parameters.ranges]`` with a ``[low, high]`` list)."""
TOML_TOO_BIG = f"larger than {TOML_MAX_BYTES:,} bytes (1 MiB)"
"""How a TOML file over :data:`TOML_MAX_BYTES` is described in its one-line refusal."""


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


def _file_kind(mode: int) -> str:
    for test, kind in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return kind
    return "a special file"


def shown_path(path: str | Path) -> str:
    """``path`` as text fit for a one-line message (``repr`` if it has control characters)."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def read_bounded(stream: BinaryIO, cap: int) -> bytes | None:
    """Read ``stream`` up to ``cap`` bytes, stopping there: ``None`` if it holds more.

    At most ``cap + 1`` bytes are read, in chunks, whatever the stream's size, so an upload of
    any size costs at most the cap in memory. The stream is read from where it stands.
    """
    chunks: list[bytes] = []
    size = 0
    while size <= cap:
        chunk = stream.read(min(1 << 16, cap + 1 - size))
        if not chunk:
            break
        chunks.append(bytes(chunk))
        size += len(chunk)
    return None if size > cap else b"".join(chunks)


def decode_toml(data: bytes, where: str, expected: str) -> str:
    """The bytes of a TOML file as text: at most :data:`TOML_MAX_BYTES`, UTF-8, no NUL.

    Raises:
        ValueError: One line, ``<where>: <problem>; <expected>``.
    """
    if len(data) > TOML_MAX_BYTES:
        raise ValueError(f"{where}: {TOML_TOO_BIG}; {expected}")
    try:
        if b"\x00" in data:
            raise UnicodeError
        return data.decode("utf-8")
    except UnicodeError:
        raise ValueError(f"{where}: binary content, not UTF-8 text; {expected}") from None


def read_toml_text(path: str | Path, expected: str = "expected a TOML file") -> str:
    """The text of a TOML file: a regular UTF-8 file of at most :data:`TOML_MAX_BYTES`, no NUL.

    The file is opened without blocking and its type checked on the open descriptor, so a named
    pipe, a device such as ``/dev/zero`` or a directory is refused at once; at most the cap plus
    one byte is read.

    Raises:
        ValueError: One line naming the file and the problem, ending with ``expected``.
    """
    where = shown_path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
                     | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise ValueError(f"{where}: cannot read ({exc.strerror or type(exc).__name__}); "
                         f"{expected}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise ValueError(f"{where}: is {_file_kind(mode)}, not a regular file; {expected}")
    with os.fdopen(fd, "rb") as fh:
        try:
            data = read_bounded(fh, TOML_MAX_BYTES)
        except OSError as exc:
            raise ValueError(f"{where}: cannot read ({exc.strerror or type(exc).__name__}); "
                             f"{expected}") from None
    if data is None:
        raise ValueError(f"{where}: {TOML_TOO_BIG}; {expected}")
    return decode_toml(data, where, expected)


def toml_depth(doc: Any) -> int:
    """How deeply ``doc`` (parsed TOML) nests tables and arrays (a scalar: 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if depth > TOML_MAX_DEPTH:
            break
        stack.extend((child, depth) for child in children)
    return deepest


def parse_toml(text: str, where: str = "") -> dict[str, Any]:
    """Parse TOML text under the project's caps (:data:`TOML_MAX_BYTES`, :data:`TOML_MAX_DEPTH`).

    Raises:
        ValueError: One line, starting with ``<where>: `` if ``where`` is given (too big, too
            deep, or not valid TOML).
    """
    prefix = f"{where}: " if where else ""
    if len(text) > TOML_MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > TOML_MAX_BYTES:
        raise ValueError(f"{prefix}{TOML_TOO_BIG}")
    too_deep = f"{prefix}nested more than {TOML_MAX_DEPTH} levels deep (tables and arrays)"
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{prefix}not valid TOML: {' '.join(str(exc).split())}") from None
    except RecursionError:  # thousands of nested arrays or inline tables
        raise ValueError(too_deep) from None
    if toml_depth(doc) > TOML_MAX_DEPTH:
        raise ValueError(too_deep)
    return doc


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk (or the user's quota) is full."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


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


def marked(text: str, start: str, end: str) -> str:
    """The part of ``text`` from marker ``start`` to marker ``end``, both included ('' if none)."""
    if start in text and end in text.split(start, 1)[1]:
        return start + text.split(start, 1)[1].split(end, 1)[0] + end
    return ""


def replace_marked(text: str, section: str, start: str, end: str) -> str:
    """``text`` with its marked part replaced by ``section`` (which carries the markers).

    Without the markers, ``section`` is appended after a blank line.
    """
    if marked(text, start, end):
        head, rest = text.split(start, 1)
        return head + section.rstrip("\n") + rest.split(end, 1)[1]
    return text.rstrip("\n") + ("\n\n" if text else "") + section.rstrip("\n") + "\n"


def update_marked(path: str | Path, section: str, start: str, end: str) -> None:
    """Replace the marked part of the file ``path`` with ``section`` (atomically)."""
    path = Path(path)
    old = path.read_text() if path.exists() else ""
    write_text(path, replace_marked(old, section, start, end))
