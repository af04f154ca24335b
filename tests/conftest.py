"""Fixtures shared by crrsim's own tests: a real dev PKI and a real sandbox over mTLS.

Both are session-scoped: making RSA keys and starting a server are the slow parts, and
tests must not depend on each other's state anyway (each uses its own portfolio names).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.contract.catalogue import official_specs_dir

if TYPE_CHECKING:
    from harness.client import CRRClient
    from harness.pki import DevPKI
    from harness.sandbox.launch import RunningSandbox

OFFICIAL_SPECS = official_specs_dir()
TEST_PFX_PASSWORD = "crrsim-test-only"


@pytest.fixture(scope="session")
def official_specs() -> Path:
    """CAISO's published spec files; tests that need them skip where they are absent."""
    if not OFFICIAL_SPECS.is_dir() or not any(OFFICIAL_SPECS.glob("caiso_crr_*.yaml")):
        pytest.skip(
            f"CAISO's official spec files are not at {OFFICIAL_SPECS} "
            "(set CRRSIM_OFFICIAL_SPECS to the folder you downloaded them to)"
        )
    return OFFICIAL_SPECS


@pytest.fixture(scope="session")
def dev_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPKI:
    from harness.pki import ensure_dev_pki

    return ensure_dev_pki(tmp_path_factory.mktemp("pki"), password=TEST_PFX_PASSWORD)


@pytest.fixture(scope="session")
def shared_pki(dev_pki: DevPKI, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A participant's view of a shared environment: the dev PKI without its operator. A sandbox
    reached with it cannot prove it is one (``harness.client.control.proves_sandbox``), so it
    stands in for Map-Stage: same CA and participant certificates, shared-environment rules."""
    import shutil

    folder = tmp_path_factory.mktemp("shared-pki") / "pki"
    shutil.copytree(dev_pki.directory, folder, ignore=shutil.ignore_patterns("operator.*", "README.txt"))
    return folder


@pytest.fixture(scope="session")
def sandbox(dev_pki: DevPKI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """The real sandbox in its own process on an ephemeral loopback port."""
    from harness.sandbox.launch import start_sandbox

    running = start_sandbox(dev_pki.directory, tmp_path_factory.mktemp("sandbox") / "crr.db")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def client_for(dev_pki: DevPKI, sandbox: RunningSandbox) -> Iterator[Callable[[str], CRRClient]]:
    """``client_for("ecal")`` -> a CRRClient authenticated as that dev identity."""
    from harness.client import ClientIdentity, CRRClient

    made: list[CRRClient] = []

    def make(name: str) -> CRRClient:
        files = dev_pki.identities.get(name) or dev_pki.bad[name]
        client = CRRClient(
            sandbox.url, identity=ClientIdentity.from_pem(files.cert, files.key), ca=dev_pki.ca_cert
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
