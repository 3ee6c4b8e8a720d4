"""A person's diary: minutes booked on each of the next days, in a small ring buffer.

The specialist's time is finite. Every visit (first appointment, assessment, proposal) and every
implementation hand-off is booked into the diary on the first workday that still has room; a
prospect who would have to wait longer than his patience is lost. What is left of a workday
after its booked meetings goes to open-territory hardware and to dials, so no day ever uses more
minutes than it has.
"""

from __future__ import annotations

from dealersim.model.clock import DAYS_PER_WEEK, WEEKEND, is_workday

DIARY_DAYS = 128
"""Days the diary looks ahead: more than any booking window (lead patience is at most 60)."""


class Diary:
    """Minutes booked per day for the next :data:`DIARY_DAYS` days.

    Args:
        capacity: Minutes a workday that bookings may take (weekends take none).
        today: The day the diary starts on.
    """

    def __init__(self, capacity: float, today: int = 0) -> None:
        self.capacity = float(capacity)
        self.today = int(today)
        # a plain list: a booking touches a handful of days, where numpy's per-call cost
        # would exceed the work (the sums are the same float64 additions either way)
        self._booked = [0.0] * DIARY_DAYS

    def advance(self, day: int) -> None:
        """Move the diary to ``day``: the slots of days now past are freed for future days."""
        if day <= self.today:
            return
        booked = self._booked
        for past in range(self.today, min(day, self.today + DIARY_DAYS)):
            booked[past % DIARY_DAYS] = 0.0
        self.today = int(day)

    def booked(self, day: int) -> float:
        """Minutes booked on ``day`` (0 outside the diary's window)."""
        if not self.today <= day < self.today + DIARY_DAYS:
            return 0.0
        return float(self._booked[day % DIARY_DAYS])

    def free(self, day: int) -> float:
        """Minutes still bookable on ``day``."""
        if not is_workday(day) or not self.today <= day < self.today + DIARY_DAYS:
            return 0.0
        return self.capacity - self.booked(day)

    def book(self, earliest: int, latest: int, minutes: float, limit: float | None = None) -> int:
        """Book ``minutes`` on the first workday in ``[earliest, latest]`` with room.

        Args:
            earliest: First acceptable day (never before the diary's today).
            latest: Last acceptable day (clipped to the diary's window).
            minutes: Length of the booking.
            limit: Book only where the day's total stays within this many minutes (at most the
                capacity); ``None`` for the capacity.

        Returns:
            The day booked, or -1 when no day in the window has room.
        """
        lo = max(int(earliest), self.today)
        hi = min(int(latest), self.today + DIARY_DAYS - 1)
        cap = self.capacity if limit is None else min(limit, self.capacity)
        if hi < lo or minutes > cap:
            return -1
        room = cap + 1e-9
        booked = self._booked
        for day in range(lo, hi + 1):  # the first workday with room: usually within days
            if day % DAYS_PER_WEEK in WEEKEND:
                continue
            slot = day % DIARY_DAYS
            if booked[slot] + minutes <= room:
                booked[slot] += minutes
                return day
        return -1
