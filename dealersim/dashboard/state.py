"""Pure logic behind the dashboard: controls, runs, headline cards, story filter, replicates.

Nothing here imports Solara, so it is tested and reused (in notebooks) without a page. Every
default, bound, choice, unit and label comes from ``field_specs()``; this module
only decides which widget shows a field.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dealersim.model.kpis import column, kpi, label, money
from dealersim.model.params import GROUPS, FieldSpec, Params, field_specs
from dealersim.model.results import simulate
from dealersim.model.strategies import make_params, strategy_names
from dealersim.studies.engine import RunSpec, collect_rows, execute, replicate_seeds

DEFAULT_STRATEGY = "overlay"
COMPARE_DEFAULT = ("overlay", "planned")
"""The two strategies of the side-by-side view when the page opens."""

DEALERSHIP_FIELDS = (
    "n_reps",
    "accounts_per_rep",
    "lease_value_per_device",
    "hw_margin",
    "managed_margin",
    "lease_term_months",
    "base_salary",
    "monthly_quota_mrr",
)
"""The numbers an owner knows about their own dealership (``Params`` field names only)."""

REPLICATES = 50
"""Replicate runs behind the 'How sure is that?' button."""

ALL_ACTORS = "everyone"
ACTOR_GROUPS = ("owner", "manager", "specialists", "reps")


# ---------------------------------------------------------------------------- controls
@dataclass(frozen=True)
class Control:
    """How one ``Params`` field is shown.

    Attributes:
        spec: The field's metadata (default, bounds, choices, label, help).
        widget: ``"slider"``, ``"number"``, ``"switch"`` or ``"select"``.
        step: Slider step (numeric sliders only).
    """

    spec: FieldSpec
    widget: str
    step: float | None = None

    @property
    def name(self) -> str:
        """The ``Params`` field name."""
        return self.spec.name


def _on_grid(value: float, low: float, step: float) -> bool:
    k = (value - low) / step
    return abs(k - round(k)) < 1e-9


def control_for(s: FieldSpec) -> Control:
    """Pick the widget of one field from its kind and range."""
    if s.kind == "bool":
        return Control(s, "switch")
    if s.kind == "choice":
        return Control(s, "select")
    assert s.low is not None and s.high is not None
    width = s.high - s.low
    if s.kind == "int" and width <= 100:
        return Control(s, "slider", 1)
    if s.kind == "float" and width <= 1.0 and _on_grid(s.default, s.low, 0.01):
        return Control(s, "slider", 0.01)
    return Control(s, "number")


def controls_by_group() -> dict[str, list[Control]]:
    """Every ``Params`` field's control, grouped in ``GROUPS`` order."""
    out: dict[str, list[Control]] = {g: [] for g in GROUPS}
    for s in field_specs():
        out[s.group].append(control_for(s))
    return {g: cs for g, cs in out.items() if cs}


def default_values(strategy: str = DEFAULT_STRATEGY) -> dict[str, Any]:
    """Control values of a strategy preset: every field, from ``make_params``."""
    return make_params(strategy).to_dict()


def apply_preset(strategy: str, values: dict[str, Any]) -> dict[str, Any]:
    """Values after picking a preset: the preset's fields, keeping the owner's dealership numbers.

    Args:
        strategy: The preset picked.
        values: The current control values.
    """
    new = default_values(strategy)
    for name in DEALERSHIP_FIELDS:
        new[name] = values[name]
    return new


def overrides_from(values: dict[str, Any], strategy: str) -> dict[str, Any]:
    """The fields of ``values`` that differ from the ``strategy`` preset."""
    preset = default_values(strategy)
    return {k: v for k, v in values.items() if preset.get(k) != v}


# ---------------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Outcome:
    """One computed configuration: the result or the error that stopped it.

    Attributes:
        strategy: The preset the values started from (a label).
        seed: The seed.
        result: The ``RunResult`` (``None`` on error).
        error: One-line error message (``None`` when the run worked).
        seconds: Wall-clock time of the run.
    """

    strategy: str
    seed: int
    result: Any = None
    error: str | None = None
    seconds: float = 0.0


