"""When the story's beats happen in the overlay, over runs on seeds no test uses.

    python experiments/beat_timing.py [N] [FIRST_SEED] [REPS]

Runs the overlay N times (default 60, seeds FIRST_SEED.., default 81001, 8 reps, 3 years) and
prints, over the runs where each beat happens while the first specialist is in the seat (the
summary's beat KPIs): the median first day a rep walls his accounts off, the median day the
manager imposes the ask-permission rule, the median day the specialist asks for help, and
the largest share of first-specialist departures on any single day (with the day). The
story: the rule after about two weeks on the phones, walls by day 30, the call for help
around day 60, and leaving as a decision rather than a date.
"""

from __future__ import annotations

import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from dealersim.model.results import simulate

BEATS = {"first wall-off": "first_walloff_day", "ask-permission rule": "permission_rule_day",
         "call for help": "help_asked_day"}


def one(args: tuple[int, int]) -> dict[str, int | None]:
    seed, reps = args
    r = simulate("overlay", seed=seed, years=3, n_reps=reps, record_every=0)
    ev = r.events
    out: dict[str, int | None] = {name: r.summary[key] for name, key in BEATS.items()}
    left = ev[ev.kind.isin(["quit", "fired"]) & (ev.actor == "specialist 1")].day
    out["first specialist leaves"] = int(left.min()) if len(left) else None
    return out


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 60
    first = int(argv[1]) if len(argv) > 1 else 81001
    reps = int(argv[2]) if len(argv) > 2 else 8
    with ProcessPoolExecutor(2) as ex:
        rows = list(ex.map(one, [(s, reps) for s in range(first, first + n)]))
    print(f"overlay, {reps} reps, seeds {first}-{first + n - 1}, 3 years")
    for name in BEATS:
        days = [r[name] for r in rows if r[name] is not None]
        med = f"median day {np.median(days):.0f}" if days else "never"
        print(f"  {name}: in {len(days)} of {n} runs, {med}")
    left = [r["first specialist leaves"] for r in rows if r["first specialist leaves"]]
    if left:
        day, count = Counter(left).most_common(1)[0]
        print(f"  first specialist leaves: in {len(left)} of {n} runs, median day "
              f"{np.median(left):.0f}; the busiest day (day {day}) holds {count} "
              f"({count / len(left):.0%})")


if __name__ == "__main__":
    main(sys.argv[1:])
