"""The sandbox's TLS gate: every kind of bad client certificate is refused in the handshake,
and the client learns why from the TLS alert (TLS 1.2 and 1.3, uvloop and plain asyncio)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from harness.pki import DevPKI
from harness.sandbox.launch import RunningSandbox
from harness.sandbox.web.tls import server_context

REQUEST = b"GET /crr/status HTTP/1.1\r\nHost: 127.0.0.1\r\ncaiso-request-id: 3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f\r\n\r\n"


def _exchange(port: int, pki: DevPKI, files: object | None, tls12: bool) -> bytes:
    """Handshake (+ one request): returns the response bytes; raises if TLS refuses."""
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if files is not None:
        ctx.load_cert_chain(str(files.cert), str(files.key))  # type: ignore[attr-defined]
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        tls.sendall(REQUEST)
        return tls.recv(4096)


# the alert OpenSSL sends for each refusal (TLS 1.2 has no certificate_required alert)
ALERTS = {
    "expired": "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "not-yet-valid": "SSLV3_ALERT_BAD_CERTIFICATE",
    "unknown-ca": "TLSV1_ALERT_UNKNOWN_CA",
    "no-client-auth": "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
    None: "TLSV13_ALERT_CERTIFICATE_REQUIRED",
}


def _alert(sandbox_port: int, pki: DevPKI, bad: str | None, tls12: bool) -> str:
    files = pki.bad[bad] if bad else None
    with pytest.raises(ssl.SSLError) as refused:
        _exchange(sandbox_port, pki, files, tls12=tls12)
    return str(refused.value.reason)


@pytest.mark.parametrize("bad", list(ALERTS))
def test_bad_client_certificate_fails_the_tls12_handshake_with_its_alert(
    sandbox: RunningSandbox, dev_pki: DevPKI, bad
):
    expected = ALERTS[bad] if bad else "SSLV3_ALERT_HANDSHAKE_FAILURE"
    assert _alert(sandbox.port, dev_pki, bad, tls12=True) == expected


@pytest.mark.parametrize("bad", list(ALERTS))
def test_bad_client_certificate_gets_its_alert_not_an_eof_over_tls13(
    sandbox: RunningSandbox, dev_pki: DevPKI, bad
):
    # TLS 1.3 clients finish their side before the server checks the certificate: the refusal
    # arrives as the alert on the first read, never as an HTTP response nor a bare EOF.
    assert _alert(sandbox.port, dev_pki, bad, tls12=False) == ALERTS[bad]


@pytest.fixture(scope="module")
def asyncio_tls_port(dev_pki: DevPKI) -> Iterator[int]:
    """The sandbox's TLS context on a plain asyncio loop (the server's ``--loop asyncio``)."""
    ctx = server_context(dev_pki.ca_cert, dev_pki.server_cert, dev_pki.server_key)
    loop = asyncio.new_event_loop()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = loop.run_until_complete(asyncio.start_server(answer, "127.0.0.1", 0, ssl=ctx))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


@pytest.mark.parametrize("bad", ["unknown-ca", None])
def test_plain_asyncio_loop_sends_the_alert_too(asyncio_tls_port: int, dev_pki: DevPKI, bad):
    assert _alert(asyncio_tls_port, dev_pki, bad, tls12=False) == ALERTS[bad]
    assert _exchange(asyncio_tls_port, dev_pki, dev_pki.identities["ecal"], tls12=False).startswith(
        b"HTTP/1.1 200"
    )


def test_good_certificate_gets_through(sandbox: RunningSandbox, dev_pki: DevPKI):
    for tls12 in (True, False):
        answer = _exchange(sandbox.port, dev_pki, dev_pki.identities["ecal"], tls12=tls12)
        assert answer.startswith(b"HTTP/1.1 200"), answer


def test_tls_below_1_2_is_refused(sandbox: RunningSandbox, dev_pki: DevPKI):
    ctx = ssl.create_default_context(cafile=str(dev_pki.ca_cert))
    try:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    except ValueError:
        pytest.skip("this OpenSSL cannot even offer TLS 1.1")
    ecal = dev_pki.identities["ecal"]
    ctx.load_cert_chain(str(ecal.cert), str(ecal.key))
    with socket.create_connection(("127.0.0.1", sandbox.port), timeout=5) as raw, pytest.raises(ssl.SSLError):
        ctx.wrap_socket(raw, server_hostname="127.0.0.1")