def run_config(strategy: str, seed: int, values: dict[str, Any]) -> Outcome:
    """Run one configuration to its horizon; never raises (errors come back in ``error``).

    Args:
        strategy: Strategy label.
        seed: The seed.
        values: Every ``Params`` field (as the controls hold them).
    """
    start = time.perf_counter()
    try:
        params = Params(**values)
        result = simulate(strategy, seed=int(seed), params=params)
    except Exception as exc:  # noqa: BLE001 - a model error must reach the page, not kill it
        text = " ".join(str(exc).split()) or type(exc).__name__
        kind = "" if isinstance(exc, ValueError) else f"{type(exc).__name__}: "
        return Outcome(strategy, int(seed), error=f"{kind}{text}",
                       seconds=time.perf_counter() - start)
    return Outcome(strategy, int(seed), result=result, seconds=time.perf_counter() - start)


@dataclass(frozen=True)
class Card:
    """One headline card.

    Attributes:
        key: Stable identifier (used by tests and CSS classes).
        title: Card title.
        value: The big text.
        detail: A line under it.
        good: ``True`` green, ``False`` red, ``None`` neutral.
    """

    key: str
    title: str
    value: str
    detail: str
    good: bool | None = None


def headline(result: Any, day: int | None = None) -> list[Card]:
    """Headline cards of a run, at its end or (for the replay) as of ``day``.

    Args:
        result: A ``RunResult``.
        day: Replay day; ``None`` or the last day shows the final summary.
    """
    s = result.summary
    ts = result.timeseries
    last = int(ts["day"].iloc[-1])
    p = result.params
    if day is None or day >= last:
        row = ts.iloc[-1]
        program = p.specialist_seats > 0 or p.rep_managed_selling > 0
        if not program:
            verdict, good = "No program", None
        else:
            verdict, good = ("Succeeded", True) if s["launch_succeeded"] else ("Failed", False)
        detail = f"year-one booked {money(s['booked_mrr_year1'])}/mo vs target " \
                 f"{money(p.launch_target_mrr)}"
        if s.get("program_abandoned"):
            detail += "; program abandoned"
        hired, lost = s["specialists_hired"], s["specialists_lost"]
        lost_accounts = s["accounts_lost_to_competitors"]
        gp = s["gross_profit"]
        when = f"after {last} days"
    else:
        row = ts.iloc[min(max(day, 0), len(ts) - 1)]
        upto = result.events[result.events["day"] <= day]
        verdict, good = "Replaying", None
        detail = f"day {day} of {last}"
        hired = int((upto["kind"] == "hired").sum()) if len(upto) else 0
        lost = int(upto["kind"].isin(["quit", "fired"]).sum()) if len(upto) else 0
        lost_accounts = None
        gp = float(row["cumulative_gross_profit"])
        when = f"as of day {day}"
    return [
        Card("launch", "Launch", verdict, detail, good),
        Card("mrr", column("managed_mrr").label, f"{money(float(row['managed_mrr']))}/mo",
             f"{int(row['managed_contracts'])} managed contracts {when}",
             None if float(row["managed_mrr"]) == 0 else True),
        Card("specialists", "Specialists hired / lost", f"{hired} / {lost}",
             f"{p.prior_failed_specialists} failed in the seat before",
             None if lost == 0 else False),
        Card("lost", label("accounts_lost_to_competitors"),
             f"{lost_accounts:,}" if lost_accounts is not None else "…",
             f"hardware accounts {int(row['hardware_accounts']):,} {when}", None),
        Card("gp", column("cumulative_gross_profit").label, money(gp), f"cumulative, {when}",
             None),
    ]


# ---------------------------------------------------------------------------- story
def actor_options(events: pd.DataFrame) -> list[str]:
    """Filter choices of the story: everyone, the actor groups, then each actor."""
    actors = sorted(set(events["actor"]), key=_actor_key) if len(events) else []
    return [ALL_ACTORS, *ACTOR_GROUPS, *actors]


