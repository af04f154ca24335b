"""Participants known to the sandbox and their credit limits (Market Sim gives each $10M)."""

from __future__ import annotations

import sqlite3

from harness.pki.identities import acts_for_dev_identity

DEFAULT_CREDIT_LIMIT = 10_000_000.0


def set_credit_limit(conn: sqlite3.Connection, sc: str, limit: float = DEFAULT_CREDIT_LIMIT) -> None:
    conn.execute(
        "INSERT INTO participants(sc_id, credit_limit) VALUES (?, ?) "
        "ON CONFLICT(sc_id) DO UPDATE SET credit_limit = excluded.credit_limit",
        (sc, float(limit)),
    )


def credit_limit(conn: sqlite3.Connection, sc: str) -> float:
    """The SC's limit; SCs the plan did not seed get the Market Sim default."""
    row = conn.execute("SELECT credit_limit FROM participants WHERE sc_id = ?", (sc,)).fetchone()
    return float(row[0]) if row else DEFAULT_CREDIT_LIMIT


def known_participant(conn: sqlite3.Connection, sc: str) -> bool:
    """SC IDs the sandbox knows: the participants table, else the dev identities."""
    if conn.execute("SELECT 1 FROM participants WHERE sc_id = ?", (sc,)).fetchone():
        return True
    return acts_for_dev_identity(sc)
