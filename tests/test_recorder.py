"""The time-series recorder (dealersim.model.recorder) and the arrays runs return.

The reference for every value is a real ``mesa.DataCollector`` fed, on the same days, by
reporters that compute each column from the model's state directly (the formulas of the
DataCollector path this recorder replaced; stage counts recounted from the stage column).
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest
from mesa.batchrunner import _model_run_func

from dealersim.model.dealership import TIMESERIES_COLUMNS, DealershipModel
from dealersim.model.funnel import Stage
from dealersim.model.kpis import SERIES, SERIES_COLUMNS
from dealersim.model.recorder import SeriesRecorder, recorded_rows, series_dtypes
from dealersim.studies.engine import RunSpec, collect_runs, run_one, series_frame


def _stage(stage):
    return lambda m: int(np.bincount(m.market.stage, minlength=len(Stage))[stage])


def _staff_sum(fn):
    return lambda m: sum(fn(s) for s in m.employed_specialists)


def _seated_sum(fn):
    """Sum over the specialists seated today (including one who left today)."""
    return lambda m: sum(fn(s) for s in m.specialists if s.left_day in (None, m.day))


def _walls(m):
    return np.array([r.wall for r in m.reps])


REFERENCE = {
    "day": lambda m: m.day,
    "hardware_accounts": lambda m: int((m.market.holder == 1).sum()),
    "competitor_accounts": lambda m: int((m.market.holder == 0).sum()),
    "managed_contracts": lambda m: int((m.market.stage >= Stage.IMPLEMENTATION).sum()),
    "managed_mrr": lambda m: m.market.live_mrr,
    "booked_mrr": lambda m: m.books.booked_total,
    "specialist_booked_mrr": _staff_sum(lambda s: s.booked_mrr),
    "stage_conversation": _stage(Stage.CONVERSATION),
    "stage_appointment": _stage(Stage.APPOINTMENT),
    "stage_assessment": _stage(Stage.ASSESSMENT),
    "stage_proposal": _stage(Stage.PROPOSAL),
    "stage_implementation": _stage(Stage.IMPLEMENTATION),
    "wall_mean": lambda m: float(_walls(m).mean()),
    "wall_max": lambda m: float(_walls(m).max()),
    "specialist_employed": lambda m: len(m.employed_specialists),
    "specialist_salary": _staff_sum(lambda s: s.salary),
    "quota_target": _staff_sum(lambda s: s.quota_target(s.tenure)),
    "dials": lambda m: m.books.dials,
    "conversations": lambda m: m.books.conversations,
    "first_appointments_total": lambda m: int(m.books.first_appointments.sum()),
    "proposals": lambda m: m.books.proposals,
    "deals": lambda m: m.books.deals,
    "permission_requests": lambda m: m.books.permission_requests,
    "cumulative_gross_profit": lambda m: m.ledger.net_total,  # the ledger: tests/test_ledger.py
    "specialist_minutes_booked": _seated_sum(lambda s: s.minutes_booked_today),
    "specialist_minutes_available": _seated_sum(lambda s: s.minutes_available_today),
}


def run_with_reference(strategy, seed, every, **overrides):
    """Step a model and, on the days it should record, collect the reference values."""
    model = DealershipModel(strategy, rng=seed, record_every=every, **overrides)
    ref = mesa.DataCollector(model_reporters=REFERENCE)
    ref.collect(model)
    while model.running:
        model.step()
        if not model.running or (every > 0 and model.day % every == 0):
            ref.collect(model)
    return model, ref.get_model_vars_dataframe()


def test_reference_covers_every_series_column():
    assert list(REFERENCE) == list(SERIES_COLUMNS) == list(TIMESERIES_COLUMNS)


@pytest.mark.parametrize(("strategy", "seed", "every"), [
    ("overlay", 0, 1), ("overlay", 3, 7), ("planned", 1, 1), ("planned", 2, 30),
    ("hardware_only", 4, 1), ("rep_led", 5, 0), ("hunter", 6, 7),
])
def test_series_equal_the_model_state_on_the_recorded_days(strategy, seed, every):
    """7 runs of 1 year, default size: every value exact, dtypes from the KPI registry."""
    model, expected = run_with_reference(strategy, seed, every, years=1.0)
    got = model.datacollector.get_model_vars_dataframe()
    assert list(got.columns) == list(SERIES_COLUMNS)
    assert len(got) == len(expected) == recorded_rows(model.horizon, every)
    for c in SERIES_COLUMNS:
        np.testing.assert_array_equal(got[c].to_numpy(float), expected[c].to_numpy(float),
                                      err_msg=c)
    assert got.dtypes.to_dict() == series_dtypes(SERIES_COLUMNS)
    kinds = {k.name: k.kind for k in SERIES}
    assert all(got[c].dtype == np.int64 for c in got if kinds[c] in ("count", "days"))


@pytest.mark.parametrize(("every", "days"), [
    (1, list(range(92))),
    (7, list(range(0, 92, 7))),  # 91 = 13 * 7: the last day is a stride day
    (10, [*range(0, 91, 10), 91]),  # the last day is kept though off the stride
    (0, [0, 91]),  # day 0 and the last day only
    (200, [0, 91]),
])
def test_stride_keeps_day_zero_and_the_last_day(every, days):
    model = DealershipModel("overlay", rng=1, record_every=every, years=0.25).run()
    assert model.horizon == 91
    rec = model.datacollector
    assert rec.arrays()["day"].tolist() == days
    assert len(rec) == len(days) == recorded_rows(91, every)
    assert rec._block.shape[0] == len(days)  # preallocated exactly, never grown
    assert rec._collection_steps == [float(d) for d in days]


def test_recorded_rows():
    assert recorded_rows(1095, 1) == 1096
    assert recorded_rows(1095, 7) == 158  # 0, 7, ..., 1092, then 1095
    assert recorded_rows(1095, 0) == 2
    assert recorded_rows(0, 0) == recorded_rows(0, 5) == 1


def test_summary_and_series_agree_on_the_last_day():
    model = DealershipModel("overlay", rng=2, record_every=30, years=1.0).run()
    last = model.datacollector.get_model_vars_dataframe().iloc[-1]
    assert last["day"] == model.horizon
    assert last["wall_mean"] == model.wall_mean
    assert last["wall_max"] == model.wall_max
    assert last["managed_contracts"] == model.managed_contracts
    assert last["cumulative_gross_profit"] == model.ledger.net_total


# ---------------------------------------------------------------- the DataCollector face
def test_datacollector_face_for_mesa():
    model = DealershipModel("planned", rng=4, years=0.25, n_reps=3, accounts_per_rep=40)
    rec = model.datacollector
    assert isinstance(rec, mesa.DataCollector)
    model.run()
    frame = rec.get_model_vars_dataframe()
    assert isinstance(frame.index, pd.RangeIndex)
    mv = rec.model_vars
    assert list(mv) == list(SERIES_COLUMNS)
    for c in SERIES_COLUMNS:  # lists of Python numbers, as DataCollector keeps them
        assert mv[c] == frame[c].tolist()
        assert all(type(v) in (int, float) for v in mv[c])
    assert rec.model_vars is mv  # built once per row count
    assert rec._agent_records == {} and rec._agenttype_records == {}
    with pytest.raises(UserWarning):  # as a DataCollector without agent reporters
        rec.get_agent_vars_dataframe()


def test_batch_run_reads_every_recorded_day():
    """Mesa's own per-run function (what batch_run's workers call), every recorded day."""
    kwargs = {"strategy": "overlay", "rng": 9, "years": 0.25}
    rows = _model_run_func(DealershipModel, (0, 0, kwargs), max_steps=1000,
                           data_collection_period=1)
    theirs = pd.DataFrame(rows)
    ours = DealershipModel("overlay", rng=9, years=0.25).run()
    expected = ours.datacollector.get_model_vars_dataframe()
    assert theirs["Step"].tolist() == [float(d) for d in range(92)]
    pd.testing.assert_frame_equal(theirs[list(SERIES_COLUMNS)], expected, check_exact=True)


@pytest.mark.slow
def test_solaraviz_plot_components_render():
    import solara  # the dashboard extra, which make test installs
    from mesa.visualization import SolaraViz, make_plot_component
    from mesa.visualization.components.altair_components import PlotAltair
    from mesa.visualization.components.matplotlib_components import PlotMatplotlib

    model = DealershipModel("overlay", rng=1, years=0.25)
    for _ in range(10):
        model.step()
    solara.render(PlotMatplotlib(model, ["managed_mrr", "wall_mean"]), handle_error=False)
    solara.render(PlotAltair(model, {"hardware_accounts": "red"}), handle_error=False)
    page = SolaraViz(model, components=[make_plot_component("managed_mrr")],
                     model_params={"strategy": "overlay"})
    solara.render(page, handle_error=False)
    assert len(model.datacollector) == 11


class Toy:
    time = 0.0

    def __init__(self):
        self.day, self.dials = 0, 0


def test_block_grows_past_its_capacity():
    rec = SeriesRecorder(["day", "dials"], capacity=1)
    toy = Toy()
    for d in range(5):
        toy.day, toy.dials, toy.time = d, 10 * d, float(d)
        rec.collect(toy)
    assert rec.arrays()["dials"].tolist() == [0, 10, 20, 30, 40]
    assert rec.model_vars["day"] == [0, 1, 2, 3, 4]
    assert rec._collection_steps == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_derived_columns_need_a_function():
    with pytest.raises(ValueError, match="derive"):
        SeriesRecorder(["day", "dials"], capacity=1, derived=["dials"])
    with pytest.raises(ValueError, match="derived"):
        SeriesRecorder(["day"], capacity=1, derived=["wall_mean"], derive=dict)


def test_arrays_are_copies():
    model = DealershipModel("overlay", rng=1, record_every=7, years=0.25).run()
    a = model.datacollector.arrays()
    a["dials"][:] = -1
    assert (model.datacollector.arrays()["dials"] >= 0).all()


# ---------------------------------------------------------------- what runs return
def test_run_one_returns_arrays_at_the_stride():
    spec = RunSpec("r1", "overlay", 5, (("years", 0.25),))
    row, series = run_one(spec, 7)
    assert row["run_id"] == "r1"
    assert isinstance(series, dict) and list(series) == list(SERIES_COLUMNS)
    assert all(isinstance(v, np.ndarray) for v in series.values())
    assert series["day"].tolist() == list(range(0, 92, 7))
    model = DealershipModel("overlay", rng=5, record_every=7, years=0.25).run()
    expected = model.datacollector.get_model_vars_dataframe()
    pd.testing.assert_frame_equal(pd.DataFrame(series), expected, check_exact=True)
    assert run_one(spec, 0)[1] is None


def test_series_frame_orders_runs_and_days():
    specs = [RunSpec(f"r{i}", "planned", i, (("years", 0.25),)) for i in (2, 0, 1)]
    batches = [[run_one(s, 30)] for s in specs]
    rows, frame = collect_runs(batches)
    assert [r["run_id"] for r in rows] == ["r0", "r1", "r2"]
    assert list(frame.columns) == ["run_id", *SERIES_COLUMNS]
    assert isinstance(frame.index, pd.RangeIndex)
    assert frame["run_id"].tolist() == [f"r{i}" for i in range(3) for _ in range(5)]
    assert frame["day"].tolist() == [0, 30, 60, 90, 91] * 3
    one = frame[frame.run_id == "r1"].drop(columns="run_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(one, pd.DataFrame(batches[2][0][1]), check_exact=True)
    assert series_frame([]) is None
    assert collect_runs([[run_one(specs[0], 0)]])[1] is None
