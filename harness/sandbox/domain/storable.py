"""Refusals for values the contract allows but the CRR system cannot keep.

The contract puts no upper bound on MW, prices or kW rates and allows any RFC 3339 year, but
the sandbox stores quantities as 64-bit integer thousandths/cents and writes date-times with
four-digit years (``YYYY-MM-DDTHH:MM:SSZ``). Without these checks such values crashed the
handler (SQLite overflow, a 500) or came back in a spelling that breaks the contract; with
them the caller gets a 400 SER0030 naming the record and field, like any other bad value.
"""

from __future__ import annotations

from typing import Any

from harness.sandbox.errors import CRRError, raise_all
from harness.sandbox.timefmt import parse

MAX_STORED = 2**63 - 1  # SQLite INTEGER


def quantity_problem(label: str, field: str, value: Any, scale: int = 1000) -> str | None:
    if abs(float(value)) * scale > MAX_STORED:
        return f"{label}: {field} {value} is larger than the CRR system can store."
    return None


def date_problem(label: str, field: str, value: Any) -> str | None:
    try:
        year = parse(str(value)).year
    except (ValueError, OverflowError):
        return f"{label}: {field} {value} is not a date-time the CRR system can store."
    if year < 1000:
        return f"{label}: {field} {value} is before year 1000, which the CRR system cannot store."
    return None


def refuse_unstorable(
    records: list[dict[str, Any]], noun: str, quantities: dict[str, int], dates: tuple[str, ...] = ()
) -> None:
    """400 SER0030 (every problem listed) when a record holds a value the system cannot keep.

    ``quantities`` maps a field to the scale it is stored at (1000 for MW, 100 for prices).
    """
    errors: list[CRRError] = []
    for n, item in enumerate(records, start=1):
        label = f"{noun} {n}"
        found = [quantity_problem(label, f, item[f], scale) for f, scale in quantities.items() if f in item]
        found += [date_problem(label, f, item[f]) for f in dates if f in item]
        errors += [CRRError("SER0030", p) for p in found if p]
    raise_all(errors)
