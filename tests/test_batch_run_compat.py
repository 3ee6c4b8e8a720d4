"""``mesa.batch_run`` on DealershipModel gives the same final values as ``compare``."""

from __future__ import annotations

import multiprocessing

import mesa
import pandas as pd

from dealersim.model.dealership import DealershipModel
from dealersim.model.strategies import make_params
from dealersim.studies.compare import run_compare
from dealersim.studies.engine import replicate_seeds

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
