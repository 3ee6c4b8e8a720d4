"""Customer accounts as numpy columns, updated in bulk and only when something happens.

The market is a struct of arrays: one row per account, one array per attribute. Work is
event-driven: a :class:`Calendar` holds, per day, the accounts whose lease (or managed contract,
or pipeline step) falls due that day, so the cost of a day is proportional to its events, not to
the number of accounts. Aggregates that the model reports every day (accounts held, hardware
revenue, live managed revenue, funnel counts) are kept up to date incrementally at each change;
:meth:`Market.check_invariants` recomputes them from the columns.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum

import numpy as np

from dealersim.model.clock import month_start, months_later
from dealersim.model.economics import mps_price_share
from dealersim.model.funnel import SOURCE_NO, STAGE_NO, Stage, is_legal
from dealersim.model.params import Params


class Holder(IntEnum):
    """Who holds an account's hardware lease."""

    COMPETITOR = 0
    US = 1


class Product(IntEnum):
    """The managed service an account has (or is pitched)."""

    NONE = 0
    MPS = 1
    """Managed print."""
    MIT = 2
    """Managed IT."""


# the kinds as numpy scalars of the columns' type, for the hot paths (see funnel.STAGE_NO)
COMPETITOR = np.int8(Holder.COMPETITOR)
US = np.int8(Holder.US)
OPEN_TERRITORY = -1
NO_HANDLER = -1

_US = int(US)  # a plain int: cheaper to compare numpy values with (see funnel.STAGE_NO)

MPS = np.int8(Product.MPS)
MIT = np.int8(Product.MIT)


_NOTHING = np.empty(0, dtype=np.int64)
_NOTHING.flags.writeable = False  # shared by every empty pop: read-only


class Calendar:
    """Day-indexed buckets of account indices (a calendar queue).

    Entries may go stale when an account's due day changes; callers filter what
    :meth:`pop` returns against the account's current due-day column. The model puts each day
    that gets a bucket on its event list (:attr:`on_new_day`), so a day's accounts are popped
    on that day.
    """

    def __init__(self) -> None:
        self._buckets: dict[int, list[np.ndarray | int]] = {}
        self.on_new_day: Callable[[int], object] | None = None
        """Called with a day when it gets its first entry."""

    def add(self, day: int, idx: np.ndarray | int) -> None:
        """Schedule one account (an ``int``) or many (an index array) on ``day``."""
        if isinstance(idx, np.ndarray) and idx.size == 0:
            return
        day = int(day)
        bucket = self._buckets.get(day)
        if bucket is None:
            bucket = self._buckets[day] = []
            if self.on_new_day is not None:
                self.on_new_day(day)
        bucket.append(idx)

    def add_grouped(self, days: np.ndarray, idx: np.ndarray) -> None:
        """Schedule ``idx[k]`` on ``days[k]`` for all k, grouping by day in one sort."""
        if idx.size == 0:
            return
        order = np.argsort(days, kind="stable")
        sorted_days = days[order]
        uniq, starts = np.unique(sorted_days, return_index=True)
        bounds = np.append(starts, sorted_days.size)
        for k, day in enumerate(uniq.tolist()):
            self.add(day, idx[order[bounds[k] : bounds[k + 1]]])

    def pop(self, day: int, unique: bool = False) -> np.ndarray:
        """Remove and return every index scheduled on ``day`` (possibly stale).

        With ``unique``, an index scheduled more than once is returned once, and the indices
        ascend. A day holding a single batch returns it as scheduled: the model schedules each
        batch ascending and without repeats, so only several batches need sorting.
        """
        parts = self._buckets.pop(int(day), None)
        if not parts:
            return _NOTHING
        if len(parts) == 1:
            return np.atleast_1d(np.asarray(parts[0], dtype=np.int64))
        idx = np.concatenate([np.atleast_1d(np.asarray(p, dtype=np.int64)) for p in parts])
        return np.unique(idx) if unique else idx

    def pop_list(self, day: int) -> list[int]:
        """:meth:`pop` as a list of plain ints (the same indices in the same order)."""
        parts = self._buckets.pop(int(day), None)
        if not parts:
            return []
        out: list[int] = []
        for p in parts:
            if type(p) is int:
                out.append(p)
            else:
                out.extend(np.atleast_1d(np.asarray(p, dtype=np.int64)).tolist())
        return out

    def days(self) -> list[int]:
        """The days that have entries, ascending."""
        return sorted(self._buckets)

    def __len__(self) -> int:
        return len(self._buckets)


