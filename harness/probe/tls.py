"""Step 3: the TLS handshake with the client certificate, and who is to blame when it fails.

The point of this module is telling apart "the server refused *your certificate*" (a TLS
alert such as unknown_ca or certificate_expired) from "the *server* has a TLS problem"
(untrusted/expired/wrong-host server certificate, only old protocol versions, plain HTTP on
the TLS port). With TLS 1.3 the server checks the client certificate after the client has
already finished its handshake, so a refusal only shows up on the first read: the probe
therefore always sends one tiny GET and reads the answer before calling the handshake good.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import select
import socket
import ssl
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.client import ClientIdentity, TLSSetupError, build_ssl_context
from harness.probe.deadline import Deadline
from harness.probe.local import Material
from harness.probe.model import Check, CheckStatus, make_check

SERVER_EXPIRY_WARNING_DAYS = 30
_HANDSHAKE = 22  # TLS record content type
_CERTIFICATE_REQUEST = 13  # handshake message type

# OpenSSL alert reasons meaning "the server refused the client certificate".
CLIENT_CERT_ALERTS: dict[str, tuple[str, str]] = {
    "TLSV1_ALERT_UNKNOWN_CA": (
        "the server does not trust the CA that issued your certificate (TLS alert unknown_ca)",
        "use the certificate CAISO issued for this environment (Map-Stage and production certificates differ)",
    ),
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": (
        "the server refused your certificate as expired (TLS alert certificate_expired)",
        "renew the certificate through your Local Security Administrator",
    ),
    "SSLV3_ALERT_BAD_CERTIFICATE": (
        "the server refused your certificate (TLS alert bad_certificate): not valid yet, or malformed",
        "check the certificate's validity dates and this machine's clock; otherwise request a new one",
    ),
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": (
        "the server requires a client certificate and none was presented (TLS alert certificate_required)",
        "pass the certificate with --pfx, or --cert and --key",
    ),
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": (
        "the server refused your certificate's type or usage (TLS alert unsupported_certificate);"
        " usually it lacks the clientAuth extended key usage",
        "request a client-authentication certificate",
    ),
    "SSLV3_ALERT_CERTIFICATE_REVOKED": (
        "the server says your certificate has been revoked (TLS alert certificate_revoked)",
        "contact your Local Security Administrator for a new certificate",
    ),
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN": (
        "the server could not accept your certificate (TLS alert certificate_unknown)",
        "check that the certificate is the one CAISO issued and still valid",
    ),
    "TLSV1_ALERT_ACCESS_DENIED": (
        "the server recognised your certificate but denies access (TLS alert access_denied)",
        "ask your Local Security Administrator to grant this certificate API access",
    ),
    "TLSV1_ALERT_DECRYPT_ERROR": (
        "the server could not verify your certificate's signature (TLS alert decrypt_error)",
        "the key may not match the certificate: export the .pfx again",
    ),
}
PROTOCOL_REASONS = {
    "TLSV1_ALERT_PROTOCOL_VERSION",
    "UNSUPPORTED_PROTOCOL",
    "NO_PROTOCOLS_AVAILABLE",
    "WRONG_SSL_VERSION",
    "VERSION_TOO_LOW",
    "TLSV1_ALERT_INSUFFICIENT_SECURITY",
}
NOT_TLS_REASONS = {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "HTTP_REQUEST"}
SERVER_VERIFY_CODES = {
    9: ("the server's certificate is not valid yet", "the server operator must fix its certificate dates"),
    10: ("the server's certificate has expired", "the server operator must renew its certificate"),
}
_WRONG_HOST = (
    "the server's certificate is for another host name",
    "check the URL's host name; the server's certificate does not cover it",
)
SERVER_VERIFY_CODES.update(dict.fromkeys((62, 63, 64), _WRONG_HOST))  # host, email, IP address mismatch


@dataclass
class TLSOutcome:
    checks: list[Check]
    facts: dict[str, str] = field(default_factory=dict)  # version, cipher, server certificate ...
    ok: bool = False  # handshake done and client certificate accepted: services may be called
    blame: str = ""  # "" | "client_cert" | "server" | "network" | "timeout" (classify_ssl_error says more)


def client_identity(material: Material) -> ClientIdentity:
    """The checked material as the one client's identity type (shared by TLS check and calls)."""
    return ClientIdentity(material.key, [material.cert, *material.chain], material.source)


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "reason", "") or "")


