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
from harness.sandbox.domain.messages import read_messages
from harness.sandbox.services.request import Operations, Reply, SandboxRequest
from harness.sandbox.timefmt import parse

SERVICE = "messages"
operations = Operations(SERVICE)


def query(req: SandboxRequest, recipient: str | None) -> list[dict[str, Any]]:
    to_raw = req.params.get("toDate")
    now = req.clock.now()
    with req.store.write() as conn:
        sync_calendar(conn, now)
        return read_messages(
            conn, recipient, parse(str(req.params["fromDate"])), parse(str(to_raw)) if to_raw else None, now
        )


@operations.handler("publicMessages")
async def public_messages(req: SandboxRequest) -> Reply:
    req.participant()  # the caller must still act for a participant it is provisioned for
    return Reply(body=query(req, None))


@operations.handler("privateMessages")
async def private_messages(req: SandboxRequest) -> Reply:
    return Reply(body=query(req, req.participant()))
