"""Uploads read once, bounded: the one reader behind the scenario box's drop zone and picker.

:func:`read_upload` reads a browser upload at most up to the size cap of every TOML file
(:data:`dealersim.base.io.TOML_MAX_BYTES`) plus one byte, refusing a larger one without reading
the rest, and refuses an empty, unreadable or binary upload in one plain line (a
``ValueError``), so that nothing changes on the page.
"""

from __future__ import annotations

from typing import Any

from dealersim.base.io import TOML_MAX_BYTES, read_bounded

TOO_BIG = f"larger than {TOML_MAX_BYTES // 1024:,} kB; expected a scenario file saved here"
NOT_TEXT = "not a text file; expected a scenario file saved here"
EMPTY = "the file is empty; expected a scenario file saved here"


def read_upload(info: Any) -> str:
    """The text of one uploaded file (``{"name", "size", "file_obj"}``), read once, bounded.

    The size the browser reports is checked before anything is read; the file is then read in
    chunks up to the cap, never further.

    Raises:
        ValueError: One plain line: too large, empty, unreadable, or not UTF-8 text.
    """
    size = info.get("size") if hasattr(info, "get") else None
    if isinstance(size, int) and size > TOML_MAX_BYTES:
        raise ValueError(TOO_BIG)
    stream = info["file_obj"]
    try:
        if hasattr(stream, "seekable") and stream.seekable():
            stream.seek(0)  # read from the start, whatever read the stream before
        data = read_bounded(stream, TOML_MAX_BYTES)
    except Exception as exc:  # the browser went away, the widget failed: one line, no change
        raise ValueError(f"the file could not be read ({type(exc).__name__}); try again") \
            from None
    if data is None:
        raise ValueError(TOO_BIG)
    if not data.strip():
        raise ValueError(EMPTY)
    if b"\0" in data:
        raise ValueError(NOT_TEXT)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(NOT_TEXT) from None
