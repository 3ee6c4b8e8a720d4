"""What a run records each recorded day: the series, each rep's wall, the specialists' weighing.

The daily series (the KPI registry's :data:`~dealersim.model.kpis.SERIES_COLUMNS`) are read from
where they are kept (the market, the books, the ledger) or from a few attributes the model
refreshes on a recorded day (:func:`refresh`); ``wall_mean`` and ``wall_max`` are derived from
the walls' history when the series is read.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING

import numpy as np

from dealersim.model.funnel import STAGE_NO, Stage
from dealersim.model.kpis import SERIES_COLUMNS
from dealersim.model.recorder import SeriesRecorder, recorded_rows

if TYPE_CHECKING:
    from dealersim.model.dealership import DealershipModel

WALL_COLUMNS = ("wall_mean", "wall_max")
"""Series derived from ``wall_history`` when read, not copied every recorded day."""

PATHS = {
    "hardware_accounts": "market.n_held", "managed_mrr": "market.live_mrr",
    "booked_mrr": "books.booked_total", "dials": "books.dials",
    "conversations": "books.conversations", "proposals": "books.proposals",
    "deals": "books.deals", "permission_requests": "books.permission_requests",
    "cumulative_gross_profit": "ledger.net_total",
    "specialist_minutes_booked": "books.minutes_booked_today",
    "specialist_minutes_available": "books.minutes_available_today",
}
"""Series read from where they are kept (the others are attributes :func:`refresh` sets)."""

_STAGE_COLUMNS = tuple(
    (f"stage_{stage.name.lower()}", int(stage))
    for stage in (Stage.CONVERSATION, Stage.APPOINTMENT, Stage.ASSESSMENT, Stage.PROPOSAL,
                  Stage.IMPLEMENTATION)
)
"""Series counting the open opportunities at each funnel stage, with the stage's index."""
_STAGE_NAMES = tuple(column for column, _ in _STAGE_COLUMNS)
_STAGE_COUNTS = operator.itemgetter(*(stage for _, stage in _STAGE_COLUMNS))


def recorder(model: DealershipModel) -> SeriesRecorder:
    """The model's series recorder (Mesa's ``datacollector``), sized for its horizon."""
    return SeriesRecorder(
        SERIES_COLUMNS, capacity=recorded_rows(model.horizon, model.record_every),
        derived=WALL_COLUMNS, derive=functools.partial(wall_series, model), paths=PATHS)


def wall_series(model: DealershipModel, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``wall_mean`` and ``wall_max`` on the recorded days, from ``wall_history``."""
    walls = model.wall_history[columns["day"]]
    return {"wall_mean": walls.mean(axis=1), "wall_max": walls.max(axis=1)}


def refresh(model: DealershipModel) -> None:
    """Refresh the series the model derives (cheap: all are incremental)."""
    mk = model.market
    counts = mk.stage_counts.tolist()
    staff = model.employed_specialists
    today = vars(model)  # the attributes, written directly (no dict built per day)
    today["competitor_accounts"] = mk.n - mk.n_held
    today["managed_contracts"] = counts[STAGE_NO.IMPLEMENTATION] + counts[STAGE_NO.LIVE]
    today["first_appointments_total"] = model.books.first_appointments_total
    today["specialist_employed"] = len(staff)
    today.update(zip(_STAGE_NAMES, _STAGE_COUNTS(counts), strict=True))
    today["specialist_salary"] = sum(s.salary for s in staff) if staff else 0
    today["specialist_booked_mrr"] = sum(s.booked_mrr for s in staff) if staff else 0
    today["quota_target"] = sum(s.quota_target(s.tenure) for s in staff) if staff else 0


def record(model: DealershipModel) -> None:
    """Record today: the walls, the specialists' weighing, the series' row."""
    model.wall_history[model.day] = model.team.wall
    refresh(model)
    if model.specialists:
        model.weighings.record((model.day,), [s for s in model.specialists
                                              if s.left_day in (None, model.day)])
    model.datacollector.collect(model, at=model.day)


def record_days(model: DealershipModel, days: np.ndarray, walls: np.ndarray,
                net: np.ndarray) -> None:
    """Record ``days`` of a stretch with nobody in a seat at once: only walls and cash vary."""
    model.wall_history[days] = walls
    refresh(model)
    model.datacollector.collect_days(model, days, {"day": days, "cumulative_gross_profit": net})