def classify_ssl_error(exc: BaseException) -> tuple[str, str, str]:
    """(blame, diagnosis, fix) for an exception raised during the handshake or first read."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = exc.verify_code
        if code in SERVER_VERIFY_CODES:
            diagnosis, fix = SERVER_VERIFY_CODES[code]
            diagnosis = f"{diagnosis} ({exc.verify_message})"
        else:
            diagnosis = f"the server's certificate is not trusted ({exc.verify_message})"
            fix = "pass the CA that signs the server's certificate with --ca (for the sandbox: certs/dev/ca.pem)"
        return "server", diagnosis, fix
    reason = _reason(exc)
    if reason in CLIENT_CERT_ALERTS:
        diagnosis, fix = CLIENT_CERT_ALERTS[reason]
        return "client_cert", diagnosis, fix
    if reason in PROTOCOL_REASONS:
        return (
            "protocol",
            f"no TLS protocol version in common with the server ({reason})",
            "the server operator must enable TLS 1.2 or 1.3",
        )
    if reason in NOT_TLS_REASONS:
        return (
            "not_tls",
            f"the server's answer is not TLS ({reason}): this port speaks another protocol",
            "check the port in the URL (CAISO's CRR API is on 443) and that nothing else listens there",
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return (
            "timeout",
            "the server accepted the TCP connection but never answered the TLS handshake",
            "a firewall or proxy may be swallowing the traffic, or the port belongs to another service",
        )
    if isinstance(exc, ssl.SSLEOFError | ConnectionResetError | BrokenPipeError | ssl.SSLZeroReturnError):
        return (
            "closed",
            "the server closed the connection during the TLS handshake without saying why",
            "the server may not speak TLS on this port, or may drop clients it does not like",
        )
    return "server", f"the TLS handshake failed: {exc}", "send this report to the server operator"


def _sends_plain_http(address: str, port: int, host: str, timeout: float) -> bool:
    """Does the port answer a plain-text HTTP request? (Then it is not a TLS port.)"""
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            sock.sendall(f"HEAD / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            return sock.recv(16).startswith(b"HTTP/")
    except OSError:
        return False


def _legacy_version(address: str, port: int, host: str, timeout: float) -> str | None:
    """The TLS version the server speaks when it refuses 1.2+: try 1.0/1.1 without a certificate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            return None
    try:
        with (
            socket.create_connection((address, port), timeout=timeout) as sock,
            ctx.wrap_socket(sock, server_hostname=host) as tls,
        ):
            return tls.version()
    except (OSError, ssl.SSLError):
        return None


def _server_cert_check(peer: dict, now: datetime) -> Check:
    title = "Server certificate"
    not_after = datetime.fromtimestamp(ssl.cert_time_to_seconds(peer["notAfter"]), UTC)
    subject = ", ".join(f"{k}={v}" for rdn in peer.get("subject", ()) for k, v in rdn)
    days = (not_after - now).days
    data: dict[str, Any] = {"subject": subject, "not_after": not_after.isoformat(), "days_left": days}
    if days < SERVER_EXPIRY_WARNING_DAYS:
        return make_check(
            "tls.server_cert",
            title,
            CheckStatus.WARN,
            f"the server's certificate is valid for this host but expires in {days} days",
            "tell the server operator; nothing to change on your side",
            **data,
        )
    return make_check(
        "tls.server_cert",
        title,
        CheckStatus.PASS,
        f"trusted, valid for the host name, until {not_after:%Y-%m-%d}",
        **data,
    )


