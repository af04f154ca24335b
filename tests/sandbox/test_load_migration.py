"""Load migration end to end over mTLS: UDC data posted and read back, posting, LM CRRs, LMV codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.sandbox.sbutil import codes, ext

BASE = "/loadmigration/v1.0"
OPEN, POSTED, PREP = "LOAD_MIGRATION_2026_M03", "LOAD_MIGRATION_2026_M02", "LOAD_MIGRATION_2026_M04"
EFFECTIVE = "2026-03-01T08:00:00Z"


def get(client: Any, op: str, sc: str, market: str | None = None) -> Any:
    params = {"participantName": sc}
    if market:
        params["loadMigrationMarketName"] = market
    return client.request("GET", f"{BASE}/{op}", params=params)


def post(client: Any, op: str, sc: str, body: dict[str, Any]) -> Any:
    return client.request("POST", f"{BASE}/{op}", params={"participantName": sc}, json=body)


def customers(market: str = OPEN, udc: str = "UPGAE", **kw: Any) -> dict[str, Any]:
    rec = {"lse": "111111111", "class": "RESIDENTIAL", "numberOfCustomers": 1000, **kw}
    return {"loadMigrationMarket": market, "udcName": udc, "numberOfCustomerRecords": [rec]}


def dasr(market: str = OPEN, effective: str = EFFECTIVE, **kw: Any) -> dict[str, Any]:
    rec = {
        "recordId": "D-1",
        "class": "RESIDENTIAL",
        "fromLse": "111111111",
        "toLse": "222222222",
        "numCustomerTransfer": 100,
        **kw,
    }
    return {
        "loadMigrationMarket": market,
        "udcName": "UPGAE",
        "effectiveDate": effective,
        "dasrRecords": [rec],
    }


def rates() -> dict[str, Any]:
    recs = [
        {"class": "RESIDENTIAL", "tou": tou, "seasonNumber": 1, "year": 2025, "kwRate": kw}
        for tou, kw in (("ON", 1.5), ("OFF", 0.9))
    ]
    return {"loadMigrationMarket": OPEN, "udcName": "UPGAE", "customerRateRecords": recs}


def test_market_lists_and_status(ready: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    active = {m["marketName"]: m for m in get(c, "activeLoadMigrationMarketList", "ECAL").json()}
    assert {n: m["marketStatus"] for n, m in active.items()} == {OPEN: "OPEN", PREP: "PREP"}
    assert active[OPEN]["effectiveDate"] == EFFECTIVE and active[OPEN]["nHourDataPosting"] == "Yes"
    posted = get(c, "postedLoadMigrationMarketList", "ECAL").json()
    assert [(m["marketName"], m["marketStatus"]) for m in posted] == [(POSTED, "POSTED")]
    assert get(c, "loadMigrationMarketStatus", "ECAL", OPEN).json() == {"marketStatus": "OPEN"}
    unknown = get(c, "loadMigrationMarketStatus", "ECAL", "LOAD_MIGRATION_1999_M01")
    assert unknown.status == 400 and codes(unknown) == ["LMV1003"]


def upload_udc_data(c: Any) -> None:
    """The UDC's three uploads for OPEN (an upload replaces the previous one, so any test may send
    them: pytest-xdist may run a module's tests on different workers, each with its own sandbox)."""
    for op, body in (("numberOfCustomers", customers()), ("dasrSummary", dasr()), ("customerRates", rates())):
        r = post(c, op, "ECAL", body)
        assert r.status == 200 and r.json() == {"submissionStatus": "VALID"}, (op, r.text)


