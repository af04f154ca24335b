"""The fault matrix: each broken setup ends with the right diagnosis, within the time limit.

Every case runs the real probe against a real server on 127.0.0.1 (the purpose-built ones in
conftest.py, or the sandbox) with a short ``timeout``, and asserts on the check that must
carry the diagnosis, not merely on "not certified".
"""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import pytest

from harness.pki.issue import EC_P256, SERVER_AUTH, issue_client_cert, make_ca
from harness.probe import CheckStatus, ProbeResult, ProbeSettings, ServiceStatus, run_probe
from tests.probe.probe_servers import (
    FAST_TIMEOUT,
    PFX_PASSWORD,
    ProbePKI,
    days,
    html_login_page,
    json_ok,
    plain_http,
    server_context,
    silent,
    tls_server,
    write_files,
)

GRACE_S = 1.5  # thread start-up and interpreter overhead on a busy 2-core CI machine


def probe(
    url: str,
    pki: ProbePKI,
    *,
    pfx: Path | None = None,
    password: str | None = PFX_PASSWORD,
    cert: Path | None = None,
    key: Path | None = None,
    participant: str = "ECAL",
) -> ProbeResult:
    if cert is None and pfx is None:
        pfx = pki.client.pfx
    settings = ProbeSettings(
        target=url,
        participant=participant,
        pfx=pfx,
        cert=cert,
        key=key,
        password=password if pfx else None,
        ca=pki.ca,
        timeout=FAST_TIMEOUT,
    )
    started = time.monotonic()
    result = run_probe(settings)
    elapsed = time.monotonic() - started
    assert elapsed < FAST_TIMEOUT + GRACE_S, (
        f"the probe took {elapsed:.1f} s, over its {FAST_TIMEOUT} s limit"
    )
    assert not result.certified and result.exit_code == (3 if result.unreachable else 1)
    return result


def failed(result: ProbeResult, check_id: str, *phrases: str) -> str:
    check = result.check(check_id)
    assert check is not None, f"no {check_id} check in {[c.id for c in result.checks]}"
    assert check.status is CheckStatus.FAIL, f"{check_id} is {check.status}: {check.diagnosis}"
    for phrase in phrases:
        assert phrase in check.diagnosis, f"{phrase!r} not in {check.diagnosis!r}"
    assert check.fix, f"{check_id} gives no fix"
    return check.diagnosis


def services_are(result: ProbeResult, status: ServiceStatus, attempted: bool = False) -> None:
    assert len(result.services) == 10
    assert {s.status for s in result.services} == {status}
    assert {s.attempted for s in result.services} == {attempted}


@pytest.fixture
def mtls(serve, probe_pki: ProbePKI):
    """A strict mTLS server that sends real TLS alerts when it refuses a client certificate."""
    ctx = server_context(probe_pki.server_cert, probe_pki.server_key, probe_pki.ca)
    return serve(tls_server(ctx, json_ok))


# -------------------------------------------------------------------- the client's certificate
def test_expired_client_certificate(mtls, probe_pki: ProbePKI) -> None:
    files = probe_pki.issue_client("expired", not_before=days(-60), not_after=days(-1))
    result = probe(mtls.url, probe_pki, pfx=files.pfx)
    failed(result, "local.validity", "expired")
    failed(result, "tls.client_cert", "certificate_expired")  # the server's alert, told apart
    services_are(result, ServiceStatus.TLS_FAILURE)


def test_not_yet_valid_client_certificate(mtls, probe_pki: ProbePKI) -> None:
    files = probe_pki.issue_client("future", not_before=days(2), not_after=days(90))
    result = probe(mtls.url, probe_pki, pfx=files.pfx)
    failed(result, "local.validity", "not valid yet")
    failed(result, "tls.client_cert", "refused your certificate")


def test_unknown_ca(mtls, probe_pki: ProbePKI, tmp_path: Path) -> None:
    other = make_ca(common_name="someone else's CA", key_spec=EC_P256)
    issued = issue_client_cert(ca=other, name="ecal", sc_ids=("ECAL",), key_spec=EC_P256)

    files = write_files(tmp_path / "foreign", issued, other)
    result = probe(mtls.url, probe_pki, pfx=files.pfx)
    # the issuer is judged in its own words; --ca (the server's CA) says nothing about it
    issuer = result.check("local.issuer")
    assert issuer.status is CheckStatus.PASS and "someone else's CA" in issuer.diagnosis
    failed(result, "tls.client_cert", "does not trust the CA", "unknown_ca")


