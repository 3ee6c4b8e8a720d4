"""Scenario TOML files: round trip, validation like Params, and ``dealersim run --scenario``."""

from __future__ import annotations

import pytest

from dealersim.cli import main
from dealersim.model import scenario
from dealersim.model.params import spec
from dealersim.model.strategies import make_params


def test_round_trip(tmp_path):
    params = make_params("planned", n_reps=12, accounts_per_rep=150, credit_policy="split")
    sc = scenario.Scenario.from_params("planned", 7, params, description="Acme Copiers")
    assert sc.params == {"n_reps": 12, "accounts_per_rep": 150, "credit_policy": "split"}
    path = scenario.save(sc, tmp_path / "acme.toml")
    back = scenario.load(path)
    assert back == sc
    assert back.to_params() == params


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ('[params]\nn_reps = 999\n', ["params.n_reps", "999", "[2, 50]"]),
        ('[params]\nnot_a_field = 1\n', ["params.not_a_field", "unknown parameter"]),
        ('strategy = "yolo"\n', ["strategy", "yolo", "overlay"]),
        ('seed = -1\n', ["seed", "-1"]),
        ('colour = "red"\n', ["colour", "unknown key"]),
        ('[params]\ncredit_policy = "triple"\n', ["params.credit_policy", "one of"]),
        ('[params]\nrules_of_engagement = "yes"\n',
         ["params.rules_of_engagement", "true or false"]),
        ('params = 3\n', ["params"]),
        ('__import__("os").system("echo pwned")\n', ["not valid TOML"]),
    ],
)
def test_bad_files_give_one_line_errors(text, needles, assert_one_line_error, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as excinfo:
        scenario.load(path)
    assert_one_line_error(excinfo, str(path), *needles)


def test_error_names_range_from_params_metadata():
    with pytest.raises(ValueError, match=r"\[2, 50\]"):
        scenario.loads("[params]\nn_reps = 1\n")
    assert spec("n_reps").allowed() == "[2, 50]"


def test_binary_and_huge_files_rejected(tmp_path, assert_one_line_error):
    bad = tmp_path / "bin.toml"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError) as excinfo:
        scenario.load(bad)
    assert_one_line_error(excinfo, "UTF-8")
    big = tmp_path / "big.toml"
    big.write_text("# x\n" * (scenario.MAX_BYTES // 4 + 10))
    with pytest.raises(ValueError) as excinfo:
        scenario.load(big)
    assert_one_line_error(excinfo, "larger than")


def test_cli_run_accepts_scenario(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('strategy = "planned"\nseed = 3\n[params]\nn_reps = 4\nyears = 0.5\n')
    assert main(["run", "--scenario", str(path)]) == 0
    out = capsys.readouterr().out
    assert "strategy 'planned', seed 3" in out
    assert "n_reps=4" in out


def test_cli_run_set_wins_over_scenario(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('strategy = "planned"\n[params]\nn_reps = 4\nyears = 0.5\n')
    assert main(["run", "--scenario", str(path), "--set", "n_reps=5", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "n_reps=5" in out and "seed 2" in out


@pytest.mark.parametrize(
    ("text", "needle"),
    [('[params]\nn_reps = 999\n', "params.n_reps: 999 is not allowed; expected [2, 50]"),
     ("this is = not toml = at all\n", "not valid TOML")],
)
def test_cli_bad_scenario_exit_2_one_line(tmp_path, capsys, text, needle):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["run", "--scenario", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and needle in err and "Traceback" not in err


def test_cli_missing_scenario_and_strategy_conflict(tmp_path, capsys):
    assert main(["run", "--scenario", str(tmp_path / "nope.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err
    path = tmp_path / "s.toml"
    path.write_text('strategy = "planned"\n')
    assert main(["run", "--scenario", str(path), "--strategy", "hardware_only"]) == 2
    assert "conflicts" in capsys.readouterr().err
