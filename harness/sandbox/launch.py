"""Start the sandbox in a child process and wait until it accepts TLS connections.

A subprocess (not a thread) so tests exercise exactly what users run, a crash cannot take the
test runner down, and the durability test can SIGKILL it. The child is told ``--port 0`` and a
port file; it writes the port it got once listening, so there is no pick-then-bind race.

The port file and the log live in a private temporary folder that is removed when the sandbox
is stopped or killed (the log is kept in memory first, so ``output()`` still answers), when it
fails to start, and at interpreter exit for any sandbox its owner forgot: hundreds of test runs
must not leave hundreds of folders in /tmp.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.pki import DevPKI

READY_TIMEOUT_S = 30.0


class SandboxStartError(RuntimeError):
    """The sandbox process exited or never became ready; the message holds its output."""


@dataclass
class RunningSandbox:
    url: str  # https://127.0.0.1:PORT/crr
    port: int
    pid: int
    process: subprocess.Popen[bytes] = field(repr=False)
    log_path: Path = field(repr=False)
    db: Path | None = None  # the SQLite file it serves from
    _log_text: str | None = field(default=None, init=False, repr=False)
    _owner_pid: int = field(default_factory=os.getpid, init=False, repr=False)

    def __post_init__(self) -> None:
        _LIVE[id(self)] = self

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait (graceful: the server closes its store)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._cleanup()

    def kill(self) -> None:
        """SIGKILL: no cleanup in the server at all, like a crash or an OOM kill."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._cleanup()

    def output(self) -> str:
        if self._log_text is not None:
            return self._log_text
        return _read_log(self.log_path)

    def _cleanup(self) -> None:
        if self._log_text is None:
            self._log_text = _read_log(self.log_path)
        _remove_workdir(self.log_path.parent)
        _LIVE.pop(id(self), None)


# sandboxes started by this interpreter and not yet stopped (atexit stops them and removes
# their folders; a plain dict, not weak refs: a forgotten sandbox must still be cleaned up)
_LIVE: dict[int, RunningSandbox] = {}


def _stop_leftovers() -> None:
    for running in list(_LIVE.values()):
        if running._owner_pid == os.getpid():  # a forked child must not stop its parent's sandbox
            running.stop(timeout=5.0)


atexit.register(_stop_leftovers)


def _read_log(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _remove_workdir(workdir: Path) -> None:
    shutil.rmtree(workdir, ignore_errors=True)


def _tls_ready(port: int, ca: Path, cert: Path, key: Path) -> bool:
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.load_cert_chain(str(cert), str(key))
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=2) as raw,
            ctx.wrap_socket(raw, server_hostname="127.0.0.1"),
        ):
            return True
    except (OSError, ssl.SSLError):
        return False


def discard_database(db: Path) -> None:
    """Remove a sandbox database with its WAL, shared-memory and edit-lock side files."""
    for suffix in ("", "-wal", "-shm", "-edit-locks"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)


