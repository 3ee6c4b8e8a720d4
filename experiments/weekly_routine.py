"""What would a planned run cost if the specialist's routine ran once a week? A timing probe.

    python experiments/weekly_routine.py [ROUNDS]     # ROUNDS = 5: about 15 seconds, one core

Not the model: a what-if for docs/performance.md. The planned run's cost as a multiple of the
benchmark's kernel (``benchmarks.run.naive_daily_kernel``, 3,200 accounts x 1,095 days) is
missed by a factor of three (target: at most 3). The specialist's workday (the reps' intros,
the comp plan's review, the decision to stay, prospecting) runs on every workday; the probe asks
how much of the run's cost would go if it ran on one workday a week instead (one in five), with
that day's dialling time five times as long (so he still makes about a week's dials). Everything
else (the market's calendar, the pipeline's steps, the books and the daily record) is left as it
is.

The probe changes the behaviour (fewer intros, fewer deals), so its runs are cheaper than a
weekly routine that kept the daily one's outcomes would be: the figure is a lower bound on what
a weekly routine alone would cost. For each of seeds 0-4 it times, in turn, the kernel, the
planned run and the probe, ``ROUNDS`` times, keeps each one's best time (the benchmark's
interleaving, ``benchmarks.run.interleaved``) and prints both runs as multiples of the kernel.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the benchmarks package

from benchmarks.run import interleaved, naive_daily_kernel  # noqa: E402
from dealersim.model.dealership import DealershipModel  # noqa: E402
from dealersim.model.people.specialist import Specialist  # noqa: E402

SEEDS = range(5)


@contextmanager
def weekly_routine() -> Iterator[None]:
    """The specialist's workday in full on one workday a week, with five days' dialling."""
    workday, prospect = Specialist.workday, Specialist.prospect

    def weekly(self: Specialist) -> None:
        m = self.model
        if self.left_day is not None:
            return
        if m.day % 7 != 1:  # another workday: only the next one is put in the diary
            m.at(m.next_workday(), self.workday, "specialists")
            self.workdays += 1
            return
        workday(self)

    Specialist.workday = weekly
    Specialist.prospect = lambda self, minutes: prospect(self, 5 * minutes)
    try:
        yield
    finally:
        Specialist.workday, Specialist.prospect = workday, prospect


def planned(seed: int) -> DealershipModel:
    """The default planned run (3 years, daily series) on ``seed``."""
    return DealershipModel("planned", rng=seed).run()


def main(argv: list[str]) -> None:
    rounds = int(argv[0]) if argv else 5
    daily, weekly = [], []
    for seed in SEEDS:
        def probe(seed: int = seed) -> DealershipModel:
            with weekly_routine():
                return planned(seed)

        best = interleaved({"kernel": lambda: naive_daily_kernel(3200, 1095),
                            "daily": lambda seed=seed: planned(seed), "weekly": probe}, rounds)
        deals = planned(seed).books.deals
        with weekly_routine():
            deals_weekly = planned(seed).books.deals
        daily.append(best["daily"] / best["kernel"])
        weekly.append(best["weekly"] / best["kernel"])
        print(f"seed {seed}: kernel {best['kernel'] * 1e3:.0f} ms; planned "
              f"{best['daily'] * 1e3:.0f} ms ({daily[-1]:.2f} kernels, {deals} deals); "
              "weekly routine "
              f"{best['weekly'] * 1e3:.0f} ms ({weekly[-1]:.2f} kernels, {deals_weekly} deals) "
              f"[load {best['load'][0]} -> {best['load'][1]}]")
    print(f"median over seeds 0-4: planned {statistics.median(daily):.2f} kernels "
          f"({min(daily):.2f}-{max(daily):.2f}); with a weekly routine "
          f"{statistics.median(weekly):.2f} ({min(weekly):.2f}-{max(weekly):.2f})")


if __name__ == "__main__":
    main(sys.argv[1:])
