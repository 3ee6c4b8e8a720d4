"""Calibration (ABC-SMC), the posterior as an input to compare, and scenario discovery.

The calibrations here are tiny (4 parameter sets a generation, 2 generations, 1 run per arm at
4 reps): they test the machinery (determinism, resume, outputs, bad input), not the posterior.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from sweep_watch import default_sigint

from dealersim.cli import main
from dealersim.model.params import spec
from dealersim.model.strategies import strategy_overrides
from dealersim.studies import advise
from dealersim.studies.blame import blame_specs
from dealersim.studies.calibrate import (
    PREDICTED_ARMS,
    TARGETS,
    CalibrationError,
    CalibrationSpec,
    Prior,
    default_parameters,
    lever_fields,
    load_calibration,
    parameters_frame,
    parse_spec,
    prediction_markdown,
    prediction_table,
    run_calibration,
    standardised_transition,
    transition,
    weighted_quantile,
)
from dealersim.studies.compare import run_compare
from dealersim.studies.discover import Discovery, _cart_boxes, _prim_box, discover
from dealersim.studies.posterior import draw, load_posterior, robustness
from dealersim.studies.sweeps import parse_spec_text, run_sweep
from dealersim.studies.validation import CHECKS

TINY = """
name = "tiny"
seed = 11
sizes = [4]
patterns = ["P5", "overlay launch success"]
[budget]
population = 4
generations = 2
replicates = 1
max_simulations = 40
predictive = 3
predictive_replicates = 1
[parameters]
include = ["renewal_loss", "specialist_skill"]
around_default = 0.3
"""
DEALERSIM = str(Path(sys.executable).parent / "dealersim")
FIXED_ADVISE = {"years": 1.0, "n_reps": 4}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[CalibrationSpec, Path]:
    out = tmp_path_factory.mktemp("cal") / "cal"
    spec = parse_spec(TINY)
    run_calibration(spec, out, spec_text=TINY, workers=1)
    return spec, out


# ------------------------------------------------------------------ targets and spec
def test_every_check_has_a_numeric_target_that_agrees_with_its_pass_rule():
    assert set(TARGETS) == {c.what for c in CHECKS if c.is_pattern}
    for check in CHECKS:
        finite = [v for v in (check.low, check.high) if math.isfinite(v)]
        probes = [v + d for v in finite for d in (-1e-3, 1e-3)] + [-1e3, 1e3]
        probes += [(check.low + check.high) / 2] if len(finite) == 2 else []
        for v in probes:
            assert check.ok(v) == (check.low <= v <= check.high), (check.what, v)
        inside = 0.5 * (check.low + check.high) if len(finite) == 2 else finite[0]
        assert check.gap(inside) == 0
        assert check.gap(float("nan")) > 0


@pytest.mark.parametrize("patterns, where", [
    ('["P4"]', "'P4' is a prediction"),
    ('["P9"]', "'P9' is a prediction"),
    ('["planned launch success"]', "'planned launch success' is a prediction"),
    ('["overlay + quota ramp alone"]', "is a prediction"),
    ('["P8"]', "'P8' is or holds a prediction"),
    ('["P6"]', "'P6' is a prediction"),
])
def test_spec_refuses_a_prediction_in_one_line(patterns, where):
    with pytest.raises(CalibrationError, match=where) as exc:
        parse_spec(f"patterns = {patterns}")
    assert "\n" not in str(exc.value) and isinstance(exc.value, ValueError)


def test_default_patterns_are_every_pattern_and_no_prediction():
    spec = parse_spec("")
    assert set(spec.checks) == set(TARGETS)
    assert not {"planned", "planned_long"} & set(spec.arms)
    assert not any(a in spec.arms for a in ("overlay_credit", "overlay_rules"))


def test_shipped_spec_fits_patterns_only_at_three_sizes_with_enough_parameters():
    from dealersim.studies.calibrate import read_spec
    from dealersim.studies.validation import CHECKS as ALL

    _, spec = read_spec(Path(__file__).parents[1] / "experiments" / "calibration.toml")
    kinds = {c.what: c.is_pattern for c in ALL}
    assert all(kinds[c] for c in spec.checks)  # no prediction
    assert not {"planned", "planned_long"} & set(spec.arms)
    assert spec.sizes == (4, 8, 12) and spec.budget.population >= 200
    names = {p.name for p in spec.priors}
    assert len(names) >= 20
    assert {"culture_spread", "culture_goodwill", "open_culture_level", "wall_initial",
            "wall_spread", "wall_touch_shock", "complaint_level", "wall_block_level",
            "wall_relax_days", "launch_surprise", "deal_taken_shock", "dial_minutes",
            "permission_minutes", "lookup_minutes", "intro_rate", "own_account_preference",
            "quit_gap_weight", "quit_morale_weight", "job_offer_rate", "reservation_income",
            "morale_cut", "renewal_loss", "competitor_win_rate"} <= names
    assert not names & lever_fields()


def test_default_parameters_are_unsourced_and_never_levers():
    names = default_parameters()
    assert len(names) > 50
    assert not set(names) & lever_fields()
    assert "n_reps" not in names and "years" not in names
    assert set(lever_fields()) >= set(strategy_overrides("planned"))
    spec = parse_spec('patterns = ["P1"]')
    assert [p.name for p in spec.priors] == names  # default: every U/C field, full bounds
    assert spec.arms == ("overlay",) and spec.sizes == (8,)


def test_around_default_and_ranges_narrow_the_prior():
    spec = parse_spec(TINY + "[parameters.ranges]\nspecialist_skill = [0.9, 1.1]\n")
    priors = {p.name: p for p in spec.priors}
    assert priors["renewal_loss"].low == pytest.approx(0.42 * 0.7)
    assert priors["renewal_loss"].high == pytest.approx(0.42 * 1.3)
    assert (priors["specialist_skill"].low, priors["specialist_skill"].high) == (0.9, 1.1)


@pytest.mark.parametrize("text, where", [
    ("bogus = 1", "unknown key 'bogus'"),
    ('patterns = ["P42"]', "patterns: 'P42' is unknown"),
    ("patterns = []", "patterns: expected a non-empty list"),
    ('[parameters]\ninclude = ["rep_training"]', "strategy lever"),
    ('[parameters]\ninclude = ["no_such"]', "'no_such' is not a parameter"),
    ('[parameters]\ninclude = ["credit_policy"]', "choice field"),
    ('[parameters]\ninclude = ["renewal_loss"]\n[parameters.ranges]\nrenewal_loss = [0.5, 0.2]',
     "parameters.ranges.renewal_loss"),
    ("[budget]\npopulation = 1", "budget.population: 1 is not allowed"),
    ("[budget]\nreplicates = true", "budget.replicates"),
    ("seed = -1", "seed"),
    ("sizes = [4, 4]", "repeats a size"),
    ("name = [", "not valid TOML"),
    ('kernel = "local"', "kernel: 'local' is not allowed; expected one of product, joint"),
    ('distance = "mean"', "distance: 'mean' is not allowed; expected one of per_size, pooled"),
])
def test_bad_specs_are_refused_in_one_line(text, where):
    with pytest.raises(CalibrationError) as exc:
        parse_spec(text)
    assert where in str(exc.value) and "\n" not in str(exc.value)


def test_the_pooled_distance_reads_each_check_once_over_every_size():
    """``distance = "pooled"``: the distance adds up one gap per check, measured on the runs
    of all sizes together; the checks at each size are still returned (for the predictive
    check). The default reads every size."""
    from dealersim.studies.calibrate import PatternDistance

    per_size = parse_spec('patterns = ["P1"]\nsizes = [4, 8]')
    assert per_size.distance == "per_size" and per_size.pooled_keys() == []
    assert per_size.distance_keys() == per_size.stat_keys() == [
        "P1 overlay launch success @4", "P1 overlay launch success @8"]
    pooled = parse_spec('distance = "pooled"\npatterns = ["P1"]\nsizes = [4, 8]')
    assert pooled.distance_keys() == ["P1 overlay launch success @4+8"]
    assert pooled.all_keys() == pooled.stat_keys() + pooled.distance_keys()
    assert pooled.digest() != per_size.digest()  # a resume refuses a change of distance
    # 1 success in 2 runs at 4 reps, 0 in 2 at 8 reps: per size 50 % and 0 %, both outside
    # 10-30 % (2 and 1 scale units); pooled 25 %, inside
    x = {"P1 overlay launch success @4": 0.5, "P1 overlay launch success @8": 0.0,
         "P1 overlay launch success @4+8": 0.25}
    assert PatternDistance(per_size.distance_keys())(x) == pytest.approx(math.sqrt(4 + 1))
    assert PatternDistance(pooled.distance_keys())(x) == 0.0


def test_a_beat_a_week_off_counts_as_a_rate_ten_points_off():
    """The story's beat timings are scored in weeks (``BEAT_SCALE``): a first wall-off on day 2
    (8 days before its 10-45 range) costs more than a launch success 10 points below 10-30 %,
    and every beat timing check uses that one scale."""
    from dealersim.studies.validation import BEAT_SCALE

    beats = [c for c in CHECKS if "median day" in c.what or "median first day" in c.what]
    assert len(beats) == 3 and {c.scale for c in beats} == {BEAT_SCALE} == {7.0}
    walls = next(c for c in beats if "walls off" in c.what)
    success = next(c for c in CHECKS if c.what == "overlay launch success")
    assert walls.gap(2.0) == pytest.approx(8 / 7) and success.gap(0.0) == pytest.approx(1.0)
    assert walls.gap(10.0) == walls.gap(45.0) == 0.0 and walls.gap(52.0) == pytest.approx(1.0)


@pytest.mark.slow
def test_pooled_measures_are_the_checks_on_every_size_runs_together():
    """The pooled launch success is the share over the runs of both sizes (2 runs each)."""
    from dealersim.studies.calibrate import simulate_patterns

    pooled = parse_spec('distance = "pooled"\npatterns = ["P1"]\nsizes = [4, 8]\nyears = 1\n'
                        '[budget]\nreplicates = 2')
    stats = simulate_patterns(pooled, {}, seed=7)
    assert list(stats) == pooled.all_keys()
    a, b = stats["P1 overlay launch success @4"], stats["P1 overlay launch success @8"]
    assert stats["P1 overlay launch success @4+8"] == pytest.approx((a + b) / 2)
    # the per-size measures are those of the default distance, run for run
    per_size = parse_spec('patterns = ["P1"]\nsizes = [4, 8]\nyears = 1\n[budget]\n'
                          'replicates = 2')
    assert simulate_patterns(per_size, {}, seed=7) == {
        k: v for k, v in stats.items() if not k.endswith("@4+8")}


# ------------------------------------------------------------------ running
@pytest.mark.slow
def test_same_spec_and_seed_give_an_identical_posterior_on_any_worker_count(tiny, tmp_path):
    spec, first = tiny
    again = tmp_path / "again"
    run_calibration(spec, again, spec_text=TINY, workers=2)
    assert (first / "posterior.parquet").read_bytes() == (again / "posterior.parquet").read_bytes()
    other = tmp_path / "other"
    run_calibration(parse_spec(TINY.replace("seed = 11", "seed = 12")), other, workers=1)
    assert not pd.read_parquet(other / "posterior.parquet").equals(
        pd.read_parquet(first / "posterior.parquet"))


@pytest.mark.slow
def test_an_interrupted_calibration_resumes_to_the_same_posterior(tiny, tmp_path):
    spec, first = tiny
    out = tmp_path / "cut"

    def stop_after_first(line: str) -> None:
        if line.startswith("generation 1/"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_calibration(spec, out, spec_text=TINY, workers=1, say=stop_after_first)
    assert (out / "history.db").is_file() and not (out / "calibration.json").exists()
    with pytest.raises(CalibrationError, match="--resume"):
        run_calibration(spec, out, spec_text=TINY)  # neither --resume nor --force
    with pytest.raises(CalibrationError, match="different spec"):
        run_calibration(parse_spec(TINY.replace("seed = 11", "seed = 3")), out, resume=True)
    lines: list[str] = []
    run_calibration(spec, out, spec_text=TINY, resume=True, say=lines.append)
    assert "1 of 2 generations on disk" in lines[0]
    assert (out / "posterior.parquet").read_bytes() == (first / "posterior.parquet").read_bytes()


def _mixed_scale_population(n: int = 480, seed: int = 5) -> pd.DataFrame:
    """A population shaped like a posterior: a wall step of about 0.01 that moves with a
    reservation income of about $72,000, and a share."""
    rng = np.random.default_rng(seed)
    income = rng.uniform(36_000, 108_000, n)
    return pd.DataFrame({
        "wall_touch_shock": 0.01 + 0.004 * (income - 72_000) / 36_000 + rng.normal(0, 0.002, n),
        "reservation_income": income,
        "own_account_preference": rng.uniform(0.35, 1.0, n),
    })


WIDTHS = {"wall_touch_shock": 0.02, "reservation_income": 72_000.0,
          "own_account_preference": 0.65}


def test_the_joint_kernel_density_does_not_depend_on_the_units_of_a_parameter():
    # The same population with the income in dollars and in thousands of dollars: a kernel
    # density must differ by exactly the Jacobian (1,000), at every point. The standardised
    # kernel does (to 1e-9); pyabc's kernel on raw units does not, because scipy drops the
    # wall step's direction as singular next to an income variance 10^13 times larger.
    import pyabc  # the calibrate extra, which every test here needs

    X = _mixed_scale_population()
    w = np.full(len(X), 1 / len(X))
    thousands = X.assign(reservation_income=X.reservation_income / 1_000)
    points = X.iloc[:20] + [0.001, 500.0, 0.01]
    points_k = points.assign(reservation_income=points.reservation_income / 1_000)
    dollars = standardised_transition(WIDTHS)
    kilo = standardised_transition({**WIDTHS, "reservation_income": 72.0})
    dollars.fit(X, w)
    kilo.fit(thousands, w)
    ratio = kilo.pdf(points_k) / dollars.pdf(points)
    assert np.allclose(ratio, 1_000, rtol=1e-9)
    one = dollars.pdf(pyabc.Parameter(points.iloc[0].to_dict()))
    assert one == pytest.approx(dollars.pdf(points)[0], rel=1e-12)
    raw, raw_k = pyabc.MultivariateNormalTransition(), pyabc.MultivariateNormalTransition()
    raw.fit(X, w)
    raw_k.fit(thousands, w)
    raw_ratio = raw_k.pdf(points_k) / raw.pdf(points)
    assert not np.allclose(raw_ratio, 1_000, rtol=0.01)


def test_the_joint_kernel_steps_in_natural_units_without_warnings(recwarn):
    # 2,000 steps from a fitted kernel: no warning from numpy's normal sampler, every step in
    # the parameters' own units, and the steps' spread per parameter matches the population's
    # spread times Silverman's factor (within 10 %; seed 11).
    import pyabc  # the calibrate extra, which every test here needs

    X = _mixed_scale_population()
    w = np.full(len(X), 1 / len(X))
    kernel = standardised_transition(WIDTHS)
    kernel.fit(X, w)
    np.random.seed(11)
    draws = pd.DataFrame([kernel.rvs_single() for _ in range(2_000)])
    assert not [r for r in recwarn if issubclass(r.category, RuntimeWarning)]
    assert list(draws.columns) == list(X.columns)
    factor = pyabc.transition.silverman_rule_of_thumb(len(X), X.shape[1])
    expected = X.std(ddof=1) * np.sqrt(1 + factor**2)  # a resampled point plus its step
    assert np.allclose(draws.std() / expected, 1, atol=0.1)
    with pytest.raises(ValueError, match="widths"):
        standardised_transition({"a": 0.0})


@pytest.mark.slow
def test_each_kernel_proposes_as_documented_and_is_deterministic(tiny, tmp_path):
    spec, first = tiny
    other = "product" if spec.kernel == "joint" else "joint"
    text = f'kernel = "{other}"\n' + TINY
    changed = parse_spec(text)
    assert changed.kernel == other and changed.digest() != spec.digest()  # a resume checks it
    names = [p.name for p in spec.priors]
    product = transition(parse_spec('kernel = "product"\n' + TINY))
    assert sorted(k for keys in product.mapping for k in keys) == sorted(names)
    assert all(len(keys) == 1 for keys in product.mapping)  # one normal per parameter
    joint = transition(parse_spec('kernel = "joint"\n' + TINY))
    assert type(joint.inner).__name__ == "MultivariateNormalTransition"
    assert joint.widths == {p.name: p.high - p.low for p in spec.priors}
    runs = [run_calibration(changed, tmp_path / f"k{i}", spec_text=text, workers=1)
            for i in range(2)]
    a, b = (tmp_path / "k0" / "posterior.parquet", tmp_path / "k1" / "posterior.parquet")
    assert a.read_bytes() == b.read_bytes()
    assert len(runs[0].diagnostics) == 2
    # generation 1 samples the prior, the same under either kernel; generation 2 differs
    assert not runs[0].posterior.equals(load_calibration(first).posterior)


@pytest.mark.slow
def test_the_budget_caps_the_simulations_and_keeps_the_last_full_generation(tmp_path):
    text = TINY.replace("max_simulations = 40", "max_simulations = 6")
    lines: list[str] = []
    cal = run_calibration(parse_spec(text), tmp_path / "c", workers=1, say=lines.append)
    assert len(cal.diagnostics) == 1 and len(cal.posterior) == 4
    assert any("ran out" in line for line in lines)
    with pytest.raises(CalibrationError, match="at least budget.population"):
        parse_spec(TINY.replace("max_simulations = 40", "max_simulations = 3"))


@pytest.mark.slow
def test_outputs_are_complete_and_consistent(tiny):
    spec, out = tiny
    cal = load_calibration(out)
    post = cal.posterior
    assert len(post) == spec.budget.population
    assert post.weight.sum() == pytest.approx(1.0) and (post.weight > 0).all()
    assert list(post.columns[3:]) == [p.name for p in spec.priors]
    for p in spec.priors:
        assert post[p.name].between(p.low, p.high).all()
    d = cal.diagnostics
    assert list(d.generation) == [1, 2] and math.isinf(d.epsilon.iloc[0])
    assert (d.simulations >= spec.budget.population).all()
    assert d.acceptance_rate.between(0, 1).all() and (d.ess <= spec.budget.population).all()
    c = cal.check
    assert list(c.stat) == spec.stat_keys() and len(cal.ppc) == 3 * len(c)
    assert ((c.q05 <= c["median"]) & (c["median"] <= c.q95)).all()
    assert set(cal.parameters.parameter) == {p.name for p in spec.priors}
    for name in ("marginals.png", "pairwise.png", "predictive_check.png"):
        assert not (out / name).exists()  # plots are drawn by the command, not the study


@pytest.mark.slow
def test_manifest_names_population_ess_sizes_and_parameters(tiny):
    spec, out = tiny
    manifest = json.loads((out / "calibration.json").read_text())
    assert {"population", "ess_last", "sizes", "parameters"} <= set(manifest)
    assert manifest["population"] == spec.budget.population
    assert manifest["sizes"] == list(spec.sizes)
    assert manifest["parameters"] == [p.name for p in spec.priors]
    w = pd.read_parquet(out / "posterior.parquet").weight.to_numpy(float)
    assert 1.0 <= manifest["ess_last"] <= spec.budget.population
    assert manifest["ess_last"] == pytest.approx(w.sum() ** 2 / (w ** 2).sum(), abs=0.01)


@pytest.mark.slow
def test_predictive_parquet_has_both_sources_every_arm_size_and_measure(tiny):
    spec, out = tiny
    frame = pd.read_parquet(out / "predictive.parquet")
    assert list(frame.columns) == ["source", "draw", "strategy", "n_reps", "measure", "value"]
    assert set(frame.source) == {"prior", "posterior"}
    assert set(frame.strategy) == set(PREDICTED_ARMS) >= {"overlay", "planned"}
    assert set(frame.n_reps) == set(spec.sizes)
    assert {"launch_succeeded", "first_specialist_tenure_days", "booked_mrr_year1",
            "cash_vs_hardware_only"} <= set(frame.measure)
    per = frame.groupby(["source", "strategy", "n_reps", "measure"]).size()
    assert (per == spec.budget.predictive).all()  # one row per draw, the same for both
    ok = frame[frame.measure == "launch_succeeded"].value
    assert ok.between(0, 1).all()


def test_prediction_table_renders_prior_posterior_and_claim():
    # a hand-made predictive frame: 3 draws per source, 1 size; the lever arm adds 0.2
    rows = []
    for source, base in (("prior", 0.2), ("posterior", 0.4)):
        for k in range(3):
            for arm in PREDICTED_ARMS:
                v = base + (0.2 if arm == "overlay_credit" else 0.0) + 0.01 * k
                for m in ("launch_succeeded", "first_specialist_year_one"):
                    rows.append(dict(source=source, draw=k, strategy=arm, n_reps=8, measure=m,
                                     value=v))
    table = prediction_table(pd.DataFrame(rows))
    credit = table[table.what.str.contains("double credit")].iloc[0]
    assert credit.prior_median == pytest.approx(0.2) and credit.posterior_low == pytest.approx(0.2)
    planned = table.iloc[0]
    assert planned.prior_median == pytest.approx(0.21) and planned.posterior_median == (
        pytest.approx(0.41))
    # the prediction shown is the mean of the draws (0.20, 0.21, 0.22 -> 0.21)
    assert planned.prior_mean == pytest.approx(0.21) and planned.posterior_mean == (
        pytest.approx(0.41))
    text = prediction_markdown(table)
    assert text.splitlines()[0].startswith("| reps | prediction | prior: mean")
    assert "| 8 | planned" in text and "+20 (+20 to +20)" in text and ">= 75 %" in text
    assert len(text.splitlines()) == 2 + len(table) == 2 + 2 + 6


def test_weighted_quantile_and_pinned_down():
    x = np.arange(10.0)
    assert weighted_quantile(x, np.ones(10), [0.5])[0] == 4.0
    assert weighted_quantile(x, np.r_[np.zeros(9), 1.0], [0.05, 0.95]).tolist() == [9, 9]
    rng = np.random.default_rng(0)
    priors = (Prior("renewal_loss", 0.0, 1.0, False), Prior("specialist_skill", 0.5, 1.5, False))
    spec = CalibrationSpec("t", 0, (8,), ("overlay launch success",), priors, parse_spec(
        TINY).budget)
    post = pd.DataFrame({"particle": range(400), "weight": 1 / 400, "distance": 0.0,
                         "renewal_loss": rng.uniform(0, 1, 400),
                         "specialist_skill": rng.normal(1.2, 0.02, 400)})
    p = parameters_frame(spec, post).set_index("parameter")
    assert not p.loc["renewal_loss", "pinned_down"]  # posterior = prior
    assert p.loc["specialist_skill", "pinned_down"]
    assert not p.loc["specialist_skill", "default_inside"]  # default 1.0, posterior ~1.2
    assert p.loc["renewal_loss", "default_inside"]


# ------------------------------------------------------------------ command line
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DEALERSIM, *args], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("make", ["missing", "bad_toml", "bad_key", "resume_empty", "busy",
                                  "bad_scheduler", "bad_docs", "prediction"])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(make, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(TINY)
    out = tmp_path / "out"
    args = [str(spec), "--out", str(out)]
    if make == "missing":
        args[0] = str(tmp_path / "nope.toml")
    elif make == "bad_toml":
        spec.write_text("name = [")
    elif make == "bad_key":
        spec.write_text(TINY + "\n[extra]\n")
    elif make == "resume_empty":
        args.append("--resume")
    elif make == "busy":
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    elif make == "bad_scheduler":
        args += ["--scheduler", "not an address"]
    elif make == "bad_docs":
        args += ["--docs", str(tmp_path / "no_dir" / "validation.md")]
    elif make == "prediction":
        spec.write_text(TINY.replace('patterns = ["P5", "overlay launch success"]',
                                     'patterns = ["P5", "planned launch success"]'))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code = main(["calibrate", *args])
    assert code == 2
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.slow
def test_cli_calibrate_writes_the_charts_and_compare_uses_the_posterior(tiny, tmp_path):
    spec, cal = tiny
    out = tmp_path / "cal"
    (tmp_path / "spec.toml").write_text(TINY)
    docs = tmp_path / "validation.md"
    docs.write_text("# Validation\n\nkept\n")
    proc = _cli("calibrate", str(tmp_path / "spec.toml"), "--out", str(out), "--workers", "1",
                "--docs", str(docs))
    assert proc.returncode == 0, proc.stderr
    assert "Posterior predictive check" in proc.stdout and "default" in proc.stdout
    text = docs.read_text()
    assert text.startswith("# Validation\n\nkept\n")
    assert "<!-- predictions:start -->" in text and "<!-- predictions:end -->" in text
    assert "| 4 | planned launch success (judged on money) |" in text
    for name in ("marginals.png", "pairwise.png", "predictive_check.png", "summary.md",
                 "diagnostics.json", "not_pinned_down.csv"):
        assert (out / name).stat().st_size > 0
    assert (out / "posterior.parquet").read_bytes() == (cal / "posterior.parquet").read_bytes()
    cmp_out = tmp_path / "cmp"
    proc = _cli("compare", "overlay", "planned", "--posterior", str(out), "--replicates", "6",
                "--years", "1", "--stride", "0", "--workers", "1", "--out", str(cmp_out))
    assert proc.returncode == 0, proc.stderr
    assert "of the parameter sets that reproduce the story" in proc.stdout
    report = (cmp_out / "report.html").read_text(encoding="utf-8")
    assert "of the parameter sets that reproduce the story" in report  # under the verdict
    assert report.index("parameter sets that reproduce") < report.index("<section id=methods>")
    # the calibration's predictions, prior against posterior, in the methods appendix
    assert (report.index("<section id=methods>")
            < report.index("What the calibration predicts for the plan"))
    assert "before calibration" in report and "planned launch success (judged on money)" in report
    bad = _cli("compare", "overlay", "planned", "--posterior", str(tmp_path), "--replicates",
               "2", "--out", str(tmp_path / "never"))
    assert bad.returncode == 2 and "--posterior" in bad.stderr
    assert not (tmp_path / "never").exists()


# ------------------------------------------------------------------ compare --posterior
@pytest.mark.slow
def test_each_replicate_draws_one_set_shared_by_every_strategy(tiny):
    _, cal = tiny
    post = load_posterior(cal)
    comp = run_compare(["overlay", "planned"], replicates=8, seed=4, posterior=cal,
                       series_stride=0, overrides={"years": 1.0})
    runs = comp.runs
    by = runs.pivot(index="replicate", columns="strategy", values="draw")
    assert (by.overlay == by.planned).all()  # paired: the same draw in both arms
    assert comp.posterior == str(cal)
    for _, row in runs.iterrows():
        i, values = draw(post, int(row.seed))
        assert i == row.draw
    # the draw differs between replicates (8 draws from 4 sets by weight)
    assert runs.draw.nunique() >= 1
    r = robustness(runs, comp.strategies)
    assert 0 <= r.share <= 1 and r.sets == runs.draw.nunique()
    assert r.wins + r.ties <= r.sets and r.better in comp.strategies


def test_robustness_counts_wins_and_half_the_ties():
    runs = pd.DataFrame({
        "strategy": ["a", "b"] * 4,
        "draw": [0, 0, 1, 1, 2, 2, 3, 3],
        "launch_succeeded": [False, True, False, True, True, True, True, False],
    })
    r = robustness(runs, ["a", "b"])
    assert (r.better, r.other) == ("b", "a")
    assert (r.wins, r.ties, r.sets) == (2, 1, 4)
    assert r.share == pytest.approx(2.5 / 4)
    assert r.sentence.startswith("b beats a (launch succeeded) in 62 % of the parameter sets")
    with pytest.raises(ValueError, match="--posterior"):
        robustness(runs.drop(columns="draw"), ["a", "b"])


def test_robustness_says_when_no_set_tells_the_two_apart():
    """Every set a tie (both fail, or both succeed, in each): no strategy is said to beat."""
    runs = pd.DataFrame({
        "strategy": ["a", "b"] * 3,
        "draw": [0, 0, 1, 1, 2, 2],
        "launch_succeeded": [False, False, True, True, False, False],
    })
    r = robustness(runs, ["a", "b"])
    assert (r.wins, r.ties, r.sets, r.share) == (0, 3, 3, 0.5)
    assert r.sentence == ("a and b do equally well (launch succeeded) in all 3 of the parameter "
                          "sets that reproduce the story (1.0 runs per set and strategy)")
    assert "beats" not in r.sentence


# ------------------------------------------------------------------ blame and advise --posterior
def _not_a_calibration(tmp_path: Path) -> Path:
    """A directory with a posterior file but no finished calibration (no calibration.json)."""
    bad = tmp_path / "half"
    bad.mkdir()
    (bad / "posterior.parquet").write_bytes(b"not parquet")
    return bad


@pytest.mark.slow
def test_blame_draws_one_set_per_replicate_shared_by_every_cell(tiny, tmp_path, capsys):
    _, cal = tiny
    post = load_posterior(cal)
    specs = blame_specs(5, 7, {"years": 1.0, "n_reps": 4}, ("skill", "manager"), post)
    by_rep: dict[int, set] = {}
    for s in specs:
        labels, items = dict(s.labels), dict(s.overrides)
        index, values = draw(post, s.seed)
        assert labels["draw"] == index  # replicate i's draw, from replicate i's seed
        by_rep.setdefault(labels["replicate"], set()).add(labels["draw"])
        assert items["renewal_loss"] == values["renewal_loss"]  # drawn
        level = {"low": spec("specialist_skill").low, "high": spec("specialist_skill").high}
        assert items["specialist_skill"] == level[labels["skill"]]  # the factor wins
        assert items["n_reps"] == 4  # the explicit override wins
    assert all(len(d) == 1 for d in by_rep.values()) and len(by_rep) == 5  # paired
    out = tmp_path / "blame"
    code = main(["blame", "--replicates", "3", "--factors", "skill,manager", "--years", "1",
                 "--set", "n_reps=4", "--workers", "1", "--posterior", str(cal), "--out",
                 str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert (runs.groupby("replicate")["draw"].nunique() == 1).all() and len(runs) == 12
    note = "include the uncertainty about the unsourced parameters"
    assert note in printed and note in (out / "report.html").read_text(encoding="utf-8")
    assert f"--posterior {cal}" in (out / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_advise_runs_every_plan_on_the_same_draws_and_says_how_robust(tiny, tmp_path,
                                                                      monkeypatch):
    _, cal = tiny
    seen: list[dict] = []
    rows = advise.Runner.rows

    def spy(self, specs):
        out = rows(self, specs)
        seen.extend(out)
        return out

    monkeypatch.setattr(advise.Runner, "rows", spy)
    out = tmp_path / "advice"
    code = main(["advise", "--budget", "3", "--replicates", "4", "--seed", "1", "--years", "1",
                 "--size", "4", "--workers", "1", "--posterior", str(cal), "--out", str(out)])
    assert code == 0
    runs = pd.DataFrame(seen)
    post = load_posterior(cal)
    search = runs[runs.trial.notna()]
    assert search.trial.nunique() == 3
    # every trial's replicate i ran on posterior draw i (drawn with search seed i)
    assert (search.groupby("replicate")["draw"].nunique() == 1).all()
    settings = advise.Settings(4, 1, advise.PROGRAM_COST)
    for i, s in enumerate(settings.search_seeds()):
        assert set(search[search.replicate == i]["draw"]) == {draw(post, s)[0]}
    robust = runs[runs.strategy.notna()]
    assert set(robust.strategy) == {advise.CURRENT_PLAN, advise.ADVISED_PLAN}
    assert (robust.groupby("replicate")["draw"].nunique() == 1).all()  # paired, fresh seeds
    text = (out / "advice.md").read_text(encoding="utf-8")
    sentence = [line for line in text.splitlines() if "of the parameter sets that reproduce"
                in line]
    assert len(sentence) == 1 and "your current plan" in sentence[0].lower()
    assert "the advised plan" in sentence[0].lower() and "--posterior" in text
    # a resume with another (or no) posterior is refused: the plans ran on these draws
    with pytest.raises(advise.AdviseError, match="other settings"):
        advise.run_advise(out, budget=4, replicates=4, seed=1, fixed=FIXED_ADVISE, resume=True)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["blame", "advise"])
def test_blame_and_advise_refuse_a_posterior_that_is_not_a_calibration(command, tmp_path,
                                                                       capsys):
    bad = _not_a_calibration(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    for where in (bad, tmp_path / "missing"):
        code = main([command, "--replicates", "2", "--years", "1", "--workers", "1",
                     "--posterior", str(where), "--out", str(tmp_path / "out")])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "--posterior" in err[0], err
        assert "finished calibration" in err[0]
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


# ------------------------------------------------------------------ discover
def _synthetic(n: int = 400) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(1)
    cases = pd.DataFrame({"specialist_skill": rng.uniform(0.5, 1.5, n),
                          "wall_initial": rng.uniform(0, 1, n)})
    cases["launch_succeeded"] = (cases.specialist_skill > 1.2) & (cases.wall_initial < 0.5)
    return cases, ["specialist_skill", "wall_initial"]


@pytest.mark.slow
@pytest.mark.parametrize("finder", [_prim_box, _cart_boxes])
def test_discovery_finds_the_planted_box(finder):
    cases, names = _synthetic()
    boxes = finder(cases, names, 0.8)
    assert boxes
    b = boxes[0]
    cond = {n: (lo, hi) for n, lo, hi in b.conditions}
    # the planted box is skill > 1.2 and wall < 0.5; PRIM keeps the widest box whose density
    # still reaches the threshold, so its edges may sit a little outside the planted ones
    assert 1.1 <= cond["specialist_skill"][0] <= 1.26
    assert 0.44 <= cond["wall_initial"][1] <= 0.65
    assert b.density >= 0.8 and b.coverage >= 0.8 and 0 < b.mass < 0.3
    text = Discovery("x", "overlay", "prim", cases, names, boxes).sentences()[-1]
    assert "specialist skill above 1.2" in text.lower() and "coverage" in text


@pytest.mark.slow
def test_discover_over_a_posterior_and_bad_sources(tiny, tmp_path):
    _, cal = tiny
    found = discover(cal, runs=12, seed=3)
    assert len(found.cases) == 12 and set(found.inputs) == {"renewal_loss", "specialist_skill"}
    assert found.sentences()[0].startswith("overlay succeeds in ")
    assert main(["discover", str(tmp_path)]) == 2
    assert main(["discover", str(cal), "--threshold", "2"]) == 2
    assert main(["discover", str(cal), "--strategy", "nope"]) == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_discover_over_a_sweep(tmp_path):
    out = tmp_path / "sweep"
    run_sweep(parse_spec_text("""