def start_sandbox(
    pki_dir: Path,
    db: Path,
    port: int = 0,
    specs: Path | None = None,
    provisioning: Path | None = None,
    env: dict[str, str] | None = None,
    workers: int = 1,
    timeout: float = READY_TIMEOUT_S,
    fresh: bool = False,
    read_timeout: float | None = None,
    access_log: bool = False,
    entry: tuple[str, ...] = ("-m", "harness", "sandbox", "serve"),
    faults: str | None = None,
    fault_rate: float = 0.2,
    fault_seed: int = 0,
    judge: Path | None = None,
    observe: Path | None = None,
    trust: Path | None = None,
) -> RunningSandbox:
    """Start the sandbox in a child process and wait until it accepts TLS connections.

    ``fresh`` discards an existing database first: a rehearsal that reuses its results folder
    must not meet the portfolios of the previous run (POR0101 on the first upload).
    """
    from harness.pki import ensure_dev_pki

    pki = ensure_dev_pki(Path(pki_dir))
    if fresh:
        discard_database(Path(db))
    workdir = Path(tempfile.mkdtemp(prefix="crrsim-sandbox-"))
    port_file = workdir / "port"
    log_path = workdir / "sandbox.log"
    # ``entry``: how to start the server; a benchmark of an older source tree passes that
    # tree's own (``-m harness.sandbox`` before the sandbox's command line was the click CLI)
    cmd = [
        sys.executable,
        *entry,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--pki",
        str(pki_dir),
        "--db",
        str(db),
        "--port-file",
        str(port_file),
        "--workers",
        str(workers),
    ]
    if specs is not None:
        cmd += ["--specs", str(specs)]
    if provisioning is not None:
        cmd += ["--provisioning", str(provisioning)]
    if read_timeout is not None:
        cmd += ["--read-timeout", str(read_timeout)]
    if access_log:
        cmd.append("--access-log")
    if faults:
        cmd += ["--fault", faults, "--fault-rate", str(fault_rate), "--fault-seed", str(fault_seed)]
    if judge is not None:
        cmd += ["--judge", str(judge), "--observe", str(observe)]
    if trust is not None:
        cmd += ["--trust", str(trust)]
    child_env = {**os.environ, **(env or {})}
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=child_env)
    except BaseException:
        _remove_workdir(workdir)
        raise
    try:
        got = _wait_ready(proc, port_file, pki, timeout)
    except BaseException as exc:  # not ready, crashed, or interrupted: leave nothing behind
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        output = _read_log(log_path)
        _remove_workdir(workdir)
        if isinstance(exc, SandboxStartError):
            raise SandboxStartError(f"{exc}:\n{output}") from None
        raise
    return RunningSandbox(f"https://127.0.0.1:{got}/crr", got, proc.pid, proc, log_path, Path(db))


def _wait_ready(proc: subprocess.Popen[bytes], port_file: Path, pki: DevPKI, timeout: float) -> int:
    """The port once the server completes a TLS handshake with the operator certificate."""
    operator = pki.identities["operator"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SandboxStartError(f"sandbox exited with {proc.returncode}")
        if port_file.exists():
            got = int(port_file.read_text())
            if _tls_ready(got, pki.ca_cert, operator.cert, operator.key):
                return got
        time.sleep(0.05)
    raise SandboxStartError(f"sandbox not ready after {timeout}s")


def start_with_plan(pki: DevPKI, db: Path, specs: Path | None = None, **launch: Any) -> RunningSandbox:
    """Start a sandbox on ``db``, set the Market Sim plan up and open the monthly windows with
    the operator's certificate of ``pki``: the runners' common starting point."""
    from harness.client.control import fresh_plan_week

    running = start_sandbox(pki.directory, db, specs=specs, fresh=True, **launch)
    try:
        fresh_plan_week(running.url, pki)
    except BaseException:
        running.stop()
        raise
    return running


@contextlib.contextmanager
def embedded(
    pki_dir: Path,
    specs: Path | None = None,
    *,
    db: Path | None = None,
    fresh: bool = True,
    plan_week: bool = True,
    prefix: str = "run",
    **launch: Any,
) -> Iterator[tuple[str, DevPKI]]:
    """(base URL, dev PKI) of an embedded sandbox that lives as long as the ``with`` block: the
    one way every runner and the main job start theirs. ``db``: its database (default: a fresh
    one in a temporary folder); ``fresh`` discards an existing one first; ``plan_week`` sets
    the plan up with the monthly windows open (the plan's own scenarios drive the clock
    themselves, so they start from the plan's beginning instead)."""
    from harness.pki import ensure_dev_pki

    pki = ensure_dev_pki(pki_dir)
    db = db or Path(tempfile.mkdtemp(prefix=f"crrsim-{prefix}-")) / "sandbox.db"
    if plan_week:
        running = start_with_plan(pki, db, specs, **launch)
    else:
        running = start_sandbox(pki.directory, db, specs=specs, fresh=fresh, **launch)
    try:
        yield running.url, pki
    finally:
        running.stop()