def loss_probability(
    relationship: np.ndarray, managed: np.ndarray, params: Params
) -> np.ndarray:
    """Chance that each of our accounts goes to a competitor at its lease end (vectorised).

    Args:
        relationship: Relationship strength in [0, 1] per account.
        managed: Boolean, whether the account has a signed managed contract.
        params: Model parameters (``renewal_loss``, ``price_pressure``,
            ``relationship_protection``, ``managed_stickiness``).

    Returns:
        Probabilities in [0, ``max_loss_probability``].
    """
    p = (
        params.renewal_loss
        * params.price_pressure
        * np.exp(-params.relationship_protection * (relationship - 0.5))
    )
    p = np.where(managed, p * params.managed_stickiness, p)
    return np.minimum(np.maximum(p, 0.0), params.max_loss_probability)  # np.clip, cheaper


class Market:
    """All accounts in the territory, ours and competitors', as columns.

    Attributes:
        holder: :class:`Holder` per account.
        rep: Index of the rep whose territory holds the account, or ``OPEN_TERRITORY``.
        devices: Fleet size (devices).
        lease_value: Monthly hardware revenue at start-of-run prices.
        relationship: Relationship with the dealership, 0-1.
        lease_end: Day the current hardware lease ends.
        managed: :class:`Product` of the live contract (``NONE`` when none).
        managed_mrr: Monthly recurring revenue of the live managed contract.
        managed_end: Day the managed contract ends (-1 when none).
        stage: Funnel stage (:class:`dealersim.model.funnel.Stage`).
        source: How the current opportunity came about (:class:`dealersim.model.funnel.Source`).
        product: Product pitched in the current opportunity (``MPS`` or ``MIT``).
        handler: Specialist number working the opportunity, or ``NO_HANDLER``.
        stage_due: Day of the account's next pipeline step (-1 when none).
        cooldown: First day on which the account may be prospected again.
    """

    def __init__(self, params: Params, rng: np.random.Generator) -> None:
        p = params
        self.params = p
        n_own = p.n_own_accounts
        n_comp = int(round(n_own * p.competitor_ratio))
        n = n_own + n_comp
        self.n = n
        self.n_own_start = n_own

        self.holder = np.zeros(n, dtype=np.int8)
        self.holder[:n_own] = US
        self.rep = np.empty(n, dtype=np.int16)
        self.rep[:n_own] = np.repeat(np.arange(p.n_reps, dtype=np.int16), p.accounts_per_rep)
        comp_rep = rng.integers(0, p.n_reps, size=n_comp).astype(np.int16)
        comp_rep[rng.random(n_comp) < p.open_territory_share] = OPEN_TERRITORY
        self.rep[n_own:] = comp_rep

        sigma = p.devices_sigma
        mu = np.log(p.devices_per_account) - sigma**2 / 2
        self.devices = np.maximum(1.0, np.round(rng.lognormal(mu, sigma, size=n)))
        self.lease_value = self.devices * p.lease_value_per_device
        self.relationship = np.empty(n)
        m, k = p.own_relationship_mean, p.own_relationship_concentration
        self.relationship[:n_own] = rng.beta(m * k, (1.0 - m) * k, size=n_own)
        m, k = p.competitor_relationship_mean, p.competitor_relationship_concentration
        self.relationship[n_own:] = rng.beta(m * k, (1.0 - m) * k, size=n_comp)
        first_month = rng.integers(1, p.lease_term_months + 1, size=n)
        self.lease_end = month_start(first_month)
        sigma = p.mit_seats_sigma  # users at the account: managed IT bills per seat
        mu = np.log(p.mit_seats_per_account) - sigma**2 / 2
        self.seats = np.maximum(1.0, np.round(rng.lognormal(mu, sigma, size=n)))

        self.managed = np.zeros(n, dtype=np.int8)
        self.managed_mrr = np.zeros(n)
        self.managed_end = np.full(n, -1, dtype=np.int64)
        self.stage = np.zeros(n, dtype=np.int8)
        self.source = np.zeros(n, dtype=np.int8)
        self.product = np.zeros(n, dtype=np.int8)
        self.handler = np.full(n, NO_HANDLER, dtype=np.int8)
        self.stage_due = np.full(n, -1, dtype=np.int64)
        self.cooldown = np.zeros(n, dtype=np.int64)

        self.books = [np.flatnonzero(self.rep == r) for r in range(p.n_reps)]
        self.own_accounts = np.arange(n_own)
        self.competitor_pool = np.arange(n_own, n)

        # incremental aggregates
        self.n_held = n_own
        self.held_value = float(self.lease_value[:n_own].sum())
        self.live_mrr = 0.0
        self.n_live = 0
        self.stage_counts = np.bincount(self.stage, minlength=len(Stage)).astype(np.int64)
        self.transitions = np.zeros((len(Stage), len(Stage)), dtype=np.int64)
        self._open: dict[int, set[int]] = {}  # handler -> his open opportunities
        self.open_moved: dict[int, list[int]] = {}
        """Per handler, his open opportunities that moved (opened, stepped, closed) since he
        last took the list (:meth:`take_moved`)."""

        self.leases = Calendar()
        self.leases.add_grouped(self.lease_end, np.arange(n))
        self.contracts = Calendar()
        self.pipeline = Calendar()

    # ---------------------------------------------------------------- funnel moves
    def move(self, i: int, to: Stage, day: int, due: int = -1) -> None:
        """Move account ``i`` to stage ``to`` and schedule its next pipeline step on ``due``.

        Raises:
            RuntimeError: On an illegal move (a bug, never user input).
        """
        frm, to = self.stage.item(i), int(to)
        if not is_legal(frm, to):
            raise RuntimeError(f"illegal funnel move {Stage(frm).name} -> {Stage(to).name}")
        self.stage[i] = to
        first, last = STAGE_NO.APPOINTMENT, STAGE_NO.PROPOSAL  # the open opportunities
        was_open, now_open = first <= frm <= last, first <= to <= last
        if was_open or now_open:
            h = self.handler.item(i)
            self.open_moved.setdefault(h, []).append(int(i))
            if was_open != now_open:
                mine = self._open.setdefault(h, set())
                (mine.add if now_open else mine.discard)(int(i))
        self.stage_counts[frm] -= 1
        self.stage_counts[to] += 1
        self.transitions[frm, to] += 1
        self.stage_due[i] = due
        if due >= 0:
            self.pipeline.add(due, int(i))
        if to == STAGE_NO.NONE:
            if frm == STAGE_NO.LIVE:
                self.end_managed(np.array([i]))
            self.handler[i] = NO_HANDLER
            self.source[i] = SOURCE_NO.NONE
            self.cooldown[i] = day + self.params.prospect_cooldown_days

    def drop_many(self, idx: np.ndarray, day: int) -> None:
        """Drop the opportunities at ``idx`` (any stage) back to ``NONE`` (vectorised)."""
        idx = idx[self.stage[idx] != STAGE_NO.NONE]
        if idx.size == 0:
            return
        stage = self.stage[idx]
        was_open = idx[(stage >= STAGE_NO.APPOINTMENT) & (stage <= STAGE_NO.PROPOSAL)]
        for i, h in zip(was_open.tolist(), self.handler[was_open].tolist(), strict=True):
            self._open.get(h, set()).discard(i)
            self.open_moved.setdefault(h, []).append(i)
        live = idx[self.stage[idx] == STAGE_NO.LIVE]
        self.end_managed(live)
        frm = self.stage[idx].astype(np.int64)
        np.add.at(self.transitions, (frm, np.zeros_like(frm)), 1)
        np.subtract.at(self.stage_counts, frm, 1)
        self.stage_counts[STAGE_NO.NONE] += idx.size
        self.stage[idx] = STAGE_NO.NONE
        self.stage_due[idx] = -1
        self.handler[idx] = NO_HANDLER
        self.source[idx] = SOURCE_NO.NONE
        self.cooldown[idx] = day + self.params.prospect_cooldown_days

    def open_deals(self, handler: int) -> np.ndarray:
        """The open opportunities (appointment to proposal) ``handler`` works, ascending.

        Kept as each one moves, so reading them costs in proportion to them, not to the market.
        """
        mine = self._open.get(handler, ())
        return np.fromiter(sorted(mine), np.int64, count=len(mine))

    def take_moved(self, handler: int) -> list[int]:
        """The open opportunities of ``handler`` that moved since the last call (maybe repeated)."""
        return self.open_moved.pop(handler, [])

    def pipeline_due(self, day: int) -> list[int]:
        """Accounts whose next pipeline step is today (stale entries removed), as plain ints."""
        due_of = self.stage_due.item
        return [i for i in self.pipeline.pop_list(day) if due_of(i) == day]

    # ---------------------------------------------------------------- holdings
    def gain(self, idx: np.ndarray) -> None:
        """Accounts at ``idx`` become ours."""
        idx = idx[self.holder[idx] == COMPETITOR]
        self.holder[idx] = US
        self.n_held += idx.size
        self.held_value += float(self.lease_value[idx].sum())

    def lose(self, idx: np.ndarray, day: int) -> None:
        """Accounts at ``idx`` go to a competitor; managed contracts and deals end."""
        idx = idx[self.holder[idx] == US]
        self.holder[idx] = COMPETITOR
        self.n_held -= idx.size
        self.held_value -= float(self.lease_value[idx].sum())
        signed = idx[self.stage[idx] >= STAGE_NO.IMPLEMENTATION]
        self.drop_many(signed, day)

    def renew_lease(self, idx: np.ndarray, day: int) -> None:
        """Start a new lease term at ``idx`` from ``day`` and schedule its end.

        The term runs from the next month start (``day`` itself when it is one).
        """
        if idx.size == 0:
            return
        end = months_later(day, self.params.lease_term_months)
        self.lease_end[idx] = end
        self.leases.add(end, idx)

    def leases_due(self, day: int) -> np.ndarray:
        """Accounts whose lease ends today (stale entries removed)."""
        idx = self.leases.pop(day, unique=True)
        return idx[self.lease_end[idx] == day] if idx.size else idx

    def apply_renewals(
        self, day: int, idx: np.ndarray, u: np.ndarray, win_prob: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Resolve the price war at lease end for the accounts at ``idx``.

        Our accounts are lost with :func:`loss_probability`; competitor-held accounts are won
        with ``win_prob``. Every account starts a new lease term.

        Args:
            day: Today.
            idx: Accounts whose lease ends today.
            u: One uniform draw per account in ``idx``.
            win_prob: Chance per account that we win it if a competitor holds it.

        Returns:
            ``(lost, won)`` index arrays.
        """
        ours = self.holder[idx] == US
        signed = self.stage[idx] >= STAGE_NO.IMPLEMENTATION
        p_loss = loss_probability(self.relationship[idx], signed, self.params)
        lost = idx[ours & (u < p_loss)]
        won = idx[~ours & (u < win_prob)]
        self.lose(lost, day)
        self.gain(won)
        self.renew_lease(idx, day)
        return lost, won

    # ---------------------------------------------------------------- managed contracts
    def start_managed(self, i: int, day: int) -> float:
        """Account ``i`` goes live on its signed contract; returns its MRR."""
        mrr = self.deal_mrr(i)
        self.managed[i] = self.product[i]
        self.managed_mrr[i] = mrr
        self.relationship[i] = max(self.relationship[i], self.params.managed_relationship)
        self.managed_end[i] = months_later(day, self.params.managed_term_months)
        self.contracts.add(int(self.managed_end[i]), int(i))
        self.live_mrr += mrr
        self.n_live += 1
        return mrr

    def end_managed(self, idx: np.ndarray) -> None:
        """End the live managed contracts at ``idx`` (revenue stops)."""
        idx = idx[self.managed[idx] != 0]
        if idx.size == 0:
            return
        self.live_mrr -= float(self.managed_mrr[idx].sum())
        self.n_live -= idx.size
        self.managed[idx] = 0
        self.managed_mrr[idx] = 0.0
        self.managed_end[idx] = -1

    def contracts_due(self, day: int) -> np.ndarray:
        """Live managed contracts ending today (stale entries removed)."""
        idx = self.contracts.pop(day)
        return np.unique(idx[self.managed_end[idx] == day]) if idx.size else idx

    def deal_mrr(self, i: int, level: float = 1.0) -> float:
        """Monthly recurring revenue of the managed deal pitched to account ``i``.

        Managed IT: the account's seats times the fee per seat. Managed print: the service and
        supplies part of the account's billing at today's print ``level`` (the print volume
        relative to the start, which scales the billing), less the discount
        (:mod:`dealersim.model.economics`).
        """
        if self.product[i] == MIT:
            return float(self.seats[i]) * self.params.mit_fee_per_seat
        return float(self.lease_value[i]) * level * mps_price_share(self.params)

    def deal_mrrs(self, idx: np.ndarray) -> np.ndarray:
        """:meth:`deal_mrr` of every account in ``idx`` at once, at start-of-run prices."""
        p = self.params
        return np.where(self.product[idx] == MIT, self.seats[idx] * p.mit_fee_per_seat,
                        self.lease_value[idx] * mps_price_share(p))

    # ---------------------------------------------------------------- sampling
    def sample_prospect(
        self, rng: np.random.Generator, pool: np.ndarray, day: int, holder: np.int8, tries: int = 25
    ) -> int:
        """Pick a random account from ``pool`` held by ``holder`` and free to prospect.

        Rejection sampling: cost independent of the pool size. Returns -1 if none was found.
        """
        if pool.size == 0:
            return -1
        held, stage, cooldown, holder = self.holder, self.stage, self.cooldown, int(holder)
        for i in pool[rng.integers(0, pool.size, size=tries)].tolist():  # the first one free
            if held[i] == holder and stage[i] == STAGE_NO.NONE and cooldown[i] <= day:
                return i
        return -1

    def sample_intro(self, rng: np.random.Generator, book: np.ndarray, day: int) -> int:
        """Pick an account a rep would introduce: ours, free, lease ending within a year if any."""
        if book.size == 0:
            return -1
        horizon = day + self.params.intro_lease_horizon_days
        # candidate by candidate, each column read as a plain number (``item``) only as far as
        # needed: cheaper than reading all 40 candidates' columns (most calls stop early)
        held, stage, cooldown, end = (self.holder.item, self.stage.item, self.cooldown.item,
                                      self.lease_end.item)
        free = STAGE_NO.NONE
        candidates = iter(book[rng.integers(0, book.size, size=40)].tolist())
        for i in candidates:  # up to the first free one
            if held(i) == _US and stage(i) == free and cooldown(i) <= day:
                if end(i) <= horizon:
                    return i  # the first free one whose lease ends soon
                first_free = i
                break
        else:
            return -1  # none free
        for i in candidates:  # after it only a free one whose lease ends soon counts: its
            # lease is read first, as most leases do not end soon
            if end(i) <= horizon and held(i) == _US and stage(i) == free and cooldown(i) <= day:
                return i
        return first_free  # else the first free one

    # ---------------------------------------------------------------- checks
    def check_invariants(self) -> None:
        """Recompute the incremental aggregates from the columns and compare.

        Raises:
            AssertionError: If any aggregate drifted from its definition.
        """
        held = self.holder == US
        checks = {
            "accounts held": self.n_held == int(held.sum()),
            "held value": np.isclose(self.held_value, self.lease_value[held].sum()),
            "live MRR": np.isclose(self.live_mrr, self.managed_mrr.sum()),
            "live contracts": self.n_live == int((self.managed != 0).sum()),
            "open deals by handler": all(
                self.open_deals(h).tolist() == np.flatnonzero(
                    (self.handler == h) & (self.stage >= STAGE_NO.APPOINTMENT)
                    & (self.stage <= STAGE_NO.PROPOSAL)).tolist()
                for h in set(self._open) | set(np.unique(self.handler).tolist())),
            "stage counts": np.array_equal(
                np.bincount(self.stage, minlength=len(Stage)), self.stage_counts
            ),
            "live = managed": bool(((self.managed != 0) == (self.stage == Stage.LIVE)).all()),
            "signed accounts held": bool(
                (self.holder[self.stage >= Stage.IMPLEMENTATION] == US).all()
            ),
        }
        broken = [name for name, ok in checks.items() if not ok]
        if broken:
            raise AssertionError("market invariants broken: " + ", ".join(broken))
