"""The ``dealersim`` command line: bad input is one line on stderr and exit 2; good input works."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import dealersim.model.results
from dealersim import cli
from dealersim.cli import main
from dealersim.cli.common import format_value, summary_table
from dealersim.cli.compare import DEMO_STRATEGIES
from dealersim.model.kpis import SUMMARY_KEYS
from dealersim.model.params import field_specs, spec
from dealersim.model.strategies import strategy_names, strategy_overrides
from dealersim.outputs.docs import (
    END,
    PATTERNS_END,
    PATTERNS_START,
    START,
    update_params_table,
    with_patterns_table,
)
from dealersim.studies.validation import CHECKS

YEARS = spec("years")

# (id, argv, text the one-line message must contain: the field name and, where numeric, the range)
BAD_INPUTS = [
    ("nan", ["run", "--set", "hw_margin=nan"], ["hw_margin", spec("hw_margin").allowed()]),
    ("inf", ["run", "--set", "hw_margin=inf"], ["hw_margin", spec("hw_margin").allowed()]),
    ("out-of-range", ["run", "--set", f"n_reps={spec('n_reps').high + 1:g}"],
     ["n_reps", spec("n_reps").allowed()]),
    ("not-a-number", ["run", "--set", "hw_margin=lots"],
     ["hw_margin", spec("hw_margin").allowed()]),
    ("bad-choice", ["run", "--set", "credit_policy=triple"],
     ["credit_policy", spec("credit_policy").allowed()]),
    ("bad-bool", ["run", "--set", "rules_of_engagement=maybe"], ["rules_of_engagement"]),
    ("unknown-field", ["run", "--set", "foo=1"], ["foo", "unknown parameter"]),
    ("typo-field", ["run", "--set", "hw_marign=0.3"], ["hw_marign", "did you mean hw_margin"]),
    ("unknown-strategy", ["run", "--strategy", "bogus"], ["strategy", *strategy_names()]),
    ("set-no-equals", ["run", "--set", "hw_margin"], ["--set", "field=value"]),
    ("set-no-name", ["run", "--set", "=0.3"], ["--set", "field=value"]),
    ("years-zero", ["run", "--years", "0"], ["years", YEARS.allowed()]),
    ("years-negative", ["run", "--years", "-1"], ["years", YEARS.allowed()]),
    ("years-above", ["run", "--years", f"{YEARS.high * 2:g}"], ["years", YEARS.allowed()]),
    ("years-below", ["run", "--years", f"{YEARS.low / 2:g}"], ["years", YEARS.allowed()]),
    ("years-nan", ["run", "--years", "nan"], ["years", YEARS.allowed()]),
    ("years-twice", ["run", "--years", "1", "--set", "years=0.5"], ["years"]),
    ("seed-float", ["run", "--seed", "1.5"], ["--seed", "integer"]),
    ("seed-text", ["run", "--seed", "abc"], ["--seed", "integer"]),
    ("seed-negative", ["run", "--seed", "-3"], ["--seed", "[0, 2**63 - 1]"]),
    ("seed-missing", ["run", "--seed"], ["--seed"]),
    ("unknown-option", ["run", "--bogus"], ["--bogus"]),
    ("no-command", [], ["COMMAND"]),
    ("unknown-command", ["frobnicate"], ["frobnicate"]),
    ("demo-unknown-field", ["demo", "--set", "foo=1"], ["foo"]),
    ("demo-years", ["demo", "--years", "0"], ["years", YEARS.allowed()]),
    ("replicates-zero", ["validate", "--replicates", "0"], ["--replicates"]),
    ("replicates-text", ["validate", "--replicates", "many"], ["--replicates"]),
]


def _assert_one_line_error(code: int, err: str, needles: list[str]) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dealersim: error: ")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if anything is simulated (bad input must be caught before)."""

    def boom(*args, **kwargs):
        raise AssertionError("simulate() was called for bad input")

    monkeypatch.setattr(dealersim.model.results, "simulate", boom)


