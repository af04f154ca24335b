"""What the sandbox's scheduled windows share: status from the simulated clock, and listings.

Load submission windows, load migration markets and TOR conversion windows all move through
statuses at fixed instants, can be pinned to a status by the operator, and (the latter two)
end POSTED once the operator posts them; participants list them by status. One rule for the
order of those checks keeps the three services from drifting apart.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from harness.sandbox.context import Reply, SandboxRequest

T = TypeVar("T")


def scheduled_status(
    now: datetime,
    steps: Sequence[tuple[datetime, str]],
    final: str,
    override: str | None = None,
    posted_at: datetime | None = None,
) -> str:
    """POSTED once posted, else the operator's pinned status, else the status of the first step
    whose instant is still ahead (``(bound, status)``: ``status`` until ``bound``), else ``final``."""
    if posted_at is not None:
        return "POSTED"
    if override:
        return override
    for bound, status in steps:
        if now < bound:
            return status
    return final


def status_listing(
    req: SandboxRequest,
    load: Callable[[sqlite3.Connection], Iterable[T]],
    keep: Callable[[T, datetime], bool],
    view: Callable[[T, datetime], Any],
) -> Reply:
    """The items (of any participant: windows are public) that ``keep`` at the simulated clock."""
    req.participant()
    now = req.clock.now()
    with req.store.read() as conn:
        found = [item for item in load(conn) if keep(item, now)]
    return Reply(body=[view(item, now) for item in found])
