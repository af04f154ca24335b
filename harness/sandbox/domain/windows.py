"""What the sandbox's scheduled windows share: status from the simulated clock, and listings.

Load submission windows, load migration markets and TOR conversion windows all move through
statuses at fixed instants, can be pinned to a status by the operator, and (the latter two)
end POSTED once the operator posts them. One rule for the order of those checks keeps the three
from drifting apart (``services.request.listing`` lists them by status).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


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
