"""Market data downloads over mTLS after a real auction and allocation clear in the sandbox.

Every download is unzipped; JSON files are checked against our draft-07 file schema (where
one exists) and CSV files against the stable header. Private files only ever hold the
caller's own records.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from harness.sandbox.domain import downloads
from tests.sandbox.sbutil import codes

BASE = "/marketdata/v1.0"
AUC, ALLOC = "AUC_MN_2026_M03", "ALLOC_MN_2026_M03_T1"
ALLOC_AN, AUC_AN = "ALLOC_AN_2026_T1", "AUC_AN_2026"


def bid(owner: str, sink: str, mw: float, price: float) -> dict[str, Any]:
    return {
        "assetOwner": owner,
        "source": "TH_NP15_GEN-APND",
        "sink": sink,
        "hedgeType": "OBL",
        "tou": "ON",
        "period": "2026_M03",
        "crrType": "AUC",
        "bidCurve": [{"mw": 0, "price": price}, {"mw": mw, "price": price}],
    }


@pytest.fixture(scope="module")
def cleared(operator: Any, own_client: Callable[[str], Any]) -> Any:
    operator.setup_plan()
    operator.advance_by("2d")  # Wednesday 00:00: both monthly windows open, data published
    for name, sc, bids in (
        ("ecal", "ECAL", [bid("ECAL", "DLAP_SCE-APND", 150, 10)]),
        ("wcal", "WCAL", [bid("WCAL", "DLAP_SCE-APND", 100, 8)]),
    ):
        ids = {"portfolioName": "md", "marketName": AUC, "participantName": sc}
        c = own_client(name)
        assert (
            c.request(
                "POST", "/auction/v1.0/portfolioCreation", json={**ids, "newBids": bids, "newOffers": []}
            ).status
            == 200
        )
        assert c.request("POST", "/auction/v1.0/portfolioSubmission", json=ids).status == 200
    ids = {"portfolioName": "md alloc", "marketName": ALLOC, "participantName": "ECAL"}
    nom = {
        "assetOwner": "ECAL",
        "source": "TH_NP15_GEN-APND",
        "sink": "DLAP_PGAE-APND",
        "hedgeType": "OBL",
        "tou": "OFF",
        "period": "2026_M03",
        "crrType": "LSE",
        "mw": 20,
    }
    ecal = own_client("ecal")
    assert (
        ecal.request(
            "POST", "/nomination/v1.0/portfolioCreation", json={**ids, "newNominations": [nom]}
        ).status
        == 200
    )
    assert ecal.request("POST", "/nomination/v1.0/portfolioSubmission", json=ids).status == 200
    for market in (AUC, ALLOC):
        operator.close_window(market)
        assert operator.run_clearing(market)["status"] == "POSTED"
    return operator


def fetch(client: Any, op: str, sc: str, fmt: str = "JSON", **params: str) -> Any:
    return client.request("GET", f"{BASE}/{op}", params={"participantName": sc, "fileFormat": fmt, **params})


def unzip(response: Any, kind: str) -> tuple[str, Any]:
    """(member name, parsed content): JSON validated by its file schema, CSV by its header."""
    assert response.status == 200, response.text
    assert response.headers["content-type"].startswith("application/octet-stream")
    name, data = downloads.read_zip(response.body)
    assert response.headers["content-disposition"].endswith(f'{name.rsplit(".", 1)[0]}.zip"')
    if name.endswith(".json"):
        doc = json.loads(data)
        assert downloads.check_document(kind, doc) == []
        assert doc["records"] and all(set(r) <= set(downloads.columns(kind)) for r in doc["records"])
        return name, doc
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert tuple(rows[0]) == downloads.columns(kind) and len(rows) > 1
    return name, rows


def test_public_auction_results_json_and_csv(cleared: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ncal")
    name, doc = unzip(
        fetch(
            c,
            "publicAuctionResult",
            "NCAL",
            marketName=AUC,
            publicAuctionResultDownloadType="PUBLIC_AUCTION_RESULT",
        ),
        "PUBLIC_AUCTION_RESULT",
    )
    assert name == f"publicResults_{AUC}.json" and doc["marketName"] == AUC
    assert sum(r["AwardedMW"] for r in doc["records"] if r["Sink"] == "DLAP_SCE-APND") > 0
    assert all("AssetOwner" not in r for r in doc["records"])
    name, rows = unzip(
        fetch(
            c,
            "publicAuctionResult",
            "NCAL",
            "CSV",
            marketName=AUC,
            publicAuctionResultDownloadType="PUBLIC_AUCTION_RESULT",
        ),
        "PUBLIC_AUCTION_RESULT",
    )
    assert name == f"publicResults_{AUC}.csv"
    name, doc = unzip(
        fetch(
            c, "publicAuctionResult", "NCAL", marketName=AUC, publicAuctionResultDownloadType="CLEARING_PRICE"
        ),
        "CLEARING_PRICE",
    )
    assert name == f"clearingprices_{AUC}.json"
    paths = [r for r in doc["records"] if "Sink" in r]
    nodes = {(r["Source"], r["TOU"]): r["ClearingPrice"] for r in doc["records"] if "Sink" not in r}
    assert {r["Sink"] for r in paths} == {"DLAP_SCE-APND"}
    assert {n for n, _ in nodes} >= {"TH_NP15_GEN-APND", "DLAP_SCE-APND", "DLAP_PGAE-APND"}  # node prices
    for r in paths:  # a path's price is its sink's minus its source's
        assert r["ClearingPrice"] == pytest.approx(
            nodes[(r["Sink"], r["TOU"])] - nodes[(r["Source"], r["TOU"])]
        )
    binding = fetch(
        c, "publicAuctionResult", "NCAL", marketName=AUC, publicAuctionResultDownloadType="BINDING_CONSTRAINT"
    )
    assert binding.status == 200, binding.text  # a posted market's result files exist, empty or not


@pytest.mark.parametrize("fmt", ["JSON", "CSV"])
def test_results_with_no_awards_are_an_empty_file_with_its_header(
    cleared: Any, own_client: Callable[[str], Any], fmt: str
) -> None:
    """Issue 19 item 12: results of a posted market with nothing awarded to the caller (or to
    anyone) answered 400 DWL0006/DWL0005 while the clearing-price download answered a file; an
    import job expects the file with its header row."""
    none = fetch(
        own_client("ncal"),
        "privateAuctionResult",
        "SCAL",
        fmt,
        marketName=AUC,
        privateAuctionResultDownloadType="PRIVATE_AUCTION_RESULT",
    )
    assert none.status == 200, none.text
    name, data = downloads.read_zip(none.body)
    assert name == f"privateResults_SCAL_{AUC}.{fmt.lower()}"
    if fmt == "JSON":
        doc = json.loads(data)
        assert doc["records"] == [] and downloads.check_document("PRIVATE_AUCTION_RESULT", doc) == []
    else:
        assert list(csv.reader(io.StringIO(data.decode()))) == [
            list(downloads.columns("PRIVATE_AUCTION_RESULT"))
        ]
    clearing = fetch(
        own_client("ncal"),
        "publicAuctionResult",
        "NCAL",
        fmt,
        marketName=AUC,
        publicAuctionResultDownloadType="CLEARING_PRICE",
    )
    assert clearing.status == none.status == 200


def test_private_results_are_the_callers_own(cleared: Any, own_client: Callable[[str], Any]) -> None:
    for name, sc in (("ecal", "ECAL"), ("wcal", "WCAL")):
        fname, doc = unzip(
            fetch(
                own_client(name),
                "privateAuctionResult",
                sc,
                marketName=AUC,
                privateAuctionResultDownloadType="PRIVATE_AUCTION_RESULT",
            ),
            "PRIVATE_AUCTION_RESULT",
        )
        assert fname == f"privateResults_{sc}_{AUC}.json"
        assert {r["AssetOwner"] for r in doc["records"]} == {sc}
    spy = fetch(
        own_client("wcal"),
        "privateAuctionResult",
        "ECAL",
        marketName=AUC,
        privateAuctionResultDownloadType="PRIVATE_AUCTION_RESULT",
    )
    assert spy.status == 403 and codes(spy) == ["SEC0001"]
    _, doc = unzip(
        fetch(
            own_client("ecal"),
            "privateAllocationResult",
            "ECAL",
            marketName=ALLOC,
            privateAllocationResultDownloadType="PRIVATE_ALLOCATION_RESULT",
        ),
        "PRIVATE_ALLOCATION_RESULT",
    )
    assert [(r["Sink"], r["CRRType"]) for r in doc["records"]] == [("DLAP_PGAE-APND", "LSE")]
    _, doc = unzip(
        fetch(
            own_client("wcal"),
            "publicAllocationResult",
            "WCAL",
            marketName=ALLOC,
            publicAllocationResultDownloadType="PUBLIC_ALLOCATION_RESULT",
        ),
        "PUBLIC_ALLOCATION_RESULT",
    )
    assert doc["records"]


def test_existing_crrs_public_and_private(cleared: Any, own_client: Callable[[str], Any]) -> None:
    ecal = own_client("ecal")
    _, public = unzip(
        fetch(ecal, "publicGeneralData", "ECAL", publicGeneralDownloadType="PUBLIC_EXISTING_CRR"),
        "PUBLIC_EXISTING_CRR",
    )
    assert {"ECAL", "WCAL", "NCAL"} <= {r["AssetOwner"] for r in public["records"]}
    _, mine = unzip(
        fetch(ecal, "privateGeneralData", "ECAL", privateGeneralDownloadType="PRIVATE_EXISTING_CRR_AUCTION"),
        "PRIVATE_EXISTING_CRR_AUCTION",
    )
    assert {r["AssetOwner"] for r in mine["records"]} == {"ECAL"} and {
        r["CRRType"] for r in mine["records"]
    } == {"AUC"}
    _, alloc = unzip(
        fetch(
            ecal,
            "privateGeneralData",
            "ECAL",
            "CSV",
            privateGeneralDownloadType="PRIVATE_EXISTING_CRR_ALLOCATION",
        ),
        "PRIVATE_EXISTING_CRR_ALLOCATION",
    )
    assert len(alloc) >= 3  # header + the seeded LSE CRR + the allocation award
    empty = fetch(
        ecal, "privateGeneralData", "ECAL", privateGeneralDownloadType="PRIVATE_EXISTING_CRR_LM_BEYOND_3"
    )
    assert codes(empty) == ["DWL0006"]
    _, repl = unzip(
        fetch(ecal, "publicGeneralData", "ECAL", publicGeneralDownloadType="SOURCE_SINK_REPLACEMENT"),
        "SOURCE_SINK_REPLACEMENT",
    )
    assert repl["records"][0]["RetiredSourceSink"] == "SONGS_2_N101"


def test_public_market_data(cleared: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("wcal")
    name, doc = unzip(
        fetch(c, "publicMarketData", "WCAL", marketName=AUC, publicMarketDownloadType="SOURCE_SINK"),
        "SOURCE_SINK",
    )
    assert name == f"{AUC}_SourceSink.json"
    pgae = [r for r in doc["records"] if r["SourceSink"] == "DLAP_PGAE-APND"]
    assert {r["TOU"] for r in pgae} == {"ON", "OFF"} and pgae[0]["BiddableFlag"] == "Yes"
    unzip(
        fetch(
            c,
            "publicMarketData",
            "WCAL",
            "CSV",
            marketName=AUC,
            publicMarketDownloadType="GROUPED_BASE_LOADING",
        ),
        "GROUPED_BASE_LOADING",
    )
    monthly = fetch(c, "publicMarketData", "WCAL", marketName=AUC, publicMarketDownloadType="SET_ASIDE")
    assert codes(monthly) == ["DWL0005"]
    early = fetch(c, "publicMarketData", "WCAL", marketName=AUC_AN, publicMarketDownloadType="SOURCE_SINK")
    assert codes(early) == ["DWL0005"]  # published on week 2 Tuesday


def test_nomination_cap_data(cleared: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    _, doc = unzip(
        fetch(
            c,
            "privateAllocationMarketData",
            "ECAL",
            nominationCapCalcName=f"NOMCAP_{ALLOC}",
            privateAllocationDataDownloadType="MEQ",
        ),
        "MEQ",
    )
    assert {r["AssetOwner"] for r in doc["records"]} == {"ECAL"}
    wrong_term = fetch(
        c,
        "privateAllocationMarketData",
        "ECAL",
        nominationCapCalcName=f"NOMCAP_{ALLOC}",
        privateAllocationDataDownloadType="SEQ",
    )
    assert codes(wrong_term) == ["SER0005"]
    unknown = fetch(
        c,
        "privateAllocationMarketData",
        "ECAL",
        nominationCapCalcName=f"NOMCAP_{AUC}",
        privateAllocationDataDownloadType="MEQ",
    )
    assert codes(unknown) == ["CAP0001"]
    not_yet = fetch(
        c,
        "privateAllocationMarketData",
        "ECAL",
        nominationCapCalcName=f"NOMCAP_{ALLOC_AN}",
        privateAllocationDataDownloadType="SEQ",
    )
    assert codes(not_yet) == ["CAP0002"]


def test_market_codes(cleared: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    unknown = fetch(
        c,
        "publicAuctionResult",
        "ECAL",
        marketName="AUC_NOPE",
        publicAuctionResultDownloadType="CLEARING_PRICE",
    )
    assert unknown.status == 400 and codes(unknown) == ["MKT0001"]
    not_posted = fetch(
        c,
        "publicAuctionResult",
        "ECAL",
        marketName=AUC_AN,
        publicAuctionResultDownloadType="PUBLIC_AUCTION_RESULT",
    )
    assert codes(not_posted) == ["MKT0007"]
    wrong_type = fetch(
        c,
        "publicAllocationResult",
        "ECAL",
        marketName=AUC,
        publicAllocationResultDownloadType="PUBLIC_ALLOCATION_RESULT",
    )
    assert codes(wrong_type) == ["SER0005"]
    bad_format = fetch(
        c,
        "publicAuctionResult",
        "ECAL",
        "XML",
        marketName=AUC,
        publicAuctionResultDownloadType="PUBLIC_AUCTION_RESULT",
    )
    assert bad_format.status == 400


def test_annual_data_once_published(cleared: Any, own_client: Callable[[str], Any]) -> None:
    cleared.advance_by("6d")  # past the annual allocation's data publish date (week 2 Monday 07:00)
    c = own_client("ecal")
    _, doc = unzip(
        fetch(c, "publicMarketData", "ECAL", marketName=ALLOC_AN, publicMarketDownloadType="SET_ASIDE"),
        "SET_ASIDE",
    )
    assert {r["Period"] for r in doc["records"]} == {"2026_S01", "2026_S02", "2026_S03", "2026_S04"}
    for kind in ("SEQ", "UPPER_BOUND", "SIGNATURE"):
        r = fetch(
            c,
            "privateAllocationMarketData",
            "ECAL",
            nominationCapCalcName=f"NOMCAP_{ALLOC_AN}",
            privateAllocationDataDownloadType=kind,
        )
        if r.status == 200:
            unzip(r, kind)
        else:  # ECAL has no caps in the annual allocation
            assert codes(r) == ["DWL0006"], kind