# ------------------------------------------------------------------ bad input, in process
@pytest.mark.parametrize(("argv", "needles"), [c[1:] for c in BAD_INPUTS],
                         ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_in_process(argv, needles, capsys, no_simulation, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    out, err = capsys.readouterr()
    _assert_one_line_error(code, err, needles)
    assert out == ""


def test_out_under_a_file(tmp_path, capsys, no_simulation):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code = main(["run", "--years", "0.25", "--out", str(blocker / "sub" / "dir")])
    _assert_one_line_error(code, capsys.readouterr().err, ["--out", "a_file"])


def test_out_is_a_file(tmp_path, capsys, no_simulation):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code = main(["run", "--out", str(blocker)])
    _assert_one_line_error(code, capsys.readouterr().err, ["--out", "is a file"])
    assert blocker.read_text() == "x"


def test_out_empty(capsys, no_simulation):
    _assert_one_line_error(main(["run", "--out", ""]), capsys.readouterr().err, ["--out"])


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can write into read-only directories")
def test_out_read_only_dir(tmp_path, capsys, no_simulation):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code = main(["run", "--out", str(ro / "run")])
        _assert_one_line_error(code, capsys.readouterr().err, ["--out", "ro"])
        code = main(["run", "--out", str(ro)])
        _assert_one_line_error(code, capsys.readouterr().err, ["--out", "ro"])
    finally:
        ro.chmod(0o755)


def test_out_not_writable(tmp_path, capsys, no_simulation, monkeypatch):
    """Whatever the user, a directory that refuses files is reported before simulating."""

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(cli.common.tempfile, "TemporaryFile", refuse)
    code = main(["demo", "--out", str(tmp_path / "demo")])
    _assert_one_line_error(code, capsys.readouterr().err, ["--out", "Permission denied"])


def test_docs_bad_markers(tmp_path, capsys):
    doc = tmp_path / "model.md"
    doc.write_text(f"# x\n{END}\n{START}\n")
    code = main(["docs", "--path", str(doc)])
    _assert_one_line_error(code, capsys.readouterr().err, ["model.md", "params:start"])


# ------------------------------------------------------------------ bad input, subprocess
def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "MPLBACKEND": "Agg"}
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "needles"), [c[1:] for c in BAD_INPUTS],
                         ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_subprocess(argv, needles, tmp_path):
    proc = _run([sys.executable, "-m", "dealersim.cli", *argv], tmp_path)
    _assert_one_line_error(proc.returncode, proc.stderr, needles)
    assert proc.stdout == ""


def _console_script() -> str | None:
    local = Path(sys.executable).parent / "dealersim"
    return str(local) if local.exists() else shutil.which("dealersim")


@pytest.mark.slow
@pytest.mark.parametrize("case", ["nan", "unknown-field", "unknown-strategy", "set-no-equals",
                                  "years-zero", "seed-float"])
def test_bad_input_console_script(case, tmp_path):
    """The installed ``dealersim`` command (``make venv`` installs it; missing is a failure)."""
    script = _console_script()
    assert script is not None, "the dealersim console script is not installed"
    _, argv, needles = next(c for c in BAD_INPUTS if c[0] == case)
    proc = _run([script, *argv], tmp_path)
    _assert_one_line_error(proc.returncode, proc.stderr, needles)


