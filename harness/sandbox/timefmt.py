"""The one date-time spelling the CRR contract uses: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC, no milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(dt: datetime) -> str:
    """Always four-digit years: strftime's %Y drops the padding before year 1000 on glibc,
    which would turn a valid (if odd) stored date into an invalid RFC 3339 string."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    u = dt.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


def parse(text: str) -> datetime:
    """Parse an ISO 8601 date-time (``Z`` or offset; naive means UTC)."""
    dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
