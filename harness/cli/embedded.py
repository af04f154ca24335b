"""A fresh embedded sandbox for a runner's default target: a free loopback port, the Market Sim
plan set up, the clock where every monthly window is open (the runners' common starting point)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.client.control import PLAN_WEDNESDAY

__all__ = ["PLAN_WEDNESDAY", "embedded_sandbox", "start_with_plan"]


def start_with_plan(pki: Any, db: Path, specs: Path | None = None, **launch: Any) -> Any:
    """Start a sandbox on ``db`` (a ``RunningSandbox``), set the plan up and open the monthly
    windows with the operator's certificate of ``pki`` (a ``DevPKI``)."""
    from harness.client.control import fresh_plan_week
    from harness.sandbox.launch import start_sandbox

    running = start_sandbox(pki.directory, db, specs=specs, fresh=True, **launch)
    try:
        fresh_plan_week(running.url, pki)
    except BaseException:
        running.stop()
        raise
    return running


@contextlib.contextmanager
def embedded_sandbox(
    pki_dir: Path, specs: Path | None, prefix: str, **launch: Any
) -> Iterator[tuple[str, Any]]:
    """(base URL, the dev PKI) of a sandbox that lives as long as the ``with`` block."""
    from harness.pki import ensure_dev_pki

    pki = ensure_dev_pki(pki_dir)
    work = Path(tempfile.mkdtemp(prefix=f"crrsim-{prefix}-"))
    running = start_with_plan(pki, work / "sandbox.db", specs, **launch)
    try:
        yield running.url, pki
    finally:
        running.stop()
