"""Pattern-oriented validation: the story's patterns P1-P9, checked with replicated runs.

Each check names its target, its source, how it is measured, the arms its measure reads and
the scale of its distance in a calibration: written once here, read by ``dealersim validate``,
``dealersim calibrate`` and the docs. A check is one of two kinds:

- a **pattern** describes the world before the launch and the failed launch (the overlay, the
  hardware business, the overlay under other rules, top skill, the extension ladder, the
  successors, the timing of the story's beats). ``dealersim validate`` passes or fails on these
  only, and a calibration may fit only these.
- a **prediction** measures the planned launch, a lever added to the overlay, or P9. It is
  reported with its value and a 95 % interval, never passed or failed: it is what the model
  predicts out of sample.

All checks are run with one parameter set (the ``Params`` defaults and the strategy presets),
at the default size and at other sizes, with common random numbers: replicate *i* of every arm
uses the seed ``seed_for(master, i)``. ``dealersim validate`` prints the table and writes
docs/validation.md.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dealersim.base.io import marked, update_marked
from dealersim.base.stats import LEVEL, paired_diff
from dealersim.model.clock import DAYS_PER_WEEK
from dealersim.model.kpis import kpi
from dealersim.model.params import spec
from dealersim.model.results import package_version
from dealersim.studies.engine import RunSpec, collect_rows, execute, replicate_seeds
from dealersim.studies.knockouts import kept_section

DEFAULT_REPLICATES = 100
"""Replicates per arm and size (the documented results use 100)."""

MASTER_SEED = 20161
"""Master seed of the validation runs (the article appeared in 2016; any fixed value works)."""

SIZES: tuple[int, ...] = (8, 4, 12)
"""Team sizes (hardware reps) at which every pattern is checked; the first is the default."""

ARMS: dict[str, tuple[str, dict[str, Any]]] = {
    "overlay": ("overlay", {}),
    "planned": ("planned", {}),
    "hardware_only": ("hardware_only", {}),
    "overlay_ask_always": ("overlay", {"permission_rule": "always"}),
    "overlay_ask_never": ("overlay", {"permission_rule": "never"}),
    "overlay_skill_high": ("overlay", {"specialist_skill": spec("specialist_skill").high}),
    "planned_long": ("planned", {"years": 8.0}),
    "overlay_ext0": ("overlay", {"extension_days": 0}),
    "overlay_ext90": ("overlay", {"extension_days": 90}),
    "overlay_credit": ("overlay", {"credit_policy": "double"}),
    "overlay_leader": ("overlay", {"manager_leadership": 0.9}),
    "overlay_rules": ("overlay", {"rules_of_engagement": True}),
    "overlay_training": ("overlay", {"rep_training": 0.6}),
    "overlay_owner": ("overlay", {"intervention": "before_launch"}),
    "overlay_ramp": ("overlay", {"quota_ramp_days": 90, "first_milestone_day": 180}),
}
"""Every configuration the patterns need: (strategy, overrides)."""


PATTERN = "pattern"
"""A check of the world before the launch or of the failed launch: passes or fails."""
PREDICTION = "prediction"
"""A check of the planned launch or of a lever: reported with its interval, never pass/fail."""
NAN_GAP = 1.0
"""The gap (in scale units) charged to a check that cannot be measured in a calibration's runs
(e.g. no successor was hired): unknown counts as one scale unit outside."""

BEAT_SCALE = float(DAYS_PER_WEEK)
"""One unit of a calibration's distance for the timing of a story's beat (the rule, the first
wall-off, the call for help): a beat a week early or late counts as much as a launch success
rate 10 points outside its range."""

Measured = tuple[float, str] | tuple[float, str, float, float]
"""What a measure returns: ``(value, text)`` or ``(value, text, low, high)`` with its 95 %
interval."""


@dataclass(frozen=True)
class Check:
    """One measurable part of a pattern, with its target written once.

    Attributes:
        pattern: The pattern it belongs to (``P1``-``P9``).
        what: What is measured, in words (also the check's name).
        target: The target in words, as the report prints it.
        source: Where the target comes from.
        measure: ``rows by arm -> (value, text)`` or ``(value, text, low, high)``.
        low: Smallest value inside the target (``-inf``: none, as in "<= 25 %").
        high: Largest value inside the target (``inf``: none, as in ">= 75 %").
        strict: The finite bounds themselves are outside (as in "rise": above 0).
        scale: What one unit of a calibration's distance means for this check (a rate: 10
            points; a tenure: 45 days; a beat's timing: :data:`BEAT_SCALE`).
        arms: The arms of :data:`ARMS` the measure reads.
        kind: :data:`PATTERN` (validates and may calibrate) or :data:`PREDICTION` (measures
            planned, a lever or P9: reported with an interval, never calibrated on).
    """

    pattern: str
    what: str
    target: str
    source: str
    measure: Callable[[dict[str, list[dict]]], Measured]
    low: float = -math.inf
    high: float = math.inf
    strict: bool = False
    scale: float = 0.1
    arms: tuple[str, ...] = ("overlay",)
    kind: str = PATTERN

    @property
    def is_pattern(self) -> bool:
        """Whether the check is a pattern (not a prediction)."""
        return self.kind == PATTERN

    def ok(self, value: float) -> bool:
        """Whether ``value`` meets the target (never for NaN)."""
        if self.strict:
            above = value > self.low if math.isfinite(self.low) else value >= self.low
            below = value < self.high if math.isfinite(self.high) else value <= self.high
            return above and below
        return self.low <= value <= self.high

    def gap(self, value: float | None) -> float:
        """How far ``value`` falls outside ``[low, high]``, in ``scale`` units (0 inside).

        NaN (not measurable) costs :data:`NAN_GAP`.
        """
        if value is None or not math.isfinite(value):
            return NAN_GAP
        return max(self.low - value, value - self.high, 0.0) / self.scale

    def evaluate(self, runs: dict[str, list[dict]]) -> tuple[float, str, float, float]:
        """``(value, text, low, high)``: the measure, its interval NaN when it has none."""
        got = self.measure(runs)
        if len(got) == 2:
            return float(got[0]), got[1], math.nan, math.nan
        value, text, lo, hi = got  # type: ignore[misc]
        return float(value), text, float(lo), float(hi)


def _col(rows: list[dict], key: str) -> np.ndarray:
    return np.array([np.nan if r[key] is None else float(r[key]) for r in rows])


def _rate(rows: list[dict], key: str) -> tuple[float, str, float, float]:
    x = _col(rows, key)
    rate, lo, hi = kpi(key).interval(x)
    return rate, f"{rate:.0%} (95% CI {lo:.0%}-{hi:.0%}, n={len(x)})", lo, hi


def _mean(rows: list[dict], key: str, fmt: str = "{:.3f}") -> tuple[float, str]:
    x = _col(rows, key)
    m, lo, hi = kpi(key).interval(x)
    return m, f"{fmt.format(m)} (95% CI {fmt.format(lo)} to {fmt.format(hi)})"


LAUNCH = "first_specialist_year_one"
"""The story's launch: the first specialist still in the seat at month 12 with the program
running. Success itself (``launch_succeeded``) is judged on money, which the story does not
tell; its patterns are about the seat."""


def _success_of(arm: str) -> Callable[[dict[str, list[dict]]], Measured]:
    def measure(runs: dict[str, list[dict]]) -> Measured:
        return _rate(runs[arm], LAUNCH)

    return measure


def median_interval(x: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """A distribution-free interval of the median: the order statistics whose ranks bound it.

    The ranks come from the binomial(n, 1/2) quantiles (the sign test's interval); NaN for
    fewer than one value.
    """
    x = np.sort(x[~np.isnan(x)])
    n = x.size
    if n == 0:
        return math.nan, math.nan
    from scipy.stats import binom  # scipy is a core dependency; loaded on first use

    lo = int(binom.ppf((1 - level) / 2, n, 0.5))
    hi = int(binom.isf((1 - level) / 2, n, 0.5))
    return float(x[max(lo - 1, 0)]), float(x[min(hi, n - 1)])


def _median_share(arm: str, key: str) -> Callable[[dict[str, list[dict]]], Measured]:
    def measure(runs: dict[str, list[dict]]) -> Measured:
        x = _col(runs[arm], key)
        x = x[~np.isnan(x)]
        q = np.percentile(x, [25, 50, 75])
        lo, hi = median_interval(x)
        return float(q[1]), (f"median {q[1]:.2f} (95% CI {lo:.2f}-{hi:.2f}; IQR "
                             f"{q[0]:.2f}-{q[2]:.2f}; mean {x.mean():.2f})"), lo, hi

    return measure


def _median_day(key: str, what: str) -> Callable[[dict[str, list[dict]]], Measured]:
    """The median over the overlay runs where the beat happened of the day it happened."""

    def measure(runs: dict[str, list[dict]]) -> Measured:
        x = _col(runs["overlay"], key)
        seen = x[~np.isnan(x)]
        if seen.size == 0:
            return math.nan, f"{what} in none of the {x.size} runs"
        q = np.percentile(seen, [25, 50, 75])
        return float(q[1]), (f"day {q[1]:.0f} (IQR {q[0]:.0f}-{q[2]:.0f}; {what} in "
                             f"{seen.size} of {x.size} runs)")

    return measure


def _median_tenure(runs: dict[str, list[dict]]) -> Measured:
    x = _col(runs["overlay"], "first_specialist_tenure_days")
    q = np.nanpercentile(x, [25, 50, 75])
    return float(q[1]), f"{q[1]:.0f} days (IQR {q[0]:.0f}-{q[2]:.0f})"


def _tenure_mode_share(runs: dict[str, list[dict]]) -> Measured:
    rows = runs["overlay"]
    x = _col(rows, "first_specialist_tenure_days")
    left = x[~np.isnan(x) & ~_col(rows, "first_specialist_censored").astype(bool)]
    if left.size == 0:
        return 0.0, "no first specialist left"
    days, counts = np.unique(left, return_counts=True)
    k = int(np.argmax(counts))
    share = counts[k] / left.size
    return float(share), (f"{share:.0%} of the {left.size} first specialists who left did so "
                          f"on day {days[k]:.0f}")


def _extension_order(runs: dict[str, list[dict]]) -> Measured:
    # restricted mean tenure over the first year (the extension acts in year one; a few
    # specialists who stay to the horizon would otherwise dominate the mean), compared on the
    # same seeds: each step up the ladder 0 -> 30 -> 90 days must not shorten it by more than
    # chance, i.e. the upper end of each paired step's 95 % interval is at least 0
    arms = ("overlay_ext0", "overlay", "overlay_ext90")
    tenure = {a: np.minimum(_col(sorted(runs[a], key=lambda r: r.get("replicate", 0)),
                                 "first_specialist_tenure_days"), 365) for a in arms}
    steps = [paired_diff(tenure[a], tenure[b]) for a, b in zip(arms, arms[1:], strict=False)]
    worst = min(high for _, _, high, _ in steps)
    means = [float(np.nanmean(tenure[a])) for a in arms]
    return worst, ("mean first-year tenure {:.0f} / {:.0f} / {:.0f} days at 0 / 30 / 90 days"
                   .format(*means) + "; steps {:+.1f} [{:+.1f}, {:+.1f}] and {:+.1f} [{:+.1f}, "
                   "{:+.1f}] days".format(*steps[0][:3], *steps[1][:3]))


def _successors_fail(runs: dict[str, list[dict]]) -> Measured:
    rows = runs["overlay"]
    successors = sum(r["specialists_hired"] - 1 for r in rows)
    failed = sum(
        r["specialists_lost"] - (0 if r["first_specialist_censored"] else 1) for r in rows
    )
    share = failed / successors if successors else float("nan")
    return share, f"{failed} of {successors} successors left ({share:.0%})"


def _wall_change(arm: str) -> Callable[[dict[str, list[dict]]], Measured]:
    def measure(runs: dict[str, list[dict]]) -> Measured:
        d0 = _col(runs[arm], "wall_mean_day0")
        d60 = _col(runs[arm], "wall_mean_day60")
        change, lo, hi, _ = paired_diff(d0, d60, bounds=kpi("wall_mean_day60").bounds)
        return change, (
            f"{np.nanmean(d0):.2f} -> {np.nanmean(d60):.2f} (change {change:+.2f}, "
            f"95% CI {lo:+.2f} to {hi:+.2f})"
        ), lo, hi

    return measure


def _churn_ratio(runs: dict[str, list[dict]]) -> Measured:
    rows = runs["planned_long"]
    managed = _col(rows, "managed_churn_per_year")
    hardware = _col(rows, "hardware_only_churn_per_year")
    m, h = float(np.nanmean(managed)), float(np.nanmean(hardware))
    # the ratio's interval: the delta method on the two means' intervals
    mm, ml, mh = kpi("managed_churn_per_year").interval(managed)
    hm, hl, hh = kpi("hardware_only_churn_per_year").interval(hardware)
    se = (m / h) * math.hypot((mh - ml) / (2 * 1.96 * m) if m else 0.0,
                              (hh - hl) / (2 * 1.96 * h) if h else 0.0)
    lo, hi = max(m / h - 1.96 * se, 0.0), m / h + 1.96 * se
    return m / h, (f"{m:.3f} vs {h:.3f} a year (ratio {m / h:.2f}, 95% CI {lo:.2f} to "
                   f"{hi:.2f}; planned, 8 years)"), lo, hi


def _dials_ratio(runs: dict[str, list[dict]]) -> Measured:
    ask = _col(runs["overlay_ask_always"], "specialist_dials_per_day")
    free = _col(runs["overlay_ask_never"], "specialist_dials_per_day")
    ratio = float(ask.mean() / free.mean())
    return ratio, f"{ask.mean():.1f} vs {free.mean():.1f} dials/day (ratio {ratio:.2f})"


STORY = "evidence:lamb-2016"
"""The story's article on the evidence page (docs/evidence.md), whose beats the checks cite."""

_LEVERS: tuple[tuple[str, str], ...] = (
    ("double credit", "overlay_credit"), ("a leading manager", "overlay_leader"),
    ("rules of engagement", "overlay_rules"), ("rep training", "overlay_training"),
    ("owner intervention", "overlay_owner"), ("quota ramp", "overlay_ramp"),
)
"""Each lever of the planned preset added alone to the overlay (P9): its words and its arm."""

LEVER_ARMS: dict[str, str] = {arm: what for what, arm in _LEVERS}
"""The P9 arms (each lever alone on the overlay) and the lever's words."""

CHECKS: tuple[Check, ...] = (
    Check("P1", "overlay launch success", "10-30 %",
          f"author's '8 of 10 dealerships' (opinion, {STORY} beat 16)",
          lambda r: _rate(r["overlay"], LAUNCH), 0.10, 0.30),
    Check("P2", "overlay first milestone met", "<= 25 %", f"{STORY} beats 5, 11",
          lambda r: _rate(r["overlay"], "first_milestone_met"), high=0.25),
    Check("P2", "overlay median first-specialist tenure", "90-180 days",
          f"{STORY} beats 5, 11, 12", _median_tenure, 90.0, 180.0, scale=45.0),
    Check("P2", "overlay successors also fail", ">= 75 % of successors leave",
          f"{STORY} beat 9", _successors_fail, low=0.75),
    Check("P3", "overlay walls rise, day 0 to day 60", "rise", f"{STORY} beats 6, 10",
          _wall_change("overlay"), low=0.0, strict=True, scale=0.05),
    Check("P3", "overlay warm intro share (median run)", "<= 20 %", f"{STORY} beat 10",
          _median_share("overlay", "warm_intro_share"), high=0.20),
    Check("P4", "planned launch success", ">= 75 %", f"{STORY} beats 13-15",
          lambda r: _rate(r["planned"], LAUNCH), low=0.75, arms=("planned",),
          kind=PREDICTION),
    Check("P4", "planned walls fall, day 0 to day 60", "fall",
          "evidence:zoltners-2011-who-owns-customers: credit and enforcement lower guarding",
          _wall_change("planned"), high=0.0, strict=True, scale=0.05, arms=("planned",),
          kind=PREDICTION),
    Check("P4", "planned warm intro share (median run)", ">= 50 %",
          "evidence:service-leadership-2016-q2-trends: an expert overlay working through the reps "
          "works",
          _median_share("planned", "warm_intro_share"), low=0.50, arms=("planned",),
          kind=PREDICTION),
    Check("P5", "hardware_only account base decline", "5-15 % a year",
          "estimate: hardware account loss 5-15 % a year (no source found) [U]",
          lambda r: _mean(r["hardware_only"], "hardware_decline_per_year"), 0.05, 0.15,
          scale=0.05, arms=("hardware_only",)),
    Check("P6", "managed vs hardware-only churn", "ratio <= 0.5",
          "evidence:photizo-2015-mps-customers: managed contracts are stickier", _churn_ratio,
          high=0.5, scale=0.25, arms=("planned_long",), kind=PREDICTION),
    Check("P7", "dials/day under ask-permission vs without", "ratio <= 0.70",
          f"{STORY} beat 7", _dials_ratio, high=0.70, scale=0.2,
          arms=("overlay_ask_always", "overlay_ask_never")),
    Check("P8", "overlay success with top skill", "<= 50 %", f"{STORY} beat 13",
          lambda r: _rate(r["overlay_skill_high"], LAUNCH), high=0.50,
          arms=("overlay_skill_high",)),
    Check("P8", "planned success with default skill", ">= 75 %", f"{STORY} beat 13",
          lambda r: _rate(r["planned"], LAUNCH), low=0.75, arms=("planned",),
          kind=PREDICTION),
    Check("P2", "overlay tenure spread: busiest leaving day",
          "<= 10 % of first-specialist departures",
          f"{STORY} beat 12: leaving is a decision, not a date", _tenure_mode_share,
          high=0.10, scale=0.05),
    Check("P2", "more extension never shortens tenure",
          "0 <= 30 <= 90 days (no step shorter beyond chance)",
          f"{STORY} beat 11; PySD 'Sales Agent': subsidy length matters", _extension_order,
          low=0.0, scale=10.0, arms=("overlay_ext0", "overlay", "overlay_ext90")),
    Check("P7", "overlay: median day the ask-permission rule is imposed", "7-45 days",
          f"{STORY} beats 6-7: after two weeks on the phones",
          _median_day("permission_rule_day", "imposed"), 7.0, 45.0, scale=BEAT_SCALE),
    Check("P3", "overlay: median first day a rep walls off", "10-45 days",
          f"{STORY} beat 10: by day 30",
          _median_day("first_walloff_day", "a rep walled off"), 10.0, 45.0, scale=BEAT_SCALE),
    Check("P2", "overlay: median day the specialist asks for help", "30-90 days",
          f"{STORY} beat 11: day 60",
          _median_day("help_asked_day", "asked for help"), 30.0, 90.0, scale=BEAT_SCALE),
    *(
        Check("P9", f"overlay + {what} alone", "< 60 %",
              f"{STORY} beats 13-15: it takes the plan, not one fix",
              _success_of(arm), high=0.60, strict=True, arms=(arm,), kind=PREDICTION)
        for what, arm in _LEVERS
    ),
)
"""Every check, written once: patterns and predictions (see the module docstring)."""

PATTERNS: tuple[Check, ...] = tuple(c for c in CHECKS if c.is_pattern)
"""The checks that pass or fail (and that a calibration may fit)."""
PREDICTIONS: tuple[Check, ...] = tuple(c for c in CHECKS if not c.is_pattern)
"""The checks reported with an interval, never passed or failed."""


@dataclass
class Outcome:
    """The result of one check at one size.

    Attributes:
        check: The check.
        n_reps: The team size.
        value: The measured value.
        text: The value in words (with its interval where it has one).
        low: Lower end of the value's 95 % interval (NaN: none).
        high: Upper end of the value's 95 % interval (NaN: none).
    """

    check: Check
    n_reps: int
    value: float
    text: str
    low: float = math.nan
    high: float = math.nan

    @property
    def passed(self) -> bool:
        """Whether the measured value meets the target (a prediction never fails)."""
        return bool(self.check.ok(self.value)) if self.check.is_pattern else True

    @property
    def verdict(self) -> str:
        """``PASS``/``FAIL`` for a pattern, ``prediction`` for a prediction."""
        if not self.check.is_pattern:
            return "prediction"
        return "PASS" if self.check.ok(self.value) else "FAIL"


def run_arms(
    replicates: int, n_reps: int, *, workers: int = 1, master: int = MASTER_SEED,
    progress: bool | None = None,
) -> dict[str, list[dict]]:
    """Run every arm ``replicates`` times at team size ``n_reps`` (common random numbers)."""
    seeds = replicate_seeds(master, replicates)
    specs = [
        RunSpec(
            run_id=f"{arm}-{i:05d}", strategy=strategy, seed=seed,
            overrides=tuple(sorted({**overrides, "n_reps": n_reps}.items())),
            labels=(("arm", arm), ("replicate", i)),
        )
        for arm, (strategy, overrides) in ARMS.items()
        for i, seed in enumerate(seeds)
    ]
    rows = collect_rows(execute(specs, workers=workers, progress=progress))
    runs: dict[str, list[dict]] = {arm: [] for arm in ARMS}
    for row in rows:
        runs[row["arm"]].append(row)
    return runs


def validate(
    replicates: int = DEFAULT_REPLICATES,
    sizes: Sequence[int] = SIZES,
    *,
    workers: int | None = None,
    progress: bool | None = None,
    master: int = MASTER_SEED,
) -> list[Outcome]:
    """Check every pattern at every size.

    Args:
        replicates: Runs per arm and size.
        sizes: Team sizes (hardware reps).
        workers: Local worker processes (default: the machine's cores).
        progress: Show progress bars.
        master: Master seed of the replicate seeds.

    Returns:
        One :class:`Outcome` per check and size.
    """
    workers = workers or os.cpu_count() or 1
    outcomes = []
    for n_reps in sizes:
        runs = run_arms(replicates, n_reps, workers=workers, progress=progress, master=master)
        for check in CHECKS:
            outcomes.append(Outcome(check, n_reps, *check.evaluate(runs)))
    return outcomes


def table(outcomes: Sequence[Outcome], markdown: bool = False) -> str:
    """Render outcomes as a table: pattern, kind, reps, what, target, result, verdict, source.

    Patterns come first (PASS or FAIL), then the predictions (their value and 95 % interval;
    the verdict column says ``prediction``: they are never passed or failed).
    """
    head = ("pattern", "kind", "reps", "what", "target", "result", "verdict", "source")
    ordered = ([o for o in outcomes if o.check.is_pattern]
               + [o for o in outcomes if not o.check.is_pattern])
    rows = [
        (o.check.pattern, o.check.kind, str(o.n_reps), o.check.what, o.check.target, o.text,
         o.verdict, o.check.source)
        for o in ordered
    ]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head) - 1)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*r[:-1]) for r in [head, *rows])


