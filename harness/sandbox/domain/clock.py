"""Simulated UTC time, persisted in the store so every worker and restart agrees on it.

Market Sim runs on a calendar of its own (week 1 Monday, ...). Until the operator sets the
clock it follows real time; once set it is *frozen* at the set instant and moves only when the
operator advances it, so a Gherkin step like "when the window closes" is deterministic and a
test never races a boundary. ``set(dt, running=True)`` instead keeps it ticking from there.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from harness.sandbox.store import Store


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(dt: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def now_from(conn: sqlite3.Connection) -> datetime:
    """The simulated time read through an open connection (what ``Clock.now()`` returns)."""
    row = conn.execute("SELECT sim_epoch, real_epoch, running FROM sim_clock WHERE id = 1").fetchone()
    real = utcnow()
    if row is None:
        return real
    elapsed = real.timestamp() - row[1] if row[2] else 0.0
    return datetime.fromtimestamp(row[0] + elapsed, UTC)


class Clock:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _row(self) -> tuple[float, float, bool] | None:
        with self.store.read() as conn:
            row = conn.execute("SELECT sim_epoch, real_epoch, running FROM sim_clock WHERE id = 1").fetchone()
        return None if row is None else (row[0], row[1], bool(row[2]))

    def now(self) -> datetime:
        with self.store.read() as conn:
            return now_from(conn)

    @property
    def is_simulated(self) -> bool:
        return self._row() is not None

    @property
    def running(self) -> bool:
        row = self._row()
        return row is None or row[2]

    def set(self, dt: datetime, running: bool = False) -> datetime:
        dt = as_utc(dt)
        with self.store.write() as conn:
            conn.execute(
                "INSERT INTO sim_clock(id, sim_epoch, real_epoch, running) VALUES (1, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET sim_epoch = excluded.sim_epoch, "
                "real_epoch = excluded.real_epoch, running = excluded.running",
                (dt.timestamp(), utcnow().timestamp(), int(running)),
            )
        return dt

    def advance(self, delta: timedelta) -> datetime:
        with self.store.write():
            return self.set(self.now() + delta, running=self.running if self.is_simulated else False)

    def reset(self) -> None:
        """Back to real time."""
        with self.store.write() as conn:
            conn.execute("DELETE FROM sim_clock")
