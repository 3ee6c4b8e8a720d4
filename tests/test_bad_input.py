"""Every class of bad input: one line naming the argument, exit 2 or ValueError, nothing on disk.

One test per class (parametrised over its cases). Each CLI case checks: exit code 2, exactly one
line on stderr that starts with ``dealersim: error: <argument>`` and contains the allowed values,
no traceback, nothing simulated and the working directory unchanged (listing before == after).
Cases that used to hang or grow memory run in a subprocess with a hard 20 s timeout and a 3 GiB
address-space limit. API cases check a one-line ``ValueError`` naming the argument.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dealersim.cli import main
from dealersim.cli.common import MAX_REPLICATES, max_workers
from dealersim.model import scenario
from dealersim.model.dealership import DealershipModel
from dealersim.model.params import SEED_MAX, Params, parse_assignment, spec
from dealersim.model.results import simulate
from dealersim.model.strategies import strategy_names

SEED_RANGE = "[0, 2**63 - 1]"
HARD_TIMEOUT = 20
"""Seconds a refused command may take in a subprocess (import time included)."""
MEMORY_LIMIT = 3 << 30
"""Address-space limit of those subprocesses: an allocation that grows is killed, not swapped."""
STRATEGIES = ", ".join(strategy_names())


def listing(root: Path) -> list[str]:
    """Every path under ``root``, relative, sorted (hidden temporary directories included)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def assert_one_line(code: int, err: str, argument: str, *needles: str) -> str:
    """Exit 2, one ``dealersim: error: <argument>...`` line holding every needle, no traceback."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"dealersim: error: {argument}"), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture
def no_model(monkeypatch):
    """Fail the test if a model is built: bad input must be refused before any simulation."""

    def boom(*args, **kwargs):
        raise AssertionError("a DealershipModel was built for bad input")

    monkeypatch.setattr(DealershipModel, "__init__", boom)


@pytest.fixture
def cli_in(tmp_path, monkeypatch, capsys, no_model):
    """Run ``main(argv)`` in ``tmp_path``; check the one line and that nothing was written."""
    monkeypatch.chdir(tmp_path)

    def run(argv: list[str], argument: str, *needles: str) -> str:
        before = listing(tmp_path)
        code = main(argv)
        out, err = capsys.readouterr()
        assert out == ""
        line = assert_one_line(code, err, argument, *needles)
        assert listing(tmp_path) == before
        return line

    return run


def run_subprocess(argv: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    """``python -m dealersim argv`` with a hard timeout and a memory limit; (result, seconds)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    env = {**os.environ, "PYTHONWARNINGS": "ignore", "MPLBACKEND": "Agg"}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "dealersim", *argv], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=HARD_TIMEOUT, preexec_fn=limit)
    return proc, time.monotonic() - start


# ====================================================================== 1. seeds (CLI)
SEED_TEXTS = [
    ("32-digits", "9" * 32, "too large"),
    ("2**63", str(SEED_MAX + 1), "too large"),
    ("full-width", "１２", "digits 0-9"),
    ("underscore", "1_2", "digits 0-9"),
    ("exponent", "1e3", "digits 0-9"),
    ("float", "1.5", "digits 0-9"),
    ("whitespace-only", "   ", "empty"),
    ("plus-sign", "+5", "sign"),
    ("minus-sign", "-3", "sign"),
    ("text", "abc", "digits 0-9"),
    ("5000-digits", "7" * 5000, "too large"),
    ("leading-blank", " 5", "blanks"),
    ("trailing-blank", "5 ", "blanks"),
    ("tab", "\t5", "blanks"),
]
SEED_COMMANDS = {
    "run": ["run"],
    "demo": ["demo", "--out", "d"],
    "compare": ["compare", "overlay", "planned", "--out", "c"],
    "blame": ["blame", "--out", "b"],
    "catalogue": ["catalogue", "--path", "cat.md"],
    "factorial": ["factorial", "--path", "f.md"],
}


@pytest.mark.parametrize("command", list(SEED_COMMANDS))
@pytest.mark.parametrize(("text", "why"), [c[1:] for c in SEED_TEXTS],
                         ids=[c[0] for c in SEED_TEXTS])