PREDICTIONS_START = "<!-- predictions:start -->"
PREDICTIONS_END = "<!-- predictions:end -->"
"""Markers of the generated prediction section in docs/validation.md (written by
``dealersim calibrate ... --docs docs/validation.md``)."""


def marked_section(path: Path, start: str = PREDICTIONS_START,
                   end: str = PREDICTIONS_END) -> str:
    """The section of ``path`` between ``start`` and ``end``, markers included ('' if none)."""
    return marked(path.read_text(), start, end) if path.exists() else ""


def update_marked_section(path: Path, text: str, start: str = PREDICTIONS_START,
                          end: str = PREDICTIONS_END) -> None:
    """Replace the section of ``path`` between the markers with ``text`` (appended if absent).

    ``text`` must begin with ``start`` and end with ``end``.
    """
    update_marked(path, text, start, end)


def write_markdown(
    outcomes: Sequence[Outcome], path: Path, replicates: int, seconds: float,
    master: int = MASTER_SEED,
) -> None:
    """Write docs/validation.md from the outcomes."""
    patterns = [o for o in outcomes if o.check.is_pattern]
    predictions = [o for o in outcomes if not o.check.is_pattern]
    passed = sum(o.passed for o in patterns)
    text = f"""# Validation: the story's patterns

Generated by `dealersim validate --replicates {replicates} --seed {master}` (dealersim
{package_version()}, master seed {master}, {replicates} replicates per arm and size,
common random numbers, {seconds:.0f} s on this machine).
**{passed} of {len(patterns)} pattern checks pass**;
{len(predictions)} predictions are reported with their 95 % intervals.

Two kinds of check. **Patterns** describe the world before the launch and the failed launch:
the overlay, the hardware business, the overlay under other rules, top skill, the extension
ladder, the successors and the timing of the story's beats. They pass or fail, and a
calibration may fit them. **Predictions** measure the planned launch, a lever of the plan added
to the overlay, or P9 (each lever alone): they are what the model predicts out of sample, so
they are reported with their value and a 95 % interval and never passed or failed (the
article's figure stands in the target column for comparison), and a calibration never fits
them.

Pattern-oriented modelling (Grimm et al. 2005): several patterns at different levels (launch
outcome, people, walls, market), all reproduced by one parameter set: the `Params` defaults and
the strategy presets, nothing special-cased. Rates carry Wilson 95 % intervals; means and
paired changes carry Student-t 95 % intervals. P6 is measured over 8 years of the planned
strategy: within 3 years managed customers are seen mostly at the one lease end their deal was
timed to, and their contracts (48 months) cannot end yet, so a 3-year rate oversamples their
renewals.
P7 compares the same seeds with the ask-permission rule always on versus never on.

**Definitions.** The story's launch (P1, P4, P8, P9) is the **first** specialist still in the
seat at month 12 with the program running (`first_specialist_year_one`); a successor who happens
to be seated does not count. Success on money (`launch_succeeded`: that, and by month 36 the
managed gross profit covering the program's running cost) is reported in docs/money.md: the
story does not tell it. Leaving is a job search: outside offers come at a rate that rises with
the income gap and lost morale, and he takes one that beats staying; the owner lets go those
who found nothing by the fourth missed review. So P2 also checks that no single day holds more
than 10 % of the first specialists who left (censored runs excluded: leaving is a decision, not
a date) and that a longer extension (a grace period before the cut) never shortens the mean
first-year tenure (tenure capped at 365 days, arms at 0, 30 and 90 days). A team's culture is
the mean of its reps' dispositions, so its spread shrinks with team size (a 4-rep team is more
often clearly open, or clearly guarded, than a 12-rep one). The warm intro share (P3, P4) is
read on the median run: per run it is bimodal by design (about a third of teams, clearly more
open than typical, introduce the specialist unasked; the rest do not), so the mean mixes two
populations; the mean is shown next to it. P9 adds each lever of the planned preset alone to the
overlay: the author's prescription is that it takes the plan, not one fix. No source we found
contradicts this for a single lever (Zoltners et al. describe credit as necessary for
cooperation, not sufficient; Kotter's stages are a sequence), so the target was kept.

{table(outcomes, markdown=True)}

The beat timings (P2, P3, P7) are medians over the overlay runs where the beat happened while
the first specialist was in the seat: the day the manager imposes the ask-permission rule, the
first day a rep walls his accounts off, the day the first specialist asks the owner for help.
The story's beats are his launch; a successor's time is another launch, and its beats (a rep
who walls off against a successor months after the first specialist left) are not counted.

The 8-of-10 failure rate (P1) is the author's opinion, not a survey; it is used as a
calibration target and is marked as such. Which parameters were calibrated to which pattern is
listed in [model.md](model.md#calibration). Sources written `evidence:<id>` are entries of
the [evidence page](evidence.md), where the story's beats are numbered.
"""
    knockouts = kept_section(path)  # written by 'validate --knockouts'; kept as it stands
    if knockouts:
        text += "\n" + knockouts + "\n"
    kept = marked_section(path)  # written by 'calibrate --docs'; kept as it stands
    if kept:
        text += "\n" + kept + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main_validate(replicates: int, out: Path | None = None,
                  master: int = MASTER_SEED) -> int:
    """Entry point of ``dealersim validate``: print the table, write the Markdown.

    Returns:
        0 when every pattern passes, 1 otherwise (predictions never fail).
    """
    start = time.perf_counter()
    outcomes = validate(replicates, master=master)
    seconds = time.perf_counter() - start
    print(table(outcomes))
    target = (out / "validation.md") if out is not None else Path("docs") / "validation.md"
    write_markdown(outcomes, target, replicates, seconds, master)
    patterns = [o for o in outcomes if o.check.is_pattern]
    failed = [o for o in patterns if not o.passed]
    print(f"\n{len(patterns) - len(failed)} of {len(patterns)} pattern checks pass "
          f"({len(outcomes) - len(patterns)} predictions reported); wrote {target}")
    return 0 if not failed else 1
