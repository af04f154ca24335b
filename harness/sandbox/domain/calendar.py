"""Market calendar notices: one public message per window transition, derived from the windows.

Notices are derived lazily from window dates on every message query rather than by a timer, so
they carry the simulated instant of the transition however the operator moved the clock, and a
restarted sandbox neither loses nor repeats them (each has a unique event key). The sources are
listed here explicitly: markets, load submission windows, load migration markets, TOR windows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime

from harness.sandbox.domain import load, load_migration, markets, tor
from harness.sandbox.domain.messages import publish

Notice = tuple[str, datetime, str]  # (event key, instant, text)


def market_notices(conn: sqlite3.Connection, now: datetime) -> Iterable[Notice]:
    """Allocation and auction market windows and postings."""
    events: list[Notice] = []
    for m in markets.list_markets(conn, clock=None):
        kind = "allocation" if m.market_type == markets.ALLOCATION else "auction"
        events.append(
            (f"market:{m.name}:opened", m.open_date, f"The {kind} market {m.name} is open for submissions.")
        )
        events.append(
            (
                f"market:{m.name}:closed",
                m.close_date,
                f"The {kind} market {m.name} is closed for submissions.",
            )
        )
        if m.posted_at is not None:
            events.append(
                (f"market:{m.name}:posted", m.posted_at, f"Results of the {kind} market {m.name} are posted.")
            )
    return events


SOURCES: tuple[Callable[[sqlite3.Connection, datetime], Iterable[Notice]], ...] = (
    market_notices,
    load.calendar,
    load_migration.calendar,
    tor.calendar,
)


def sync_calendar(conn: sqlite3.Connection, now: datetime) -> None:
    """Publish notices for every window transition that has happened by ``now``."""
    for source in SOURCES:
        for key, when, text in source(conn, now):
            if when <= now:
                publish(conn, when, text, event_key=key)
