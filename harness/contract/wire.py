"""What every CRR exchange carries on the wire, whatever the service: the request-id header
and its form, and the one media type of the API. The client sends them, the sandbox demands and
echoes them, the fuzz renews and records them: each reads them here."""

from __future__ import annotations

import re
from typing import Any

REQUEST_ID_HEADER = "caiso-request-id"
# a caiso-request-id is a UUID (any version, either case), as the CRR system checks it
REQUEST_ID_FORM = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
JSON_MEDIA_TYPE = "application/json"
MAX_MAGNITUDE = 10**15
"""Largest magnitude a number in a request body may have. No CRR quantity, price or id comes
near it (a year of 10 GW at the price cap is ~10^11); larger ones overflow what the store holds
(SQLite integers are 64-bit, and MW x price x hours of two such numbers is not) and
``1e400`` is not a number at all once parsed (infinity). CAISO's files set no maximum."""


def first_huge_number(value: Any) -> tuple[str, int | float] | None:
    """(its path, e.g. ``a.b[2].c``, and the number) of the first number of a parsed JSON value
    beyond ``MAX_MAGNITUDE``, or None: what the sandbox refuses and the fuzz recognises."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        where, item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend((f"{where}.{k}" if where else str(k), v) for k, v in item.items())
        elif kind is list:
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(item))
        elif (kind is int or kind is float) and not -MAX_MAGNITUDE <= item <= MAX_MAGNITUDE:
            return where, item
    return None


def is_request_id(text: str) -> bool:
    """Whether ``text`` is a well-formed caiso-request-id."""
    return REQUEST_ID_FORM.fullmatch(text) is not None
