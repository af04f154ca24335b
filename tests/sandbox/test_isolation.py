"""No participant can read or change another participant's data, for EVERY operation.

The operations are taken from the catalogue, not listed by hand, so an operation added by a
new contract version is covered automatically. Each request is built to pass contract
validation (so the refusal really comes from the authorisation rule, not from a 400 for bad
input) and then sent by ECAL's certificate on behalf of WCAL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from harness.client import CRRClient
from harness.contract import Operation, load_catalogue
from tests.sandbox.sbutil import codes, rid

# Values that satisfy the contract's patterns, by field name; anything else gets a generic one.
NAMED_VALUES = {
    "marketName": "AUC_MN_2026_M03",
    "portfolioName": "isolation probe",
    "period": "2026_M03",
    "periodName": "2026_M03",
}
CANDIDATES = ("ECAL", "A1", "2026_M03", "1")
DATE_TIME = "2026-02-03T17:00:00Z"


def _string(name: str, schema: dict[str, Any]) -> str:
    if schema.get("enum"):
        return str(schema["enum"][0])
    if schema.get("format") == "date-time":
        return DATE_TIME
    if schema.get("format") == "date":
        return DATE_TIME[:10]
    if schema.get("format") == "uuid":
        return rid()
    pattern, limit = schema.get("pattern"), schema.get("maxLength", 10_000)
    for value in (NAMED_VALUES.get(name), *CANDIDATES):
        if value and len(value) <= limit and (not pattern or re.search(pattern, value)):
            return value
    raise AssertionError(f"no test value for {name!r} fits {schema}")


def valid_instance(schema: dict[str, Any], name: str = "") -> Any:
    """A small instance the contract accepts: required properties only, minimal arrays."""
    kind = schema.get("type")
    if "enum" in schema and kind != "array":
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {
            key: valid_instance(props.get(key, {}), key) for key in schema.get("required", []) if key in props
        }
    if kind == "array":
        return [valid_instance(schema.get("items", {}), name) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return max(float(schema.get("minimum", 1)), 1.0)
    if kind == "boolean":
        return True
    return _string(name, schema)


def _participant_operations() -> list[Operation]:
    return [op for op in load_catalogue().operations() if op.takes_participant]


def _request(op: Operation, acting_for: str) -> dict[str, Any]:
    params = {
        p.name: valid_instance(p.schema, p.name)
        for p in op.parameters
        if p.location == "query" and p.required
    }
    if op.parameter("participantName"):
        params["participantName"] = acting_for
    body = None
    if op.request_schema is not None:
        body = valid_instance(op.request_schema)
        if isinstance(body, dict) and "participantName" in (op.request_schema.get("properties") or {}):
            body["participantName"] = acting_for
    return {"params": params or None, "json": body}


OPERATIONS = _participant_operations()


def test_the_catalogue_has_participant_operations_in_every_participant_service():
    services = {op.service for op in OPERATIONS}
    assert len(OPERATIONS) >= 50, len(OPERATIONS)
    assert services >= {"auction", "nomination", "market_data", "secondary_market", "tor_conversion"}


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: f"{op.service}.{op.operation_id}")
def test_acting_for_another_participant_is_refused(client_for: Callable[[str], CRRClient], op: Operation):
    ecal = client_for("ecal")
    response = ecal.request(op.method, op.path, **_request(op, "WCAL"))
    assert response.status == 403, (response.status, response.body[:300])
    assert codes(response) == ["SEC0001"]


@pytest.mark.parametrize(
    "op", [op for op in OPERATIONS if op.writes], ids=lambda op: f"{op.service}.{op.operation_id}"
)
def test_read_only_certificate_cannot_write_anywhere(client_for: Callable[[str], CRRClient], op: Operation):
    readonly = client_for("ecal-readonly")
    response = readonly.request(op.method, op.path, **_request(op, "ECAL"))
    assert response.status == 403, (response.status, response.body[:300])
    assert codes(response) == ["SEC0002"]