def _handshake(
    ctx: ssl.SSLContext, host: str, address: str, port: int, path: str, deadline: Deadline
) -> TLSOutcome:
    requested: list[bool] = []

    def on_message(conn, direction, version, content_type, msg_type, data) -> None:  # noqa: ANN001
        if direction == "read" and int(content_type) == _HANDSHAKE and int(msg_type) == _CERTIFICATE_REQUEST:
            requested.append(True)

    ctx._msg_callback = on_message  # type: ignore[attr-defined]  # CPython's hook for handshake tracing
    started = time.perf_counter()
    hs_title = "TLS handshake"
    try:
        sock = socket.create_connection((address, port), timeout=deadline.remaining())
    except OSError as exc:
        check = make_check(
            "tls.handshake", hs_title, CheckStatus.FAIL, f"cannot open a connection for TLS: {exc}"
        )
        return TLSOutcome([check], blame="network")
    with contextlib.closing(sock):
        try:
            tls = ctx.wrap_socket(sock, server_hostname=host)
        except (ssl.SSLError, OSError) as exc:
            return _failed(exc, host, address, port, deadline, time.perf_counter() - started)
        with contextlib.closing(tls):
            hs_time = time.perf_counter() - started
            version, cipher = tls.version() or "?", (tls.cipher() or ("?",))[0]
            facts = {"tls_version": version, "cipher": cipher}
            peer: dict[str, Any] = dict(tls.getpeercert() or {})
            facts["server_certificate"] = ", ".join(
                f"{k}={v}" for rdn in peer.get("subject", ()) for k, v in rdn
            )
            if peer.get("notAfter"):
                facts["server_certificate_expires"] = str(peer["notAfter"])
            checks = [
                make_check(
                    "tls.handshake",
                    hs_title,
                    CheckStatus.PASS,
                    f"{version} with {cipher} in {hs_time * 1000:.0f} ms",
                    duration_s=hs_time,
                    tls_version=version,
                    cipher=cipher,
                    ms=round(hs_time * 1000, 1),
                ),
                _server_cert_check(peer, datetime.now(UTC)),
            ]
            # TLS 1.3: the verdict on our certificate arrives with the first read.
            request_id = str(uuid.uuid4())
            try:
                first = _first_answer(tls, version, host, path, request_id, deadline)
            except (ssl.SSLError, OSError) as exc:
                blame, diagnosis, fix = classify_ssl_error(exc)
                if blame == "timeout":
                    diagnosis = "the TLS handshake finished but the server never answered a request"
                if blame == "closed":
                    blame, diagnosis, fix = "client_cert", *_DROPPED
                check = make_check(
                    "tls.client_cert", "Client certificate accepted", CheckStatus.FAIL, diagnosis, fix
                )
                checks.append(check)
                return TLSOutcome(
                    checks, facts, ok=False, blame=blame if blame == "client_cert" else "server"
                )
            asked = bool(requested)
            facts["client_certificate_requested"] = "yes" if asked else "no"
            status_line = first.split(b"\r\n", 1)[0].decode("latin-1", "replace")
            if not first:
                checks.append(
                    make_check("tls.client_cert", "Client certificate accepted", CheckStatus.FAIL, *_DROPPED)
                )
                return TLSOutcome(checks, facts, ok=False, blame="client_cert")
            if not asked:
                checks.append(
                    make_check(
                        "tls.client_cert",
                        "Client certificate accepted",
                        CheckStatus.WARN,
                        f"the server did not ask for a client certificate (it answered {status_line!r});"
                        " the CRR API always does, so something in between may be terminating TLS",
                        "check proxies between this machine and the server",
                    )
                )
            elif (page := gateway_refusal(first)) is not None:
                checks.append(
                    make_check(
                        "tls.client_cert",
                        "Client certificate accepted",
                        CheckStatus.FAIL,
                        f"a gateway in front of the service refused the client certificate: it answered "
                        f"{status_line!r} with its page {page!r}",
                        "use the certificate CAISO issued for this environment, unexpired, with its whole chain; "
                        "CAISO can find the refusal by the request id",
                        request_id=request_id,
                    )
                )
                facts["client_certificate_accepted"] = "no (the gateway's certificate-error page)"
                return TLSOutcome(checks, facts, ok=False, blame="client_cert")
            else:
                checks.append(
                    make_check(
                        "tls.client_cert",
                        "Client certificate accepted",
                        CheckStatus.PASS,
                        f"the server asked for the client certificate and accepted it (answered {status_line!r})",
                        request_id=request_id,
                    )
                )
            facts["client_certificate_accepted"] = "yes"
            return TLSOutcome(checks, facts, ok=True)


_DROPPED = (
    "the server closed the connection after the handshake without answering:"
    " it probably refused the client certificate",
    "check that this certificate is registered for API access",
)
# How long to wait for a TLS 1.3 server's post-handshake verdict before sending the request.
POST_HANDSHAKE_WAIT_S = 0.5


def _first_answer(
    tls: ssl.SSLSocket, version: str, host: str, path: str, request_id: str, deadline: Deadline
) -> bytes:
    """The first bytes the server answers to a tiny GET; raises the server's TLS alert, if any.

    With TLS 1.3 a refusing server sends its alert right after the handshake and closes. If
    we sent the request first, the server's kernel would answer our bytes with a TCP reset
    that can destroy the alert before we read it. So we first wait briefly for whatever the
    server sends after the handshake (session tickets, or the alert), then send the request.
    """
    early = b""
    if version == "TLSv1.3":
        readable, _, _ = select.select([tls], [], [], min(POST_HANDSHAKE_WAIT_S, deadline.remaining()))
        if readable:
            tls.setblocking(False)
            try:
                early = tls.recv(64)
                if not early:
                    return b""  # closed: refused without an alert
            except ssl.SSLWantReadError:
                pass  # only session tickets so far: the server is happy
            finally:
                tls.settimeout(deadline.remaining())
    tls.settimeout(deadline.remaining())
    tls.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n"
        f"caiso-request-id: {request_id}\r\nConnection: close\r\n\r\n".encode()
    )
    answer = early + tls.recv(FIRST_ANSWER_BYTES)
    # the head and the start of the body: enough to tell a gateway's certificate-error page
    tls.settimeout(min(1.0, max(0.01, deadline.remaining())))
    while answer and not _enough(answer) and deadline.remaining() > 0:
        try:
            more = tls.recv(FIRST_ANSWER_BYTES - len(answer))
        except (TimeoutError, ssl.SSLError, OSError):
            break
        if not more:
            break
        answer += more
    return answer