def test_seed_plain_digits_in_range(cli_in, command, text, why):
    cli_in([*SEED_COMMANDS[command], "--seed", text], "--seed", why, SEED_RANGE)


def test_seed_range_ends_accepted_by_the_type():
    from dealersim.cli.common import seed_type

    assert seed_type("0") == 0
    assert seed_type(str(SEED_MAX)) == SEED_MAX
    assert seed_type("007") == 7
    with pytest.raises(argparse.ArgumentTypeError, match="blanks"):
        seed_type(" 007 ")  # a seed names one exact run: digits only


# ====================================================================== 2. --set / --years digits
SET_CASES = [
    ("underscore", ["--set", "n_reps=1_2"], "--set: n_reps", "digits 0-9"),
    ("full-width", ["--set", "n_reps=１２"], "--set: n_reps", "digits 0-9"),
    ("exponent-int", ["--set", "n_reps=1e1"], "--set: n_reps", "digits 0-9"),
    ("hex", ["--set", "n_reps=0x10"], "--set: n_reps", "digits 0-9"),
    ("whitespace-only", ["--set", "n_reps=   "], "--set", "field=value"),
    ("float-underscore", ["--set", "hw_margin=0.3_0"], "--set: hw_margin", "digits 0-9"),
    ("float-full-width", ["--set", "hw_margin=０.３"], "--set: hw_margin", "digits 0-9"),
    ("ideographic-space", ["--set", "n_reps=12\u3000"], "--set: n_reps", "digits 0-9"),
    ("years-full-width", ["--years", "１"], "--years", "digits 0-9"),
    ("years-underscore", ["--years", "1_0"], "--years", "digits 0-9"),
    ("years-set-underscore", ["--set", "years=1_0"], "--set: years", "digits 0-9"),
]


@pytest.mark.parametrize(("args", "argument", "why"), [c[1:] for c in SET_CASES],
                         ids=[c[0] for c in SET_CASES])
@pytest.mark.parametrize("command", ["run", "compare"])
def test_set_and_years_plain_digits(cli_in, command, args, argument, why):
    head = ["run"] if command == "run" else ["compare", "overlay", "planned", "--out", "c"]
    field = argument.rpartition(" ")[2] if ": " in argument else "years"
    allowed = spec(field).allowed() if why != "field=value" else "field=value"
    cli_in([*head, *args], argument, why, allowed)


@pytest.mark.parametrize("text", ["n_reps=1_2", "n_reps=１２", "n_reps=1e1", "n_reps=+1_2",
                                  "hw_margin=1_0", "years=٣"])
def test_parse_assignment_refuses_what_int_and_float_accept(text, assert_one_line_error):
    with pytest.raises(ValueError) as excinfo:
        parse_assignment(text)
    assert_one_line_error(excinfo, text.partition("=")[0], "digits 0-9")


# ====================================================================== 3. caps (subprocess)
CAP_CASES = [
    ("compare-replicates", ["compare", "overlay", "planned", "--replicates", "1000000000000",
                            "--out", "c"], "--replicates", f"{MAX_REPLICATES:,}"),
    ("compare-replicates-cap+1", ["compare", "overlay", "planned", "--replicates",
                                  str(MAX_REPLICATES + 1), "--out", "c"], "--replicates", "cap"),
    ("compare-series-memory", ["compare", "overlay", "planned", "--replicates",
                               str(MAX_REPLICATES), "--out", "c"], "--replicates", "GiB"),
    ("blame-replicates", ["blame", "--replicates", "1000000000000", "--out", "b"],
     "--replicates", f"{MAX_REPLICATES:,}"),
    ("catalogue-replicates", ["catalogue", "--replicates", "1000000000000", "--path", "x.md"],
     "--replicates", f"{MAX_REPLICATES:,}"),
    ("factorial-replicates", ["factorial", "--replicates", "1000000000000", "--path", "x.md"],
     "--replicates", f"{MAX_REPLICATES:,}"),
    ("factorial-culture-replicates", ["factorial", "--culture-replicates", "0", "--path",
                                      "x.md"], "--culture-replicates", f"{MAX_REPLICATES:,}"),
    ("validate-replicates", ["validate", "--replicates", "1000000000000"], "--replicates",
     f"{MAX_REPLICATES:,}"),
    ("compare-workers", ["compare", "overlay", "planned", "--workers", "100000", "--out", "c"],
     "--workers", f"[1, {max_workers()}]"),
    ("compare-workers-cap+1", ["compare", "overlay", "planned", "--workers",
                               str(max_workers() + 1), "--out", "c"], "--workers", "CPU"),
    ("blame-workers", ["blame", "--workers", "100000", "--out", "b"], "--workers", "cap"),
    ("catalogue-workers", ["catalogue", "--workers", "0", "--path", "x.md"], "--workers", "cap"),
    ("compare-stride", ["compare", "overlay", "planned", "--stride", "99999999999",
                        "--out", "c"], "--stride", "[0, 7300]"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "argument", "needle"), [c[1:] for c in CAP_CASES],
                         ids=[c[0] for c in CAP_CASES])
