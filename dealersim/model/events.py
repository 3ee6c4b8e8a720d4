"""The story told back: an append-only log of what happened, one row per event."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

EVENT_COLUMNS = ["day", "actor", "kind", "text"]


@dataclass
class EventLog:
    """Collects ``(day, actor, kind, text)`` rows as the model runs."""

    rows: list[tuple[int, str, str, str]] = field(default_factory=list)

    def add(self, day: int, actor: str, kind: str, text: str) -> None:
        """Record one event.

        Args:
            day: Simulation day.
            actor: Who acted (``"owner"``, ``"manager"``, ``"rep 3"``, ``"specialist 1"`` ...).
            kind: Machine-readable event kind, e.g. ``"wall_up"`` or ``"salary_cut"``.
            text: One plain-language sentence.
        """
        self.rows.append((int(day), actor, kind, text))

    def kinds(self) -> set[str]:
        """The set of event kinds recorded so far."""
        return {r[2] for r in self.rows}

    def first(self, kind: str) -> tuple[int, str, str, str] | None:
        """The first event of ``kind``, or ``None``."""
        return next((r for r in self.rows if r[2] == kind), None)

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame with columns day, actor, kind, text."""
        return pd.DataFrame(self.rows, columns=EVENT_COLUMNS)

    def story(self, limit: int | None = None) -> str:
        """The log as readable lines, ``day  actor  text``."""
        rows = self.rows if limit is None else self.rows[:limit]
        return "\n".join(f"day {d:>4}  {a:<13} {t}" for d, a, _, t in rows)
