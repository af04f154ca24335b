"""CRR Messages: public and private notices, queried by the time they were sent.

Messages come from three places: the operator (control plane, event ``message.publish``),
other sandbox services calling ``publish()`` (secondary-market approvals, TOR postings), and
the market calendar. Calendar notices (a window opened or closed, results posted) are
derived lazily from window dates on every query rather than by a timer, so they carry the
simulated instant of the transition no matter how the operator moved the clock, and a
restarted sandbox neither loses nor repeats them (each has a unique event key).
"""

from __future__ import annotations

from typing import Any

from harness.sandbox.domain.calendar import sync_calendar
from harness.sandbox.domain.messages import (
    message,
)
from harness.sandbox.errors import CRRError
from harness.sandbox.services.request import Operations, Reply, SandboxRequest
from harness.sandbox.timefmt import iso, parse

SERVICE = "messages"
operations = Operations(SERVICE)


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
    return [message(r) for r in rows]


@operations.handler("publicMessages")
async def public_messages(req: SandboxRequest) -> Reply:
    req.participant()  # the caller must still act for a participant it is provisioned for
    return Reply(body=query(req, None))


@operations.handler("privateMessages")
async def private_messages(req: SandboxRequest) -> Reply:
    return Reply(body=query(req, req.participant()))