def test_caps_refused_at_once(tmp_path, argv, argument, needle):
    before = listing(tmp_path)
    proc, seconds = run_subprocess(argv, tmp_path)
    assert_one_line(proc.returncode, proc.stderr, argument, needle)
    assert proc.stdout == ""
    assert seconds < HARD_TIMEOUT
    assert listing(tmp_path) == before


def test_caps_leave_room_for_normal_values():
    from dealersim.cli.common import replicates_type, workers_type

    assert replicates_type(str(MAX_REPLICATES)) == MAX_REPLICATES
    assert workers_type(str(max_workers())) == max_workers()
    assert 1 <= max_workers() <= 256


# ====================================================================== 4. compare's strategies
STRATEGY_CASES = [
    ("alone", ["compare", "overlay", "--out", "c"], "STRATEGY", ["at least two", STRATEGIES]),
    ("unknown", ["compare", "overlay", "bogus", "--out", "c"], "STRATEGY",
     ["'bogus'", STRATEGIES]),
    ("twice", ["compare", "overlay", "overlay", "--out", "c"], "STRATEGY",
     ["twice", STRATEGIES]),
    ("none", ["compare", "--out", "c"], "the following arguments are required", ["STRATEGY"]),
    ("run-unknown", ["run", "--strategy", "bogus"], "--strategy", ["'bogus'", STRATEGIES]),
    ("run-full-width", ["run", "--strategy", "ｏverlay"], "--strategy", ["unknown", STRATEGIES]),
]


@pytest.mark.parametrize(("argv", "argument", "needles"), [c[1:] for c in STRATEGY_CASES],
                         ids=[c[0] for c in STRATEGY_CASES])
def test_strategies(cli_in, argv, argument, needles):
    cli_in(argv, argument, *needles)


# ====================================================================== 5. run --out
def test_run_out_non_empty_needs_force(cli_in, tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "mine.txt").write_text("keep me")
    cli_in(["run", "--years", "0.25", "--out", "full"], "--out", "not empty", "--force")
    assert (full / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("make", "argv", "needle"),
    [
        ("file", ["run", "--out", "blocker"], "is a file"),
        ("file", ["run", "--out", "blocker/sub"], "which is a file"),
        (None, ["run", "--out", ""], "empty"),
        (None, ["run", "--out", "two\nlines"], "control characters"),
        (None, ["run", "--out", "~no-such-user-here/x"], "no such home directory"),
        ("file", ["compare", "overlay", "planned", "--out", "blocker"], "is a file"),
        ("full", ["compare", "overlay", "planned", "--out", "full"], "--force"),
        ("full", ["blame", "--out", "full"], "--force"),
        ("dir", ["catalogue", "--path", "adir"], "is a directory"),
        ("file", ["catalogue", "--path", "blocker/x.md"], "is a file"),
        ("dir", ["docs", "--path", "adir"], "is a directory"),
        ("file", ["docs", "--path", "blocker/model.md"], "is a file"),
        (None, ["docs", "--path", "/dev/null"], "not a regular file"),
    ],
    ids=["is-file", "under-file", "empty", "newline", "no-such-home", "compare-file",
         "compare-full", "blame-full", "catalogue-dir", "catalogue-under-file", "docs-dir",
         "docs-under-file", "docs-device"],
)
def test_out_paths(cli_in, tmp_path, make, argv, needle):
    if make == "file":
        (tmp_path / "blocker").write_text("x")
    elif make == "full":
        (tmp_path / "full").mkdir()
        (tmp_path / "full" / "mine.txt").write_text("x")
    elif make == "dir":
        (tmp_path / "adir").mkdir()
    argument = "--path" if "--path" in argv else "--out"
    cli_in(argv, argument, needle)


