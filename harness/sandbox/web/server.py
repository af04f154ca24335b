"""Run the sandbox: TLS context, aiohttp runner, readiness line, optional worker processes.

The server prints ``CRRSIM_SANDBOX_LISTENING port=N`` (and writes N to ``--port-file``) once it
accepts connections, so a launcher can ask for port 0 and learn the real port without racing.

``workers=N`` forks N processes sharing one listening socket (SO_REUSEPORT), each with its
own SQLite connection; this stays correct because every piece of state (clock included) lives
in the database and SQLite's file locks serialise writers across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from harness.config import CrrsimConfig
from harness.sandbox.web.app import CALLER_KEY
from harness.sandbox.web.faults import FaultInjector
from harness.sandbox.web.guard import READ_TIMEOUT_S, CRRRequestHandler, guarded, quiet_parse_errors
from harness.sandbox.web.tls import common_name

READY_PREFIX = "CRRSIM_SANDBOX_LISTENING"


@dataclass
class ServerOptions:
    """How to serve: what `crrsim sandbox serve` (the only command line) derives from the one
    config (``CrrsimConfig``: host, port, PKI, database, contract) and its own options."""

    # host, port (0: a free one, announced on stdout and in port_file), PKI, database, contract:
    # the config's, with its defaults; nothing here repeats them
    cfg: CrrsimConfig = field(default_factory=CrrsimConfig)
    provisioning: str | None = None
    port_file: str | None = None  # where a launcher learns the port once the server is ready
    workers: int = 1
    access_log: bool = False
    loop: str = "uvloop"
    read_timeout: float = READ_TIMEOUT_S
    faults: str | None = None  # comma-separated fault names (web.faults), off by default
    fault_rate: float = 0.2
    fault_seed: int = 0
    judge: str | None = None  # a client-check script: watch and misbehave on its schedule
    observe: str | None = None  # where the judging sandbox writes what it saw (NDJSON)
    trust: str | None = None  # PEM certificates trusted besides the dev CA (a participant's own)
    parent_pid: int | None = None  # set for forked workers

    @property
    def host(self) -> str:
        return self.cfg.sandbox_host

    @property
    def port(self) -> int:
        return self.cfg.sandbox_port

    @property
    def pki(self) -> Path:
        return self.cfg.sandbox_pki

    @property
    def db(self) -> Path:
        return self.cfg.sandbox_db

    @property
    def specs(self) -> Path | None:
        return self.cfg.specs


ORPHAN_POLL_S = 0.5
_PR_SET_PDEATHSIG = 1
log = logging.getLogger("crrsim.sandbox")


class CallerAccessLog(AbstractAccessLogger):
    """One line per request with the caller's certificate (its subject CN, which the dev PKI and
    the provisioning file map to SC IDs): who sent what is the first question a load or
    connectivity test asks of a server log."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        caller = request.get(CALLER_KEY)
        if caller is not None:
            who = f"cert={caller.name} sc={','.join(sorted(caller.sc_ids)) or '-'}"
        else:  # refused before the caller was looked up (a malformed head, say)
            transport = request.transport
            cn = common_name(transport.get_extra_info("peercert")) if transport is not None else None
            who = f"cert={cn or '-'}"
        self.logger.info(
            '%s "%s %s" %s %.1fms %s',
            request.remote,
            request.method,
            request.path_qs,
            response.status,
            time * 1000,
            who,
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def _bind(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


async def _run(sock: socket.socket, args: ServerOptions, ssl_ctx: ssl.SSLContext, announce: bool) -> None:
    from harness.sandbox.web.app import build_app

    judging = None
    if args.judge:
        from harness.config.clientscript import load_script
        from harness.sandbox.web.judging import Judging

        judging = Judging(load_script(Path(args.judge)), Path(args.observe or "client-check.ndjson"))
    app = build_app(
        args.db,
        args.specs,
        args.provisioning,
        faults=FaultInjector.parse(args.faults, args.fault_rate, args.fault_seed),
        judging=judging,
    )
    # the catalogue, compiled validators and modules live as long as the process: keep them out
    # of the garbage collector's full scans (each request's garbage is young and short-lived)
    gc.collect()
    gc.freeze()
    runner = web.AppRunner(
        app,
        access_log=log if args.access_log else None,
        access_log_class=CallerAccessLog,
        handle_signals=False,
    )
    await runner.setup()
    loop = asyncio.get_running_loop()
    assert runner.server is not None  # set by setup()
    # aiohttp's protocol factory behind the connection guard (read timeouts, head size limit);
    # the TLS handshake gets the same bound, so a silent socket never holds a slot for long
    manager = runner.server
    # what runner.server() passes its protocol (None turns the access log off, as in AppRunner)
    logging_options: dict[str, Any] = {
        "access_log_class": CallerAccessLog,
        "access_log": log if args.access_log else None,
    }

    def protocol() -> CRRRequestHandler:  # what runner.server() makes, with CRRServiceException refusals
        return CRRRequestHandler(manager, loop=loop, **logging_options)

    server = await loop.create_server(
        guarded(protocol, read_timeout=args.read_timeout),
        sock=sock,
        ssl=ssl_ctx,
        backlog=1024,
        ssl_handshake_timeout=args.read_timeout,
    )
    port = sock.getsockname()[1]
    if announce:
        if args.port_file:
            tmp = Path(args.port_file).with_suffix(".tmp")
            tmp.write_text(str(port))
            tmp.replace(args.port_file)
        print(f"{READY_PREFIX} port={port} url=https://{args.host}:{port}/crr", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watch = asyncio.create_task(_orphan_watch(args.parent_pid, stop)) if args.parent_pid else None
    await stop.wait()
    if watch is not None:
        watch.cancel()
    server.close()
    await runner.cleanup()


async def _orphan_watch(parent: int, stop: asyncio.Event) -> None:
    """A worker whose parent died (even by SIGKILL, which no handler sees) stops serving: on
    Linux the kernel re-parents it at once, and this notices within ``ORPHAN_POLL_S``. Without
    it, orphaned workers keep the port and a restarted sandbox shares it with them."""
    while os.getppid() == parent:
        await asyncio.sleep(ORPHAN_POLL_S)
    log.warning("the sandbox's parent process %s is gone; worker %s stops", parent, os.getpid())
    stop.set()


def _loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop by default: its Cython TLS transport takes ~25% less CPU per small request than
    asyncio's pure-Python SSL protocol; plain asyncio where uvloop is missing (Windows)."""
    if name == "uvloop":
        try:
            import uvloop
        except ImportError:
            return None
        return uvloop.new_event_loop
    return None


def _serve_one(sock: socket.socket, args: ServerOptions, ssl_ctx: ssl.SSLContext, announce: bool) -> None:
    with (
        contextlib.suppress(KeyboardInterrupt),
        asyncio.Runner(loop_factory=_loop_factory(args.loop)) as runner,
    ):
        runner.run(_run(sock, args, ssl_ctx, announce))


def serve(args: ServerOptions) -> None:
    logging.basicConfig(
        level=logging.INFO if args.access_log else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_parse_errors()
    from harness.pki import ensure_dev_pki
    from harness.sandbox.web.tls import server_context

    pki = ensure_dev_pki(Path(args.pki))  # once, before forking: workers must not race creating it
    ssl_ctx = server_context(pki.ca_cert, pki.server_cert, pki.server_key)
    if args.trust:
        # a participant's own certificate: its issuer if the file has it, else the certificate
        # itself as the trust anchor (a partial chain), so their pfx works unchanged
        ssl_ctx.load_verify_locations(cafile=args.trust)
        ssl_ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    if args.judge:
        from harness.sandbox.web.judging import judging_context

        judging_context(ssl_ctx)
    workers = max(1, int(args.workers))
    sock = _bind(args.host, args.port, reuse_port=workers > 1)
    if workers == 1:
        _serve_one(sock, args, ssl_ctx, announce=True)
        return
    children: list[int] = []
    args.parent_pid = os.getpid()
    for i in range(workers):
        pid = os.fork()
        if pid == 0:  # child: share the listening socket; worker 0 announces readiness
            _die_with_parent(args.parent_pid)
            try:
                _serve_one(sock, args, ssl_ctx, announce=i == 0)
            finally:
                os._exit(0)
        children.append(pid)

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(child, 0)


def _die_with_parent(parent: int) -> None:
    """Linux: ask the kernel for SIGTERM when the parent dies (prctl PR_SET_PDEATHSIG), so a
    worker stops at once; ``_orphan_watch`` covers other systems and the fork-time race."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


def run(options: ServerOptions) -> int:
    """Serve until stopped; 0 when stopped, 2 when the address cannot be listened on (said on
    stderr). `crrsim sandbox serve` is the one command line that calls this."""
    try:
        serve(options)
    except OSError as exc:
        print(
            f"crrsim sandbox: cannot listen on {options.host}:{options.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    return 0
