"""A full disk in every command that writes a directory: one line naming the path, exit 1.

Each command runs with ``--out`` on a private 8 kB tmpfs (``unshare -m`` + ``mount``, so root is
needed; the test is skipped with the reason otherwise), small enough that the first real write
fails with ``ENOSPC``. Checked: exit 1, exactly one ``dealersim: error:`` line naming the path and
the full disk, no traceback, and nothing left on the filesystem (no partial output, no
``study.journal``, no ``history.db``, no temporary directory).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_calibrate import TINY as TINY_CALIBRATION  # the calibration tests' smallest spec

TINY_SWEEP = """
name = "tiny"
strategy = "overlay"
sampler = "grid"
replicates = 2
seed = 8
[fixed]
years = 0.25
[factors]
wall_initial = {low = 0.0, high = 0.6, levels = 2}
"""
COMMANDS = {
    "compare": "compare overlay planned --replicates 2 --years 0.25 --workers 1",
    "blame": "blame --replicates 1 --years 0.25 --workers 1 --factors skill",
    "advise": "advise --budget 2 --replicates 1 --years 0.25 --size 4 --workers 1",
    "sweep": 'sweep "$SPECS/sweep.toml" --workers 1 --quiet',
    "calibrate": 'calibrate "$SPECS/calibration.toml" --workers 1 --quiet',
}
SCRIPT = r"""
mount -t tmpfs -o size=8k tmpfs "$MNT" || exit 97
timeout 600 "$PYTHON" -m dealersim {command} --out "$MNT/out" > /dev/null 2> "$ERR"
echo "exit=$?"
echo "left=$(ls -A "$MNT" | tr '\n' ' ')"
"""


@pytest.mark.slow
@pytest.mark.parametrize("command", list(COMMANDS))
def test_full_disk_one_line_and_nothing_left(tmp_path, command):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare to mount a private 8 kB tmpfs")
    (tmp_path / "sweep.toml").write_text(TINY_SWEEP)
    (tmp_path / "calibration.toml").write_text(TINY_CALIBRATION)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    err = tmp_path / "err.txt"
    env = {**os.environ, "MNT": str(mnt), "ERR": str(err), "SPECS": str(tmp_path),
           "PYTHON": sys.executable, "PYTHONWARNINGS": "ignore",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    script = SCRIPT.replace("{command}", COMMANDS[command])
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env, capture_output=True,
                          text=True, timeout=700)
    if proc.returncode == 97 or "Operation not permitted" in proc.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    message = err.read_text()
    print(command, proc.stdout.split(), message)
    assert "exit=1" in proc.stdout, (proc.stdout, message)
    assert "Traceback" not in message and message.count("\n") == 1, message
    assert message.startswith("dealersim: error: --out:")
    assert str(mnt / "out") in message and "No space left on device" in message
    assert "left= " in proc.stdout or proc.stdout.rstrip().endswith("left="), proc.stdout


def test_disk_full_is_recognised_through_wrappers():
    import errno
    import sqlite3

    from dealersim.cli.common import disk_full

    assert disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert disk_full(OSError("[Errno 28] Error writing bytes to file."))  # pyarrow's
    try:
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert disk_full(outer)
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not disk_full(ValueError("a bad value"))
