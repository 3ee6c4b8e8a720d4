"""The overlay's year-one rate at the defaults on many unseen seeds, by team size, and two probes.

    python experiments/overlay_by_size.py [N] [--centre DIR]   # N = 1000: 5-7 minutes, 2 cores

Runs the overlay at its defaults (3 years) on ``N`` seeds spawned from master seed 777001 (which
no check uses) at 4, 8 and 12 reps and prints the share of launches whose first specialist is
still in the seat at month 12, with its Wilson 95 % interval. At 4 reps it adds two probes on
the same seeds: the 8-rep dealership's territory (twice the accounts a rep) and a quota halved
in proportion to the territory. At 8 reps it runs "overlay + a leading manager alone" (the P9
arm) on ``0.6 N`` further seeds of the same master seed. With ``--centre DIR`` (a finished
calibration) it also runs the overlay at the posterior's centre, every calibrated parameter at
its posterior median from ``DIR/parameters.csv`` (whole numbers for integer fields), on the same
``N`` seeds at each size. docs/calibration.md quotes the output (the miss of P1 at 4 reps, the
rate at the posterior's centre, and how lucky validate's seed set is at 8 reps).
"""

from __future__ import annotations

import argparse
import dataclasses
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dealersim.base.stats import interval
from dealersim.model.dealership import DealershipModel
from dealersim.model.params import Params
from dealersim.model.results import summarize
from dealersim.studies.validation import ARMS

MASTER = 777001


def one(job: tuple[str, dict[str, Any], np.random.SeedSequence]) -> bool:
    strategy, overrides, seed = job
    model = DealershipModel(strategy, rng=np.random.default_rng(seed), **overrides).run()
    return bool(summarize(model)["first_specialist_year_one"])


def rate(pool: ProcessPoolExecutor, strategy: str, overrides: dict[str, Any],
         seeds: list[np.random.SeedSequence]) -> str:
    hits = list(pool.map(one, [(strategy, overrides, s) for s in seeds], chunksize=20))
    share, lo, hi = interval([float(h) for h in hits], kind="flag")
    return f"{share:.1%} ({lo:.1%}-{hi:.1%}, n={len(hits)})"


def posterior_centre(folder: Path) -> dict[str, Any]:
    """Every calibrated parameter at its posterior median (``parameters.csv`` of ``folder``)."""
    table = pd.read_csv(folder / "parameters.csv")
    kinds = {f.name: type(f.default) for f in dataclasses.fields(Params)}
    return {name: round(median) if kinds[name] is int else float(median)
            for name, median in zip(table["parameter"], table["median"], strict=True)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1000, help="seeds per rate")
    parser.add_argument("--centre", type=Path, metavar="DIR",
                        help="also run at the posterior medians of the calibration in DIR")
    args = parser.parse_args(argv)
    if args.centre is not None and not (args.centre / "parameters.csv").is_file():
        parser.error(f"--centre: {args.centre} holds no parameters.csv (a finished calibration)")
    n = args.n
    seeds = np.random.SeedSequence(MASTER).spawn(n + int(0.6 * n))
    first, other = seeds[:n], seeds[n:]
    p = Params()
    with ProcessPoolExecutor(2) as pool:
        for n_reps in (4, 8, 12):
            print(f"overlay, {n_reps} reps: {rate(pool, 'overlay', {'n_reps': n_reps}, first)}")
        print("overlay, 4 reps, the 8-rep territory "
              f"({2 * p.accounts_per_rep} accounts a rep): "
              + rate(pool, "overlay", {"n_reps": 4, "accounts_per_rep": 2 * p.accounts_per_rep},
                     first))
        print("overlay, 4 reps, quota halved with the territory: "
              + rate(pool, "overlay", {"n_reps": 4,
                                       "monthly_quota_mrr": p.monthly_quota_mrr / 2}, first))
        strategy, over = ARMS["overlay_leader"]
        print(f"overlay + a leading manager alone, 8 reps, {len(other)} other seeds: "
              + rate(pool, strategy, {**over, "n_reps": 8}, other))
        if args.centre is not None:
            centre = posterior_centre(args.centre)
            for n_reps in (4, 8, 12):
                print(f"overlay at the posterior medians of {args.centre}, {n_reps} reps: "
                      + rate(pool, "overlay", {**centre, "n_reps": n_reps}, first))


if __name__ == "__main__":
    main()