@pytest.mark.slow
def test_run_out_force_replaces_and_writes_all(tmp_path, capsys):
    full = tmp_path / "full"
    full.mkdir()
    (full / "old.txt").write_text("old")
    assert main(["run", "--years", "0.25", "--seed", "1", "--out", str(full), "--force"]) == 0
    names = sorted(p.name for p in full.iterdir())
    assert names == ["events.csv", "ledger.parquet", "main_curves.png", "summary.json",
                     "timeseries.csv"]
    assert listing(tmp_path) == sorted(["full", *(f"full/{n}" for n in names)])
    assert f"wrote: {full / 'timeseries.csv'}" in capsys.readouterr().out


@pytest.mark.parametrize("failure", ["disk-full", "interrupt-while-writing",
                                     "interrupt-while-simulating"])
def test_run_out_nothing_partial_on_failure(tmp_path, capsys, monkeypatch, failure):
    import dealersim.cli.run as run_module

    def save_then_fail(result, out):
        (Path(out) / "timeseries.csv").write_text("partial")
        if failure == "disk-full":
            raise OSError(28, "No space left on device")
        raise KeyboardInterrupt

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    if failure == "interrupt-while-simulating":
        monkeypatch.setattr(run_module, "simulate", interrupted)
    else:
        monkeypatch.setattr(run_module, "save_run", save_then_fail)
    code = main(["run", "--years", "0.25", "--out", str(tmp_path / "a" / "run")])
    err = capsys.readouterr().err
    assert code == (1 if failure == "disk-full" else 130)
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert listing(tmp_path) == []  # no run, no temporary directory, no parent made for it


