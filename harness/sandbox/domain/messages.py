"""Messages: public and private notices, stored with the instant they were sent. What the
operator, other domain rules and the market calendar (domain.calendar) publish."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from harness.sandbox.errors import CRRError
from harness.sandbox.timefmt import iso, parse

SERVICE = "messages"


SYSTEM_SENDER = "CRR Market Sim"


TEXT_PATTERN = re.compile(r"^[a-zA-Z0-9#@(). _-]*$")


ATTACHMENT_PATTERN = re.compile(r"^[a-zA-Z0-9(). _-]*$")


SENDER_PATTERN = re.compile(r"^[a-zA-Z0-9. _-]*$")


MAX_TEXT = 512


def clean_text(text: str) -> str:
    """Squeeze free text into the characters the Message contract allows (strict clients check)."""
    cleaned = re.sub(r"[^a-zA-Z0-9#@(). _-]", " ", text)
    return re.sub(r" {2,}", " ", cleaned).strip()[:MAX_TEXT]


def publish(
    conn: sqlite3.Connection,
    when: datetime,
    text: str,
    to: str | Iterable[str] | None = None,
    sender: str = SYSTEM_SENDER,
    attachment_name: str | None = None,
    attachment: str | None = None,
    event_key: str | None = None,
) -> int:
    """Store a message: public when ``to`` is None, else one private copy per SC ID.

    Returns how many rows were written (0 when the event key was already published).
    """
    recipients: list[str | None]
    if to is None:
        recipients = [None]
    elif isinstance(to, str):
        recipients = [to]
    else:
        recipients = list(dict.fromkeys(to)) or [None]
    written = 0
    for recipient in recipients:
        key = None if event_key is None else f"{event_key}|{recipient or '*'}"
        cur = conn.execute(
            "INSERT OR IGNORE INTO msg_messages(sent_time, sender, recipient, text, attachment_name,"
            " attachment, event_key) VALUES (?,?,?,?,?,?,?)",
            (iso(when), sender, recipient, clean_text(text), attachment_name, attachment, key),
        )
        written += cur.rowcount
    return written


def message(row: sqlite3.Row) -> dict[str, Any]:
    """The contract's Message object: optional properties only when they have a value."""
    out: dict[str, Any] = {"sentTime": row["sent_time"]}
    if row["sender"]:
        out["sender"] = row["sender"]
    out["message"] = row["text"]
    if row["attachment_name"]:
        out["attachmentName"] = row["attachment_name"]
    if row["attachment"]:
        out["attachment"] = row["attachment"]
    return out


def validate_publication(text: str, sender: str | None, attachment_name: str | None) -> None:
    """What the control plane refuses before storing an operator message."""
    if not text or len(text) > MAX_TEXT or not TEXT_PATTERN.match(text):
        raise CRRError(
            "SER0030",
            f"message text must be 1-{MAX_TEXT} characters of letters, digits, space and # @ ( ) . _ -",
        )
    if sender is not None and (len(sender) > 100 or not SENDER_PATTERN.match(sender)):
        raise CRRError(
            "SER0030", "sender must be up to 100 letters, digits, spaces, dots, underscores or hyphens"
        )
    if attachment_name is not None and (
        len(attachment_name) > 50 or not ATTACHMENT_PATTERN.match(attachment_name)
    ):
        raise CRRError("SER0030", "attachment name must be up to 50 letters, digits, spaces and ( ) . _ -")


def publish_from_operator(
    conn: sqlite3.Connection, clock: Any, text: str, to: Any = None, **extra: Any
) -> None:
    """Operator messages from the control plane (``to`` None/""/"PUBLIC" = everyone)."""
    if isinstance(to, str) and to.strip().upper() in ("", "PUBLIC", "ALL"):
        to = None
    sender = extra.get("sender") or SYSTEM_SENDER
    validate_publication(text, sender, extra.get("attachment_name") or extra.get("attachmentName"))
    when = extra.get("when") or extra.get("sent") or clock.now()
    if isinstance(when, str):
        when = parse(when)
    publish(
        conn,
        when,
        text,
        to=to,
        sender=sender,
        attachment_name=extra.get("attachment_name") or extra.get("attachmentName"),
        attachment=extra.get("attachment"),
    )


def market_posted(conn: sqlite3.Connection, clock: Any, market: Any) -> None:
    """Results posted: one public notice, plus a private one to each SC awarded CRRs in it."""
    name = getattr(market, "name", market)
    now = clock.now()
    publish(conn, now, f"Results of market {name} are posted.", event_key=f"market:{name}:posted")
    holders = [
        r[0] for r in conn.execute("SELECT DISTINCT owner FROM crr_holdings WHERE market = ?", (name,))
    ]
    if holders:
        publish(
            conn,
            now,
            f"Your awards in market {name} are available in the private results download.",
            to=holders,
            event_key=f"market:{name}:awards",
        )


def read_messages(
    conn: sqlite3.Connection,
    recipient: str | None,
    from_date: datetime,
    to_date: datetime | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """Public messages (``recipient`` None) or ``recipient``'s private ones sent from ``from_date``
    to ``to_date`` (default: now, or ``from_date`` when that is later); the range must run forward
    (SER0006) and hold at least one message (SER0007)."""
    if to_date is not None and to_date <= from_date:
        raise CRRError("SER0006")
    until = to_date if to_date is not None else max(now, from_date)
    if recipient is None:
        rows = conn.execute(
            "SELECT * FROM msg_messages WHERE recipient IS NULL AND sent_time >= ? AND sent_time <= ? ORDER BY sent_time, id",
            (iso(from_date), iso(until)),
        ).fetchall()
    else:
        rows = conn.execute(
            "SELECT * FROM msg_messages WHERE recipient = ? AND sent_time >= ? AND sent_time <= ? ORDER BY sent_time, id",
            (recipient, iso(from_date), iso(until)),
        ).fetchall()
    if not rows:
        raise CRRError("SER0007")
    return [message(r) for r in rows]
