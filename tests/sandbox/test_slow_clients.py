"""Issue 9 items 8 and 9: slow or silent connections are closed after the read timeout without
delaying anyone else, and `--workers N` children die with their parent (even on SIGKILL)."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.sbutil import make_client

READ_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def quick_sandbox(dev_pki: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from harness.sandbox.launch import start_sandbox

    running = start_sandbox(
        dev_pki.directory, tmp_path_factory.mktemp("slow") / "crr.db", read_timeout=READ_TIMEOUT
    )
    try:
        yield running
    finally:
        running.stop()


def _tls(port: int, pki: Any) -> ssl.SSLSocket:
    files = pki.identities["ecal"]
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    ctx.load_cert_chain(str(files.cert), str(files.key))
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def closed_by_server(sock: socket.socket, within: float) -> float | None:
    """Seconds until the server closed ``sock`` (EOF or reset), None if still open after ``within``."""
    sock.settimeout(within)
    start = time.monotonic()
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
        pass
    return time.monotonic() - start


HEAD = (
    "POST /crr/auction/v1.0/portfolioCreation HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "caiso-request-id: 3f1c6f9e-8d1b-4b7a-9c1e-2a6f0f1e9d3c\r\nContent-Type: application/json\r\n"
)


def test_slow_and_silent_connections_are_closed_and_delay_nobody(dev_pki: Any, quick_sandbox: Any) -> None:
    port = quick_sandbox.port
    silent_tls = _tls(port, dev_pki)  # handshake done, then nothing
    silent_tcp = socket.create_connection(("127.0.0.1", port), timeout=30)  # never starts TLS
    partial_head = _tls(port, dev_pki)
    partial_head.sendall(HEAD.encode())  # headers never finished
    no_body = _tls(port, dev_pki)
    no_body.sendall((HEAD + "Content-Length: 5000\r\n\r\n{").encode())  # body never arrives
    trickle = _tls(port, dev_pki)
    stop = threading.Event()

    def drip() -> None:  # one byte of header every 200 ms: alive, but never done in time
        for byte in HEAD.encode():
            if stop.is_set():
                return
            try:
                trickle.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(0.2)

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        # others are served meanwhile (a liveness check, not a speed target)
        client = make_client(dev_pki, quick_sandbox.url, "wcal")
        try:
            for _ in range(5):
                assert client.request("GET", "/status", timeout=10).status == 200
        finally:
            client.close()
        waits = {
            name: closed_by_server(sock, within=READ_TIMEOUT * 6)
            for name, sock in [
                ("silent TLS", silent_tls),
                ("silent TCP", silent_tcp),
                ("partial head", partial_head),
                ("trickled head", trickle),
            ]
        }
        assert all(w is not None for w in waits.values()), waits
        data = b""
        no_body.settimeout(READ_TIMEOUT * 6)
        try:
            while chunk := no_body.recv(4096):
                data += chunk
        except (ConnectionResetError, ssl.SSLError, OSError):
            pass
        # a body that never arrives is answered with a CRR error, then the connection closes
        assert b"SER0017" in data and b"did not arrive within" in data, data[:300]
    finally:
        stop.set()
        for s in (silent_tls, silent_tcp, partial_head, no_body, trickle):
            s.close()
    assert "Traceback" not in quick_sandbox.output()


def test_keep_alive_connections_survive_between_quick_requests(dev_pki: Any, quick_sandbox: Any) -> None:
    client = make_client(dev_pki, quick_sandbox.url, "ecal")
    try:
        for _ in range(3):
            assert client.request("GET", "/status").status == 200
            time.sleep(READ_TIMEOUT / 2)  # idle, but shorter than the idle timeout
        assert client.request("GET", "/status").status == 200
    finally:
        client.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its new parent) is not serving
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().split(")")[-1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the worker processes")
def test_workers_exit_when_the_parent_is_killed(dev_pki: Any, tmp_path: Path) -> None:
    from harness.sandbox.launch import start_sandbox

    running = start_sandbox(dev_pki.directory, tmp_path / "crr.db", workers=2)
    try:
        workers = _children(running.pid)
        assert len(workers) == 2, workers
        os.kill(running.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers), "workers kept serving after their parent died"
        with pytest.raises(OSError):  # nobody holds the port any more
            socket.create_connection(("127.0.0.1", running.port), timeout=2).close()
    finally:
        running.kill()
        for w in _children(running.pid):
            os.kill(w, signal.SIGKILL)
