"""Run the sandbox: TLS context, aiohttp runner, readiness line, optional worker processes.

The server prints ``CRRSIM_SANDBOX_LISTENING port=N`` (and writes N to ``--port-file``) once it
accepts connections, so a launcher can ask for port 0 and learn the real port without racing.

``--workers N`` forks N processes sharing one listening socket (SO_REUSEPORT), each with its
own SQLite connection; this stays correct because every piece of state (clock included) lives
in the database and SQLite's file locks serialise writers across processes.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

from aiohttp import web

READY_PREFIX = "CRRSIM_SANDBOX_LISTENING"
log = logging.getLogger("crrsim.sandbox")


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


async def _run(
    sock: socket.socket, args: argparse.Namespace, ssl_ctx: ssl.SSLContext, announce: bool
) -> None:
    from harness.sandbox.app import build_app

    app = build_app(args.db, args.specs, args.provisioning)
    # the catalogue, compiled validators and modules live as long as the process: keep them out
    # of the garbage collector's full scans (each request's garbage is young and short-lived)
    gc.collect()
    gc.freeze()
    runner = web.AppRunner(app, access_log=log if args.access_log else None, handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, sock, ssl_context=ssl_ctx, backlog=1024)
    await site.start()
    port = sock.getsockname()[1]
    if announce:
        if args.port_file:
            tmp = Path(args.port_file).with_suffix(".tmp")
            tmp.write_text(str(port))
            tmp.replace(args.port_file)
        print(f"{READY_PREFIX} port={port} url=https://{args.host}:{port}/crr", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


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


def _serve_one(
    sock: socket.socket, args: argparse.Namespace, ssl_ctx: ssl.SSLContext, announce: bool
) -> None:
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=_loop_factory(args.loop)) as runner:
        runner.run(_run(sock, args, ssl_ctx, announce))


def serve(args: argparse.Namespace) -> None:
    logging.basicConfig(
        level=logging.INFO if args.access_log else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from harness.pki import ensure_dev_pki
    from harness.sandbox.tls import server_context

    pki = ensure_dev_pki(Path(args.pki))  # once, before forking: workers must not race creating it
    ssl_ctx = server_context(pki.ca_cert, pki.server_cert, pki.server_key)
    workers = max(1, int(args.workers))
    sock = _bind(args.host, args.port, reuse_port=workers > 1)
    if workers == 1:
        _serve_one(sock, args, ssl_ctx, announce=True)
        return
    children: list[int] = []
    for i in range(workers):
        pid = os.fork()
        if pid == 0:  # child: share the listening socket; worker 0 announces readiness
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m harness.sandbox", description="Run the crrsim CRR sandbox.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443, help="0 picks a free port (reported on stdout)")
    p.add_argument("--pki", default="certs/dev", help="dev PKI folder (created if missing)")
    p.add_argument("--specs", default=None, help="contract folder (default: ours, or $CRRSIM_SPECS)")
    p.add_argument("--db", default="reports/sandbox.db")
    p.add_argument("--provisioning", default=None, help="YAML: certificate CN -> sc_ids/access/services")
    p.add_argument("--port-file", default=None, help="write the listening port here when ready")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--access-log", action="store_true")
    p.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        serve(args)
    except OSError as exc:
        print(
            f"crrsim sandbox: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    return 0
