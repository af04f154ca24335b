"""The source/sink list as CAISO releases it (issue 22 item 3): versions, retired PNodes re-mapped
to the closest biddable node of their type, islanded nodes open to sell offers only; through the
domain on a real store, then a real sandbox over mTLS (control plane, CLI, downloads, bids)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.cli.sandbox import command as sandbox_cli
from harness.client import CRRClient, CRRServiceException
from harness.client.control import ControlPlane
from harness.pki import DevPKI
from harness.sandbox.domain import network, node_list
from harness.sandbox.domain.grid import load_grid
from harness.sandbox.errors import CRRError
from harness.sandbox.launch import RunningSandbox
from harness.sandbox.store import Store

NOW = datetime(2026, 2, 2, 16, tzinfo=UTC)
EFFECTIVE = datetime(2026, 3, 1, 8, tzinfo=UTC)
AUC = "AUC_MN_2026_M03"


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[Any]:
    store = Store(tmp_path / "crr.db")
    with store.write() as c:
        yield c
    store.close()


def test_v0_is_the_network_list_and_each_release_is_the_next_version(conn: Any) -> None:
    v0 = node_list.current(conn, AUC)
    assert v0.version == 0 and [n.name for n in v0.nodes] == [n.name for n in network.NODES]
    v1, made = node_list.release(conn, AUC, NOW, EFFECTIVE, retire=["DIABLO_7_N001"])
    assert v1.version == 1 and made[0].change == node_list.RETIRED
    v2, _ = node_list.release(conn, AUC, NOW, EFFECTIVE, island=["MALIN_5_N101"])
    assert v2.version == 2 and v2.retired == v1.retired and v2.islanded == {"MALIN_5_N101"}
    assert node_list.current(conn, "AUC_AN_2026").version == 0  # another market's list is its own


def test_a_retired_pnode_goes_to_the_electrically_closest_biddable_node_of_its_type(conn: Any) -> None:
    nodes, made = node_list.release(conn, AUC, NOW, EFFECTIVE, retire=["DIABLO_7_N001"])
    target = made[0].replacement
    assert target is not None and network.node(target).type == "GEN" and network.biddable(target)
    grid = load_grid()
    far = grid.distances("DIABLO_7_N001")
    others = [n.name for n in network.NODES if n.type == "GEN" and n.biddable and n.name != "DIABLO_7_N001"]
    assert far[grid.main_bus(target)] == min(far[grid.main_bus(o)] for o in others)
    assert "DIABLO_7_N001" not in [n.name for n in nodes.nodes] and nodes.mapped("DIABLO_7_N001") == target
    # retiring the replacement too: the first retired node follows the chain to a live node
    nodes, made = node_list.release(conn, AUC, NOW, EFFECTIVE, retire=[target])
    assert nodes.mapped("DIABLO_7_N001") == made[0].replacement != target
    assert ("DIABLO_7_N001", target, "2026-03-01T08:00:00Z") in node_list.replacements(conn)
    assert node_list.replacements(conn)[0] == node_list.STANDING_REPLACEMENTS[0]


def test_an_islanded_node_takes_sell_offers_only_until_restored(conn: Any) -> None:
    nodes, _ = node_list.release(conn, AUC, NOW, EFFECTIVE, island=["SLAP_PGST-APND"])
    buy = nodes.problem("sink", "SLAP_PGST-APND", "BUY")
    assert buy is not None and "islanded" in buy and "v1" in buy and "sell offers" in buy
    assert nodes.problem("sink", "SLAP_PGST-APND", "SELL") is None
    assert nodes.problem("sink", "SLAP_PGST-APND", "NOMINATION") is not None
    assert [n.biddable for n in nodes.nodes if n.name == "SLAP_PGST-APND"] == [False]
    nodes, _ = node_list.release(conn, AUC, NOW, EFFECTIVE, restore=["SLAP_PGST-APND"])
    assert nodes.problem("sink", "SLAP_PGST-APND", "BUY") is None and nodes.version == 2


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"retire": ["NOWHERE_N001"]}, "not a node"),
        ({"restore": ["DIABLO_7_N001"]}, "not islanded"),
        ({}, "at least one change"),
    ],
)
def test_a_release_that_cannot_be_is_refused_with_a_sentence(conn: Any, changes: Any, says: str) -> None:
    with pytest.raises(CRRError) as refused:
        node_list.release(conn, AUC, NOW, EFFECTIVE, **changes)
    assert refused.value.code == "SER0030" and says in str(refused.value)
    assert node_list.current(conn, AUC).version == 0  # nothing released


def test_retiring_twice_is_refused(conn: Any) -> None:
    node_list.release(conn, AUC, NOW, EFFECTIVE, retire=["ENCINA_7_B1"])
    with pytest.raises(CRRError, match="already retired"):
        node_list.release(conn, AUC, NOW, EFFECTIVE, retire=["ENCINA_7_B1"])


# --------------------------------------------------------------------------------------
# through a real sandbox
# --------------------------------------------------------------------------------------


def bid(source: str, sink: str, **extra: Any) -> dict[str, Any]:
    return {
        "assetOwner": "ECAL",
        "source": source,
        "sink": sink,
        "hedgeType": "OBL",
        "tou": "ON",
        "period": "2026_M03",
        "crrType": "AUC",
        "bidCurve": [{"mw": 0, "price": 2}, {"mw": 5, "price": 2}],
        **extra,
    }


def create(client: CRRClient, name: str, **records: Any) -> Any:
    ids = {"portfolioName": name, "marketName": AUC, "participantName": "ECAL"}
    return client.request(
        "POST", "/auction/v1.0/portfolioCreation", json={**ids, "newBids": [], "newOffers": [], **records}
    )


def download(client: CRRClient, op: str, **params: str) -> list[dict[str, Any]]:
    from harness.sandbox.domain import downloads

    r = client.request(
        "GET", f"/marketdata/v1.0/{op}", params={"participantName": "ECAL", "fileFormat": "JSON", **params}
    )
    assert r.status == 200, r.text
    _, data = downloads.read_zip(r.body)
    records: list[dict[str, Any]] = json.loads(data)["records"]
    return records


def test_a_release_through_the_sandbox_changes_bids_downloads_notices_and_clearing(
    ready: ControlPlane, ecal: CRRClient, own_sandbox: RunningSandbox, dev_pki: DevPKI
) -> None:
    ready.set_clock("2026-02-04T18:00:00Z")  # week 1 Wednesday: the monthly auction is open
    ready.open_window(AUC)
    # ECAL holds CRR 1 (plan): TH_NP15_GEN-APND -> DLAP_PGAE-APND, ON, 2026_M03
    released = ready.release_nodes(AUC, retire=["DIABLO_7_N001"], island=["DLAP_PGAE-APND"])
    assert released["version"] == 1
    target = released["retired"][0]["replacement"]
    assert released["retired"] == [{"node": "DIABLO_7_N001", "replacement": target}]
    assert ready.node_list(AUC)["islanded"] == ["DLAP_PGAE-APND"]

    nodes = download(ecal, "publicMarketData", marketName=AUC, publicMarketDownloadType="SOURCE_SINK")
    names = {r["SourceSink"]: r["BiddableFlag"] for r in nodes}
    assert "DIABLO_7_N001" not in names and names["DLAP_PGAE-APND"] == "No" and names[target] == "Yes"
    mapping = download(ecal, "publicGeneralData", publicGeneralDownloadType="SOURCE_SINK_REPLACEMENT")
    assert {"RetiredSourceSink": "DIABLO_7_N001", "ReplacementSourceSink": target} in [
        {k: r[k] for k in ("RetiredSourceSink", "ReplacementSourceSink")} for r in mapping
    ]

    retired = create(ecal, "at a retired node", newBids=[bid("DIABLO_7_N001", "DLAP_SCE-APND")])
    assert retired.status == 400 and "retired" in retired.text and target in retired.text
    islanded = create(ecal, "buy at an island", newBids=[bid("TH_NP15_GEN-APND", "DLAP_PGAE-APND")])
    assert islanded.status == 400 and "islanded" in islanded.text
    sell = create(ecal, "sell at an island", newOffers=[bid("TH_NP15_GEN-APND", "DLAP_PGAE-APND", crrId=1)])
    assert sell.status == 200, sell.text  # a sell offer of the CRR that baseloads the islanded node
    assert create(ecal, "elsewhere", newBids=[bid(target, "DLAP_SCE-APND")]).status == 200

    notices = ecal.request(
        "GET", "/messages/v1.0/public", params={"participantName": "ECAL", "fromDate": "2026-01-01T00:00:00Z"}
    )
    assert "Source and sink list v1 of AUC_MN_2026_M03 released" in notices.text and target in notices.text

    with pytest.raises(CRRServiceException) as refused:
        ready.release_nodes(AUC, restore=["DIABLO_7_N001"])
    assert refused.value.errors[0].code == "SER0030"

    # the CLI is the same control: show the list, release v2, refuse a bad node with exit 1
    common = ["--url", own_sandbox.url, "--pki", str(dev_pki.directory)]
    shown = CliRunner().invoke(sandbox_cli, ["nodes", AUC, *common])
    assert shown.exit_code == 0 and '"version": 1' in shown.output
    restored = CliRunner().invoke(sandbox_cli, ["nodes", AUC, "--restore", "DLAP_PGAE-APND", *common])
    assert restored.exit_code == 0 and '"version": 2' in restored.output
    bad = CliRunner().invoke(sandbox_cli, ["nodes", AUC, "--retire", "NOWHERE", *common])
    assert bad.exit_code == 1 and "SER0030" in bad.output and "Traceback" not in bad.output


def test_held_crrs_at_a_retired_node_baseload_its_replacement(tmp_path: Path) -> None:
    """NCAL holds DIABLO_7_N001 -> DLAP_PGAE-APND (OFF, 2026_M03, the plan's): once DIABLO is
    retired, the market's clearing loads the network with that CRR at the replacement."""
    from harness.sandbox.domain.clearing import held_crrs
    from harness.sandbox.domain.clock import Clock
    from harness.sandbox.domain.markets import require_market
    from harness.sandbox.domain.plan import setup_plan

    store = Store(tmp_path / "crr.db")
    with store.write() as c:
        setup_plan(c, Clock(store))
        m = require_market(c, AUC)
        before = held_crrs(c, m, node_list.current(c, AUC))[("OFF", "2026_M03")]
        nodes, made = node_list.release(c, AUC, NOW, EFFECTIVE, retire=["DIABLO_7_N001"])
        after = held_crrs(c, m, nodes)[("OFF", "2026_M03")]
    store.close()
    assert any(h.source == "DIABLO_7_N001" for h in before)
    assert not any(h.source == "DIABLO_7_N001" for h in after)
    assert [h.mw for h in after if h.source == made[0].replacement] == [
        h.mw for h in before if h.source == "DIABLO_7_N001"
    ]


def test_a_market_clears_after_a_release_and_publishes_the_listed_nodes_prices(
    ready: ControlPlane, own_client: Callable[[str], CRRClient]
) -> None:
    listed = ready.node_list(AUC)
    if "DIABLO_7_N001" not in [r["node"] for r in listed["retired"]]:
        ready.release_nodes(AUC, retire=["DIABLO_7_N001"])
    ready.close_window(AUC)
    assert ready.run_clearing(AUC)["status"] == "POSTED"
    ncal = own_client("ncal")
    r = ncal.request(
        "GET",
        "/marketdata/v1.0/publicAuctionResult",
        params={
            "participantName": "NCAL",
            "fileFormat": "JSON",
            "marketName": AUC,
            "publicAuctionResultDownloadType": "CLEARING_PRICE",
        },
    )
    assert r.status == 200, r.text
    from harness.sandbox.domain import downloads

    rows = json.loads(downloads.read_zip(r.body)[1])["records"]
    priced = {row["Source"] for row in rows if "Sink" not in row}
    assert "DIABLO_7_N001" not in priced and "TH_NP15_GEN-APND" in priced
