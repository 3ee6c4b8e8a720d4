"""The 5-year and 10-year cash of the story's launch and the author's plan, line by line.

Runs ``overlay`` and ``planned`` for 10 years on the seeds ``FIRST .. FIRST + N - 1`` (each with
its hardware-only twin on the same seed, as ``simulate`` does), averages every ledger line over
the runs for the first 60 months and for all 120, and writes the table between the markers
``<!-- money-table:start -->`` and ``<!-- money-table:end -->`` of docs/money.md. Each line's
source column is generated from the ``source`` of the parameters that drive it: a parameter
whose source is ``evidence:<slug>; ...`` links to ``evidence.md#<slug>``.

Usage (from the repository root, about 4 CPU-seconds a run and its twin):

    python experiments/money_table.py            # N = 30 from seed 0, 2 worker processes
    python experiments/money_table.py 40 1000 1  # N = 40 from seed 1000, 1 process
    python experiments/money_table.py render     # redraw from out/money_table/runs.csv
"""

from __future__ import annotations

import math
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from dealersim.model import kpis
from dealersim.model.ledger import npv, payback_month
from dealersim.model.params import spec
from dealersim.model.results import simulate

STRATEGIES = ("overlay", "planned")
YEARS = 10
DOC = Path(__file__).resolve().parent.parent / "docs" / "money.md"
RUNS = DOC.parent.parent / "out" / "money_table" / "runs.csv"
"""The runs of the last table (``render`` redraws the table from them)."""
START, END = "<!-- money-table:start -->", "<!-- money-table:end -->"

LINES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("hardware_vs_nothing", "Hardware customers kept (against doing nothing)",
     ("lease_value_per_device", "hw_margin", "hw_margin_erosion", "print_volume_decline",
      "managed_stickiness")),
    ("takeover_hardware_gp", "Leases taken over with a managed deal",
     ("lease_value_per_device", "hw_margin")),
    ("managed_print_gp", "Managed print gross profit",
     ("service_share", "mps_discount", "service_margin")),
    ("managed_it_gp", "Managed IT gross profit (after delivery)",
     ("mit_fee_per_seat", "mit_seats_per_account", "managed_margin")),
    ("service_replaced", "Service and supplies replaced (at the service margin)",
     ("service_share", "service_margin")),
    ("specialist_salary", "Specialist salary", ("base_salary",)),
    ("payroll_burden", "Payroll burden", ("payroll_burden",)),
    ("specialist_commission", "Specialist commissions",
     ("commission_months", "hardware_commission")),
    ("rep_credit", "Reps' credit and commissions", ("rep_credit_share",)),
    ("training", "Rep training", ("rep_training_cost",)),
    ("hiring", "Hiring the specialists", ("hiring_cost",)),
    ("implementation", "Implementation labour",
     ("implementation_months_mps", "implementation_months_mit")),
    ("program_running", "Program running costs", ("program_cost_monthly",)),
    ("managed_overhead", "Managed services overhead", ("managed_overhead_share",)),
)
"""(column, words, the parameters that drive it) for every net line of the ledger; the hardware
line is counted against the twin's net (all hardware gross profit), so the lines add up to the
cash against doing nothing."""

_GRADE = re.compile(r"\[([^\]]+)\]\s*$")
_SLUG = re.compile(r"evidence:([a-z0-9-]+)")
_FILE = re.compile(r"^\S+\.md:\s*")


def source_cell(fields: tuple[str, ...]) -> str:
    """Each field with links to its evidence entries (or its source's words) and its grade."""
    cells = []
    for name in fields:
        src = spec(name).source
        grade = _GRADE.search(src)
        g = f" [{grade.group(1)}]" if grade else ""
        slugs = _SLUG.findall(src)
        if slugs:
            links = ", ".join(f"[{slug}](evidence.md#{slug})" for slug in slugs)
            cells.append(f"`{name}`: {links}{g}")
        else:  # an estimate, or not yet moved to the evidence page: its words, no file name
            words = _FILE.sub("", _GRADE.sub("", src)).strip()
            cells.append(f"`{name}`: {words}{g}")
    return "; ".join(cells)


