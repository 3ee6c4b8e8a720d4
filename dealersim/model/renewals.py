"""The market's calendar: hardware leases and managed contracts that end, renew or go.

At a lease end the price war decides: our customer renews with us or goes to a competitor, a
competitor's customer may be won. At a managed contract's end the customer renews it or leaves.
Renewal luck has its own random stream, one draw per account and lease end, so that two
strategies on the same seed meet the same price war (common random numbers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dealersim.model.clock import months_later
from dealersim.model.funnel import SOURCE_NO, STAGE_NO
from dealersim.model.market import COMPETITOR, MPS, US

if TYPE_CHECKING:
    from dealersim.model.dealership import DealershipModel


class Renewals:
    """Lease and contract ends, resolved on the days they fall due.

    Args:
        model: The dealership (its market, its specialists, its books).
    """

    def __init__(self, model: DealershipModel) -> None:
        self.model = model
        p, n = model.params, model.market.n
        cycles = int(p.horizon_days / (30 * p.lease_term_months)) + 3
        self.luck = model.rng.spawn(1)[0].random((n, cycles))
        self.rng = model.rng.spawn(1)[0]
        """The stream of the renewal decisions (spawned from the model's generator)."""
        self.ends_seen = np.zeros(n, dtype=np.int64)

    def open_territory_win_rate(self) -> float:
        """Chance that an open-territory account is won for us at its lease end."""
        m = self.model
        p = m.params
        if not p.open_territory or p.hardware_time_share == 0:
            return 0.0
        share = sum(s.hardware_share() for s in m.employed_specialists)
        return min(1.0, p.hardware_win_rate * share / p.hardware_time_share)

    def leases_end(self) -> None:
        """The price war: every lease ending today renews with us, goes, or is won."""
        m = self.model
        mk, p, day = m.market, m.params, m.day
        idx = mk.leases_due(day)
        if idx.size == 0:
            return
        ours_before = mk.holder[idx] == US
        signed_before = mk.stage[idx] >= STAGE_NO.IMPLEMENTATION
        win_prob = np.where(mk.rep[idx] >= 0, p.competitor_win_rate,
                            self.open_territory_win_rate())
        u = self.luck[idx, np.minimum(self.ends_seen[idx], self.luck.shape[1] - 1)]
        self.ends_seen[idx] += 1
        lost, won = mk.apply_renewals(day, idx, u, win_prob)
        lost_mask = ours_before & (mk.holder[idx] == COMPETITOR)
        n_signed_lost = int((lost_mask & signed_before).sum())
        m.books.accounts_gone(lost.size - n_signed_lost, n_signed_lost)
        open_won = won[mk.rep[won] < 0]
        if open_won.size and m.employed_specialists:
            earned = float(mk.lease_value[open_won].sum()) * 12 * m.hw_margin_now() * (
                p.hardware_commission
            )
            m.employed_specialists[0].earned_hardware(earned)
        if p.rep_managed_selling > 0 and m.program_running:
            self.reps_pitch_managed(idx[ours_before & ~lost_mask & ~signed_before])

    def reps_pitch_managed(self, kept: np.ndarray) -> None:
        """Trained reps pitch managed services at the renewals they just kept."""
        m = self.model
        mk, p = m.market, m.params
        kept = kept[mk.stage[kept] == STAGE_NO.NONE]
        chance = p.rep_managed_selling * p.rep_managed_effectiveness * (
            m.pipeline.warm_opp_to_deal())
        for i in kept[self.rng.random(kept.size) < chance].tolist():
            mk.source[i] = SOURCE_NO.REP
            mk.product[i] = MPS
            m.pipeline.close_deal(i, None)

    def contracts_end(self) -> None:
        """Managed contracts ending today renew, or the customer leaves us."""
        m = self.model
        mk, p, day = m.market, m.params, m.day
        idx = mk.contracts_due(day)
        if idx.size == 0:
            return
        churn = self.rng.random(idx.size) < p.managed_renewal_churn
        gone = idx[churn]
        mk.lose(gone, day)
        m.books.accounts_gone(0, gone.size)
        for i in idx[~churn].tolist():
            mk.managed_end[i] = months_later(day, p.managed_term_months)
            mk.contracts.add(int(mk.managed_end[i]), i)
