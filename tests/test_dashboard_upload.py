"""Uploads read once, bounded: the drop zone and the file picker share one reader.

Checked with a stream that counts the bytes asked of it: a 50 MB upload is refused after at
most the cap plus one byte (or none at all when the browser reports its size), an empty upload
is refused in one plain line, and through the rendered page a drop of a too-large or empty file
shows one line and changes nothing.
"""

from __future__ import annotations

import io

import ipyvuetify as v
import pytest
import solara
from solara.components.file_drop import FileDropZone
from test_dashboard_unit import text_of, wait_until

from dealersim.base.io import TOML_MAX_BYTES
from dealersim.dashboard.components import Dashboard
from dealersim.dashboard.upload import read_upload
from dealersim.dashboard.words import strategy_title

WAIT = {"timeout": 90, "iteration_delay": 0.2}
FIFTY_MB = 50 * 1024 * 1024


class CountingStream(io.RawIOBase):
    """A non-seekable stream of ``size`` bytes of TOML comments that counts what is read."""

    def __init__(self, size: int, payload: bytes = b"# padding\n") -> None:
        self.size, self.payload, self.given = size, payload, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        left = self.size - self.given
        n = left if n is None or n < 0 else min(n, left)
        self.given += n
        return (self.payload * (n // len(self.payload) + 1))[:n]


def test_a_50_mb_upload_is_refused_after_at_most_the_cap():
    stream = CountingStream(FIFTY_MB)
    with pytest.raises(ValueError, match="larger than 1,024 kB"):
        read_upload({"name": "big.toml", "size": None, "file_obj": stream})
    assert stream.given <= TOML_MAX_BYTES + 1  # not the 50 MB


def test_a_reported_size_over_the_cap_reads_nothing():
    stream = CountingStream(FIFTY_MB)
    with pytest.raises(ValueError, match="larger than"):
        read_upload({"name": "big.toml", "size": FIFTY_MB, "file_obj": stream})
    assert stream.given == 0


@pytest.mark.parametrize(("data", "needle"), [
    (b"", "empty"), (b"  \n\n", "empty"), (b"\x89PNG\r\n\x00\x00", "not a text file"),
    ("description = 'café'\n".encode("latin-1"), "not a text file"),
])
def test_empty_or_binary_uploads_refused_in_one_line(data, needle):
    with pytest.raises(ValueError, match=needle) as exc:
        read_upload({"name": "x.toml", "size": len(data), "file_obj": io.BytesIO(data)})
    assert "\n" not in str(exc.value)


def test_a_stream_already_read_is_read_from_its_start():
    data = b'strategy = "planned"\n'
    stream = io.BytesIO(data)
    stream.read()  # what solara's eager drop zone did before handing it over
    assert read_upload({"name": "p.toml", "size": len(data), "file_obj": stream}) == data.decode()


def test_an_unreadable_upload_is_one_line():
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            raise TimeoutError("the browser went away")

    with pytest.raises(ValueError, match="could not be read"):
        read_upload({"name": "x.toml", "size": 10, "file_obj": Broken()})


def drop_file(rc, name: str, stream, size: int | None) -> None:
    """What a drop on the zone does: the widget learns of one file and hands its stream over."""
    widget = rc.find(FileDropZone).widget
    widget.get_files = lambda timeout=30: [{"name": name, "size": size, "file_obj": stream}]
    widget.file_info = [{"name": name, "size": size, "type": "application/toml"}]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "size", "needle"), [
    ("huge.toml", FIFTY_MB, "larger than"),
    ("empty.toml", 0, "empty"),
])
def test_the_drop_zone_refuses_in_one_line_and_changes_nothing(name, size, needle):
    box, rc = solara.render(Dashboard(), handle_error=False)
    try:
        rc.find(v.Html, class_="ds-value-cost").wait_for(**WAIT)
        before = {k: text_of(rc, f"ds-value-{k}") for k in ("launch", "mrr", "cost")}
        rc.find(v.Btn, class_="ds-fold-title",
                children=["▸ Save or load these settings (scenario file)"]).widget.click()
        rc.find(FileDropZone).wait_for(**WAIT)
        stream = CountingStream(size)
        drop_file(rc, name, stream, size)
        err = rc.find(v.Alert, class_="ds-scenario-error").wait_for(**WAIT).widget
        message = " ".join(str(c) for c in err.children)
        assert message.startswith(f"{name} was not loaded, nothing changed: "), message
        assert needle in message and "\n" not in message
        assert stream.given <= TOML_MAX_BYTES + 1  # the 50 MB file: nothing read past the cap
        picked = rc.find(v.Select, label="Start from a plan").widget.v_model
        assert picked == strategy_title("overlay")
        wait_until(lambda: {k: text_of(rc, f"ds-value-{k}") for k in before} == before)
    finally:
        rc.close()
