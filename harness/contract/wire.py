"""What every CRR exchange carries on the wire, whatever the service: the request-id header
and its form, and the one media type of the API. The client sends them, the sandbox demands and
echoes them, the fuzz renews and records them: each reads them here."""

from __future__ import annotations

import re

REQUEST_ID_HEADER = "caiso-request-id"
# a caiso-request-id is a UUID (any version, either case), as the CRR system checks it
REQUEST_ID_FORM = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
JSON_MEDIA_TYPE = "application/json"
MAX_MAGNITUDE = 10**15
"""Largest magnitude a number in a request body may have. No CRR quantity, price or id comes
near it (a year of 10 GW at the price cap is ~10^11); larger ones overflow what the store holds
(SQLite integers are 64-bit, and MW x price x hours of two such numbers is not) and
``1e400`` is not a number at all once parsed (infinity). CAISO's files set no maximum."""


def is_request_id(text: str) -> bool:
    """Whether ``text`` is a well-formed caiso-request-id."""
    return REQUEST_ID_FORM.fullmatch(text) is not None
