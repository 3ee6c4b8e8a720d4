"""What ``dealersim advise`` writes: the ranked plans, the Pareto chart and one scenario per plan.

:func:`write_advice` writes into the study's directory, next to the Optuna journal that
``--resume`` continues. Each file is replaced atomically (``base.io``), and the ``plans/``
folder of scenario files as a whole, so a reader never sees a half-written result:

* ``plans.csv`` and ``plans.parquet``: every plan tried, ranked (:attr:`Advice.plans`);
* ``check.csv``: the out-of-sample check; ``ablation.csv``: the recommended plan's changes
  undone one at a time;
* ``pareto.png``: the money objective against launch success, the front and the target;
* ``plans/plan-NN.toml``: each plan on the Pareto front as a scenario file
  (``dealersim run --scenario plans/plan-01.toml``, or the dashboard's scenario box);
* ``advice.md``: the recommendation, the check and the three changes in plain words.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.ticker import PercentFormatter

from dealersim.base.io import atomic_dir, atomic_file, write_text
from dealersim.model.scenario import Scenario, save
from dealersim.model.strategies import make_params
from dealersim.outputs.plots import money_axis, new_figure, tidy
from dealersim.studies.advise import (
    BASE,
    Advice,
    objective_label,
    summary_lines,
    three_things,
)

FRONT = "#1f618d"
PICK = "#1e8449"
CHECK = "#d35400"


def plot_pareto(advice: Advice, path: Path) -> Path:
    """The money objective against launch success for every plan, with the front and target."""
    plans, name = advice.plans, advice.objective
    fig = new_figure(8.0, 4.8)
    ax = fig.add_subplot()
    ax.scatter(plans[name], plans.success, s=18, color="0.7", label="plans tried", zorder=2)
    front = plans[plans.on_front].sort_values(name)
    err = np.vstack([front.success - front.success_low, front.success_high - front.success])
    ax.errorbar(front[name], front.success, yerr=err, fmt="o-", color=FRONT, capsize=3,
                lw=1.2, ms=5, label="best trade-offs (95 % intervals)", zorder=3)
    checks = advice.checks.merge(plans[["plan", name]], on="plan")
    if len(checks):
        ax.scatter(checks[name], checks.fresh_success, marker="D", s=36, facecolor="none",
                   edgecolor=CHECK, lw=1.4, label="rerun on new simulated dealerships",
                   zorder=4)
    if advice.recommended is not None:
        r = advice.plan(advice.recommended)
        ax.scatter([r[name]], [r.success], s=140, facecolor="none", edgecolor=PICK, lw=2.2,
                   label="recommended", zorder=5)
    ax.axhline(advice.target, color=PICK, ls="--", lw=1)
    ax.text(0.99, advice.target, f" target {advice.target:.0%}", transform=ax.get_yaxis_transform(),
            ha="right", va="bottom", color=PICK, fontsize=9)
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    money_axis(ax.xaxis)
    ax.set_xlabel(objective_label(name))
    short = advice.settings.measure.short
    ax.set_ylabel(short)
    ax.grid(color="0.93")
    ax.legend(loc="best", frameon=False, fontsize=8)
    ax.set_title(f"{objective_label(name)} against {short}, {len(plans)} plans",
                 loc="left", fontsize=11, fontweight="bold")
    tidy(ax)
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path


def plan_scenario(advice: Advice, name: str) -> Scenario:
    """Plan ``name`` as a scenario: the overlay, the fixed overrides and the plan's levers."""
    s = advice.settings
    params = make_params(BASE, **s.fixed, **advice.levers(name))
    row = advice.plan(name)
    text = (f"{name} from dealersim advise: {s.measure.short} {row.success:.0%} "
            f"({row.success_low:.0%} to {row.success_high:.0%}) over {row.runs} simulated "
            "dealerships")
    return Scenario.from_params(BASE, s.seed, params, description=text)


def advice_text(advice: Advice) -> str:
    """``advice.md``: the recommendation, the check and the three changes, for people."""
    lines = ["# The plan advised", ""]
    lines += [f"- {line}" for line in summary_lines(advice)]
    things = three_things(advice)
    if things:
        lines += ["", "## If you can only change three things", ""]
        lines += [f"- {t}" for t in things]
    lines += ["", f"Reproduce: `{advice.command}`", ""]
    return "\n".join(lines)


THREE_THINGS = "three_things.json"
"""The file in an advise output directory holding the report's "three things" sentences."""


def read_three_things(folder: str | Path) -> list[str]:
    """The "If you can only change three things" sentences saved by ``dealersim advise``.

    Raises:
        ValueError: One line naming the folder when it holds no readable sentences.
    """
    path = Path(folder) / THREE_THINGS
    try:
        things = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ValueError(f"advice: {folder} is not allowed; expected a folder written by "
                         f"`dealersim advise` (with {THREE_THINGS})") from None
    if not isinstance(things, list) or not all(isinstance(t, str) for t in things):
        raise ValueError(f"advice: {path} is not allowed; expected a list of sentences")
    return things


def write_advice(advice: Advice, out: str | Path) -> list[Path]:
    """Write the tables, the chart, the scenario files and ``advice.md`` into ``out``.

    Returns:
        The paths written.
    """
    out = Path(out)
    written = []
    for suffix in ("csv", "parquet"):
        with atomic_file(out / f"plans.{suffix}") as tmp:
            if suffix == "csv":
                advice.plans.to_csv(tmp, index=False, float_format="%.6g")
            else:
                advice.plans.to_parquet(tmp, index=False)
        written.append(out / f"plans.{suffix}")
    for name, frame in (("check.csv", advice.checks), ("ablation.csv", advice.ablation)):
        with atomic_file(out / name) as tmp:
            frame.to_csv(tmp, index=False, float_format="%.6g")
        written.append(out / name)
    written.append(plot_pareto(advice, out / "pareto.png"))
    with atomic_dir(out / "plans", force=True) as tmp:
        for name in advice.front().plan:
            save(plan_scenario(advice, name), tmp / f"{name}.toml")
    written.append(out / "plans")
    written.append(write_text(out / "advice.md", advice_text(advice)))
    written.append(write_text(out / THREE_THINGS, json.dumps(three_things(advice), indent=1)))
    return written
