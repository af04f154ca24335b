"""A purpose-built mTLS server on 127.0.0.1 for the client tests.

Not the sandbox: these tests need answers the sandbox never gives on demand (GEN0003 a
set number of times, an HTML login page with status 200, a bare 500) and need to see
exactly what the client sent, including the certificate it presented. aiohttp is used
because it hands the verified peer certificate to the handler.

Certificates come from ``harness.pki.issue`` with EC keys (fast to generate).
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from harness.pki.issue import (
    EC_P256,
    issue_client_cert,
    issue_server_cert,
    make_ca,
    write_pair,
    write_pfx,
)

PFX_PASSWORD = "client-test-pfx"


@dataclass(frozen=True)
class TestPKI:
    __test__ = False  # not a test class, despite the name

    directory: Path
    ca_cert: Path
    rogue_ca_cert: Path  # a CA that signed nothing the server uses
    server_cert: Path
    server_key: Path
    client_cert: Path  # CN=alice
    client_key: Path
    client_pfx: Path  # alice again, as PKCS#12 with PFX_PASSWORD
    other_cert: Path  # CN=bob, signed by the rogue CA
    other_key: Path
    pfx_password: str = PFX_PASSWORD


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    directory = tmp_path_factory.mktemp("client-pki")
    ca = make_ca(common_name="client-test CA", key_spec=EC_P256)
    rogue = make_ca(common_name="rogue CA", key_spec=EC_P256)
    server = issue_server_cert(ca=ca, key_spec=EC_P256)
    alice = issue_client_cert(ca=ca, name="alice", sc_ids=("ECAL",), key_spec=EC_P256)
    bob = issue_client_cert(ca=rogue, name="bob", key_spec=EC_P256)
    ca_cert, _ = write_pair(directory / "ca", ca)
    rogue_cert, _ = write_pair(directory / "rogue-ca", rogue)
    server_cert, server_key = write_pair(directory / "server", server)
    client_cert, client_key = write_pair(directory / "alice", alice)
    other_cert, other_key = write_pair(directory / "bob", bob)
    pfx = write_pfx(
        directory / "alice.pfx", key=alice.key, cert=alice.cert, ca_certs=[ca.cert], password=PFX_PASSWORD
    )
    return TestPKI(
        directory,
        ca_cert,
        rogue_cert,
        server_cert,
        server_key,
        client_cert,
        client_key,
        pfx,
        other_cert,
        other_key,
    )


# ---------------------------------------------------------------------------------------
# the server
# ---------------------------------------------------------------------------------------
@dataclass
class ServerState:
    calls: Counter[str] = field(default_factory=Counter)  # path -> number of requests
    seen: list[dict] = field(default_factory=list)  # what /echo saw, in order
    request_ids: dict[str, list[str]] = field(default_factory=dict)  # path -> ids received


def _error_body(code: str) -> dict:
    return {
        "errorList": [{"errorCode": code, "errorDescription": f"test error {code}", "severity": "ERROR"}],
        "creationTime": "2026-01-02T03:04:05Z",
        "serviceVersion": "V1.0",
    }


def _peer_cn(request: web.Request) -> str | None:
    peer = request.transport.get_extra_info("peercert") if request.transport else None
    for rdn in (peer or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def build_app(state: ServerState) -> web.Application:
    async def count(request: web.Request) -> None:
        state.calls[request.path] += 1
        state.request_ids.setdefault(request.path, []).append(request.headers.get("caiso-request-id", ""))

    async def echo(request: web.Request) -> web.Response:
        await count(request)
        seen = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "headers": dict(request.headers),
            "body": (await request.read()).decode(),
            "peer_cn": _peer_cn(request),
            "peer_port": request.transport.get_extra_info("peername")[1],
            "tls_version": request.transport.get_extra_info("ssl_object").version(),
        }
        state.seen.append(seen)
        return web.json_response(seen)

    async def busy(request: web.Request) -> web.Response:
        """GEN0003 for the first ``times`` calls to this path, then 200."""
        await count(request)
        times = int(request.query.get("times", "1000000"))
        if state.calls[request.path] <= times:
            headers = {"Retry-After": request.query["retry_after"]} if "retry_after" in request.query else {}
            return web.json_response(_error_body("GEN0003"), status=503, headers=headers)
        return web.json_response({"calls": state.calls[request.path]})

    async def fail(request: web.Request) -> web.Response:
        await count(request)
        return web.json_response(
            _error_body(request.match_info["code"]), status=int(request.match_info["status"])
        )

    async def html(request: web.Request) -> web.Response:
        await count(request)
        page = "<html><head><title>Gateway sign-in</title></head><body>Please log in</body></html>"
        return web.Response(text=page, content_type="text/html")

    async def plain500(request: web.Request) -> web.Response:
        await count(request)
        return web.Response(text="upstream exploded", status=500)

    async def redirect(request: web.Request) -> web.Response:
        await count(request)
        raise web.HTTPFound("https://login.example.invalid/sso")

    async def slow(request: web.Request) -> web.Response:
        await count(request)
        await asyncio.sleep(float(request.query.get("s", "1")))
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/crr/echo", echo)
    app.router.add_route("*", "/simctl/v1/echo", echo)
    app.router.add_get("/crr/busy/{key}", busy)
    app.router.add_route("*", "/crr/fail/{status}/{code}", fail)
    app.router.add_get("/crr/html", html)
    app.router.add_get("/crr/plain500", plain500)
    app.router.add_get("/crr/redirect", redirect)
    app.router.add_get("/crr/slow", slow)
    return app


class ServerThread:
    """An aiohttp app on its own event loop in a daemon thread, on an ephemeral port."""

    def __init__(self, app: web.Application, context: ssl.SSLContext) -> None:
        self._app, self._context = app, context
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _start(self) -> int:
        self._runner = web.AppRunner(self._app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._context)
        await site.start()
        return self._runner.addresses[0][1]

    def start(self) -> ServerThread:
        self._thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def server_context(pki: TestPKI, *, maximum_version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.load_verify_locations(pki.ca_cert)
    context.verify_mode = ssl.CERT_REQUIRED  # create_default_context alone does not require one
    if maximum_version is not None:
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        context.maximum_version = maximum_version
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


@dataclass
class MTLSServer:
    url: str  # base URL, like https://127.0.0.1:PORT/crr
    port: int
    state: ServerState
    pki: TestPKI

    def calls(self, path: str) -> int:
        return self.state.calls[path]

    def request_ids(self, path: str) -> list[str]:
        return self.state.request_ids.get(path, [])


@pytest.fixture(scope="session")
def mtls_server(test_pki: TestPKI) -> Iterator[MTLSServer]:
    state = ServerState()
    server = ServerThread(build_app(state), server_context(test_pki)).start()
    try:
        yield MTLSServer(f"https://127.0.0.1:{server.port}/crr", server.port, state, test_pki)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def old_tls_server(test_pki: TestPKI) -> Iterator[str]:
    """A server that speaks at most TLS 1.1."""
    server = ServerThread(
        build_app(ServerState()), server_context(test_pki, maximum_version=ssl.TLSVersion.TLSv1_1)
    )
    server.start()
    try:
        yield f"https://127.0.0.1:{server.port}/crr"
    finally:
        server.stop()


@pytest.fixture
def serve() -> Iterator:
    """``serve(ssl_context)`` -> a running ServerThread (echo app) stopped after the test."""
    started: list[ServerThread] = []

    def start(context: ssl.SSLContext) -> ServerThread:
        started.append(ServerThread(build_app(ServerState()), context).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def alice(test_pki: TestPKI):
    from harness.client import ClientIdentity

    return ClientIdentity.from_pem(test_pki.client_cert, test_pki.client_key)


@pytest.fixture
def client(mtls_server: MTLSServer, alice) -> Iterator:
    """alice's client against the test server, with millisecond back-off so retries are quick."""
    from harness.client import CRRClient

    with CRRClient(mtls_server.url, identity=alice, ca=mtls_server.pki.ca_cert, backoff=0.01) as c:
        yield c
