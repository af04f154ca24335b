"""Pure parts of the client: targets, error-body parsing, retry policy (no network needed)."""

from __future__ import annotations

import datetime as dt
import email.utils

import httpx
import pytest

from harness.client import CRRResponse, CRRServiceException, ErrorDetail, RetryPolicy, resolve_target
from harness.client.client import parse_retry_after
from harness.client.errors import HTML_PAGE, NO_ERROR_LIST, NOT_JSON, parse_error

REAL_BODY = (
    b'{"errorList":[{"errorDescription":"Access is refused for this caller.","errorCode":"SEC0002",'
    b'"severity":"ERROR"}],"creationTime":"2026-03-26T12:20:22Z","serviceVersion":"V1.0"}'
)


# --- targets -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sandbox", "https://127.0.0.1:8443/crr"),
        ("SANDBOX", "https://127.0.0.1:8443/crr"),
        ("mapstage", "https://mapstage-api.caiso.com/crr"),
        ("production", "https://api.caiso.com/crr"),
        ("https://example.test:9443/crr/", "https://example.test:9443/crr"),
    ],
)
def test_resolve_target(given: str, expected: str) -> None:
    assert resolve_target(given) == expected


def test_sandbox_url_can_be_given() -> None:
    assert resolve_target("sandbox", "https://127.0.0.1:9999/crr/") == "https://127.0.0.1:9999/crr"


@pytest.mark.parametrize("bad", ["staging", "", "ftp://x/crr", "https://", "https://h/crr?x=1"])
def test_unknown_targets_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"(?i)target"):
        resolve_target(bad)


def test_plain_http_needs_explicit_permission() -> None:
    with pytest.raises(ValueError, match="https"):
        resolve_target("http://127.0.0.1:8080/crr")
    assert resolve_target("http://127.0.0.1:8080/crr", allow_http=True) == "http://127.0.0.1:8080/crr"


# --- error bodies --------------------------------------------------------------------------
def test_real_error_body() -> None:
    error = parse_error(403, "application/json", REAL_BODY, "rid-1")
    assert error.errors == [ErrorDetail("SEC0002", "Access is refused for this caller.", "ERROR")]
    assert (error.status, error.creation_time, error.service_version) == (403, "2026-03-26T12:20:22Z", "V1.0")
    assert error.codes == ["SEC0002"] and error.has_code("SEC0002")
    assert str(error) == "HTTP 403 SEC0002: Access is refused for this caller. [caiso-request-id rid-1]"
    assert error.to_dict()["errorList"][0]["errorCode"] == "SEC0002"


def test_missing_fields_are_tolerated() -> None:
    error = parse_error(400, "application/json", b'{"errorList":[{"errorCode":"SER0017"}, "junk"]}')
    assert error.errors == [ErrorDetail("SER0017", "", "ERROR")]
    assert error.creation_time is None and error.request_id is None
    assert str(error) == "HTTP 400 SER0017"


@pytest.mark.parametrize(
    ("content_type", "body", "code", "mentions"),
    [
        ("text/html; charset=utf-8", b"<html><title>Sign in</title>x</html>", HTML_PAGE, "Sign in"),
        ("text/plain", b"Bad Gateway", NOT_JSON, "Bad Gateway"),
        ("application/json", b"", NO_ERROR_LIST, "empty body"),
        ("application/json", b"[1, 2]", NO_ERROR_LIST, "[1, 2]"),
        ("application/json", b'{"message": "nope"}', NO_ERROR_LIST, "nope"),
        (None, b"\xff\xfe garbage", NOT_JSON, "garbage"),
    ],
)
def test_odd_bodies_still_give_a_service_exception(content_type, body, code, mentions) -> None:
    error = parse_error(502, content_type, body)
    assert isinstance(error, CRRServiceException) and error.codes == [code]
    assert mentions in str(error)


def test_long_bodies_are_cut_in_messages() -> None:
    error = parse_error(500, "text/plain", b"x" * 10_000)
    assert len(str(error)) < 300


def _response(status: int, content_type: str, body: bytes, **headers: str) -> CRRResponse:
    return CRRResponse(status, httpx.Headers({"content-type": content_type, **headers}), body, "rid", 0.01)


def test_response_ok_and_errors() -> None:
    assert _response(200, "application/json", b"{}").raise_for_error().json() == {}
    assert _response(204, "", b"").ok
    assert not _response(200, "text/html", b"<html></html>").ok
    with pytest.raises(ValueError, match="not JSON"):
        _response(200, "application/json", b"oops").json()


# --- retry policy ----------------------------------------------------------------------------
BUSY = b'{"errorList":[{"errorCode":"GEN0003","errorDescription":"busy","severity":"ERROR"}]}'


def test_only_gen0003_is_retryable() -> None:
    policy = RetryPolicy(retries=3, backoff=1.0)
    assert policy.delay(0, _response(503, "application/json", BUSY)) is not None
    for status, body in [(500, REAL_BODY), (503, b""), (429, b"slow down"), (200, b"{}")]:
        assert policy.delay(0, _response(status, "application/json", body)) is None


def test_backoff_is_exponential_with_jitter_and_capped() -> None:
    policy = RetryPolicy(retries=10, backoff=1.0, max_backoff=4.0)
    busy = _response(503, "application/json", BUSY)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (5, 4.0)]:
        delays = {policy.delay(attempt, busy) or 0.0 for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays) and len(delays) > 1


def test_retries_stop_at_the_limit() -> None:
    busy = _response(503, "application/json", BUSY)
    assert RetryPolicy(retries=2).delay(2, busy) is None
    assert RetryPolicy(retries=0).delay(0, busy) is None


def test_retry_after_wins_and_is_capped() -> None:
    policy = RetryPolicy(backoff=0.01, max_retry_after=5)
    assert policy.delay(0, _response(503, "application/json", BUSY, **{"retry-after": "2"})) == 2
    assert policy.delay(0, _response(503, "application/json", BUSY, **{"retry-after": "3600"})) == 5


def test_parse_retry_after_forms() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now) == 30
    assert parse_retry_after("7") == 7
    assert parse_retry_after("-3") == 0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