@pytest.mark.slow
def test_unwritable_out_subprocess(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    proc = _run([sys.executable, "-m", "dealersim.cli", "run", "--out", str(blocker / "x")],
                tmp_path)
    _assert_one_line_error(proc.returncode, proc.stderr, ["--out"])


# ------------------------------------------------------------------ good paths
def test_run_writes_the_four_files(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", "--strategy", "overlay", "--seed", "3", "--years", "1", "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    for name in ("timeseries.csv", "summary.json", "events.csv", "ledger.parquet",
                 "main_curves.png"):
        assert (out / name).stat().st_size > 0, name
    ledger = pd.read_parquet(out / "ledger.parquet")
    assert len(ledger) == 12 and ledger.net.sum() == pytest.approx(
        json.loads((out / "summary.json").read_text())["summary"]["gross_profit"], abs=0.01)
    doc = json.loads((out / "summary.json").read_text())
    assert set(doc["summary"]) == set(SUMMARY_KEYS)
    assert doc["seed"] == 3
    assert doc["strategy"] == "overlay"
    assert doc["version"]
    assert doc["params"]["years"] == 1
    assert set(doc["params"]) == {s.name for s in field_specs()}
    ts = pd.read_csv(out / "timeseries.csv")
    assert len(ts) == 366
    events = pd.read_csv(out / "events.csv")
    assert list(events.columns) == ["day", "actor", "kind", "text"]
    assert (out / "main_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the story and the summary table are printed
    assert "strategy 'overlay', seed 3" in stdout
    assert "== story: overlay" in stdout
    for key in SUMMARY_KEYS:
        assert key in stdout
    assert "wrote:" in stdout


def test_run_without_out_prints_only(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--years", "0.25", "--set", "n_reps=4", "--set", "credit_policy=double"])
    stdout, _ = capsys.readouterr()
    assert code == 0
    assert "overrides: n_reps=4, credit_policy=double, years=0.25" in stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_run_set_reaches_the_params(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", "--strategy", "planned", "--years", "0.5", "--seed", "7",
                 "--set", "n_reps=4", "--set", "rules_of_engagement=no", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    doc = json.loads((out / "summary.json").read_text())
    assert doc["params"]["n_reps"] == 4
    assert doc["params"]["rules_of_engagement"] is False
    assert doc["params"]["credit_policy"] == strategy_overrides("planned")["credit_policy"]
    assert doc["strategy"] == "planned"
    assert doc["seed"] == 7


def test_run_is_reproducible(capsys):
    outputs = []
    for _ in range(2):
        assert main(["run", "--seed", "11", "--years", "0.5"]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]


@pytest.mark.slow
def test_run_subprocess(tmp_path):
    proc = _run([sys.executable, "-m", "dealersim.cli", "run", "--years", "0.25", "--seed", "1"],
                tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "launch_succeeded" in proc.stdout


def test_params(capsys):
    assert main(["params"]) == 0
    text = capsys.readouterr().out
    for s in field_specs():
        assert s.name in text
    assert main(["params", "--markdown"]) == 0
    md = capsys.readouterr().out
    assert "| `hw_margin` |" in md


def test_strategies(capsys):
    assert main(["strategies"]) == 0
    text = capsys.readouterr().out
    for name in strategy_names():
        assert f"\n{name}\n" in f"\n{text}"
        for key in strategy_overrides(name):
            assert key in text


@pytest.mark.slow
def test_demo(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "--years", "0.5", "--seed", "2", "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert (out / "side_by_side.png").stat().st_size > 0
    for strategy in DEMO_STRATEGIES:
        doc = json.loads((out / strategy / "summary.json").read_text())
        assert doc["strategy"] == strategy
        assert doc["seed"] == 2
        assert f"== story: {strategy}" in stdout
    header = next(line for line in stdout.splitlines() if line.startswith("KPI"))
    assert header.split() == ["KPI", *DEMO_STRATEGIES]


def test_docs_creates_and_updates(tmp_path, capsys):
    doc = tmp_path / "docs" / "model.md"
    doc.parent.mkdir()  # the evidence page is written by hand: docs checks the real one
    shutil.copy(Path(__file__).resolve().parents[1] / "docs" / "evidence.md", doc.parent)
    assert main(["docs", "--path", str(doc)]) == 0
    text = doc.read_text()
    assert START in text and END in text and "`hw_margin`" in text
    assert main(["docs", "--path", str(doc), "--check"]) == 0
    # text around the markers survives; a stale table is replaced
    doc.write_text(f"# Model\n\nintro\n\n{START}\nstale\n{END}\n\noutro\n")
    assert main(["docs", "--path", str(doc), "--check"]) == 1
    assert main(["docs", "--path", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Model\n\nintro\n\n") and text.endswith("\n\noutro\n")
    assert "stale" not in text
    assert update_params_table(doc) is False
    capsys.readouterr()


def test_docs_pattern_table_is_every_check_and_is_kept_current(tmp_path, capsys):
    doc = tmp_path / "docs" / "model.md"
    doc.parent.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "docs" / "evidence.md", doc.parent)
    stale = f"{PATTERNS_START}\n| P1 | a stale row | >= 99 % |\n{PATTERNS_END}"
    doc.write_text(f"# Model\n\n{stale}\n\n{START}\n{END}\n")
    assert main(["docs", "--path", str(doc), "--check"]) == 1
    assert main(["docs", "--path", str(doc)]) == 0
    text = doc.read_text()
    assert "a stale row" not in text
    rows = [line for line in text.splitlines() if line.startswith("| P")]
    assert len(rows) == len(CHECKS)
    for c in CHECKS:  # each check once, with its target and kind
        assert sum(f"| {c.pattern} | {c.what} | {c.target} | {c.kind} |" in r for r in rows) == 1
    assert main(["docs", "--path", str(doc), "--check"]) == 0
    # a page without the markers gets no table (the parameter table is what it must have)
    assert with_patterns_table("# Model\n") == "# Model\n"
    capsys.readouterr()


@pytest.mark.slow
def test_validate_runs_and_writes_markdown(tmp_path, capsys):
    out = tmp_path / "v"
    code = main(["validate", "--replicates", "2", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code in (0, 1)  # with 2 replicates some patterns may miss; the wiring is tested
    text = (out / "validation.md").read_text()
    for pattern in ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"):
        assert f"| {pattern} |" in text
        assert pattern in printed
    assert "checks pass" in printed


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert "run" in capsys.readouterr().out
    assert main(["run", "--help"]) == 0
    assert YEARS.allowed() in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("dealersim ")


# ------------------------------------------------------------------ formatting and plots
def test_format_value():
    assert format_value("managed_mrr", 1234.5) == "$1,234"
    assert format_value("launch_succeeded", True) == "yes"
    assert format_value("days_to_first_managed_deal", None) == "n/a"
    assert format_value("hardware_decline_per_year", 0.0731) == "7.3%"
    assert format_value("dials", 2638) == "2,638"


def test_summary_table_aligns_columns():
    table = summary_table({"a": {"dials": 1, "deals": 22}, "b": {"dials": 333, "deals": None}})
    lines = table.splitlines()
    assert lines[0].split() == ["KPI", "a", "b"]
    assert len({len(line) for line in lines[2:]}) == 1


@pytest.mark.slow
def test_plots_without_pyplot(tmp_path):
    """plot_run works for a run without a program, and never touches pyplot's global state."""
    from dealersim.model.results import simulate
    from dealersim.outputs.plots import plot_run, plot_side_by_side

    had_pyplot = "matplotlib.pyplot" in sys.modules
    a = simulate("hardware_only", seed=1, years=0.25)
    b = simulate("overlay", seed=1, years=0.25)
    assert plot_run(a, tmp_path / "a.png") == tmp_path / "a.png"
    plot_side_by_side([a, b], tmp_path / "ab.png")
    assert (tmp_path / "a.png").stat().st_size > 0
    assert (tmp_path / "ab.png").stat().st_size > 0
    if not had_pyplot:
        assert "matplotlib.pyplot" not in sys.modules


def test_side_by_side_needs_runs(tmp_path):
    from dealersim.outputs.plots import plot_side_by_side

    with pytest.raises(ValueError, match="no runs"):
        plot_side_by_side([], tmp_path / "x.png")
