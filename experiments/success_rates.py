"""Success, the milestone and the trade's yardsticks of overlay and planned at the defaults.

Runs ``overlay`` and ``planned`` at their defaults (3 years) on seeds ``FIRST .. FIRST + N - 1``
and prints, per plan, the share of runs (with the Wilson 95 % interval) that succeed on money,
meet the year-one bookings milestone and keep the first specialist through month 12, and the
mean and median of the managed gross profit over running cost at month 36, the managed print
price ratio, the gross margin sold per dollar of sales pay, the NPV and the cash against doing
nothing. The figures quoted in docs/money.md ("Success at the defaults") come from:

    python experiments/success_rates.py 40 1000      # 80 runs, 2 worker processes
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from dealersim.base.stats import interval
from dealersim.model.results import simulate

FLAGS = ("launch_succeeded", "year_one_bookings_milestone", "first_specialist_year_one",
         "program_succeeded")
NUMBERS = ("run_rate_cover", "managed_print_price_ratio", "gross_margin_per_sales_pay", "npv",
           "cash_vs_hardware_only", "booked_mrr_year1", "managed_mrr")


def one(job: tuple[str, int]) -> dict:
    strategy, seed = job
    s = simulate(strategy, seed=seed).summary
    return {"strategy": strategy, "seed": seed, **{k: s[k] for k in FLAGS + NUMBERS},
            "paid_back": s["payback_month"] is not None}


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 40
    first = int(argv[1]) if len(argv) > 1 else 1000
    jobs = [(s, seed) for s in ("overlay", "planned") for seed in range(first, first + n)]
    with ProcessPoolExecutor(2) as pool:
        runs = pd.DataFrame(list(pool.map(one, jobs)))
    for strategy, g in runs.groupby("strategy"):
        print(f"{strategy}: N = {len(g)}, seeds {first}-{first + n - 1}")
        for k in FLAGS:
            est, low, high = interval(g[k].astype(float).to_numpy(), "flag")
            print(f"  {k}: {est:.1%} ({low:.1%} to {high:.1%})")
        for k in NUMBERS:
            v = pd.to_numeric(g[k], errors="coerce")
            print(f"  {k}: mean {v.mean():,.3f}, median {v.median():,.3f}, "
                  f"max {v.max():,.3f} (defined in {v.notna().sum()} runs)")
        print(f"  paid back by the end: {g.paid_back.mean():.1%}")


if __name__ == "__main__":
    main(sys.argv[1:])
