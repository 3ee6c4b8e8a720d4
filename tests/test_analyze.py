"""``dealersim analyze``: SALib indices with CIs, OAT effects, heatmaps and the tipping line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dealersim.base.stats import paired_diff
from dealersim.cli import main
from dealersim.studies.analyze import AnalyzeError, analyze, point_means
from dealersim.studies.sweeps import parse_spec_text, read_runs, run_sweep

BASE = """
strategy = "overlay"
seed = 3
[fixed]
years = 0.25
"""


def _sweep(tmp_path, text, name="s"):
    out = tmp_path / name
    run_sweep(parse_spec_text(text), out, workers=2)
    return out


@pytest.mark.slow
def test_sobol_indices_with_cis(tmp_path, capsys):
    """Saltelli's design with 128 base samples (640 runs of 13 weeks, seed 3): the pre-launch
    wall explains more of the wall at the end than the specialist's skill does. At 16 samples
    the indices' intervals were wider than 1 and the order was chance; at 128 the order held
    for seeds 3 and 4 (total index 0.92 against 0.68, and 0.93 against 0.59)."""
    text = 'sampler = "sobol"\nsamples = 128\n' + BASE + """
[factors]
wall_initial = {low = 0.0, high = 0.6}
specialist_skill = {low = 0.5, high = 1.5}
credit_policy = ["none", "double"]
[outputs]
kpis = ["dials", "wall_mean_end"]
"""
    out = _sweep(tmp_path, text)
    assert main(["analyze", str(out)]) == 0
    assert "analysis: sobol" in capsys.readouterr().out
    idx = pd.read_csv(out / "analysis" / "indices.csv")
    assert set(idx.columns) >= {"kpi", "factor", "S1", "S1_conf", "ST", "ST_conf"}
    assert len(idx) == 2 * 3 and (idx.ST_conf >= 0).all()
    wall = idx[idx.kpi == "wall_mean_end"].set_index("factor")
    assert wall.loc["wall_initial", "ST"] > wall.loc["specialist_skill", "ST"]
    assert (out / "analysis" / "indices.png").stat().st_size > 5000


@pytest.mark.slow
def test_morris_and_method_mismatch(tmp_path, capsys):
    text = 'sampler = "morris"\nsamples = 6\n' + BASE + """
[factors]
wall_initial = {low = 0.0, high = 0.6}
launch_surprise = {low = 0.0, high = 0.5}
[outputs]
kpis = ["wall_mean_day60"]
"""
    out = _sweep(tmp_path, text)
    res = analyze(out, method="morris")
    assert {"mu_star", "mu_star_conf", "sigma"} <= set(res.indices.columns)
    assert main(["analyze", str(out), "--method", "sobol"]) == 2
    assert "sampler" in capsys.readouterr().err
    with pytest.raises(AnalyzeError):
        analyze(out, kpis=["nonsense"])


@pytest.mark.slow
def test_binary_kpi_uses_replicate_mean_per_point(tmp_path):
    text = 'sampler = "grid"\nreplicates = 4\n' + BASE + """
[factors]
wall_initial = {low = 0.0, high = 0.6, levels = 3}
credit_policy = ["none", "double"]
"""
    out = _sweep(tmp_path, text)
    runs = read_runs(out)
    means = point_means(runs, ["wall_initial", "credit_policy"], ["launch_succeeded"])
    assert len(means) == 6 and (means.n == 4).all()
    expect = runs.groupby("point").launch_succeeded.mean().to_numpy()
    np.testing.assert_allclose(means.launch_succeeded, expect)


@pytest.mark.slow
def test_grid_heatmaps_and_tipping_line(tmp_path):
    text = 'sampler = "grid"\nreplicates = 3\n' + BASE + """
[factors]
wall_initial = {low = 0.0, high = 0.6, levels = 3}
manager_leadership = [0.1, 0.9]
credit_policy = ["none", "double"]
[outputs]
kpis = ["launch_succeeded", "wall_mean_day60"]
"""
    out = _sweep(tmp_path, text)
    res = analyze(out)
    assert res.method == "oat"
    names = {p.name for p in res.paths}
    assert {"heatmap_launch_succeeded.png", "heatmap_wall_mean_day60.png", "tipping.csv",
            "response_launch_succeeded.png", "indices.png"} <= names
    tip = pd.read_csv(out / "analysis" / "tipping.csv")
    assert set(tip.columns) >= {"credit_policy", "manager_leadership", "wall_initial_at_50pct"}
    assert len(tip) == 4  # one row per (credit policy, leadership) column


@pytest.mark.slow
def test_oat_lever_effects_against_the_base(tmp_path):
    text = """
strategy = "planned"
sampler = "oat"
replicates = 3
seed = 4
[fixed]
years = 0.25
[factors]
credit_policy = ["none", "split"]
rules_of_engagement = [false]
[outputs]
kpis = ["wall_mean_day60"]
"""
    out = _sweep(tmp_path, text)
    res = analyze(out, method="oat")
    assert list(res.indices.factor) == ["credit_policy=none", "credit_policy=split",
                                        "rules_of_engagement=False"]
    assert (res.indices.effect_conf >= 0).all()
    none = res.indices.set_index("factor").loc["credit_policy=none"]
    assert none.effect > 0  # no credit for the reps raises their walls
    # the interval is base.stats.paired_diff's Student t (2 df), wider than a z interval
    runs = read_runs(out)
    kpi = lambda p: runs[runs.point == p].sort_values("replicate").wall_mean_day60.to_numpy()  # noqa: E731
    diff, lo, hi, n = paired_diff(kpi(0), kpi(1))
    assert (none.effect, none.effect_conf, none.n) == (pytest.approx(diff),
                                                       pytest.approx((hi - lo) / 2), 3)
    d = kpi(1) - kpi(0)
    assert none.effect_conf > 1.96 * d.std(ddof=1) / np.sqrt(3)


def test_analyze_empty_dir_is_a_usage_error(tmp_path, capsys):
    assert main(["analyze", str(tmp_path)]) == 2
    assert "no sweep" in capsys.readouterr().err
