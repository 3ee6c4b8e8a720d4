"""The EMA Workbench adapter, run with the real ``ema_workbench`` package.

The EMA Workbench takes seconds to import, so the tests import it (and the adapter) themselves:
collecting this file for another tier costs nothing.
"""

from __future__ import annotations

import math

import pytest

from dealersim.model.params import field_specs, spec
from dealersim.model.results import simulate

pytestmark = pytest.mark.slow


def test_parameters_come_from_params_metadata():
    from ema_workbench import (
        BooleanParameter,
        CategoricalParameter,
        IntegerParameter,
        RealParameter,
    )

    from dealersim.adapters.ema import default_levers, default_uncertainties, parameter

    assert isinstance(parameter("wall_initial"), RealParameter)
    assert isinstance(parameter("n_reps"), IntegerParameter)
    assert isinstance(parameter("credit_policy"), CategoricalParameter)
    assert isinstance(parameter("rules_of_engagement"), BooleanParameter)
    p = parameter("wall_initial")
    assert (p.lower_bound, p.upper_bound) == (spec("wall_initial").low, spec("wall_initial").high)
    with pytest.raises(ValueError, match="wall_initial"):
        parameter("wall_initial", 0.0, 2.0)
    levers, unc = set(default_levers()), set(default_uncertainties())
    assert {"credit_policy", "manager_leadership", "quota_ramp_days"} <= levers
    assert not levers & unc and "years" not in unc
    assert unc <= {f.name for f in field_specs() if f.grade in ("U", "C")}


def test_small_ema_experiment_runs_the_model():
    from ema_workbench import SequentialEvaluator, perform_experiments

    from dealersim.adapters.ema import DEFAULT_OUTCOMES, make_model

    model = make_model("overlay", uncertainties={"wall_initial": (0.0, 0.6),
                                                 "intro_rate": (0.05, 0.3)},
                       levers=["credit_policy", "manager_leadership"], seed=3, years=0.25)
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = perform_experiments(model, scenarios=8, policies=2,
                                                    evaluator=evaluator)
    assert len(experiments) == 16
    assert set(outcomes) == set(DEFAULT_OUTCOMES)
    assert all(len(v) == 16 for v in outcomes.values())
    assert (experiments.wall_initial.between(0.0, 0.6)).all()
    # one experiment reproduces a direct run with the same inputs
    row = experiments.iloc[5]
    direct = simulate("overlay", seed=3, years=0.25, wall_initial=float(row.wall_initial),
                      intro_rate=float(row.intro_rate), credit_policy=str(row.credit_policy),
                      manager_leadership=float(row.manager_leadership))
    for k in DEFAULT_OUTCOMES:
        got, want = outcomes[k][5], direct.summary[k]
        assert (math.isnan(got) and want is None) or got == pytest.approx(float(want)), k


def test_bad_inputs_are_one_line_errors():
    from dealersim.adapters.ema import make_model

    with pytest.raises(ValueError, match="both"):
        make_model(uncertainties=["credit_policy"], levers=["credit_policy"])
    with pytest.raises(ValueError, match="summary KPI"):
        make_model(outcomes=["profit!"])
