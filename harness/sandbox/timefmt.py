"""The one date-time spelling the CRR contract uses: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, no milliseconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")


def iso(dt: datetime) -> str:
    """Always four-digit years: strftime's %Y drops the padding before year 1000 on glibc,
    which would turn a valid (if odd) stored date into an invalid RFC 3339 string."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    u = dt.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


def parse(text: str) -> datetime:
    """Parse an ISO 8601 date-time (``Z`` or offset; naive means UTC). ValueError, never
    OverflowError, for one whose UTC instant falls outside years 1-9999."""
    dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    try:
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text} falls outside the years 1-9999 in UTC") from None


def is_date_time(text: str) -> bool:
    """An RFC 3339 date-time (the contract's ``format: date-time``) that ``parse`` can hold,
    a whole day away from either end of the year range, so a day's arithmetic on it (a
    window's end, a range's default) cannot overflow either."""
    if not _RFC3339.fullmatch(text):
        return False
    try:
        dt = parse(text)
    except ValueError:
        return False
    return EARLIEST <= dt <= LATEST


EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
