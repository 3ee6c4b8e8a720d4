"""The core install: the package imports and runs without its optional extras.

Each test runs a fresh interpreter whose import system refuses the extras' libraries (a
meta-path finder raises ``ModuleNotFoundError`` for them, as if they were not installed). It
imports every module of the package but the dashboard page and the EMA adapter (which are
those extras), checks that none of the refused libraries was reached, then calls the command
line: a command that needs a missing extra prints one line naming it and exits 2, and the core
commands still work.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dealersim.base.extras import EXTRAS, missing, need

ROOT = Path(__file__).resolve().parents[1]
REFUSED = ("pyabc", "optuna", "solara", "dask", "distributed", "ema_workbench", "sklearn",
           "ipyvue", "ipyvuetify")
EXTRA_MODULES = {"dealersim.dashboard.app", "dealersim.dashboard.components",
                 "dealersim.adapters.ema"}
"""Modules that are an extra themselves (the Solara page, the EMA adapter)."""

SCRIPT = """
import importlib, json, pkgutil, sys

REFUSED = set(json.loads(sys.argv[1]))
SKIP = set(json.loads(sys.argv[2]))


class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in REFUSED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Refuse())
import dealersim

for m in pkgutil.walk_packages(dealersim.__path__, "dealersim."):
    if m.name not in SKIP and not m.name.endswith("__main__"):
        importlib.import_module(m.name)
reached = sorted({n.partition(".")[0] for n in sys.modules} & REFUSED)
assert not reached, f"importing the package reached {reached}"

from dealersim.cli import main

codes = [main(json.loads(argv)) for argv in sys.argv[3:]]
print("codes", *codes)
"""


def core_only(tmp_path: Path, *commands: list[str]) -> subprocess.CompletedProcess:
    """Run ``commands`` (``dealersim`` argument lists) in an interpreter without the extras."""
    args = [json.dumps(REFUSED), json.dumps(sorted(EXTRA_MODULES)),
            *(json.dumps(c) for c in commands)]
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def test_the_refused_modules_are_every_extra():
    assert {m for mods in EXTRAS.values() for m in mods} <= set(REFUSED)
    for extra in EXTRAS:  # this environment (make venv) has every extra
        assert missing(extra) == []
        need(extra, "the test")


@pytest.mark.slow
def test_commands_that_need_an_extra_say_which_in_one_line(tmp_path):
    spec = str(ROOT / "experiments" / "calibration.toml")
    proc = core_only(tmp_path, ["calibrate", spec, "--out", "cal"],
                     ["advise", "--budget", "2", "--out", "adv"],
                     ["dashboard", "--port", "8765"],
                     ["sweep", str(ROOT / "experiments" / "tipping_point.toml"), "--out", "sw",
                      "--scheduler", "tcp://127.0.0.1:9"],
                     ["run", "--years", "0.25", "--seed", "3"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split("\n")[-2] == "codes 2 2 2 2 0", proc.stdout[-2000:]
    assert proc.stderr.strip().splitlines() == [
        "dealersim calibrate needs the optional extra 'calibrate': "
        "pip install 'dealersim[calibrate]'",
        "dealersim advise needs the optional extra 'advise': pip install 'dealersim[advise]'",
        "dealersim dashboard needs the optional extra 'dashboard': "
        "pip install 'dealersim[dashboard]'",
        "--scheduler needs the optional extra 'dask': pip install 'dealersim[dask]'",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing on disk
    assert "Launch" in proc.stdout or "launch" in proc.stdout  # the run's summary


@pytest.mark.slow
def test_compare_writes_its_report_without_the_extras(tmp_path):
    proc = core_only(tmp_path, ["compare", "overlay", "planned", "--replicates", "2", "--years",
                                "0.5", "--workers", "1", "--out", "cmp"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split("\n")[-2] == "codes 0", proc.stdout[-2000:]
    assert (tmp_path / "cmp" / "report.html").stat().st_size > 0
