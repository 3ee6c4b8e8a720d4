"""The story's checks: patterns pass or fail, predictions are reported with an interval.

The slow part (mark ``validation``) checks every pattern with 100 replicates at 4, 8 and 12
reps. Tolerance: each pattern compares the point estimate over 100 replicates (fixed master
seed, common random numbers) with the issue's target band; the Wilson 95 % interval is in the
message. Predictions are never passed or failed; they must carry a finite 95 % interval.

The fast tests check the split itself, the table and the beat-timing KPIs on one tiny run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dealersim import simulate
from dealersim.model.dealership import DealershipModel
from dealersim.model.kpis import SUMMARY_KEYS, kpi
from dealersim.model.results import summarize
from dealersim.studies.validation import (
    ARMS,
    CHECKS,
    PATTERNS,
    PREDICTIONS,
    SIZES,
    Check,
    Outcome,
    marked_section,
    median_interval,
    table,
    update_marked_section,
    validate,
    write_markdown,
)

REPLICATES = 100
KNOWN_MISSES = {("P1", "overlay launch success", 4)}
"""Patterns the shipped defaults miss on these seeds (the checks' own master seed, 100 runs): the
overlay keeps its first specialist to month 12 in too few launches at 4 reps against the
story's 10-30 % (6.7 % over 1,000 unseen seeds: a smaller dealership fails more often,
docs/calibration.md). It stays a near miss (its 95 % interval reaches the range) or the test
fails, and the test fails as soon as the pattern passes again, so that this set is emptied."""
BEAT_KPIS = {"permission_rule_day": "permission_rule", "first_walloff_day": "walled_off",
             "help_asked_day": "asks_for_help"}


@pytest.fixture(scope="module")
def outcomes():
    results = validate(REPLICATES, SIZES, workers=2)
    return {(o.check.pattern, o.check.what, o.n_reps): o for o in results}


@pytest.mark.validation
@pytest.mark.parametrize("n_reps", SIZES)
@pytest.mark.parametrize("check", PATTERNS, ids=lambda c: f"{c.pattern}-{c.what}")
def test_pattern(outcomes, check, n_reps):
    o = outcomes[(check.pattern, check.what, n_reps)]
    where = f"{check.pattern} {check.what} at {n_reps} reps"
    if (check.pattern, check.what, n_reps) in KNOWN_MISSES:
        # reported in docs/calibration.md; the miss must stay a near miss
        assert not o.passed, f"{where} passes now ({o.text}): take it off KNOWN_MISSES"
        assert o.high >= check.low, f"{where}: {o.text} is clearly below {check.target}"
        return
    assert o.passed, f"{where}: {o.text}, target {check.target}"


@pytest.mark.validation
@pytest.mark.parametrize("n_reps", SIZES)
@pytest.mark.parametrize("check", PREDICTIONS, ids=lambda c: f"{c.pattern}-{c.what}")
def test_prediction_has_an_interval(outcomes, check, n_reps):
    o = outcomes[(check.pattern, check.what, n_reps)]
    assert o.low <= o.value <= o.high, (check.what, n_reps, o.text)


# ------------------------------------------------------------------ the split (fast)
def test_every_check_that_reads_planned_or_a_lever_is_a_prediction():
    planned_or_lever = {a for a, (strategy, over) in ARMS.items()
                        if strategy == "planned" or a.startswith("overlay_") and a not in (
                            "overlay_ask_always", "overlay_ask_never", "overlay_skill_high",
                            "overlay_ext0", "overlay_ext90")}
    for c in CHECKS:
        assert set(c.arms) <= set(ARMS), c.what
        reads_plan = bool(set(c.arms) & planned_or_lever) or c.pattern == "P9"
        assert c.is_pattern != reads_plan, c.what
    assert {c.pattern for c in PREDICTIONS} == {"P4", "P6", "P8", "P9"}
    assert len(PATTERNS) + len(PREDICTIONS) == len(CHECKS)
    assert all(c.scale > 0 for c in CHECKS)


def test_a_prediction_never_fails_and_the_table_says_which_kind():
    pattern = next(c for c in PATTERNS if c.what == "overlay launch success")
    prediction = next(c for c in PREDICTIONS if c.what == "planned launch success")
    rows = [Outcome(prediction, 8, 0.1, "10%", 0.05, 0.2), Outcome(pattern, 8, 0.9, "90%")]
    assert not rows[1].passed and rows[1].verdict == "FAIL"
    assert rows[0].passed and rows[0].verdict == "prediction"  # 10 % is far below ">= 75 %"
    text = table(rows)
    lines = text.splitlines()
    assert "kind" in lines[0]
    assert "pattern" in lines[1] and "FAIL" in lines[1]  # patterns first
    assert "prediction" in lines[2]
    assert table(rows, markdown=True).count("\n") == 3


def test_gap_counts_scale_units_outside_the_range():
    c = Check("P0", "x", "10-20", "s", lambda r: (0.0, ""), 10.0, 20.0, scale=5.0)
    assert c.gap(15.0) == 0 and c.gap(30.0) == pytest.approx(2.0)
    assert c.gap(0.0) == pytest.approx(2.0) and c.gap(math.nan) > 0


def test_median_interval_covers_the_median():
    x = np.arange(1.0, 102.0)  # median 51
    lo, hi = median_interval(x)
    assert lo < 51 < hi and hi - lo < 30
    assert all(math.isnan(v) for v in median_interval(np.array([])))


def test_marked_section_is_replaced_and_kept(tmp_path):
    path = tmp_path / "v.md"
    path.write_text("# head\n")
    update_marked_section(path, "<!-- predictions:start -->\nA\n<!-- predictions:end -->")
    update_marked_section(path, "<!-- predictions:start -->\nB\n<!-- predictions:end -->")
    text = path.read_text()
    assert text.startswith("# head\n") and "B" in text and "\nA\n" not in text
    assert marked_section(path) == "<!-- predictions:start -->\nB\n<!-- predictions:end -->"


# ------------------------------------------------------------------ the beats' KPIs (fast)
def test_beat_kpis_are_none_without_a_specialist():
    # one short run (seed 7, 4 reps, half a year) without the program: nobody to wall off
    # against, no rule, nobody to ask for help
    r = simulate("hardware_only", seed=7, n_reps=4, years=0.5)
    for key in BEAT_KPIS:
        assert key in SUMMARY_KEYS and kpi(key).optional
        assert r.summary[key] is None, key


@pytest.mark.parametrize("seed", [5, 25])
def test_beat_kpis_are_the_first_specialists_not_a_successors(seed):
    # overlay, 12 reps, 1 year: the first specialist leaves early (day 23 on seed 5, day 3 on
    # seed 25), and his successors' time has beats of its own (a call for help and a wall-off
    # on days 101-102; the rule on day 80): they belong to another launch, not to the story's
    m = DealershipModel("overlay", rng=seed, n_reps=12, years=1).run()
    summary, first = summarize(m), m.specialists[0]
    events = m.events.to_frame()
    assert first.left_day is not None
    for key, kind in BEAT_KPIS.items():
        mine = events[(events.kind == kind) & (events.day >= first.hired_day)
                      & (events.day <= first.left_day)]
        if kind == "asks_for_help":
            mine = mine[mine.actor == first.name]
        assert summary[key] == (None if mine.empty else int(mine.day.min())), key
    later = events[events.kind.isin(list(BEAT_KPIS.values())) & (events.day > first.left_day)]
    assert not later.empty  # a successor's beat, left out


def test_validate_markdown_keeps_the_prediction_section_and_splits_the_kinds(tmp_path):
    path = tmp_path / "validation.md"
    section = "<!-- predictions:start -->\nkept table\n<!-- predictions:end -->"
    path.write_text("old text\n\n" + section + "\n")
    pattern = next(c for c in PATTERNS if c.what == "overlay launch success")
    prediction = next(c for c in PREDICTIONS if c.what == "planned launch success")
    write_markdown([Outcome(pattern, 8, 0.2, "20%"), Outcome(prediction, 8, 0.5, "50%", 0.4, 0.6)],
                   path, replicates=3, seconds=1.0)
    text = path.read_text()
    assert "old text" not in text and section in text
    assert "**1 of 1 pattern checks pass**" in text and "1 predictions" in text
