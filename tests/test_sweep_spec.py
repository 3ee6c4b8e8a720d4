"""Sweep specs: validation from Params metadata, one-line errors with exit 2, samplers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dealersim.cli import main
from dealersim.model.params import field_specs, spec
from dealersim.model.strategies import strategy_overrides
from dealersim.studies.sweeps import (
    SpecError,
    design,
    load_spec,
    parse_spec_text,
    run_id,
    run_specs,
)

ROOT = Path(__file__).resolve().parents[1]
GOOD = """
name = "t"
strategy = "overlay"
sampler = "grid"
replicates = 2
seed = 5
[fixed]
years = 0.25
[factors]
wall_initial = {low = 0.1, high = 0.5, levels = 3}
credit_policy = ["none", "double"]
"""


def _bad(tmp_path: Path, text: str, capsys) -> str:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert not (out / "runs").exists(), "work started before the spec was validated"
    return lines[0]


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        (GOOD.replace("wall_initial =", "wall_initail ="), ["wall_initail", "wall_initial"]),
        (GOOD.replace("high = 0.5", "high = 1.5"), ["wall_initial", "[0, 1]"]),
        (GOOD.replace('"double"]', '"triple"]'), ["credit_policy", "none, split, double, team"]),
        (GOOD.replace('sampler = "grid"', 'sampler = "magic"'), ["sampler", "sobol"]),
        (GOOD.replace("replicates = 2", "replicates = 0"), ["replicates", "from 1 to"]),
        (GOOD.replace("replicates = 2", "replicates = 2\nreplicates = 3"), ["not valid TOML"]),
        (GOOD.replace("replicates = 2", "samples = 0"), ["samples", "from 1 to"]),
        (GOOD.replace("[fixed]", "[fixd]"), ["fixd", "unknown key"]),
        (GOOD.replace("years = 0.25", "years = 0.1"), ["years", "[0.25, 20]"]),
        (GOOD.replace("years = 0.25", "yeers = 1"), ["yeers", "unknown parameter"]),
        (GOOD.replace('["none", "double"]', '{low = 0, high = 1}'),
         ["credit_policy", "list"]),
        (GOOD.replace("levels = 3}", "levels = 3, step = 2}"), ["step", "unknown key"]),
        (GOOD.replace("[factors]", "[factors]\nn_reps = [1, 4]"), ["n_reps", "[2, 50]"]),
        ('name = "x"\nsampler = [', ["not valid TOML"]),
    ],
)
def test_bad_specs_fail_in_one_line_with_exit_2(tmp_path, capsys, text, needles):
    line = _bad(tmp_path, text, capsys)
    assert line.startswith("dealersim: error: ")
    for n in needles:
        assert n in line, line


def test_missing_spec_file_is_a_usage_error(tmp_path, capsys):
    code = main(["sweep", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "cannot read" in capsys.readouterr().err


def test_bad_options_fail_in_one_line(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(GOOD)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--scheduler", "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "--workers" in err[0] and "--scheduler" in err[1]


@pytest.mark.slow
def test_cli_subprocess_exit_code_2(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(GOOD.replace("high = 0.5", "high = 7"))
    exe = str(Path(sys.executable).parent / "dealersim")
    proc = subprocess.run([exe, "sweep", str(path), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "wall_initial" in proc.stderr


def test_grid_design_and_ids():
    s = parse_spec_text(GOOD)
    pts = design(s)
    assert len(pts) == 6
    assert pts[0] == {"wall_initial": 0.1, "credit_policy": "none"}
    assert {p["wall_initial"] for p in pts} == {0.1, 0.3, 0.5}
    runs = run_specs(s)
    assert [r.run_id for r in runs] == sorted(r.run_id for r in runs)
    assert len({r.run_id for r in runs}) == 12 and runs[1].run_id == run_id(0, 1)
    assert len({r.seed for r in runs}) == 12
    assert dict(runs[0].overrides)["years"] == 0.25


@pytest.mark.parametrize("sampler", ["random", "lhs", "sobol", "morris"])
def test_samplers_stay_in_params_bounds_and_are_deterministic(sampler):
    text = f"""
sampler = "{sampler}"
samples = 8
[factors]
wall_initial = {{low = 0.1, high = 0.5}}
n_reps = {{low = 4, high = 12}}
credit_policy = ["none", "split", "double"]
rules_of_engagement = [false, true]
"""
    s = parse_spec_text(text)
    pts = design(s)
    assert pts == design(parse_spec_text(text))
    expected = {"random": 8, "lhs": 8, "sobol": 8 * (4 + 2), "morris": 8 * (4 + 1)}[sampler]
    assert len(pts) == expected
    for p in pts:
        assert 0.1 <= p["wall_initial"] <= 0.5
        assert isinstance(p["n_reps"], int) and 4 <= p["n_reps"] <= 12
        assert p["credit_policy"] in ("none", "split", "double")
        assert p["rules_of_engagement"] in (False, True)
        for name, value in p.items():
            spec(name).coerce(value)
    assert {p["credit_policy"] for p in pts} == {"none", "split", "double"}


def test_factors_from_grades_follow_params_metadata():
    s = parse_spec_text('sampler = "sobol"\nfactors_from_grades = ["U", "C"]\n'
                        "[factors]\nn_reps = {low = 4, high = 12}\n")
    expected = [f.name for f in field_specs() if f.kind in ("int", "float")
                and f.grade in ("U", "C") and f.group != "simulation"]
    assert s.factor_names == expected
    by = {f.name: f for f in s.factors}
    assert (by["n_reps"].low, by["n_reps"].high) == (4, 12)  # narrowed explicitly
    other = next(n for n in expected if n != "n_reps")
    assert (by[other].low, by[other].high) == (spec(other).low, spec(other).high)
    problem = s.salib_problem()
    assert problem["names"] == expected and problem["num_vars"] == len(expected)


def test_shipped_experiments_are_valid():
    # every sweep spec shipped (calibration.toml is a calibration spec: tests/test_calibrate.py)
    names = {p.stem for p in (ROOT / "experiments").glob("*.toml")} - {"calibration"}
    assert {"launch_levers", "tipping_point", "sensitivity"} <= names
    for name in names:
        s = load_spec(ROOT / "experiments" / f"{name}.toml")
        assert design(s)
    sens = load_spec(ROOT / "experiments" / "sensitivity.toml")
    assert sens.sampler == "sobol"
    graded = {f.name for f in field_specs() if f.kind in ("int", "float")
              and f.grade in ("U", "C") and f.group != "simulation"}
    assert set(sens.factor_names) == graded
    levers = load_spec(ROOT / "experiments" / "launch_levers.toml")
    assert levers.strategy == "planned" and levers.sampler == "oat"
    assert set(levers.factor_names) == set(strategy_overrides("planned"))


def test_spec_error_is_a_value_error_with_one_line():
    with pytest.raises(SpecError) as exc:
        parse_spec_text("[factors]\nwall_initial = [2.0]\n")
    assert isinstance(exc.value, ValueError) and "\n" not in str(exc.value)
