"""Tests of compare, stats, report, catalogue, the compare CLI and the newer presets."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from sweep_watch import default_sigint

from dealersim.base.stats import (
    kaplan_meier,
    km_at,
    km_median,
    logistic_irls,
    mean_ci,
    paired_diff,
    wilson,
)
from dealersim.cli import main
from dealersim.model import kpis
from dealersim.model.params import Params, field_specs
from dealersim.model.strategies import make_params, strategy_doc, strategy_names, strategy_overrides
from dealersim.outputs import report
from dealersim.outputs.report import render
from dealersim.studies import compare
from dealersim.studies.engine import seed_for

SMALL = {"years": 0.5}
NEW_PRESETS = ("rep_led", "hunter", "comp_only", "leadership_only", "mandate")


# ------------------------------------------------------------------ stats
def test_wilson_known_values():
    # reference values from the closed-form Wilson score interval (z = 1.959964), 1e-4 tolerance
    p, lo, hi = wilson(5, 10)
    assert p == 0.5 and lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634,
                                                                                      abs=1e-4)
    p, lo, hi = wilson(0, 10)
    assert p == 0 and lo == 0 and hi == pytest.approx(0.2775, abs=1e-4)
    assert all(math.isnan(v) for v in wilson(0, 0))


def test_mean_ci_and_paired_diff():
    m, lo, hi = mean_ci([1.0, 2.0, 3.0, 4.0])
    # t(0.975, 3) = 3.182446; sd = 1.290994; se = 0.645497
    assert m == 2.5 and hi - m == pytest.approx(3.182446 * 0.645497, abs=1e-5)
    assert mean_ci([np.nan, 7.0])[0] == 7.0
    d, dlo, dhi, n = paired_diff([1, 2, 3, np.nan], [2, 3, 4, 9])
    assert (d, dlo, dhi, n) == (1.0, 1.0, 1.0, 3)


def test_kaplan_meier():
    curve = kaplan_meier([1, 2, 3, 4], [False, False, False, False])
    assert km_at(curve, 0.5) == 1 and km_at(curve, 2) == 0.5 and km_at(curve, 4) == 0
    assert km_median(curve) == 2
    # censoring: one of two left at risk after t=1 is censored at 2; the event at 3 ends it
    curve = kaplan_meier([1, 2, 3, 3], [False, True, False, True])
    assert km_at(curve, 1) == 0.75 and km_at(curve, 3) == pytest.approx(0.75 * 0.5)
    assert km_median(kaplan_meier([5, 5], [True, True])) is None


def test_logistic_irls_recovers_coefficients():
    rng = np.random.default_rng(0)
    X = np.column_stack([np.ones(20000), rng.integers(0, 2, 20000), rng.normal(size=20000)])
    true = np.array([-1.0, 1.5, 0.5])
    y = rng.random(20000) < 1 / (1 + np.exp(-(X @ true)))
    fit = logistic_irls(X, y, ["b0", "b1", "b2"])
    assert fit.converged
    # 20,000 draws: standard errors are about 0.03; allow 0.1
    assert np.allclose(fit.coef, true, atol=0.1)
    # complete separation stays finite thanks to the tiny ridge
    fit = logistic_irls(np.column_stack([np.ones(8), [0, 0, 0, 0, 1, 1, 1, 1]]),
                        np.array([0, 0, 0, 0, 1, 1, 1, 1]), ["b0", "b1"])
    assert np.all(np.isfinite(fit.coef)) and fit.coef[1] > 5


# ------------------------------------------------------------------ presets
def test_new_presets_are_valid_and_documented():
    names = strategy_names()
    assert names[:3] == ["hardware_only", "overlay", "planned"]
    defaults = {s.name: s.default for s in field_specs()}
    for name in NEW_PRESETS:
        assert name in names
        overrides = strategy_overrides(name)
        assert set(overrides) <= set(defaults)
        assert any(overrides[k] != defaults[k] for k in overrides), name
        assert isinstance(make_params(name), Params)
        assert len(strategy_doc(name)) > 200, name
    assert make_params("rep_led").specialist_seats == 0
    assert make_params("rep_led").rep_managed_selling > 0
    assert make_params("hunter").specialist_territory == "competitor_only"
    assert strategy_overrides("comp_only") == {"credit_policy": "double"}
    lead = make_params("leadership_only")
    assert lead.manager_leadership == make_params("planned").manager_leadership
    assert lead.rules_of_engagement and lead.credit_policy == "none"
    mandate = make_params("mandate")
    assert mandate.rules_of_engagement and mandate.credit_policy == "none"


# ------------------------------------------------------------------ compare
@pytest.fixture(scope="module")
def small_comp():
    return compare.run_compare(["overlay", "planned"], replicates=4, seed=11, overrides=SMALL,
                               workers=1, progress=False)


def test_common_random_numbers(small_comp):
    runs = small_comp.runs
    for s in small_comp.strategies:
        arm = small_comp.arm(s)
        assert arm.seed.tolist() == [seed_for(11, i) for i in range(4)]
    assert list(runs.strategy) == ["overlay"] * 4 + ["planned"] * 4
    assert set(runs.version) == {small_comp.version}


@pytest.mark.slow
def test_runs_identical_for_any_worker_count(small_comp):
    two = compare.run_compare(["overlay", "planned"], replicates=4, seed=11, overrides=SMALL,
                              workers=2, progress=False)
    pd.testing.assert_frame_equal(small_comp.runs, two.runs)
    pd.testing.assert_frame_equal(small_comp.series, two.series)


def test_summary_intervals(small_comp):
    summ = small_comp.summary()
    assert len(summ) == 2 * len(kpis.SUMMARY_KEYS)
    rate = summ[(summ.kind == "rate")]
    assert set(rate.kpi) == set(kpis.FLAG_KPIS)
    ok = summ.dropna(subset=["ci_low"])
    assert (ok.ci_low <= ok.estimate + 1e-9).all() and (ok.estimate <= ok.ci_high + 1e-9).all()
    ref = summ[summ.strategy == "overlay"]
    assert ref["diff"].isna().all()
    row = summ[(summ.strategy == "planned") & (summ.kpi == "managed_mrr")].iloc[0]
    a = small_comp.arm("overlay").managed_mrr.to_numpy()
    b = small_comp.arm("planned").managed_mrr.to_numpy()
    assert row["diff"] == pytest.approx((b - a).mean())
    assert row.n_pairs == 4


@pytest.mark.slow
def test_write_compare_outputs(small_comp, tmp_path):
    out = report.write_compare(small_comp, tmp_path / "cmp")
    names = {p.name for p in out.iterdir()}
    assert {"runs.parquet", "timeseries.parquet", "ledger.parquet", "summary.csv",
            "report.html", "cash_vs_doing_nothing.png", "money_drivers.png",
            "launch_success.png", "fan_managed_mrr.png", "fan_hardware_accounts.png",
            "specialist_survival.png", "wall.png", "funnel.png"} <= names
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), small_comp.runs)
    series = pd.read_parquet(out / "timeseries.parquet")
    assert set(series.columns) >= {"strategy", "replicate", "day", "managed_mrr", "wall_mean"}
    assert series.groupby("run_id").day.max().eq(182).all()
    ledger = pd.read_parquet(out / "ledger.parquet")
    pd.testing.assert_frame_equal(ledger, small_comp.ledger)
    assert set(ledger.groupby("run_id").month.max()) == {6}  # half a year: 6 months
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 8
    assert "src=\"http" not in html and "<link" not in html and "http" not in html
    for needle in ("Cash against doing nothing", "Glossary", "Methods appendix",
                   "How to reproduce", "--seed 11", small_comp.version, "Assumptions",
                   "what happened", "credit_policy"):
        assert needle in html
    # the code names and the seed live in the methods appendix only
    body, methods = html.split('<section id=methods>')
    assert "credit_policy" not in body and "--seed" not in body and "credit_policy" in methods


def test_the_cash_chart_marks_the_first_screens_low_point_and_payback(small_comp, tmp_path,
                                                                       monkeypatch):
    # the J-curve's dot and dotted line are the decision's (the cards' figures): the runs' own
    # low points averaged at their typical month, and the month half the runs have paid back.
    # The decision is moved off the average curve (month 3, payback in month 5) so that marks
    # read from the curve would fail.
    import dataclasses

    from dealersim.outputs.report import charts
    from dealersim.studies.decision import decide

    figures = []
    monkeypatch.setattr(charts, "_save", lambda fig, path: figures.append(fig) or path)
    d = decide(small_comp)
    moved = dataclasses.replace(d, keep={
        s: dataclasses.replace(k, low_month=3, median_payback=5) for s, k in d.keep.items()})
    charts.plot_jcurve(small_comp, tmp_path / "j.png", moved)
    ax = figures[-1].axes[0]
    dots = {line.get_color(): (list(line.get_xdata()), list(line.get_ydata()))
            for line in ax.lines if line.get_marker() == "o"}
    assert set(dots) == {charts.color_of(s, small_comp.strategies) for s in d.plans}
    for s in d.plans:
        assert dots[charts.color_of(s, small_comp.strategies)] == (
            [3], [pytest.approx(d.keep[s].low_point.mean)])
    paid = [float(line.get_xdata()[0]) for line in ax.lines if line.get_linestyle() == ":"]
    assert paid == [5.0] * len(d.plans)


def test_the_report_names_the_month_success_is_judged_on(small_comp):
    # half-year runs are judged on money in their last month (6), not in month 36
    context = render.compare_context(small_comp, {}, stories=False)
    assert context["success_month"] == 6
    assert small_comp.params("overlay").success_month == 36


def test_report_templates_autoescape_and_ship():
    assert render.ENV.from_string("{{ x }}").render(x="<b>&") == "&lt;b&gt;&amp;"
    templates = files("dealersim.outputs.report").joinpath("templates")
    for name in ("base.html.j2", "compare.html.j2", "blame.html.j2", "macros.html.j2",
                 "report.css"):
        assert templates.joinpath(name).is_file(), name


def test_atomic_dir_interrupted(tmp_path, small_comp, monkeypatch):
    """A KeyboardInterrupt while writing leaves neither the output nor a temporary dir."""

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "compare_report", boom)
    with pytest.raises(KeyboardInterrupt):
        report.write_compare(small_comp, tmp_path / "cmp")
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_force_replaces(tmp_path, small_comp):
    out = tmp_path / "cmp"
    out.mkdir()
    (out / "old.txt").write_text("x")
    with pytest.raises(FileExistsError):
        report.write_compare(small_comp, out)
    report.write_compare(small_comp, out, force=True)
    assert not (out / "old.txt").exists() and (out / "report.html").exists()
    assert os.listdir(tmp_path) == ["cmp"]


# ------------------------------------------------------------------ command line
def _one_line(code, err, *needles):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for n in needles:
        assert n in lines[0], err


@pytest.mark.parametrize("argv, needles", [
    (["compare", "overlay", "nosuch"], ["nosuch"]),
    (["compare", "overlay", "--replicates", "0"], ["--replicates"]),
    (["compare", "overlay", "--replicates", "two"], ["--replicates"]),
    (["compare", "overlay", "--set", "n_reps=1000"], ["n_reps"]),
    (["compare", "overlay", "--set", "nosuch=1"], ["nosuch"]),
    (["compare", "overlay", "overlay"], ["twice"]),
    (["blame", "--replicates", "0"], ["--replicates"]),
    (["blame", "--set", "specialist_skill=1"], ["specialist_skill"]),
    (["catalogue", "--replicates", "-3"], ["--replicates"]),
])
def test_bad_input(argv, needles, tmp_path, capsys):
    extra = [] if argv[0] == "catalogue" else ["--out", str(tmp_path / "o")]
    code = main([*argv, *extra])
    _one_line(code, capsys.readouterr().err, *needles)
    assert not (tmp_path / "o").exists()


def test_nonempty_out_needs_force(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    code = main(["compare", "overlay", "planned", "--replicates", "1", "--out", str(out)])
    _one_line(code, capsys.readouterr().err, "--out", "--force")
    assert (out / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_compare_command(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()  # an empty directory is fine
    code = main(["compare", "overlay", "mandate", "--replicates", "2", "--seed", "3",
                 "--years", "0.5", "--workers", "1", "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "Launch succeeded" in stdout and "mandate - overlay" in stdout
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 4 and set(runs.seed) == {seed_for(3, 0), seed_for(3, 1)}
    assert "dealersim compare overlay mandate --replicates 2 --seed 3 --set years=0.5" in (
        out / "report.html").read_text()


@pytest.mark.slow
def test_ctrl_c_leaves_no_half_written_files(tmp_path):
    """SIGINT to the whole process group mid-run: DIR is absent (or complete), no temp dirs."""
    out = tmp_path / "o"
    exe = Path(sys.executable).with_name("dealersim")
    proc = subprocess.Popen(
        [str(exe), "compare", "overlay", "planned", "--replicates", "400", "--workers", "2",
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=default_sigint)  # a nohup shell would leave the child deaf to Ctrl-C
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    while len(parent.children(recursive=True)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)  # wait for the two workers: the runs have started
    time.sleep(1.0)
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    leftovers = os.listdir(tmp_path)
    assert leftovers == [] or (leftovers == ["o"] and (out / "report.html").exists()), leftovers


# ------------------------------------------------------------------ catalogue
@pytest.mark.slow
def test_catalogue(tmp_path, capsys):
    path = tmp_path / "docs" / "strategies.md"
    code = main(["catalogue", "--replicates", "2", "--years", "0.25", "--workers", "1",
                 "--path", str(path)])
    assert code == 0, capsys.readouterr().err
    text = path.read_text()
    for name in strategy_names():
        assert f"## `{name}`" in text
        assert f"| `{name}` |" in text
    assert "dealersim catalogue --replicates 2 --seed 0 --set years=0.25" in text
    assert os.listdir(path.parent) == ["strategies.md"]
