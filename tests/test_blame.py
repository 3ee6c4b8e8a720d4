"""Tests of the blame factorial (dealersim.studies.blame)."""

from __future__ import annotations

import itertools
import os

import numpy as np
import pandas as pd
import pytest

from dealersim.model.params import spec
from dealersim.model.strategies import make_params, strategy_overrides
from dealersim.outputs import report
from dealersim.studies import blame
from dealersim.studies.engine import seed_for


def test_factor_levels_come_from_metadata_and_presets():
    lv = blame.factor_levels()
    s = spec("specialist_skill")
    assert [lv["skill"][k]["specialist_skill"] for k in blame.SKILLS] == [s.low, s.default, s.high]
    assert lv["manager"]["keeps the peace"]["manager_leadership"] == make_params(
        "overlay").manager_leadership
    assert lv["manager"]["leads"]["manager_leadership"] == make_params("planned").manager_leadership
    prep = set(strategy_overrides("planned")) - {"manager_leadership"}
    assert set(lv["owner"]["planned"]) == prep == set(lv["owner"]["none"])
    # all levers on plus a leading manager is exactly the planned preset (at default skill)
    on = make_params("overlay", **blame.cell_overrides("default", "leads", "planned"))
    assert on == make_params("planned")
    off = make_params("overlay", **blame.cell_overrides("default", "keeps the peace", "none"))
    assert off == make_params("overlay")


def test_specs_share_seeds_across_cells():
    specs = blame.blame_specs(3, seed=4)
    assert len(specs) == 12 * 3
    by_rep = {}
    for sp in specs:
        by_rep.setdefault(dict(sp.labels)["replicate"], set()).add(sp.seed)
    assert by_rep == {i: {seed_for(4, i)} for i in range(3)}


def _synthetic(rule, reps=5):
    rows = []
    for c, (s, m, o) in enumerate(itertools.product(blame.SKILLS, blame.MANAGERS, blame.OWNERS)):
        for i in range(reps):
            rows.append(dict(cell=c, skill=s, manager=m, owner=o, replicate=i,
                             launch_succeeded=bool(rule(s, m, o, i))))
    return pd.DataFrame(rows)


def test_effects_from_cell_means_exact():
    """Effects are exact contrasts: a pure owner effect shows up as +1 and nothing else."""
    eff = blame.effect_table(_synthetic(lambda s, m, o, i: o == "planned")).set_index("name")
    assert eff.loc["owner", "effect"] == 1.0
    assert eff.loc[["skill", "manager", "skill x owner", "manager x owner"], "effect"].eq(0).all()
    # an interaction: success only when the owner prepares AND the manager leads
    eff = blame.effect_table(
        _synthetic(lambda s, m, o, i: o == "planned" and m == "leads")).set_index("name")
    assert eff.loc["owner", "effect"] == 0.5 and eff.loc["manager", "effect"] == 0.5
    assert eff.loc["manager x owner", "effect"] == 1.0
    assert eff.loc["owner|manager=leads", "effect"] == 1.0
    assert eff.loc["owner|manager=keeps the peace", "effect"] == 0.0


@pytest.fixture(scope="module")
def small_blame():
    return blame.run_blame(6, seed=2, overrides={"years": 1.0}, workers=2, progress=False)


def test_run_blame(small_blame, tmp_path):
    b = small_blame
    assert len(b.runs) == 72 and len(b.cells) == 12
    assert (b.cells.n == 6).all()
    assert ((b.cells.ci_low <= b.cells.rate) & (b.cells.rate <= b.cells.ci_high)).all()
    assert len(b.sentences()) == 4
    for word in ("specialist", "manager", "owner"):
        assert any(word in s for s in b.sentences())
    # the cell "default skill, keeps the peace, no preparation" is the overlay preset: the same
    # seeds give the same summaries as plain overlay runs
    base = b.runs[(b.runs.skill == "default") & (b.runs.manager == "keeps the peace")
                  & (b.runs.owner == "none")].sort_values("replicate")
    from dealersim.studies.compare import run_compare

    plain = run_compare(["overlay"], replicates=6, seed=2, overrides={"years": 1.0},
                        series_stride=0, progress=False).runs
    assert base.managed_mrr.tolist() == plain.managed_mrr.tolist()
    assert base.gross_profit.tolist() == plain.gross_profit.tolist()
    out = report.write_blame(b, tmp_path / "blame")
    names = set(os.listdir(out))
    assert {"runs.parquet", "cells.csv", "effects.csv", "logit.csv", "report.html",
            "blame_cells.png", "blame_effects.png"} <= names
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2 and "Whose fault is it?" in html


def test_owner_preparation_matters(small_blame):
    """The story's claim, with a loose tolerance: preparing the launch raises success.

    With 6 paired replicates per cell (36 per owner level) the t interval of the owner main
    effect is about +-15 points; we only require it to be positive and the estimate >= 30 points.
    """
    e = small_blame.effect("owner")
    assert e.ci_low > 0 and e.effect >= 0.3
    assert np.isfinite(small_blame.logit.coef).all()
