"""``mesa.batch_run`` on DealershipModel gives the same final values as ``compare``."""

from __future__ import annotations

import multiprocessing

import mesa
import pandas as pd
import pytest

from dealersim.model.dealership import DealershipModel
from dealersim.model.kpis import SERIES_COLUMNS
from dealersim.model.strategies import make_params
from dealersim.studies.compare import run_compare
from dealersim.studies.engine import replicate_seeds

pytestmark = pytest.mark.slow

STRATEGIES = ["overlay", "planned"]
SEED, REPLICATES = 7, 3


def test_batch_run_matches_compare():
    seeds = replicate_seeds(SEED, REPLICATES)
    horizon = make_params("overlay").horizon_days
    previous = multiprocessing.get_start_method(allow_none=True)
    try:  # batch_run forces the global start method to spawn
        rows = mesa.batch_run(DealershipModel, {"strategy": STRATEGIES}, rng=seeds,
                              number_processes=2, max_steps=horizon + 5,
                              display_progress=False)
    finally:
        multiprocessing.set_start_method(previous, force=True)
    theirs = pd.DataFrame(rows)
    assert len(theirs) == len(STRATEGIES) * REPLICATES
    assert (theirs.Step == horizon).all()
    ours = run_compare(STRATEGIES, replicates=REPLICATES, seed=SEED, series_stride=0,
                       progress=False).runs
    merged = ours.merge(theirs, left_on=["strategy", "seed"], right_on=["strategy", "rng"],
                        suffixes=("", "_mesa"), validate="one_to_one")
    assert len(merged) == len(ours)
    assert (merged.managed_contracts == merged.managed_contracts_mesa).all()
    assert (merged.managed_mrr == merged.managed_mrr_mesa.round(2)).all()
    assert (merged.hardware_accounts_end == merged.hardware_accounts).all()
    assert (merged.gross_profit == merged.cumulative_gross_profit.round(2)).all()


def test_batch_run_series_match_compare_series():
    """Every 7th recorded day under batch_run equals compare's weekly series (3 x 2 half-year
    runs, one process; exact equality)."""
    seeds = replicate_seeds(SEED, REPLICATES)
    rows = mesa.batch_run(DealershipModel, {"strategy": STRATEGIES, "years": 0.5}, rng=seeds,
                          number_processes=1, max_steps=400, data_collection_period=7,
                          display_progress=False)
    theirs = pd.DataFrame(rows)
    comp = run_compare(STRATEGIES, replicates=REPLICATES, seed=SEED, series_stride=7,
                       overrides={"years": 0.5}, progress=False)
    ours = comp.series.merge(comp.runs[["run_id", "seed"]], on="run_id")
    merged = ours.merge(theirs, left_on=["strategy", "seed", "day"],
                        right_on=["strategy", "rng", "day"], suffixes=("", "_mesa"),
                        validate="one_to_one")
    horizon = make_params("overlay", years=0.5).horizon_days
    assert len(merged) == len(STRATEGIES) * REPLICATES * (horizon // 7 + 1)
    assert (merged.Step == merged.day).all()
    for col in SERIES_COLUMNS[1:]:
        assert (merged[col] == merged[f"{col}_mesa"]).all(), col