name = "where"
strategy = "overlay"
sampler = "grid"
replicates = 2
seed = 5
[fixed]
years = 1.0
[factors]
specialist_skill = {low = 0.5, high = 1.5, levels = 3}
wall_initial = {low = 0.0, high = 0.6, levels = 3}
credit_policy = ["none", "double"]
"""), out, workers=1)
    found = discover(out, method="cart")
    assert len(found.cases) == 36 and found.inputs == ["specialist_skill", "wall_initial"]
    assert found.strategy == "overlay" and "draw" not in found.cases
    assert found.sentences()[0].endswith(" % of 36 cases of the sweep.")


STOP_SECONDS = 20.0
"""One Ctrl-C must stop a calibration within this many seconds. The sampler checks the stop
flag every 0.2 s while its workers run, so on a quiet machine it takes about a second; the
bound leaves room for a shared, busy one."""


@pytest.mark.slow
def test_one_ctrl_c_stops_the_run_within_seconds_and_resume_finishes(tmp_path):
    text = TINY.replace("generations = 2", "generations = 4")
    spec = tmp_path / "spec.toml"
    # many predictive draws: the run is surely still going when the signal arrives
    spec.write_text(text.replace("predictive = 3", "predictive = 400"))
    out = tmp_path / "cal"
    proc = subprocess.Popen([DEALERSIM, "calibrate", str(spec), "--out", str(out), "--workers",
                             "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    family: list[psutil.Process] = []
    try:
        for line in proc.stdout:
            if line.startswith("generation 1/"):
                break
        family = psutil.Process(proc.pid).children(recursive=True)  # the pool's workers
        proc.send_signal(signal.SIGINT)  # once
        start = time.monotonic()
        try:
            proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"one Ctrl-C did not stop the calibration within {STOP_SECONDS} s")
        took = time.monotonic() - start
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    print(f"stopped {took:.2f} s after one Ctrl-C")
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0] and "--resume" in lines[0], err
    assert "Exception ignored" not in err
    assert len(family) >= 2  # the worker processes existed, and none is left
    _, alive = psutil.wait_procs(family, timeout=60)  # the forkserver exits once it sees EOF
    assert alive == [], [p.cmdline() for p in alive if p.is_running()]
    assert (out / "history.db").is_file() and not (out / "calibration.json").exists()
    spec.write_text(text)  # a resume may change the budget (here: fewer predictive draws)
    done = _cli("calibrate", str(spec), "--out", str(out), "--workers", "1", "--resume")
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "generations on disk" in done.stdout and (out / "calibration.json").is_file()
    assert len(pd.read_csv(out / "diagnostics.csv")) >= 2


def test_predictive_check_judges_the_mean_of_the_draws_not_their_median():
    """A 15 % rate seen in draws of 4 runs: most draws show 0 %, the pooled rate is inside."""
    from dealersim.studies.calibrate import ppc_table

    spec_ = parse_spec('patterns = ["P1"]\nsizes = [8]')
    (key,) = spec_.stat_keys()
    values = [0.0] * 11 + [0.25] * 6 + [0.5] * 3  # mean 0.15, median 0
    table = ppc_table(spec_, pd.DataFrame({"draw": range(20), "stat": key, "value": values}))
    row = table.iloc[0]
    assert row["mean"] == pytest.approx(0.15) and row["median"] == 0.0
    assert bool(row.mean_inside) and not bool(row.median_inside)
    assert row.inside_share == pytest.approx(6 / 20)  # only the 25 % draws are inside 10-30 %


def test_every_report_of_the_check_reads_the_same_centre():
    """The summary, the chart and summary.md judge the mean; a table from before the mean was
    kept (median only) is judged on its median, by one helper."""
    from dealersim.studies.calibrate import ppc_table
    from dealersim.studies.calibrate.predictive import judged_centre

    spec_ = parse_spec('patterns = ["P1"]\nsizes = [8]')
    (key,) = spec_.stat_keys()
    values = [0.0] * 11 + [0.25] * 6 + [0.5] * 3
    table = ppc_table(spec_, pd.DataFrame({"draw": range(20), "stat": key, "value": values}))
    assert judged_centre(table) == "mean" and judged_centre(table.iloc[0]) == "mean"
    old = table.drop(columns=["mean", "mean_inside"])
    assert judged_centre(old) == "median" and judged_centre(old.iloc[0]) == "median"
