"""CRRClient against a real mTLS server: what is sent, what is retried, what counts as an error."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest

from harness.client import (
    AsyncCRRClient,
    CRRClient,
    CRRResponse,
    CRRServiceException,
    CRRTransportError,
    ErrorDetail,
)
from harness.client.errors import HTML_PAGE, NOT_JSON, REDIRECT


def _uuid4(value: str) -> uuid.UUID:
    parsed = uuid.UUID(value)
    assert parsed.version == 4 and str(parsed) == value
    return parsed


# --- what goes on the wire ---------------------------------------------------------------
def test_each_request_gets_a_fresh_v4_request_id_that_is_sent(client: CRRClient, mtls_server) -> None:
    first = client.get("/echo")
    second = client.get("/echo")
    sent = [r.json()["headers"]["caiso-request-id"] for r in (first, second)]
    assert [first.request_id, second.request_id] == sent
    assert _uuid4(sent[0]) != _uuid4(sent[1])


def test_caller_may_choose_the_request_id(client: CRRClient) -> None:
    rid = str(uuid.uuid4())
    response = client.get("/echo", headers={"Caiso-Request-Id": rid})
    headers = response.json()["headers"]
    assert response.request_id == rid
    assert [v for k, v in headers.items() if k.lower() == "caiso-request-id"] == [rid]


def test_caller_may_drop_the_request_id_for_negative_tests(client: CRRClient) -> None:
    response = client.get("/echo", headers={"caiso-request-id": None})
    assert "caiso-request-id" not in {k.lower() for k in response.json()["headers"]}
    assert response.request_id is None


def test_json_body_headers_params_and_path_join(client: CRRClient) -> None:
    response = client.post("/echo", json={"portfolioName": "March test", "mw": 1.005}, params={"x": "1"})
    seen = response.json()
    assert seen["path"] == "/crr/echo" and seen["query"] == {"x": "1"} and seen["method"] == "POST"
    assert seen["headers"]["Content-Type"] == "application/json"
    assert seen["headers"]["Accept"] == "application/json"
    assert seen["body"] == '{"portfolioName":"March test","mw":1.005}'
    assert response.ok and response.status == 200 and response.content_type == "application/json"
    assert response.elapsed_s > 0


def test_get_without_body_sends_no_content_type(client: CRRClient) -> None:
    headers = {k.lower() for k in client.get("/echo").json()["headers"]}
    assert "content-type" not in headers and "accept" in headers


def test_client_certificate_is_presented_over_tls12_or_later(client: CRRClient) -> None:
    seen = client.get("/echo").json()
    assert seen["peer_cn"] == "alice"
    assert seen["tls_version"] in ("TLSv1.2", "TLSv1.3")


def test_connections_are_kept_alive(client: CRRClient) -> None:
    ports = {client.get("/echo").json()["peer_port"] for _ in range(3)}
    assert len(ports) == 1


def test_raw_content_is_sent_as_is(client: CRRClient) -> None:
    seen = client.post("/echo", content=b'{"broken":').json()
    assert seen["body"] == '{"broken":' and seen["headers"]["Content-Type"] == "application/json"
    with pytest.raises(ValueError, match="either json= or content="):
        client.post("/echo", json={}, content=b"{}")


def test_same_origin_url_reaches_paths_outside_the_base(client: CRRClient) -> None:
    assert client.get(f"{client.origin}/simctl/v1/echo").json()["path"] == "/simctl/v1/echo"
    with pytest.raises(ValueError, match="only talks to its target"):
        client.get("https://elsewhere.example/crr/echo")


def test_hooks_see_every_attempt(mtls_server, alice) -> None:
    recorded: list[CRRResponse] = []
    with CRRClient(
        mtls_server.url,
        identity=alice,
        ca=mtls_server.pki.ca_cert,
        backoff=0.001,
        on_response=[recorded.append],
    ) as c:
        c.get("/busy/hooks", params={"times": "1"})
    assert [r.status for r in recorded] == [503, 200]
    assert [r.attempt for r in recorded] == [1, 2]
    assert _uuid4(str(recorded[0].request_id)) != _uuid4(str(recorded[1].request_id))  # one id per exchange


def test_a_caller_chosen_request_id_is_kept_across_retries(client: CRRClient) -> None:
    recorded: list[CRRResponse] = []
    client.on_response.append(recorded.append)
    rid = str(uuid.uuid4())
    client.get("/busy/fixed-id", params={"times": "1"}, headers={"caiso-request-id": rid})
    assert [r.request_id for r in recorded] == [rid, rid]


def test_debug_log_has_request_id_but_no_body(client: CRRClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="crrsim.client"):
        response = client.post("/echo", json={"secretish": "do-not-log-me"})
    text = caplog.text
    assert str(response.request_id) in text and "POST" in text and "/crr/echo" in text and "200" in text
    assert "do-not-log-me" not in text and "PRIVATE KEY" not in text


# --- retries -------------------------------------------------------------------------------
def test_gen0003_twice_then_success_after_three_calls(client: CRRClient, mtls_server) -> None:
    response = client.get("/busy/twice", params={"times": "2"})
    assert response.ok and response.json() == {"calls": 3}
    assert response.attempt == 3
    assert mtls_server.calls("/crr/busy/twice") == 3
    sent = mtls_server.request_ids("/crr/busy/twice")
    assert len({_uuid4(rid) for rid in sent}) == 3 and sent[-1] == response.request_id


def test_gen0003_forever_gives_up_after_retries(mtls_server, alice) -> None:
    with CRRClient(mtls_server.url, identity=alice, ca=mtls_server.pki.ca_cert, retries=2, backoff=0.01) as c:
        response = c.get("/busy/forever")
    assert mtls_server.calls("/crr/busy/forever") == 3  # first call + 2 retries
    with pytest.raises(CRRServiceException) as caught:
        response.raise_for_error()
    assert caught.value.codes == ["GEN0003"] and caught.value.status == 503


def test_backoff_grows_between_retries(mtls_server, alice) -> None:
    with CRRClient(mtls_server.url, identity=alice, ca=mtls_server.pki.ca_cert, retries=2, backoff=0.1) as c:
        start = time.monotonic()
        c.get("/busy/backoff", params={"times": "2"})
        waited = time.monotonic() - start
    assert waited >= 0.05 + 0.1  # equal jitter: at least half of 0.1, then half of 0.2


def test_retry_after_header_is_honoured(client: CRRClient) -> None:
    start = time.monotonic()
    response = client.get("/busy/retry-after", params={"times": "1", "retry_after": "0.3"})
    assert response.ok and time.monotonic() - start >= 0.3


@pytest.mark.parametrize(
    ("status", "code"), [(400, "SER0017"), (500, "SER0028"), (403, "SEC0001"), (503, "SER0029")]
)
def test_other_errors_are_not_retried(client: CRRClient, mtls_server, status: int, code: str) -> None:
    response = client.post(f"/fail/{status}/{code}", json={})
    assert mtls_server.calls(f"/crr/fail/{status}/{code}") == 1
    assert not response.ok and response.status == status
    with pytest.raises(CRRServiceException) as caught:
        response.raise_for_error()
    error = caught.value
    assert error.errors == [ErrorDetail(code, f"test error {code}", "ERROR")]
    assert error.creation_time == "2026-01-02T03:04:05Z" and error.service_version == "V1.0"
    assert error.request_id == response.request_id
    assert str(error) == f"HTTP {status} {code}: test error {code} [caiso-request-id {response.request_id}]"


def test_plain_text_500_is_a_service_exception_and_not_retried(client: CRRClient, mtls_server) -> None:
    response = client.get("/plain500")
    assert mtls_server.calls("/crr/plain500") == 1
    error = response.error()
    assert error is not None and error.codes == [NOT_JSON] and "upstream exploded" in str(error)


def test_html_200_is_an_error(client: CRRClient) -> None:
    response = client.get("/html")
    assert response.status == 200 and not response.ok
    with pytest.raises(CRRServiceException) as caught:
        response.raise_for_error()
    assert caught.value.codes == [HTML_PAGE] and "Gateway sign-in" in str(caught.value)


def test_redirect_is_reported_not_followed(client: CRRClient) -> None:
    error = client.get("/redirect").error()
    assert error is not None and error.status == 302 and error.codes == [REDIRECT]
    assert "login.example.invalid" in str(error)


def test_timeout_is_a_transport_error_and_not_retried(mtls_server, alice) -> None:
    client = CRRClient(mtls_server.url, identity=alice, ca=mtls_server.pki.ca_cert, timeout=0.2)
    with client, pytest.raises(CRRTransportError) as caught:
        client.get("/slow", params={"s": "1"})
    assert caught.value.kind == "timeout" and caught.value.request_id
    assert mtls_server.calls("/crr/slow") == 1


def test_per_request_timeout(client: CRRClient) -> None:
    with pytest.raises(CRRTransportError) as caught:
        client.get("/slow", params={"s": "1"}, timeout=0.2)
    assert caught.value.kind == "timeout"
    assert client.get("/slow", params={"s": "0.01"}).ok  # the client default is untouched


def test_refused_connection_is_a_transport_error() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with CRRClient(f"https://127.0.0.1:{port}/crr") as c, pytest.raises(CRRTransportError) as caught:
        c.get("/status")
    assert caught.value.kind == "connect"


# --- async: the same behaviour -------------------------------------------------------------
def test_async_client_behaves_the_same(mtls_server, alice) -> None:
    async def scenario() -> tuple[list[CRRResponse], CRRResponse, CRRResponse, CRRResponse]:
        async with AsyncCRRClient(
            mtls_server.url, identity=alice, ca=mtls_server.pki.ca_cert, backoff=0.01
        ) as c:
            echoes = list(await asyncio.gather(c.get("/echo"), c.get("/echo")))
            busy = await c.get("/busy/async", params={"times": "2"})
            forbidden = await c.post("/fail/403/SEC0002", json={})
            html = await c.get("/html")
            return echoes, busy, forbidden, html

    echoes, busy, forbidden, html = asyncio.run(scenario())
    ids = {_uuid4(r.json()["headers"]["caiso-request-id"]) for r in echoes}
    assert len(ids) == 2 and all(r.json()["peer_cn"] == "alice" for r in echoes)
    assert busy.ok and busy.attempt == 3 and mtls_server.calls("/crr/busy/async") == 3
    assert mtls_server.calls("/crr/fail/403/SEC0002") == 1
    with pytest.raises(CRRServiceException, match="SEC0002"):
        forbidden.raise_for_error()
    assert not html.ok
