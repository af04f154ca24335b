"""Sandbox-area fixtures: a private sandbox for tests that move the clock, and small helpers.

Tests that change global sandbox state (the simulated clock, the plan) use ``own_sandbox``
(one per module) so they cannot disturb tests sharing the session ``sandbox``; ``ready`` is
that sandbox with the plan set up (a module needing more, e.g. an open window, overrides it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from tests.sandbox.sbutil import make_client

if TYPE_CHECKING:
    from harness.client import CRRClient
    from harness.client.control import ControlPlane
    from harness.pki import DevPKI
    from harness.sandbox.launch import RunningSandbox


@pytest.fixture(scope="module")
def own_sandbox(dev_pki: DevPKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    from harness.sandbox.launch import start_sandbox

    running = start_sandbox(
        dev_pki.directory, tmp_path_factory.mktemp("own") / "crr.db", env={"CRRSIM_SANDBOX_STRICT": "1"}
    )
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def own_client(dev_pki: DevPKI, own_sandbox: RunningSandbox) -> Iterator[Callable[[str], CRRClient]]:
    made: list[CRRClient] = []

    def make(name: str) -> CRRClient:
        made.append(make_client(dev_pki, own_sandbox.url, name))
        return made[-1]

    yield make
    for c in made:
        c.close()


@pytest.fixture(scope="module")
def operator(own_client: Callable[[str], CRRClient]) -> ControlPlane:
    from harness.client.control import ControlPlane

    return ControlPlane(own_client("operator"))


@pytest.fixture(scope="module")
def ready(operator: ControlPlane) -> ControlPlane:
    """The module's sandbox with the Market Sim plan set up (clock frozen at week 1 Monday)."""
    operator.setup_plan()
    return operator


@pytest.fixture(scope="module")
def ecal(ready: ControlPlane, own_client: Callable[[str], CRRClient]) -> CRRClient:
    return own_client("ecal")


@pytest.fixture(scope="module")
def wcal(ready: ControlPlane, own_client: Callable[[str], CRRClient]) -> CRRClient:
    return own_client("wcal")
