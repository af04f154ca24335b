"""Every acknowledged write survives SIGKILL of the sandbox mid-load (WAL + synchronous=NORMAL).

Writes go through the control plane's market creation (a plain store write, independent of
any service module's business rules), from several threads on their own connections.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from harness.client import CRRTransportError
from harness.client.control import ControlPlane
from harness.pki import DevPKI
from harness.sandbox.launch import start_sandbox
from tests.sandbox.sbutil import make_client

THREADS = 4


@pytest.mark.slow
def test_acknowledged_writes_survive_sigkill(dev_pki: DevPKI, tmp_path: Path):
    db = tmp_path / "durable.db"
    running = start_sandbox(dev_pki.directory, db)
    acknowledged: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        with make_client(dev_pki, running.url, "operator") as client:
            plane = ControlPlane(client)
            i = 0
            while not stop.is_set():
                name = f"DUR_{n}_{i}"
                try:
                    plane.create_market(name=name, periods=["2026_M03"])
                except (CRRTransportError, OSError):
                    return  # the server is gone: this write was never acknowledged
                with lock:
                    acknowledged.append(name)
                i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        running.kill()  # SIGKILL while the writers are still going
    finally:
        stop.set()
        for t in threads:
            t.join(15)
        running.kill()
    assert len(acknowledged) >= 100, "the load never got going"

    again = start_sandbox(dev_pki.directory, db)
    try:
        with make_client(dev_pki, again.url, "operator") as client:
            present = {m["name"] for m in ControlPlane(client).markets()}
    finally:
        again.stop()
    lost = [name for name in acknowledged if name not in present]
    assert not lost, f"{len(lost)} acknowledged writes lost, e.g. {lost[:5]}"