def test_udc_data_round_trip(ready: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    upload_udc_data(c)
    got = get(c, "existingNumberOfCustomers", "ECAL", OPEN).json()
    assert got["udcName"] == "UPGAE" and [
        (x["lse"], x["numberOfCustomers"]) for x in got["numberOfCustomerRecords"]
    ] == [("111111111", 1000)]
    got = get(c, "existingDasrSummary", "ECAL", OPEN).json()["dasrRecords"]
    assert [(x["recordId"], x["numCustomerTransfer"]) for x in got] == [("D-1", 100)]
    got = get(c, "existingCustomerRates", "ECAL", OPEN).json()["customerRateRecords"]
    assert sorted((x["tou"], x["kwRate"]) for x in got) == [("OFF", 0.9), ("ON", 1.5)]
    # resubmitting upserts; zero customers removes the record
    post(c, "numberOfCustomers", "ECAL", customers(lse="333333333", numberOfCustomers=5))
    post(c, "numberOfCustomers", "ECAL", customers(lse="333333333", numberOfCustomers=0))
    assert len(get(c, "existingNumberOfCustomers", "ECAL", OPEN).json()["numberOfCustomerRecords"]) == 1


def test_udc_codes(ready: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    assert codes(post(c, "numberOfCustomers", "ECAL", customers(udc="USCE"))) == ["LMV024"]
    assert codes(post(c, "dasrSummary", "ECAL", dasr(effective="2026-04-01T07:00:00Z"))) == ["LMV023"]
    assert codes(post(c, "numberOfCustomers", "ECAL", customers(market=POSTED))) == ["LMV0102"]
    assert codes(post(c, "numberOfCustomers", "ECAL", customers(market="LM_NOPE"))) == ["LMV1003"]
    assert codes(post(c, "numberOfCustomers", "ECAL", customers(lse="999999999"))) == ["SER0030"]
    assert codes(post(c, "dasrSummary", "ECAL", dasr(toLse="111111111"))) == ["SER0030"]
    spy = post(own_client("wcal"), "numberOfCustomers", "ECAL", customers())
    assert spy.status == 403 and codes(spy) == ["SEC0001"]
    not_udc = get(own_client("ncal"), "existingNumberOfCustomers", "SCAL", OPEN)
    assert not_udc.status == 403 and codes(not_udc) == ["SEC0001"]
    assert codes(get(c, "existingDasrSummary", "ECAL", PREP)) == ["LMV1002"]


def test_n_hour_data(ready: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    r = get(c, "nHourData", "ECAL", OPEN)
    assert r.status == 200 and {x["defaultLoadAggregationPoint"] for x in r.json()} >= {"DLAP_PGAE-APND"}
    assert all(x["tou"] in ("ON", "OFF") and 1 <= x["hourEnding"] <= 24 for x in r.json())
    assert codes(get(c, "nHourData", "ECAL", POSTED)) == ["LMV0101"]
    assert codes(get(c, "nHourData", "ECAL", PREP)) == ["LMV1002"]


def test_posted_results_and_isolation(ready: Any, own_client: Callable[[str], Any]) -> None:
    ecal, wcal, ncal = own_client("ecal"), own_client("wcal"), own_client("ncal")
    assert codes(get(ecal, "loadPercentage", "ECAL", OPEN)) == ["LMV0103"]
    assert codes(get(ecal, "loadMigrationCrrResults", "ECAL", OPEN)) == ["LMV0103"]
    seeded = get(ecal, "loadPercentage", "ECAL", POSTED).json()["loadMigrationPercentages"]
    assert seeded and all(x["fromAssetOwner"] == "ECAL" and x["toAssetOwner"] == "WCAL" for x in seeded)
    assert get(wcal, "loadPercentage", "WCAL", POSTED).json()["loadMigrationPercentages"]
    assert get(ncal, "loadPercentage", "NCAL", POSTED).json()["loadMigrationPercentages"] == []


def test_posting_creates_load_migration_crrs(ready: Any, own_client: Callable[[str], Any]) -> None:
    ecal, wcal = own_client("ecal"), own_client("wcal")
    upload_udc_data(ecal)
    assert ext(ready, f"/loadMigrationMarkets/{OPEN}/post")["marketStatus"] == "POSTED"
    pct = get(ecal, "loadPercentage", "ECAL", OPEN).json()["loadMigrationPercentages"]
    on = [x for x in pct if x["seasonNumber"] == 1 and x["tou"] == "ON"]
    assert [(x["loadPercentage"], x["loadTransferMw"]) for x in on] == [(10.0, 0.15)]
    gained = get(wcal, "loadMigrationCrrResults", "WCAL", OPEN).json()["loadMigrationCrrs"]
    assert [(x["crrType"], x["initialMw"], x["sink"]) for x in gained] == [("LSE_LMT", 4.0, "DLAP_PGAE-APND")]
    counter = get(ecal, "loadMigrationCrrResults", "ECAL", OPEN).json()["loadMigrationCrrs"]
    assert [(x["crrType"], x["initialMw"], x["source"]) for x in counter] == [
        ("LMT_CNT", 4.0, "DLAP_PGAE-APND")
    ]
    assert gained[0]["parentCrrId"] == counter[0]["parentCrrId"]
    assert codes(post(ecal, "numberOfCustomers", "ECAL", customers())) == ["LMV0102"]
