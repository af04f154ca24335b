"""The sandbox's routes and checks come from the loaded contract, not from code.

A team that receives a new CAISO spec version drops it into a folder and restarts the sandbox
with ``--specs``: the new limits apply at once. Here a copy of our contract gets a newer auction
file with a tighter portfolioName limit, and the sandbox follows it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.client import CRRClient, CRRResponse
from harness.contract import default_specs_dir, load_catalogue
from harness.pki import DevPKI
from harness.sandbox.launch import RunningSandbox, start_sandbox
from tests.sandbox.sbutil import codes, make_client

AUCTION = "caiso_crr_auction_v1.2.1.yaml"


@pytest.fixture(scope="module")
def newer_contract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("specs")
    for path in default_specs_dir().glob("caiso_crr_*.yaml"):
        shutil.copy(path, folder / path.name)
    text = (folder / AUCTION).read_text()
    assert text.count("maxLength: 100") >= 1
    # v1.3.0 (a MINOR version: a service change): portfolio names shrink to 12 characters
    (folder / "caiso_crr_auction_v1.3.0.yaml").write_text(text.replace("maxLength: 100", "maxLength: 12"))
    return folder


@pytest.fixture(scope="module")
def newer_sandbox(
    dev_pki: DevPKI, newer_contract: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSandbox]:
    running = start_sandbox(
        dev_pki.directory, tmp_path_factory.mktemp("newer") / "crr.db", specs=newer_contract
    )
    try:
        yield running
    finally:
        running.stop()


def test_catalogue_picks_the_newest_version(newer_contract: Path):
    catalogue = load_catalogue(newer_contract)
    assert str(catalogue["auction"].version) == "1.3.0"
    assert any("1.2.1" in w for w in catalogue.warnings)


def _portfolio_status(client: CRRClient, name: str) -> CRRResponse:
    return client.request(
        "GET",
        "/auction/v1.0/portfolioStatus",
        params={"marketName": "AUC_MN_2026_M03", "portfolioName": name, "participantName": "ECAL"},
    )


def test_new_limit_applies_without_code_changes(
    newer_sandbox: RunningSandbox, sandbox: RunningSandbox, dev_pki: DevPKI
):
    long_name = "Portfolio 13c"  # 13 characters: fine under v1.2.1, too long under v1.3.0
    with (
        make_client(dev_pki, newer_sandbox.url, "ecal") as newer,
        make_client(dev_pki, sandbox.url, "ecal") as current,
    ):
        refused = _portfolio_status(newer, long_name)
        assert refused.status == 400
        assert codes(refused) == ["POR0103"]  # the contract's code for a portfolio name that is too long
        # the same request under the current contract passes validation and reaches the handler
        reached = _portfolio_status(current, long_name)
        assert reached.status in (400, 404) and "portfolioName" not in " ".join(
            e["errorDescription"] for e in reached.json()["errorList"] if e["errorCode"] == "SER0030"
        )
        assert set(codes(reached)) & {"POR0100", "MKT0001", "MKT0004"}
