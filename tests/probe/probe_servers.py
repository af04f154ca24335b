"""Helpers for the probe tests: purpose-built misbehaving servers on 127.0.0.1 for the probe's fault matrix.

The sandbox is a well-behaved CRR server; the probe must also diagnose servers that are
broken in one specific way (never answers, plain HTTP on the TLS port, wrong or expired
server certificate, only TLS 1.0/1.1, a gateway's HTML page). Each server here is a small
stdlib threaded socket server, because that is the simplest thing that can be broken in
exactly one way, and stdlib ``ssl`` sends the TLS alerts a production server sends.

Certificates come from ``harness.pki.issue`` with EC keys (fast to generate).
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness.pki.issue import (
    EC_P256,
    Issued,
    issue_client_cert,
    issue_server_cert,
    write_pair,
    write_pfx,
)

PFX_PASSWORD = "probe-test-pfx-secret"  # tests scan every output for it
FAST_TIMEOUT = 3.0  # --timeout for fault cases: none of them may wait out a long limit


@dataclass(frozen=True)
class Files:
    cert: Path
    key: Path
    pfx: Path


@dataclass(frozen=True)
class ProbePKI:
    directory: Path
    ca: Path
    ca_issued: Issued
    client: Files  # ECAL, good
    server_cert: Path
    server_key: Path

    def issue_client(self, name: str, **kwargs: Any) -> Files:
        issued = issue_client_cert(
            ca=self.ca_issued, name="ecal", sc_ids=("ECAL",), key_spec=EC_P256, **kwargs
        )
        return write_files(self.directory / name, issued, self.ca_issued)

    def issue_server(self, name: str, **kwargs: Any) -> tuple[Path, Path]:
        issued = issue_server_cert(ca=self.ca_issued, key_spec=EC_P256, **kwargs)
        return write_pair(self.directory / name, issued)


def write_files(stem: Path, issued: Issued, ca: Issued) -> Files:
    cert, key = write_pair(stem, issued)
    pfx = write_pfx(
        stem.with_suffix(".pfx"), key=issued.key, cert=issued.cert, ca_certs=[ca.cert], password=PFX_PASSWORD
    )
    return Files(cert=cert, key=key, pfx=pfx)


# ------------------------------------------------------------------------------------ servers
Behaviour = Callable[[socket.socket], None]


class ScriptedServer:
    """Accepts connections on 127.0.0.1 and runs ``behaviour`` for each in a daemon thread."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}/crr"
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        # close() may have shut this connection before its thread got going: that is the end
        # of the test, not a server fault, so OSError covers settimeout as well
        with contextlib.suppress(OSError, ssl.SSLError), conn:
            conn.settimeout(10)
            self.behaviour(conn)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()


def _read_request(stream: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = stream.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def _respond(stream: socket.socket, status: str, content_type: str, body: bytes) -> None:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    stream.sendall(head.encode() + body)


def silent(conn: socket.socket) -> None:
    """Accept the TCP connection, then say nothing until the client gives up."""
    with contextlib.suppress(OSError):
        while conn.recv(4096):
            pass


def plain_http(conn: socket.socket) -> None:
    """Like any HTTP server: a request gets an answer, bytes that are not HTTP get a 400 at once."""
    first = conn.recv(4096)
    if first[:1].isalpha():
        _read_request_after(conn, first)
        _respond(conn, "200 OK", "text/plain", b"plain HTTP here")
    else:
        _respond(conn, "400 Bad Request", "text/plain", b"that was not HTTP")


def _read_request_after(conn: socket.socket, data: bytes) -> None:
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def tls_server(ctx: ssl.SSLContext, answer: Callable[[bytes], tuple[str, str, bytes]]) -> Behaviour:
    def behaviour(conn: socket.socket) -> None:
        with ctx.wrap_socket(conn, server_side=True) as tls:
            while True:
                request = _read_request(tls)
                if not request:
                    return
                status, content_type, body = answer(request)
                _respond(tls, status, content_type, body)
                return

    return behaviour


def json_ok(_: bytes) -> tuple[str, str, bytes]:
    return "200 OK", "application/json", json.dumps({"status": "UP"}).encode()


def html_login_page(_: bytes) -> tuple[str, str, bytes]:
    return (
        "200 OK",
        "text/html; charset=utf-8",
        b"<html><head><title>Sign in</title></head><body>login</body></html>",
    )


def server_context(
    cert: Path, key: Path, ca: Path | None = None, *, legacy_only: bool = False
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if ca is not None:
        ctx.load_verify_locations(ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    if legacy_only:
        # OpenSSL 3 refuses TLS < 1.2 at its default security level: drop to SECLEVEL 0.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def days(n: int) -> datetime:
    return datetime.now(UTC) + timedelta(days=n)