def _actor_key(name: str) -> tuple[int, int, str]:
    head, _, tail = name.partition(" ")
    order = {"owner": 0, "manager": 1, "specialist": 2, "rep": 3}.get(head, 4)
    return order, int(tail) if tail.isdigit() else 0, name


def filter_story(events: pd.DataFrame, actor: str = ALL_ACTORS,
                 upto_day: int | None = None) -> pd.DataFrame:
    """The story rows (day, who, what) for one actor or actor group, up to a day.

    Args:
        events: ``RunResult.events``.
        actor: ``"everyone"``, a group (``owner``, ``manager``, ``specialists``, ``reps``) or
            an actor name such as ``"rep 3"``.
        upto_day: Keep events on or before this day (the replay); ``None`` keeps all.
    """
    ev = events
    if upto_day is not None:
        ev = ev[ev["day"] <= upto_day]
    if actor == "specialists":
        ev = ev[ev["actor"].str.startswith("specialist")]
    elif actor == "reps":
        ev = ev[ev["actor"].str.startswith("rep ")]
    elif actor != ALL_ACTORS:
        ev = ev[ev["actor"] == actor]
    return ev.loc[:, ["day", "actor", "text"]].rename(
        columns={"actor": "who", "text": "what"}).reset_index(drop=True)


# ---------------------------------------------------------------------------- replicates
@dataclass(frozen=True)
class ReplicateSummary:
    """Success rate over replicate runs.

    Attributes:
        n: Runs.
        successes: Runs whose launch succeeded.
        low: Wilson 95 % lower bound.
        high: Wilson 95 % upper bound.
        median_mrr: Median managed MRR at the end.
        seconds: Wall-clock time.
    """

    n: int
    successes: int
    low: float
    high: float
    median_mrr: float
    seconds: float

    @property
    def rate(self) -> float:
        """Share of runs that succeeded."""
        return self.successes / self.n if self.n else float("nan")

    def text(self) -> str:
        """One line for the page."""
        return (f"launch succeeded in {self.successes} of {self.n} runs: {self.rate:.0%} "
                f"(95 % Wilson interval {self.low:.0%}-{self.high:.0%}); median managed MRR "
                f"{money(self.median_mrr)}/mo")


def run_replicates(strategy: str, seed: int, values: dict[str, Any], n: int = REPLICATES,
                   workers: int | None = None) -> ReplicateSummary:
    """Run ``n`` replicates of one configuration through the shared engine.

    Seeds come from ``engine.replicate_seeds(seed, n)``, so the same seed gives the same
    replicates in the dashboard, ``compare`` and ``sweep``.

    Args:
        strategy: Strategy label.
        seed: Master seed.
        values: Every ``Params`` field.
        n: Replicates.
        workers: Worker processes (default: up to 4, at most the CPUs).
    """
    Params(**values)  # fail fast, in this process, with a one-line message
    start = time.perf_counter()
    overrides = tuple(sorted(overrides_from(values, strategy).items()))
    specs = [
        RunSpec(run_id=f"r{i:04d}", strategy=strategy, seed=s, overrides=overrides,
                labels=(("replicate", i),))
        for i, s in enumerate(replicate_seeds(int(seed), n))
    ]
    if workers is None:
        workers = max(1, min(4, os.cpu_count() or 1))
    rows = collect_rows(execute(specs, workers=workers, progress=False))
    flags = [r["launch_succeeded"] for r in rows]
    _, low, high = kpi("launch_succeeded").interval(flags)
    mrr = float(np.median([r["managed_mrr"] for r in rows])) if rows else 0.0
    return ReplicateSummary(len(rows), sum(map(bool, flags)), low, high, mrr,
                            time.perf_counter() - start)


def strategy_choices() -> list[str]:
    """The strategy presets, for the picker."""
    return strategy_names()
