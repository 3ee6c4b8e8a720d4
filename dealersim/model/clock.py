"""The model's calendar: one day a step, weeks of five workdays, months of 365/12 days.

Every calendar constant the model, its outputs and its faces use is defined here, once.
"""

from __future__ import annotations

import numpy as np

DAYS_PER_WEEK = 7
"""Days in a week."""
WORKDAYS_PER_WEEK = 5
"""Workdays in a week."""
WEEKEND = (6, 0)
"""Day numbers (mod 7) that are weekends; day 1 is the launch, a Monday."""
DAYS_PER_YEAR = 365.0
"""Days in a (model) year."""
DAYS_PER_MONTH = DAYS_PER_YEAR / 12.0
"""Days in an average month (365/12): leases, contracts and the books run by such months."""
WORKDAY = DAYS_PER_WEEK / WORKDAYS_PER_WEEK
"""Calendar days a workday stands for (a week's hazard is spread over its workdays)."""


def is_workday(day: int) -> bool:
    """Whether ``day`` is a workday (staff act on workdays; the market every day)."""
    return day % DAYS_PER_WEEK not in WEEKEND


def week_of(day: int) -> int:
    """The week ``day`` falls in: days 1-7 (the launch week) are week 0."""
    return (day - 1) // DAYS_PER_WEEK


def month_start(k: int | np.ndarray) -> int | np.ndarray:
    """First day of month ``k`` (day 0 starts month 0; months average 365/12 days)."""
    return np.round(np.asarray(k) * DAYS_PER_MONTH).astype(np.int64) if isinstance(
        k, np.ndarray) else int(round(k * DAYS_PER_MONTH))


def months_later(day: int, months: int) -> int:
    """The first month start at least ``months`` months after ``day``.

    Leases and contracts start and end on month starts, so lease-end work happens on about
    twelve days a year instead of every day.
    """
    k = int(np.ceil(day / DAYS_PER_MONTH - 1e-9))
    return int(month_start(k + months))
