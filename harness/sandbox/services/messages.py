"""CRR Messages: public and private notices, queried by the time they were sent.

Messages come from three places: the operator (control plane, event ``message.publish``),
other sandbox services calling ``publish()`` (secondary-market approvals, TOR postings), and
the market calendar. Calendar notices (a window opened or closed, results posted) are
derived lazily from window dates on every query rather than by a timer, so they carry the
simulated instant of the transition no matter how the operator moved the clock, and a
restarted sandbox neither loses nor repeats them (each has a unique event key).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from harness.sandbox import registry
from harness.sandbox.context import Reply, SandboxRequest
from harness.sandbox.errors import CRRError
from harness.sandbox.registry import handler, on
from harness.sandbox.timefmt import iso, parse

SERVICE = "messages"
SYSTEM_SENDER = "CRR Market Sim"
TEXT_PATTERN = re.compile(r"^[a-zA-Z0-9#@(). _-]*$")
ATTACHMENT_PATTERN = re.compile(r"^[a-zA-Z0-9(). _-]*$")
SENDER_PATTERN = re.compile(r"^[a-zA-Z0-9. _-]*$")
MAX_TEXT = 512

registry.schema(
    "CREATE TABLE IF NOT EXISTS msg_messages ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " sent_time TEXT NOT NULL,"  # contract spelling, sorts chronologically
    " sender TEXT,"
    " recipient TEXT,"  # NULL = public
    " text TEXT NOT NULL,"
    " attachment_name TEXT,"
    " attachment TEXT,"
    " event_key TEXT UNIQUE)"  # calendar notices: one per (object, transition)
)
registry.schema("CREATE INDEX IF NOT EXISTS msg_messages_time ON msg_messages(recipient, sent_time)")

# Calendar sources other services register: fn(conn, now) -> iterable of (key, when, text)
CALENDAR_SOURCES: list[Any] = []


def calendar_source(fn: Any) -> Any:
    """Register a function listing a service's window transitions for calendar notices."""
    CALENDAR_SOURCES.append(fn)
    return fn


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


def sync_calendar(conn: sqlite3.Connection, now: datetime) -> None:
    """Publish notices for every window transition that has happened by ``now``."""
    for source in CALENDAR_SOURCES:
        for key, when, text in source(conn, now):
            if when <= now:
                publish(conn, when, text, event_key=key)


@calendar_source
def _auction_markets(conn: sqlite3.Connection, now: datetime) -> Iterable[tuple[str, datetime, str]]:
    """Allocation and auction market windows (owned by the markets module)."""
    try:
        from harness.sandbox import markets
    except ImportError:  # framework module not present in this build
        return []
    events: list[tuple[str, datetime, str]] = []
    for m in markets.list_markets(conn, clock=None):
        kind = "allocation" if m.market_type == markets.ALLOCATION else "auction"
        events.append((f"market:{m.name}:opened", m.open_date, f"The {kind} market {m.name} is open for submissions."))
        events.append((f"market:{m.name}:closed", m.close_date, f"The {kind} market {m.name} is closed for submissions."))
        if m.posted_at is not None:
            events.append((f"market:{m.name}:posted", m.posted_at, f"Results of the {kind} market {m.name} are posted."))
    return events


def _message(row: sqlite3.Row) -> dict[str, Any]:
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


def query(req: SandboxRequest, recipient: str | None) -> list[dict[str, Any]]:
    from_date = parse(str(req.params["fromDate"]))
    to_raw = req.params.get("toDate")
    now = req.clock.now()
    to_date = parse(str(to_raw)) if to_raw else max(now, from_date)
    if to_raw and to_date <= from_date:
        raise CRRError("SER0006")
    with req.store.write() as conn:
        sync_calendar(conn, now)
        if recipient is None:
            rows = conn.execute(
                "SELECT * FROM msg_messages WHERE recipient IS NULL AND sent_time >= ? AND sent_time <= ?"
                " ORDER BY sent_time, id",
                (iso(from_date), iso(to_date)),
            ).fetchall()
        else:
            rows = conn.execute(
                "SELECT * FROM msg_messages WHERE recipient = ? AND sent_time >= ? AND sent_time <= ?"
                " ORDER BY sent_time, id",
                (recipient, iso(from_date), iso(to_date)),
            ).fetchall()
    if not rows:
        raise CRRError("SER0007")
    return [_message(r) for r in rows]


@handler(SERVICE, "publicMessages")
async def public_messages(req: SandboxRequest) -> Reply:
    req.participant()  # the caller must still act for a participant it is provisioned for
    return Reply(body=query(req, None))


@handler(SERVICE, "privateMessages")
async def private_messages(req: SandboxRequest) -> Reply:
    return Reply(body=query(req, req.participant()))


def validate_publication(text: str, sender: str | None, attachment_name: str | None) -> None:
    """What the control plane refuses before storing an operator message."""
    if not text or len(text) > MAX_TEXT or not TEXT_PATTERN.match(text):
        raise CRRError(
            "SER0030", f"message text must be 1-{MAX_TEXT} characters of letters, digits, space and # @ ( ) . _ -"
        )
    if sender is not None and (len(sender) > 100 or not SENDER_PATTERN.match(sender)):
        raise CRRError("SER0030", "sender must be up to 100 letters, digits, spaces, dots, underscores or hyphens")
    if attachment_name is not None and (len(attachment_name) > 50 or not ATTACHMENT_PATTERN.match(attachment_name)):
        raise CRRError("SER0030", "attachment name must be up to 50 letters, digits, spaces and ( ) . _ -")


@on("message.publish")
def on_publish(conn: sqlite3.Connection, clock: Any, text: str, to: Any = None, **extra: Any) -> None:
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


@on("market.posted")
def on_market_posted(conn: sqlite3.Connection, clock: Any, market: Any, **_: Any) -> None:
    """Results posted: one public notice, plus a private one to each SC awarded CRRs in it."""
    name = getattr(market, "name", market)
    now = clock.now()
    publish(conn, now, f"Results of market {name} are posted.", event_key=f"market:{name}:posted")
    holders = [r[0] for r in conn.execute("SELECT DISTINCT owner FROM crr_holdings WHERE market = ?", (name,))]
    if holders:
        publish(
            conn,
            now,
            f"Your awards in market {name} are available in the private results download.",
            to=holders,
            event_key=f"market:{name}:awards",
        )