# ====================================================================== 6. scenario files
SCENARIO_CASES = [
    ("directory", None, "not a regular file"),
    ("binary", b"\x00\xff\xfe\x01" * 10, "binary"),
    ("nul-in-utf8", b'strategy = "planned"\x00\n', "binary"),
    ("latin-1", 'description = "caf\xe9"\n'.encode("latin-1"), "binary"),
    ("oversize", b"# x\n" * (scenario.MAX_BYTES // 4 + 10), "larger than"),
    ("toml-error", b'strategy = "planned"\n\n[params\nn_reps = 3\n', "line 3"),
    ("underscore", b"[params]\nn_reps = 1_2\n", "line 2: '1_2'"),
    ("underscore-float", b"[params]\nhw_margin = 0.3_0\n", "line 2"),
    ("hex-seed", b"seed = 0x10\n", "line 1: '0x10'"),
    ("octal", b"[params]\nn_reps = 0o14\n", "'0o14'"),
    ("inline-table", b"params = { n_reps = 1_2 }\n", "'1_2'"),
    ("full-width", "[params]\nn_reps = １２\n".encode(), "not valid TOML"),
    ("seed-32-digits", b"seed = 99999999999999999999999999999999\n", SEED_RANGE),
    ("seed-2**63", f"seed = {SEED_MAX + 1}\n".encode(), SEED_RANGE),
    ("seed-float", b"seed = 1.0\n", SEED_RANGE),
    ("seed-bool", b"seed = true\n", SEED_RANGE),
    ("n_reps-bool", b"[params]\nn_reps = true\n", "[2, 50]"),
    ("newline-key", b'[params]\n"a\\nb" = 1\n', "unknown parameter"),
]


@pytest.mark.parametrize(("content", "needle"), [c[1:] for c in SCENARIO_CASES],
                         ids=[c[0] for c in SCENARIO_CASES])
def test_scenario_files(cli_in, tmp_path, content, needle):
    path = tmp_path / "s.toml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    cli_in(["run", "--scenario", "s.toml"], "--scenario: s.toml", needle)
    with pytest.raises(ValueError) as excinfo:
        scenario.load(path)
    assert needle in str(excinfo.value) and "\n" not in str(excinfo.value)


def test_scenario_strings_and_comments_may_hold_odd_numbers(tmp_path):
    """Only number *values* are refused: text in strings and comments is left alone."""
    text = ('description = """n_reps = 1_2\nseed = 0x10"""\n'
            "seed = 3 # seed = 1_2\n[params]\nn_reps = 12\n")
    sc = scenario.loads(text)
    assert sc.seed == 3 and sc.params == {"n_reps": 12}


@pytest.mark.slow
def test_docs_path_fifo_does_not_hang(tmp_path):
    os.mkfifo(tmp_path / "model.md")
    before = listing(tmp_path)
    proc, seconds = run_subprocess(["docs", "--path", "model.md"], tmp_path)
    assert_one_line(proc.returncode, proc.stderr, "--path", "not a regular file")
    assert seconds < HARD_TIMEOUT
    assert listing(tmp_path) == before


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "dev-urandom"])
def test_scenario_special_files_do_not_hang(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "pipe.toml"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero" if kind == "dev-zero" else "/dev/urandom")
        if not path.exists():
            pytest.skip(f"{path} does not exist here")
    before = listing(tmp_path)
    proc, seconds = run_subprocess(["run", "--scenario", str(path)], tmp_path)
    assert_one_line(proc.returncode, proc.stderr, f"--scenario: {path}", "not a regular file")
    assert seconds < HARD_TIMEOUT
    assert listing(tmp_path) == before
    with pytest.raises(ValueError, match="not a regular file"):  # and in process, the loader
        scenario.load(path)


def test_scenario_missing_file(cli_in):
    cli_in(["run", "--scenario", "nope.toml"], "--scenario: nope.toml", "cannot read")


# ====================================================================== 7. the Python API
API_CASES = [
    ("seed-text", lambda: simulate(seed="abc"), "seed", SEED_RANGE),
    ("seed-negative", lambda: simulate(seed=-1), "seed", SEED_RANGE),
    ("seed-2**64", lambda: simulate(seed=2**64), "seed", SEED_RANGE),
    ("seed-2**63", lambda: simulate(seed=SEED_MAX + 1), "seed", SEED_RANGE),
    ("seed-huge", lambda: simulate(seed=10**5000), "seed", "digits"),
    ("seed-float", lambda: simulate(seed=1.0), "seed", SEED_RANGE),
    ("seed-bool", lambda: simulate(seed=True), "seed", SEED_RANGE),
    ("seed-numpy-uint64", lambda: simulate(seed=np.uint64(2**64 - 1)), "seed", SEED_RANGE),
    ("years-text", lambda: simulate(years="x"), "years", "[0.25, 20]"),
    ("years-zero", lambda: simulate(years=0), "years", "[0.25, 20]"),
    ("years-nan", lambda: simulate(years=float("nan")), "years", "[0.25, 20]"),
    ("strategy-with-params", lambda: simulate("bogus", params=Params()), "strategy",
     STRATEGIES),
    ("strategy-not-text", lambda: simulate(["overlay"]), "strategy", STRATEGIES),
    ("params-not-params", lambda: simulate(params={"n_reps": 3}), "params", "Params object"),
    ("unknown-kwarg", lambda: simulate(foo=1), "'foo'", "unknown parameter"),
    ("unknown-kwarg-with-params", lambda: simulate(params=Params(), foo=1), "'foo'",
     "unknown parameter"),
    ("record_every-negative", lambda: DealershipModel(record_every=-1), "record_every", ">= 0"),
    ("record_every-float", lambda: DealershipModel(record_every=1.5), "record_every", ">= 0"),
    ("record_every-bool", lambda: DealershipModel(record_every=True), "record_every", ">= 0"),
    ("record_every-text", lambda: DealershipModel(record_every="2"), "record_every", ">= 0"),
    ("rng-negative", lambda: DealershipModel(rng=-1), "rng", SEED_RANGE),
    ("rng-text", lambda: DealershipModel(rng="x"), "rng", SEED_RANGE),
    ("rng-2**63", lambda: DealershipModel(rng=SEED_MAX + 1), "rng", SEED_RANGE),
    ("model-strategy", lambda: DealershipModel("bogus", params=Params()), "strategy",
     STRATEGIES),
    ("model-unknown-kwarg", lambda: DealershipModel(foo=1), "'foo'", "unknown parameter"),
    ("params-bool-int", lambda: Params(n_reps=True), "n_reps", "[2, 50]"),
    ("params-text-int", lambda: Params(n_reps="12"), "n_reps", "[2, 50]"),
    ("params-fraction-int", lambda: Params(n_reps=12.5), "n_reps", "[2, 50]"),
    ("params-huge-int", lambda: Params(n_reps=10**5000), "n_reps", "[2, 50]"),
    ("params-overflow-float", lambda: Params(hw_margin=10**400), "hw_margin", "[0.05, 0.6]"),
    ("params-bool-float", lambda: Params(hw_margin=False), "hw_margin", "[0.05, 0.6]"),
    ("params-choice-int", lambda: Params(credit_policy=1), "credit_policy", "one of"),
    ("params-choice-list", lambda: Params(credit_policy=["none"]), "credit_policy", "one of"),
    ("params-bool-text", lambda: Params(rules_of_engagement="yes"), "rules_of_engagement",
     "true or false"),
]


@pytest.mark.parametrize(("call", "argument", "needle"), [c[1:] for c in API_CASES],
                         ids=[c[0] for c in API_CASES])
def test_api_one_line_value_error(call, argument, needle, tmp_path, monkeypatch,
                                  assert_one_line_error):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as excinfo:
        call()
    message = assert_one_line_error(excinfo, needle)
    assert message.startswith(f"{argument}:"), message
    for numpy_own in ("expects int or sequence of ints", "expected non-negative integer"):
        assert numpy_own not in message
    assert listing(tmp_path) == []


def test_api_accepts_the_range_ends():
    """The seed range's ends and numpy integers are fine; a model builds without running."""
    assert DealershipModel(rng=SEED_MAX, years=0.25).seed == SEED_MAX
    assert DealershipModel(rng=np.int64(0), years=0.25, record_every=np.int32(0)).seed == 0
    assert DealershipModel(rng=np.random.default_rng(1), years=0.25).seed is None


# ====================================================================== 8. dashboard options
@pytest.mark.parametrize(
    ("args", "argument", "needle"),
    [(["--port", "８７６５"], "--port", "digits 0-9"),
     (["--port", "8_765"], "--port", "digits 0-9"),
     (["--port", "0"], "--port", "[1, 65535]"),
     (["--port", "65536"], "--port", "[1, 65535]"),
     (["--port", "+80"], "--port", "sign"),
     (["--host", "http://x"], "--host", "host name"),
     (["--host", "a b"], "--host", "host name"),
     (["--host", "ｌocalhost"], "--host", "host name")],
    ids=["full-width", "underscore", "zero", "above", "sign", "scheme", "space", "non-ascii"],
)
def test_dashboard_options(cli_in, monkeypatch, args, argument, needle):
    def no_server(*a, **k):
        raise AssertionError("the server was started for bad input")

    monkeypatch.setattr(subprocess, "Popen", no_server)
    cli_in(["dashboard", *args], argument, needle)


# ====================================================================== deep and huge TOML
DEEP_LEVELS = 5_000


def deep_toml_cases() -> list[tuple[str, str]]:
    """Ways to nest a TOML document 5,000 levels deep: arrays, inline tables, table headers."""
    return [
        ("arrays", "x = " + "[" * DEEP_LEVELS + "]" * DEEP_LEVELS + "\n"),
        ("inline-tables", "x = " + "{a = " * DEEP_LEVELS + "1" + "}" * DEEP_LEVELS + "\n"),
        ("dotted-header", "[" + ".".join(["a"] * DEEP_LEVELS) + "]\nb = 1\n"),
    ]


TOML_COMMANDS = {
    "run": lambda f: ["run", "--scenario", f],
    "sweep": lambda f: ["sweep", f, "--out", "o"],
    "calibrate": lambda f: ["calibrate", f, "--out", "o"],
}


@pytest.mark.slow
@pytest.mark.parametrize("command", list(TOML_COMMANDS))
@pytest.mark.parametrize(("shape", "text"), deep_toml_cases(),
                         ids=[c[0] for c in deep_toml_cases()])
def test_deep_toml_one_line(tmp_path, command, shape, text):
    """A TOML nested 5,000 levels deep: one line naming the depth cap, exit 2, nothing written."""
    (tmp_path / "deep.toml").write_text(text)
    before = listing(tmp_path)
    proc, seconds = run_subprocess(TOML_COMMANDS[command]("deep.toml"), tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert "nested more than 16 levels" in proc.stderr and "deep.toml" in proc.stderr
    assert listing(tmp_path) == before and seconds < 30


def test_parse_toml_caps(assert_one_line_error):
    from dealersim.base.io import TOML_MAX_DEPTH, parse_toml

    ok = "x = " + "[" * (TOML_MAX_DEPTH - 1) + "]" * (TOML_MAX_DEPTH - 1)
    assert parse_toml(ok)  # the cap itself is allowed
    with pytest.raises(ValueError) as exc:
        parse_toml("x = " + "[" * TOML_MAX_DEPTH + "]" * TOML_MAX_DEPTH, "f.toml")
    assert_one_line_error(exc, "f.toml", "nested more than")
    with pytest.raises(ValueError) as exc:
        parse_toml("#" * (2 << 20), "f.toml")
    assert_one_line_error(exc, "f.toml", "larger than 1,048,576 bytes")


@pytest.mark.slow
def test_calibrate_spec_over_the_cap_refused_before_any_run(tmp_path):
    """A 2.5 MB calibration spec: one line, exit 2, no history.db, no directory."""
    spec = tmp_path / "big.toml"
    spec.write_text('name = "big"\n' + "# padding\n" * 250_000)  # 2.5 MB
    assert spec.stat().st_size > 2_400_000
    before = listing(tmp_path)
    proc, seconds = run_subprocess(["calibrate", "big.toml", "--out", "cal"], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "larger than 1,048,576 bytes" in proc.stderr
    assert listing(tmp_path) == before and seconds < 30


def test_scenario_over_the_cap_is_the_same_cap():
    from dealersim.base.io import TOML_MAX_BYTES
    from dealersim.studies.sweeps.spec import MAX_SPEC_BYTES

    assert scenario.MAX_BYTES == MAX_SPEC_BYTES == TOML_MAX_BYTES


# ====================================================================== refused before running
def test_advise_resume_on_a_missing_directory(cli_in):
    cli_in(["advise", "--out", "nowhere", "--resume"], "--resume", "does not exist",
           "study.journal")


def test_advise_resume_on_an_empty_directory(cli_in, tmp_path):
    (tmp_path / "empty").mkdir()
    cli_in(["advise", "--out", "empty", "--resume"], "--resume", "holds no advise study")


def test_discover_out_non_empty_refused_before_simulating(cli_in, tmp_path):
    (tmp_path / "where").mkdir()
    (tmp_path / "where" / "keep.txt").write_text("mine")
    (tmp_path / "cal").mkdir()
    cli_in(["discover", "cal", "--out", "where"], "--out", "not empty", "--force")


@pytest.mark.parametrize(("argv", "argument"), [
    (["discover", "cal", "--seed", " 5"], "--seed"),
    (["discover", "cal", "--runs", "1_0"], "--runs"),
])
def test_discover_numbers_plain_digits(cli_in, argv, argument):
    cli_in(argv, argument, "digits 0-9" if argument == "--runs" else "blanks")


@pytest.fixture
def silent_address():
    """``tcp://127.0.0.1:PORT`` of a socket that accepts connections and never answers."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    yield f"tcp://127.0.0.1:{s.getsockname()[1]}"
    s.close()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["sweep", "calibrate", "advise"])
def test_unanswering_scheduler_one_line_within_30_s(tmp_path, silent_address, command):
    """A scheduler address that accepts and never answers: one line, exit 2, within 30 s."""
    (tmp_path / "s.toml").write_text((Path(__file__).parents[1] / "experiments" / (
        "calibration.toml" if command == "calibrate" else "tipping_point.toml")).read_text())
    argv = {"sweep": ["sweep", "s.toml"], "calibrate": ["calibrate", "s.toml"],
            "advise": ["advise"]}[command] + ["--out", "o", "--scheduler", silent_address]
    before = listing(tmp_path)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "dealersim", *argv], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=60)
    seconds = time.monotonic() - start
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert "--scheduler" in proc.stderr and "no answer within" in proc.stderr
    assert seconds < 30, seconds
    assert listing(tmp_path) == before
