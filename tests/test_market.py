"""Tests of ``dealersim.model.market``: the renewal rule against a plain-Python reference, the
calendar queue, and the incremental aggregates under random operation sequences."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dealersim.model.funnel import Source, Stage, is_legal, legal_matrix
from dealersim.model.market import (
    COMPETITOR,
    MIT,
    MPS,
    NO_HANDLER,
    US,
    Calendar,
    Market,
    loss_probability,
    months_later,
)
from dealersim.model.params import Params

COLUMNS = (
    "holder", "rep", "devices", "lease_value", "relationship", "lease_end", "managed",
    "managed_mrr", "managed_end", "stage", "source", "product", "handler", "stage_due",
    "cooldown",
)
"""Every per-account column of ``Market``."""


# ------------------------------------------------------------------ building test markets
def put_in_stage(mk: Market, i: int, target: Stage, day: int, rng: np.random.Generator) -> None:
    """Walk account ``i`` from ``NONE`` to ``target`` along legal moves, as the model does."""
    assert mk.stage[i] == Stage.NONE
    if target == Stage.NONE:
        return
    mk.handler[i] = int(rng.integers(1, 4))
    mk.product[i] = MIT if rng.random() < 0.3 else MPS
    if target >= Stage.IMPLEMENTATION:
        # a close: the account becomes ours and signs (NONE -> IMPLEMENTATION is legal)
        mk.source[i] = Source.REP
        mk.gain(np.array([i]))
        mk.move(i, Stage.IMPLEMENTATION, day)
        if target == Stage.LIVE:
            mk.move(i, Stage.LIVE, day)
            mk.start_managed(i, day)
        return
    mk.source[i] = int(rng.choice([Source.COLD, Source.DIRECT, Source.INTRO]))
    for stage in range(Stage.CONVERSATION, target + 1):
        mk.move(i, Stage(stage), day, due=day + int(rng.integers(1, 60)))


def build_market(
    params: Params, seed: int, *, stage_share: float = 0.4, day: int = 0
) -> tuple[Market, np.random.Generator]:
    """A market with a mix of holders and funnel stages, consistent with its invariants."""
    rng = np.random.default_rng(seed)
    mk = Market(params, rng)
    # spread relationships over the whole [0, 1] range so the clip at 0.98 is reached too
    mk.relationship[:] = rng.random(mk.n)
    # some of our accounts already lost, some competitor accounts already won
    mk.lose(np.flatnonzero((rng.random(mk.n) < 0.2) & (mk.holder == US)), day)
    mk.gain(np.flatnonzero((rng.random(mk.n) < 0.2) & (mk.holder == COMPETITOR)))
    for i in np.flatnonzero(rng.random(mk.n) < stage_share).tolist():
        put_in_stage(mk, i, Stage(int(rng.integers(1, len(Stage)))), day, rng)
    mk.check_invariants()
    return mk, rng


# ------------------------------------------------------------------ the reference renewal rule
def reference_renewals(
    mk: Market, day: int, idx: np.ndarray, u: np.ndarray, win_prob: np.ndarray
) -> tuple[list[int], list[int]]:
    """Slow per-account implementation of the documented renewal rule, mutating ``mk``.

    Our account is lost if ``u < clip(renewal_loss * price_pressure *
    exp(-protection * (rel - 0.5)) * (stickiness if signed), 0, 0.98)``; a lost account that had
    signed (stage >= IMPLEMENTATION) drops to NONE and its live contract ends. A
    competitor-held account is won if ``u < win_prob``. Every account starts a new lease.
    """
    p = mk.params
    # the next month start at or after today, plus the term in months (leases run in months)
    month = 365.0 / 12.0
    new_end = int(round((math.ceil(day / month - 1e-9) + p.lease_term_months) * month))
    lost: list[int] = []
    won: list[int] = []
    for k, i in enumerate(idx.tolist()):
        uk = float(u[k])
        if int(mk.holder[i]) == int(US):
            stage = int(mk.stage[i])
            prob = (
                p.renewal_loss
                * p.price_pressure
                * math.exp(-p.relationship_protection * (float(mk.relationship[i]) - 0.5))
            )
            if stage >= Stage.IMPLEMENTATION:
                prob *= p.managed_stickiness
            prob = min(max(prob, 0.0), 0.98)
            if uk < prob:
                lost.append(i)
                mk.holder[i] = COMPETITOR
                mk.n_held -= 1
                mk.held_value -= float(mk.lease_value[i])
                if stage >= Stage.IMPLEMENTATION:
                    if stage == Stage.LIVE:
                        mk.live_mrr -= float(mk.managed_mrr[i])
                        mk.n_live -= 1
                        mk.managed[i] = 0
                        mk.managed_mrr[i] = 0.0
                        mk.managed_end[i] = -1
                    mk.transitions[stage, Stage.NONE] += 1
                    mk.stage_counts[stage] -= 1
                    mk.stage_counts[Stage.NONE] += 1
                    mk.stage[i] = Stage.NONE
                    mk.stage_due[i] = -1
                    mk.handler[i] = NO_HANDLER
                    mk.source[i] = Source.NONE
                    mk.cooldown[i] = day + 180
        elif uk < float(win_prob[k]):
            won.append(i)
            mk.holder[i] = US
            mk.n_held += 1
            mk.held_value += float(mk.lease_value[i])
        mk.lease_end[i] = new_end
    return lost, won


renewal_cases = st.fixed_dictionaries(
    {
        "n_reps": st.integers(2, 4),
        "accounts_per_rep": st.integers(25, 40),
        "competitor_ratio": st.floats(0.0, 3.0),
        "renewal_loss": st.floats(0.0, 1.0),
        "price_pressure": st.floats(0.5, 2.0),
        "relationship_protection": st.floats(0.0, 5.0),
        "managed_stickiness": st.floats(0.05, 1.0),
        "lease_term_months": st.integers(24, 72),
    }
)


@settings(max_examples=50, deadline=None)
@given(
    overrides=renewal_cases,
    seed=st.integers(0, 2**32 - 1),
    due_share=st.floats(0.05, 1.0),
    day=st.integers(1, 2000),
)
def test_apply_renewals_matches_reference(overrides, seed, due_share, day):
    params = Params(**overrides)
    mk, rng = build_market(params, seed, day=day)
    due = np.flatnonzero(rng.random(mk.n) < due_share)
    if due.size == 0:
        due = np.array([0])
    due = rng.permutation(due)  # the calendar gives no particular order
    mk.lease_end[due] = day
    u = rng.random(due.size)
    # exact boundary draws: u = 0 loses whenever the chance is positive, u = 0.98 never loses
    u[rng.random(due.size) < 0.1] = 0.0
    u[rng.random(due.size) < 0.1] = 0.98
    win_prob = np.where(rng.random(due.size) < 0.2, 0.0, rng.random(due.size) * 0.9)

    fast, slow = copy.deepcopy(mk), copy.deepcopy(mk)
    lost, won = fast.apply_renewals(day, due.copy(), u.copy(), win_prob.copy())
    ref_lost, ref_won = reference_renewals(slow, day, due, u, win_prob)

    assert lost.tolist() == ref_lost
    assert won.tolist() == ref_won
    for col in COLUMNS:
        np.testing.assert_array_equal(getattr(fast, col), getattr(slow, col), err_msg=col)
    assert fast.n_held == slow.n_held
    assert fast.n_live == slow.n_live
    assert math.isclose(fast.held_value, slow.held_value, rel_tol=1e-9, abs_tol=1e-6)
    assert math.isclose(fast.live_mrr, slow.live_mrr, rel_tol=1e-9, abs_tol=1e-6)
    np.testing.assert_array_equal(fast.stage_counts, slow.stage_counts)
    np.testing.assert_array_equal(fast.transitions, slow.transitions)
    fast.check_invariants()
    slow.check_invariants()
    # the new lease ends are on the lease calendar: every due account, exactly once
    scheduled = fast.leases_due(months_later(day, params.lease_term_months))
    assert sorted(scheduled.tolist()) == sorted(due.tolist())


def test_apply_renewals_extremes():
    """Certain loss (u = 0, positive chance) and certain keep (u = 1) on a tiny market."""
    params = Params(n_reps=2, accounts_per_rep=25, renewal_loss=1.0, competitor_win_rate=0.0)
    mk, _ = build_market(params, 3, stage_share=0.0)
    ours = np.flatnonzero(mk.holder == US)
    theirs = np.flatnonzero(mk.holder == COMPETITOR)
    idx = np.concatenate([ours, theirs])
    keep = copy.deepcopy(mk)
    lost, won = keep.apply_renewals(5, idx, np.ones(idx.size), np.full(idx.size, 0.99))
    assert lost.size == 0 and won.size == 0
    assert keep.n_held == mk.n_held
    lost, won = mk.apply_renewals(5, idx, np.zeros(idx.size), np.ones(idx.size))
    assert sorted(lost.tolist()) == sorted(ours.tolist())
    assert sorted(won.tolist()) == sorted(theirs.tolist())
    assert mk.n_held == theirs.size
    mk.check_invariants()


@settings(max_examples=50, deadline=None)
@given(
    rel=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20),
    renewal_loss=st.floats(0.0, 1.0),
    price_pressure=st.floats(0.5, 2.0),
    protection=st.floats(0.0, 5.0),
    stickiness=st.floats(0.05, 1.0),
)
def test_loss_probability_formula(rel, renewal_loss, price_pressure, protection, stickiness):
    p = Params(renewal_loss=renewal_loss, price_pressure=price_pressure,
               relationship_protection=protection, managed_stickiness=stickiness)
    r = np.array(rel)
    managed = np.arange(r.size) % 2 == 1
    got = loss_probability(r, managed, p)
    assert got.shape == r.shape
    assert ((got >= 0.0) & (got <= 0.98)).all()
    for k, x in enumerate(rel):
        want = renewal_loss * price_pressure * math.exp(-protection * (x - 0.5))
        if managed[k]:
            want *= stickiness
        want = min(max(want, 0.0), 0.98)
        assert math.isclose(got[k], want, rel_tol=1e-12, abs_tol=1e-15)
    # a better relationship never raises the loss chance
    order = np.argsort(r, kind="stable")
    unmanaged = loss_probability(r[order], np.zeros(r.size, dtype=bool), p)
    assert (np.diff(unmanaged) <= 1e-15).all()


# ------------------------------------------------------------------ Calendar
schedule_items = st.lists(
    st.tuples(
        st.integers(0, 30),
        st.one_of(
            st.integers(0, 500),
            st.lists(st.integers(0, 500), min_size=0, max_size=8).map(
                lambda xs: np.array(xs, dtype=np.int64)
            ),
        ),
    ),
    max_size=40,
)


def expected_by_day(items) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for day, idx in items:
        vals = [idx] if isinstance(idx, int) else idx.tolist()
        if vals:
            out.setdefault(day, []).extend(vals)
    return out


@settings(max_examples=50, deadline=None)
@given(items=schedule_items, perm_seed=st.integers(0, 2**32 - 1))
def test_calendar_pop_returns_exactly_what_was_scheduled(items, perm_seed):
    expected = expected_by_day(items)
    results = []
    for order in (
        list(range(len(items))),
        np.random.default_rng(perm_seed).permutation(len(items)).tolist(),
    ):
        cal = Calendar()
        for k in order:
            cal.add(*items[k])
        assert len(cal) == len(expected)
        popped = {}
        for day in range(0, 31):
            got = cal.pop(day)
            assert got.dtype == np.int64 and got.ndim == 1
            assert sorted(got.tolist()) == sorted(expected.get(day, []))
            popped[day] = sorted(got.tolist())
            # popping empties the day
            assert cal.pop(day).size == 0
        assert len(cal) == 0
        results.append(popped)
    assert results[0] == results[1], "order of insertion changed what was popped"


@settings(max_examples=50, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 20), st.integers(0, 300)), max_size=60),
    split=st.integers(0, 60),
)
def test_calendar_add_grouped_equals_individual_adds(pairs, split):
    days = np.array([d for d, _ in pairs], dtype=np.int64)
    idx = np.array([i for _, i in pairs], dtype=np.int64)
    grouped, single, mixed = Calendar(), Calendar(), Calendar()
    grouped.add_grouped(days, idx)
    for d, i in pairs:
        single.add(d, i)
    mixed.add_grouped(days[split:], idx[split:])
    for d, i in pairs[:split]:
        mixed.add(d, np.array([i]))
    assert len(grouped) == len(single) == len(mixed) == len(set(days.tolist()))
    for day in range(21):
        want = sorted(i for d, i in pairs if d == day)
        assert sorted(grouped.pop(day).tolist()) == want
        assert sorted(single.pop(day).tolist()) == want
        assert sorted(mixed.pop(day).tolist()) == want


def test_calendar_ignores_empty_adds():
    cal = Calendar()
    cal.add(3, np.array([], dtype=np.int64))
    cal.add_grouped(np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    assert len(cal) == 0
    assert cal.pop(3).size == 0
    cal.add(3, 7)
    assert cal.pop(3).tolist() == [7]


def test_market_calendar_filters_stale_lease_entries():
    mk, _ = build_market(Params(n_reps=2, accounts_per_rep=25), 11, stage_share=0.0)
    i = 4
    old_end = int(mk.lease_end[i])
    mk.renew_lease(np.array([i]), day=10)  # moves the lease end: the old entry goes stale
    assert i not in mk.leases_due(old_end).tolist()
    assert i in mk.leases_due(months_later(10, 60)).tolist()


# ------------------------------------------------------------------ invariants under random ops
OPS = ("gain", "lose", "drop_many", "advance", "advance", "advance")


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 2**31 - 1)),
                 min_size=1, max_size=120),
    n_reps=st.integers(2, 3),
    accounts_per_rep=st.integers(25, 30),
)
def test_invariants_after_random_operations(seed, ops, n_reps, accounts_per_rep):
    params = Params(n_reps=n_reps, accounts_per_rep=accounts_per_rep, competitor_ratio=1.0)
    mk = Market(params, np.random.default_rng(seed))
    n_start = mk.n
    legal = legal_matrix()
    for day, (op, op_seed) in enumerate(ops, start=1):
        r = np.random.default_rng(op_seed)
        # unique indices, as the model always passes (flatnonzero / calendar results)
        idx = r.choice(mk.n, size=int(r.integers(0, 12)), replace=False)
        if op == "gain":
            mk.gain(idx)
        elif op == "lose":
            mk.lose(idx, day)
        elif op == "drop_many":
            mk.drop_many(idx, day)
        else:
            i = int(r.integers(mk.n))
            frm = int(mk.stage[i])
            targets = [t for t in range(len(Stage)) if legal[frm, t]]
            if frm == Stage.LIVE:
                # the model ends a live contract through drop_many/lose, never move()
                mk.drop_many(np.array([i]), day)
            else:
                to = Stage(int(r.choice(targets)))
                assert is_legal(frm, to)
                if to == Stage.IMPLEMENTATION:
                    mk.gain(np.array([i]))  # a close makes the account ours
                    mk.product[i] = MPS
                mk.move(i, to, day, due=day + 5 if to < Stage.IMPLEMENTATION else -1)
                if to == Stage.LIVE:
                    assert mk.start_managed(i, day) > 0
        mk.check_invariants()
        assert mk.n == n_start and all(getattr(mk, c).size == n_start for c in COLUMNS)
        assert (mk.transitions[~legal] == 0).all()
        assert mk.stage_counts.sum() == mk.n
        assert 0 <= mk.n_held <= mk.n and mk.n_live >= 0 and mk.live_mrr >= -1e-9


def test_check_invariants_detects_drift():
    """The checker is not vacuous: corrupt each aggregate and it must complain."""
    params = Params(n_reps=2, accounts_per_rep=25)
    for corrupt in (
        lambda m: setattr(m, "n_held", m.n_held + 1),
        lambda m: setattr(m, "held_value", m.held_value + 1000.0),
        lambda m: setattr(m, "live_mrr", m.live_mrr + 50.0),
        lambda m: setattr(m, "n_live", m.n_live + 1),
        lambda m: m.stage_counts.__setitem__(Stage.APPOINTMENT,
                                             m.stage_counts[Stage.APPOINTMENT] + 7),
        lambda m: m.managed.__setitem__(int(np.flatnonzero(m.stage != Stage.LIVE)[0]), MPS),
        lambda m: m.holder.__setitem__(int(np.flatnonzero(m.stage == Stage.LIVE)[0]),
                                       COMPETITOR),
    ):
        mk, _ = build_market(params, 5, stage_share=0.6)
        assert (mk.stage == Stage.LIVE).any()
        corrupt(mk)
        with pytest.raises(AssertionError):
            mk.check_invariants()


def test_move_rejects_illegal_transition():
    mk, _ = build_market(Params(n_reps=2, accounts_per_rep=25), 1, stage_share=0.0)
    legal = legal_matrix()
    for frm, to in zip(*np.nonzero(~legal), strict=True):
        if frm != Stage.NONE:
            continue
        with pytest.raises(RuntimeError, match="illegal funnel move"):
            mk.move(0, Stage(int(to)), 1)
    assert mk.stage[0] == Stage.NONE
    assert (mk.transitions == 0).all()


def test_calendar_pop_unique_merges_batches_in_order():
    cal = Calendar()
    cal.add(5, np.array([3, 9, 12]))
    cal.add(5, 9)
    cal.add(5, np.array([1, 12]))
    assert cal.pop(5, unique=True).tolist() == [1, 3, 9, 12]
    cal.add(6, np.array([2, 8]))  # one batch: returned as scheduled
    assert cal.pop(6, unique=True).tolist() == [2, 8]
    assert cal.pop(7, unique=True).size == 0


def test_is_legal_is_the_table_of_moves():
    table = legal_matrix()
    for a in range(-1, len(Stage) + 1):
        for b in range(-1, len(Stage) + 1):
            inside = 0 <= a < len(Stage) and 0 <= b < len(Stage)
            assert is_legal(a, b) == (inside and bool(table[a, b])), (a, b)


def _first_fit_reference(mk: Market, cand: np.ndarray, day: int, holder, soon_days=None) -> int:
    """The samplers' rule on a whole candidate array: the first free candidate whose lease ends
    within ``soon_days`` (when given), else the first free one, else -1."""
    ok = (mk.holder[cand] == holder) & (mk.stage[cand] == Stage.NONE) & (mk.cooldown[cand] <= day)
    if soon_days is not None:
        hit = np.flatnonzero(ok & (mk.lease_end[cand] - day <= soon_days))
        if hit.size:
            return int(cand[hit[0]])
    hit = np.flatnonzero(ok)
    return int(cand[hit[0]]) if hit.size else -1


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), day=st.integers(0, 900),
       stage_share=st.sampled_from([0.0, 0.4, 0.95]))
def test_samplers_take_the_first_candidate_that_fits(seed, day, stage_share):
    """``sample_intro`` and ``sample_prospect`` draw their candidates, then stop at the first
    that fits: the same answer as checking every candidate, and the same draws."""
    mk, _ = build_market(Params(n_reps=2, accounts_per_rep=25), seed % 1000,
                         stage_share=stage_share, day=0)
    mk.cooldown[:] = np.random.default_rng(seed).integers(0, 1000, mk.n)
    book, pool = mk.books[0], mk.competitor_pool
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    got = mk.sample_intro(a, book, day)
    want = _first_fit_reference(mk, book[b.integers(0, book.size, size=40)], day, US,
                                mk.params.intro_lease_horizon_days)
    assert got == want
    got = mk.sample_prospect(a, pool, day, COMPETITOR)
    want = _first_fit_reference(mk, pool[b.integers(0, pool.size, size=25)], day, COMPETITOR)
    assert got == want
    assert a.random() == b.random()  # both consumed the same draws


def test_calendar_pop_list_is_pop_as_ints():
    """pop_list gives pop's indices, in its order, as plain ints (single accounts and arrays)."""
    from dealersim.model.market import Calendar

    entries = [3, np.array([7, 1, 9]), 4, np.array([], dtype=np.int64), 3, np.array([2])]
    a, b = Calendar(), Calendar()
    for cal in (a, b):
        for k, e in enumerate(entries):
            cal.add(5 + k % 2, e)
        cal.add(8, 11)
    for day in (4, 5, 6, 8):
        got, want = a.pop_list(day), b.pop(day).tolist()
        assert got == want and all(type(i) is int for i in got)