def test_key_does_not_match_certificate(mtls, probe_pki: ProbePKI) -> None:
    other = probe_pki.issue_client("other")
    result = probe(mtls.url, probe_pki, cert=probe_pki.client.cert, key=other.key)
    failed(result, "local.key_match", "does not belong")
    assert result.check("tls.handshake").status is CheckStatus.SKIP


def test_wrong_pfx_password(mtls, probe_pki: ProbePKI) -> None:
    result = probe(mtls.url, probe_pki, password="not-the-password")
    diagnosis = failed(result, "local.load", "wrong password")
    assert result.check("local.load").data["reason"] == "wrong_password"
    assert "not-the-password" not in diagnosis


def test_missing_pfx_password(mtls, probe_pki: ProbePKI) -> None:
    result = probe(mtls.url, probe_pki, password=None)
    assert result.check("local.load").data["reason"] == "password_missing"


def test_certificate_without_client_auth(mtls, probe_pki: ProbePKI) -> None:
    files = probe_pki.issue_client("server-only", extended_key_usages=[SERVER_AUTH])
    result = probe(mtls.url, probe_pki, pfx=files.pfx)
    failed(result, "local.client_auth", "not allowed for client authentication")
    failed(result, "tls.client_cert", "unsupported_certificate")


# -------------------------------------------------------------------------------- the network
def test_connection_refused(probe_pki: ProbePKI, free_port: int) -> None:
    result = probe(f"https://127.0.0.1:{free_port}/crr", probe_pki)
    failed(result, "network.tcp", "refused")
    services_are(result, ServiceStatus.CONNECTION_FAILURE)
    assert result.exit_code == 3  # the target cannot be reached: 3 in every command (issue 19 item 18)


def test_unresolvable_host(probe_pki: ProbePKI) -> None:
    # .invalid never resolves (RFC 6761); the probe answers that itself, so no DNS query leaves.
    result = probe("https://crr.probe-test.invalid/crr", probe_pki)
    failed(result, "network.dns", "cannot be resolved")
    assert result.check("network.dns").duration_s < 0.1
    services_are(result, ServiceStatus.CONNECTION_FAILURE)


def test_server_that_never_answers(serve, probe_pki: ProbePKI) -> None:
    server = serve(silent)
    result = probe(server.url, probe_pki)
    assert result.check("network.tcp").status is CheckStatus.PASS
    failed(result, "tls.handshake", "never answered the TLS handshake")
    services_are(result, ServiceStatus.TIMEOUT)


# ------------------------------------------------------------------------ the server's side of TLS
def test_plain_http_on_the_tls_port(serve, probe_pki: ProbePKI) -> None:
    server = serve(plain_http)
    result = probe(server.url, probe_pki)
    failed(result, "tls.handshake", "plain HTTP")


def test_server_certificate_for_another_host(serve, probe_pki: ProbePKI) -> None:
    cert, key = probe_pki.issue_server("elsewhere", common_name="other.example", sans=("other.example",))
    server = serve(tls_server(server_context(cert, key, probe_pki.ca), json_ok))
    failed(probe(server.url, probe_pki), "tls.handshake", "another host name")


def test_expired_server_certificate(serve, probe_pki: ProbePKI) -> None:
    cert, key = probe_pki.issue_server("stale", not_before=days(-60), not_after=days(-1))
    server = serve(tls_server(server_context(cert, key, probe_pki.ca), json_ok))
    diagnosis = failed(probe(server.url, probe_pki), "tls.handshake", "server's certificate has expired")
    assert "your" not in diagnosis  # blamed on the server, not on the participant


def test_server_offering_only_tls_1_0_or_1_1(serve, probe_pki: ProbePKI) -> None:
    server = serve(
        tls_server(server_context(probe_pki.server_cert, probe_pki.server_key, legacy_only=True), json_ok)
    )
    failed(
        probe(server.url, probe_pki),
        "tls.handshake",
        "server only offers TLSv1",
        "TLS 1.2 or newer is required",
    )


# ----------------------------------------------------------------------------- the services
def test_gateway_html_page_is_not_ok(serve, probe_pki: ProbePKI) -> None:
    ctx = server_context(probe_pki.server_cert, probe_pki.server_key, probe_pki.ca)
    server = serve(tls_server(ctx, html_login_page))
    result = probe(server.url, probe_pki)
    assert result.check("tls.client_cert").status is CheckStatus.PASS
    services_are(result, ServiceStatus.UNEXPECTED_RESPONSE, attempted=True)
    assert all("HTML" in s.diagnosis and s.http_status == 200 for s in result.services)