def _enough(answer: bytes) -> bool:
    """The head and the body's first bytes (all of a short body) are in: a server that keeps the
    connection open after answering must not hold the probe until its deadline."""
    head, sep, body = answer.partition(b"\r\n\r\n")
    if not sep:
        return len(answer) >= FIRST_ANSWER_BYTES
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    wanted = min(int(length.group(1)), 512) if length else 512
    return len(body) >= wanted or len(answer) >= FIRST_ANSWER_BYTES


FIRST_ANSWER_BYTES = 2048
# statuses and page words gateways use when they refuse a client certificate after the handshake
# (nginx: 495 "SSL Certificate Error", 496 "SSL Certificate Required", and with ssl_verify_client
# optional a 400 page titled "400 The SSL certificate error" or "No required SSL certificate was sent")
_CERT_STATUSES = {495, 496}
_CERT_PAGE = re.compile(rb"ssl certificate|client certificate|certificate error|no required ssl", re.I)
_TITLE = re.compile(rb"<title>(.*?)</title>", re.I | re.S)


def gateway_refusal(answer: bytes) -> str | None:
    """The page title (or status line) when ``answer`` is a gateway refusing the client
    certificate: a 495/496, or a 4xx whose page speaks of the SSL/client certificate. None for
    any other answer (a CRR answer, even a refusal, is the service's)."""
    head, _, body = answer.partition(b"\r\n\r\n")
    line = head.split(b"\r\n", 1)[0]
    found = re.match(rb"HTTP/\d(?:\.\d)? (\d{3})", line)
    if found is None:
        return None
    status = int(found.group(1))
    if status in _CERT_STATUSES or (400 <= status < 500 and _CERT_PAGE.search(body)):
        title = _TITLE.search(body)
        return " ".join((title.group(1) if title else line).decode("latin-1", "replace").split())
    return None


def _failed(
    exc: BaseException, host: str, address: str, port: int, deadline: Deadline, elapsed: float
) -> TLSOutcome:
    blame, diagnosis, fix = classify_ssl_error(exc)
    probe_timeout = min(deadline.remaining(), 3.0)
    if blame in ("not_tls", "closed") and _sends_plain_http(address, port, host, probe_timeout):
        blame, diagnosis = "server", f"the server speaks plain HTTP on port {port}, not HTTPS"
        fix = "use https:// with the TLS port, or fix the server's port mapping"
    elif blame == "protocol":
        legacy = _legacy_version(address, port, host, probe_timeout)
        blame = "server"
        if legacy:
            diagnosis = f"the server only offers {legacy} (TLS 1.0/1.1); TLS 1.2 or newer is required"
            fix = "the server operator must enable TLS 1.2 or 1.3"
        else:
            fix = "the server operator must enable TLS 1.2 or 1.3"
    elif blame in ("not_tls", "closed"):
        blame = "server"
    check = make_check(
        "tls.handshake",
        "TLS handshake",
        CheckStatus.FAIL,
        diagnosis,
        fix,
        duration_s=elapsed,
        reason=_reason(exc) or type(exc).__name__,
    )
    return TLSOutcome([check], blame=blame)


async def run_tls_check(
    material: Material | None,
    ca: Path | None,
    host: str,
    address: str,
    port: int,
    path: str,
    deadline: Deadline,
) -> TLSOutcome:
    if material is None:
        check = make_check(
            "tls.handshake",
            "TLS handshake",
            CheckStatus.SKIP,
            "not attempted: the client certificate could not be loaded (see the local checks)",
        )
        return TLSOutcome([check], blame="client_cert")
    try:
        ctx = build_ssl_context(client_identity(material), ca)
    except (TLSSetupError, ssl.SSLError, OSError) as exc:
        check = make_check(
            "tls.handshake",
            "TLS handshake",
            CheckStatus.FAIL,
            f"the TLS library refused the certificate, key or CA file: {exc}",
            "check --ca points at a PEM CA certificate",
        )
        return TLSOutcome([check], blame="client_cert")
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(_handshake, ctx, host, address, port, path, deadline),
            timeout=deadline.remaining() + 0.5,
        )
    except TimeoutError:
        blame, diagnosis, fix = classify_ssl_error(TimeoutError())
        return TLSOutcome(
            [make_check("tls.handshake", "TLS handshake", CheckStatus.FAIL, diagnosis, fix)], blame=blame
        )