def one_run(job: tuple[str, int]) -> dict[str, float]:
    """One 10-year run: every line summed over 60 and 120 months, and the money keys."""
    strategy, seed = job
    r = simulate(strategy, seed=seed, years=YEARS)
    led, s, p = r.ledger, r.summary, r.params
    led = led.assign(hardware_vs_nothing=led.hardware_gp - led.baseline_net)
    out: dict[str, float] = {"strategy": strategy, "seed": seed}
    diff = (led.net - led.baseline_net).to_numpy()
    for months, tag in ((60, "5"), (120, "10")):
        head = led.iloc[:months]
        for column, _, _ in LINES:
            out[f"{column}_{tag}"] = float(head[column].sum())
        out[f"cash_{tag}"] = float(diff[:months].sum())
        out[f"npv_{tag}"] = npv(diff[:months], p.discount_rate)
        out[f"paid_{tag}"] = float(payback_month(diff[:months]) is not None)
        out[f"revenue_{tag}"] = float(head.managed_revenue.sum())
    ratio = s["managed_print_price_ratio"]
    out["price_ratio"] = math.nan if ratio is None else ratio
    gm = s["gross_margin_per_sales_pay"]
    out["gm_per_pay"] = math.nan if gm is None else gm
    out["success"] = float(s["launch_succeeded"])  # judged at month 36 and year one
    out["milestone"] = float(s["year_one_bookings_milestone"])
    return out


def money(x: float) -> str:
    return kpis.money(x) if not math.isnan(x) else "n/a"


def table(runs: pd.DataFrame, n: int, first: int) -> str:
    """The markdown of the table and the figures under it."""
    mean = runs.groupby("strategy").mean(numeric_only=True).reindex(list(STRATEGIES))
    sd = runs.groupby("strategy").std(numeric_only=True).reindex(list(STRATEGIES))
    head = ("| ledger line | " + " | ".join(
        f"{s}, {y} years" for s in STRATEGIES for y in (5, 10)) + " | source |")
    rows = [head, "|---|" + "---:|" * 4 + "---|"]
    for column, words, fields in LINES:
        vals = " | ".join(money(mean.loc[s, f"{column}_{y}"]) for s in STRATEGIES
                          for y in (5, 10))
        rows.append(f"| {words} | {vals} | {source_cell(fields)} |")
    cash = " | ".join(f"**{money(mean.loc[s, f'cash_{y}'])}** (sd {money(sd.loc[s, f'cash_{y}'])})"
                      for s in STRATEGIES for y in (5, 10))
    rows.append(f"| **cash against doing nothing** | {cash} | the sum of the lines above |")
    npv_row = " | ".join(money(mean.loc[s, f"npv_{y}"]) for s in STRATEGIES for y in (5, 10))
    rows.append(f"| net present value at the discount rate | {npv_row} | "
                f"{source_cell(('discount_rate',))} |")
    paid = " | ".join(f"{mean.loc[s, f'paid_{y}'] * 100:.0f} %" for s in STRATEGIES
                      for y in (5, 10))
    rows.append(f"| runs paid back by the end (and staying so) | {paid} | |")
    rev = " | ".join(money(mean.loc[s, f"revenue_{y}"]) for s in STRATEGIES for y in (5, 10))
    rows.append(f"| memo: managed revenue billed | {rev} | |")
    seeds = f"seeds {first}-{first + n - 1}"
    lines = [
        f"Mean over N = {n} runs of each plan ({seeds}; each run with its hardware-only twin "
        f"on the same seed), {YEARS}-year runs: the 5-year columns are their first 60 months. "
        "Parameters at their defaults.",
        "",
        *rows,
        "",
    ]
    for s in STRATEGIES:
        m = mean.loc[s]
        lines.append(
            f"- **{s}**: managed print price over the billing it replaced "
            f"{m.price_ratio:.2f} (runs that signed managed print); first-year gross margin "
            f"sold per dollar of sales pay over the 10 years {m.gm_per_pay:.2f} (the trade asks "
            f"7-9); launch succeeded {m.success * 100:.0f} %, year-one bookings milestone "
            f"{m.milestone * 100:.0f} %.")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    if argv[:1] == ["render"]:  # the table again from the last runs, without running them
        runs = pd.read_csv(RUNS)
        n, first = int(runs.seed.nunique()), int(runs.seed.min())
    else:
        n = int(argv[0]) if argv else 30
        first = int(argv[1]) if len(argv) > 1 else 0
        workers = int(argv[2]) if len(argv) > 2 else 2
        jobs = [(s, seed) for s in STRATEGIES for seed in range(first, first + n)]
        if workers > 1:
            with ProcessPoolExecutor(workers) as pool:
                results = list(pool.map(one_run, jobs))
        else:
            results = [one_run(j) for j in jobs]
        runs = pd.DataFrame(results)
        RUNS.parent.mkdir(parents=True, exist_ok=True)
        runs.to_csv(RUNS, index=False)
    assert (runs.price_ratio.dropna() <= 1.0).all()
    text = DOC.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"{DOC} has no {START} ... {END} markers")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    body = table(runs, n, first)
    DOC.write_text(before + START + "\n" + body + END + after)
    print(body)
    print(runs.groupby("strategy").std(numeric_only=True).round(2).T.to_string())


if __name__ == "__main__":
    main(sys.argv[1:])
