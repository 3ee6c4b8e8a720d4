"""A run's time series recorded into preallocated numpy arrays, behind Mesa's DataCollector face.

:class:`SeriesRecorder` is what ``DealershipModel.datacollector`` holds. Each series column is a
model attribute of the same name (as with ``mesa.DataCollector(model_reporters={name: name})``);
:meth:`SeriesRecorder.collect` copies them into the next row of one preallocated float block with
a single ``operator.attrgetter`` call (a column may name a dotted path instead, e.g.
``books.dials``) and one row assignment: no deep copies, no dict per day.
Columns that are cheaper to compute for all recorded days at once (the reps' wall mean and
maximum) are *derived* when the series is read.

It is a ``mesa.DataCollector`` subclass with what ``mesa.batch_run`` and SolaraViz's plot
components read: ``model_vars`` (a dict of lists, built once per new row count),
``_collection_steps``, empty agent records, and :meth:`get_model_vars_dataframe`. Values come
back typed per the KPI registry (:attr:`dealersim.model.kpis.KPI.arrow_type`): counts and days
as ``int64``, everything else as ``float64``. Counts are exact in the float block (far below
2**53).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import mesa
import numpy as np
import pandas as pd

from dealersim.model.kpis import kpi

Derive = Callable[[Mapping[str, np.ndarray]], Mapping[str, np.ndarray]]
"""Computes the derived columns from the recorded ones (each an array over the recorded rows)."""


def recorded_rows(horizon: int, every: int) -> int:
    """Rows a run of ``horizon`` days records with ``record_every=every``.

    Day 0, every ``every``-th day and the last day (0 or less: day 0 and the last day only).
    """
    horizon = max(0, int(horizon))
    every = int(every)
    if every <= 0:
        return 1 + (horizon > 0)
    return 1 + horizon // every + (horizon % every != 0)


def series_dtypes(columns: Sequence[str]) -> dict[str, np.dtype]:
    """The numpy type of each series column, from the KPI registry."""
    return {c: np.dtype(kpi(c).arrow_type) for c in columns}


class SeriesRecorder(mesa.DataCollector):
    """Model attributes recorded row by row into a preallocated block.

    ``DataCollector.__init__`` is deliberately not called: it would make ``model_vars`` a dict
    of lists that every ``collect`` appends deep copies to, which is what this class replaces.
    The attributes ``batch_run`` and the inherited methods read are set here instead.

    Args:
        columns: Series names, in output order (e.g. :data:`dealersim.model.kpis.SERIES_COLUMNS`).
        capacity: Rows to preallocate (see :func:`recorded_rows`); the block doubles if a run
            records more (a model stepped past its horizon).
        derived: Columns not read from the model but computed by ``derive`` when read.
        derive: Maps the recorded columns (``day`` among them) to the derived ones; must be
            picklable if the model is (a bound method, not a lambda).

    Example:
        >>> class Toy:
        ...     day, dials, time = 0, 3, 0.0
        >>> rec = SeriesRecorder(["day", "dials"], capacity=2)
        >>> rec.collect(Toy())
        >>> rec.arrays()["dials"].tolist()
        [3]
    """

    def __init__(
        self,
        columns: Sequence[str],
        *,
        capacity: int,
        derived: Sequence[str] = (),
        derive: Derive | None = None,
        paths: Mapping[str, str] | None = None,
    ) -> None:
        self.columns: tuple[str, ...] = tuple(columns)
        missing = set(derived) - set(self.columns)
        if missing:
            raise ValueError(f"derived: {sorted(missing)} are not among the columns")
        if derived and derive is None:
            raise ValueError("derive: needed to compute the derived columns")
        self._derived = tuple(derived)
        self._derive = derive
        self._recorded = tuple(c for c in self.columns if c not in self._derived)
        self._get = operator.attrgetter(*((paths or {}).get(c, c) for c in self._recorded))
        self._single = len(self._recorded) == 1
        self._dtypes = series_dtypes(self.columns)
        self._block = np.empty((max(1, int(capacity)), len(self._recorded)))
        self._n = 0
        self._cache: tuple[int, dict[str, list]] = (-1, {})
        # what mesa.batch_run and the inherited DataCollector methods read
        self._collection_steps: list[Any] = []
        self.model_reporters = {c: c for c in self.columns}
        self.agent_reporters: dict = {}
        self.agenttype_reporters: dict = {}
        self._agent_records: dict = {}
        self._agenttype_records: dict = {}
        self.tables: dict = {}
        self._validated = True

    def collect(self, model: Any, at: float | None = None) -> None:
        """Copy the model's column attributes into the next row (Mesa calls this ``collect``).

        ``at`` is the row's time (default: the model's ``time``).
        """
        n = self._n
        if n == self._block.shape[0]:
            self._block = np.concatenate([self._block, np.empty_like(self._block)])
        row = self._get(model)
        self._block[n] = (row,) if self._single else row
        self._collection_steps.append(float(model.time if at is None else at))
        self._n = n + 1

    def collect_days(self, model: Any, days: np.ndarray, varying: Mapping[str, np.ndarray]) -> None:
        """Record several days at once: today's attributes, with ``varying`` columns per day.

        For a stretch in which only the ``varying`` columns change (``days`` ascending; the
        model's clock reads ``time == day``), this writes the same rows as :meth:`collect`
        called on each of those days.
        """
        n, k = self._n, int(days.size)
        while n + k > self._block.shape[0]:
            self._block = np.concatenate([self._block, np.empty_like(self._block)])
        row = self._get(model)
        block = self._block[n : n + k]
        block[:] = (row,) if self._single else row
        for column, values in varying.items():
            block[:, self._recorded.index(column)] = values
        self._collection_steps.extend(days.astype(float).tolist())
        self._n = n + k

    def __len__(self) -> int:
        """Rows recorded so far."""
        return self._n

    def arrays(self) -> dict[str, np.ndarray]:
        """Every column over the rows recorded so far, as fresh typed arrays, in column order."""
        block = self._block[: self._n]
        out = {c: block[:, k].astype(self._dtypes[c]) for k, c in enumerate(self._recorded)}
        if self._derive is not None:
            derived = self._derive(out)
            out.update({c: np.asarray(derived[c], dtype=self._dtypes[c]) for c in self._derived})
        return {c: out[c] for c in self.columns}

    @property
    def model_vars(self) -> dict[str, list]:
        """Each column as a list of Python numbers, like ``mesa.DataCollector.model_vars``.

        Built from the arrays once per row count (``batch_run`` reads it once per step it
        reports), so reading it repeatedly costs nothing.
        """
        n, lists = self._cache
        if n != self._n:
            lists = {c: a.tolist() for c, a in self.arrays().items()}
            self._cache = (self._n, lists)
        return lists

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """The series as a DataFrame: one row per recorded day, one column per series."""
        return pd.DataFrame(self.arrays())


SPECIALIST_COLUMNS = (
    "number", "day", "tenure", "employed", "morale", "expected_income", "reservation_income",
    "income_gap", "morale_deficit", "search_effort", "gap_part", "offer_rate", "accept_chance",
    "quit_hazard",
)
"""Columns of :meth:`SpecialistRecorder.frame`: who, when, and what he weighed."""


class SpecialistRecorder:
    """Each specialist's weighing of staying, one row per specialist and recorded day.

    A row holds what he weighed on his latest workday up to that day (a weekend row repeats
    Friday's): morale, the income he expects and the income he can accept, the gap between
    them, the morale he lost, how hard he searches for another job (and the gap's part in
    it), the offers a year he gets, the chance an offer beats staying, and his quit hazard
    (departures a year: his own reasons plus offers he would take). The day he leaves is his
    last row.
    """

    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def record(self, days: Sequence[int], specialists: Sequence[Any]) -> None:
        """Add a row for each of ``specialists`` (those in a seat, or who left that day)."""
        for s in specialists:
            w = s.weighed if s.weighed is not None else s.weigh()
            for day in days:
                if s.hired_day <= day and (s.left_day is None or day <= s.left_day):
                    self.rows.append((
                        s.number, int(day), int(day) - s.hired_day, s.left_day is None,
                        w.morale, w.expected_income, w.reservation_income, w.income_gap,
                        w.morale_deficit, w.search_effort, w.gap_part, w.offer_rate,
                        w.accept_chance, w.quit_hazard))

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (:data:`SPECIALIST_COLUMNS`), by specialist, then day."""
        df = pd.DataFrame(self.rows, columns=list(SPECIALIST_COLUMNS))
        df = df.astype({"number": "int64", "day": "int64", "tenure": "int64", "employed": bool})
        return df.sort_values(["number", "day"], kind="stable").reset_index(drop=True)