def test_server_certificate_expiring_soon_is_a_warning(serve, probe_pki: ProbePKI) -> None:
    cert, key = probe_pki.issue_server("soon", not_after=days(5))
    server = serve(tls_server(server_context(cert, key, probe_pki.ca), json_ok))
    settings = ProbeSettings(
        target=server.url,
        participant="ECAL",
        pfx=probe_pki.client.pfx,
        password=PFX_PASSWORD,
        ca=probe_pki.ca,
        timeout=FAST_TIMEOUT,
    )
    result = run_probe(settings)
    check = result.check("tls.server_cert")
    assert check.status is CheckStatus.WARN and "expires in" in check.diagnosis


def nginx_certificate_error(_: bytes) -> tuple[str, str, bytes]:
    """What nginx answers with ``ssl_verify_client optional`` to a certificate it cannot verify."""
    return (
        "400 Bad Request",
        "text/html",
        b"<html>\r\n<head><title>400 The SSL certificate error</title></head>\r\n"
        b"<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>The SSL certificate error</center>\r\n"
        b"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
    )


def test_a_gateways_certificate_error_page_is_a_refused_certificate(serve, probe_pki: ProbePKI) -> None:
    """A gateway that asks for the certificate, lets the handshake finish and then answers its
    "400 The SSL certificate error" page refused the certificate: never "Client certificate
    accepted" PASS with a hint about the URL or a proxy (issue 18, item 13)."""
    ctx = server_context(probe_pki.server_cert, probe_pki.server_key, probe_pki.ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL  # asks, and leaves the verdict to the HTTP layer, like nginx
    server = serve(tls_server(ctx, nginx_certificate_error))
    result = probe(server.url, probe_pki)
    failed(result, "tls.client_cert", "refused the client certificate", "400 The SSL certificate error")
    assert not any(s.status is ServiceStatus.OK for s in result.services)


@pytest.mark.parametrize(
    ("answer", "page"),
    [
        (
            b"HTTP/1.1 495 SSL Certificate Error\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 495 SSL Certificate Error",
        ),
        (
            b"HTTP/1.1 400 Bad Request\r\n\r\n<html><title>400 No required SSL certificate was sent</title></html>",
            "400 No required SSL certificate was sent",
        ),
        (b'HTTP/1.1 400 Bad Request\r\n\r\n{"errorList":[{"errorCode":"SER0017"}]}', None),
        (b"HTTP/1.1 200 OK\r\n\r\n<html><title>SSL certificate FAQ</title></html>", None),
    ],
)
def test_which_answers_are_a_gateway_refusing_the_certificate(answer: bytes, page: str | None) -> None:
    from harness.probe.tls import gateway_refusal

    assert gateway_refusal(answer) == page


def test_a_strict_server_gets_the_accept_its_contract_declares(serve, probe_pki: ProbePKI) -> None:
    """A server that is not crrsim's sandbox and answers 406 to an Accept the contract does not
    declare (as Prism does): the probe asks each operation for what it serves, so every service is
    OK; it used to ask a market-data download for JSON and blame "another contract version"."""
    from harness.contract import load_catalogue

    declared = {
        f"/crr{op.path}": op.response_media.get("200") or "application/json"
        for service in load_catalogue(None)
        for op in service.operations
    }
    seen: list[str] = []

    def strict(request: bytes) -> tuple[str, str, bytes]:
        head = request.decode("latin-1")
        path = head.split(" ", 2)[1].split("?", 1)[0]
        accept = next(
            (
                line.split(":", 1)[1].strip()
                for line in head.split("\r\n")
                if line.lower().startswith("accept:")
            ),
            "*/*",
        )
        media = declared.get(path, "application/json")
        seen.append(accept)
        if media not in accept and "*/*" not in accept:
            return "406 Not Acceptable", "application/json", b'{"errorList":[]}'
        return "200 OK", media, b"[]" if media == "application/json" else b"PK\x05\x06" + bytes(18)

    ctx = server_context(probe_pki.server_cert, probe_pki.server_key, probe_pki.ca)
    server = serve(tls_server(ctx, strict))
    settings = ProbeSettings(
        target=server.url,
        participant="ECAL",
        pfx=probe_pki.client.pfx,
        password=PFX_PASSWORD,
        ca=probe_pki.ca,
        timeout=FAST_TIMEOUT,
    )
    result = run_probe(settings)
    assert {s.status for s in result.services} == {ServiceStatus.OK}, [
        (s.service, s.status, s.diagnosis) for s in result.services if s.status is not ServiceStatus.OK
    ]
    assert any("application/octet-stream" in a for a in seen), seen  # a download was asked for what it serves
