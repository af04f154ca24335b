"""Which call the probe makes per service, and how it reads answers (no network needed)."""

from __future__ import annotations

import re

import httpx
import pytest

from harness.client import CRRResponse
from harness.contract import load_catalogue
from harness.probe import ServiceStatus
from harness.probe.services import classify_response, harmless_value, request_params, safe_reads


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def reads(catalogue):
    return safe_reads(catalogue)


def test_one_safe_read_per_service_from_the_contract(reads, catalogue) -> None:
    assert set(reads) == {svc.name for svc in catalogue} and len(reads) == 10
    for name, op in reads.items():
        assert op.method == "GET" and not op.writes, name
        assert op in catalogue[name].operations


def test_prefers_json_reads_that_act_for_the_participant(reads, catalogue) -> None:
    for name, op in reads.items():
        if name != "app_status":
            assert op.takes_participant, name
        json_reads = [
            o
            for o in catalogue[name].operations
            if o.method == "GET" and (o.response_media.get("200") or "") == "application/json"
        ]
        if json_reads:
            assert op.response_media.get("200") == "application/json", name


def test_filled_parameters_pass_their_own_schema(reads) -> None:
    for op in reads.values():
        params = request_params(op, "ECAL")
        for p in op.parameters:
            if not (p.required and p.location == "query"):
                continue
            value = params[p.name]
            schema = p.schema
            if "enum" in schema:
                assert value in schema["enum"]
            elif schema.get("format") == "date-time":
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value)
            else:
                assert len(str(value)) <= schema.get("maxLength", 10**6)
                if "pattern" in schema:
                    assert re.search(schema["pattern"], str(value)), (op.operation_id, p.name, value)
        assert params.get("participantName", "ECAL") == "ECAL"


def test_harmless_value_respects_tight_limits(reads) -> None:
    from harness.contract import Parameter

    tight = Parameter("periodName", "query", True, {"type": "string", "maxLength": 4, "pattern": "^[A-Z]+$"})
    assert harmless_value(tight, "ECAL") == "CRRS"


def _answer(status: int, body: bytes, content_type: str = "application/json") -> CRRResponse:
    return CRRResponse(status, httpx.Headers({"content-type": content_type}), body, "rid-1", 0.01)


def _error(code: str) -> bytes:
    return (
        b'{"errorList":[{"errorCode":"%s","errorDescription":"x","severity":"ERROR"}],"creationTime":"t"}'
        % code.encode()
    )


@pytest.mark.parametrize(
    ("status", "body", "content_type", "expected"),
    [
        (200, b"[]", "application/json", ServiceStatus.OK),
        (
            400,
            _error("MKT0001"),
            "application/json",
            ServiceStatus.OK,
        ),  # business "not found" proves the path
        (404, _error("LMV1003"), "application/json", ServiceStatus.OK),
        (403, _error("SEC0002"), "application/json", ServiceStatus.NOT_PROVISIONED),
        (403, _error("SEC0001"), "application/json", ServiceStatus.ACCESS_DENIED),
        (401, b"", "text/plain", ServiceStatus.ACCESS_DENIED),
        (404, _error("SER0029"), "application/json", ServiceStatus.NOT_FOUND),
        (404, b"", "text/plain", ServiceStatus.NOT_FOUND),
        (500, _error("SER0028"), "application/json", ServiceStatus.SERVER_ERROR),
        (503, _error("GEN0003"), "application/json", ServiceStatus.SERVER_ERROR),
        (200, b"<html><title>Login</title></html>", "text/html", ServiceStatus.UNEXPECTED_RESPONSE),
        (400, _error("SER0017"), "application/json", ServiceStatus.UNEXPECTED_RESPONSE),
    ],
)
def test_classification(reads, status, body, content_type, expected) -> None:
    result = classify_response(reads["auction"], _answer(status, body, content_type))
    assert result.status is expected, result.diagnosis
    assert result.request_id == "rid-1" and result.diagnosis
    if expected is not ServiceStatus.OK:
        assert result.fix
