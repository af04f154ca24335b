"""TOR conversion end to end over mTLS: ECAL converts, WCAL approves, posting grants MT_TOR CRRs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from harness.sandbox.domain.downloads import read_zip
from harness.sandbox.domain.plan import PACIFIC, SIM_WEEK1_MONDAY
from tests.sandbox.sbutil import codes, ext, getter

BASE = "/torconversion/v1.0"
OPEN = "TOR_CONVERSION_2026_M03"
POSTED = "TOR_CONVERSION_2026_M02"
START, END = "2026-03-01T08:00:00Z", "2026-04-01T07:00:00Z"


get = getter(BASE)


def request_body(holder: str = "ECAL", **kw: Any) -> dict[str, Any]:
    rec = {
        "source": "MALIN_5_N101",
        "sink": "DLAP_PGAE-APND",
        "startDate": START,
        "endDate": END,
        "mw": 10,
        "transfereeAO": "WCAL",
        "modeled": "Y",
    }
    rec.update(kw)
    return {"torConversionWindow": OPEN, "torHolder": holder, "conversionRequests": [rec]}


def test_windows_and_status(ready: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    active = get(c, "activeTorConversionWindows", "ECAL")
    assert active.status == 200 and [w["name"] for w in active.json()] == [OPEN]
    assert active.json()[0]["status"] == "OPEN_FOR_CONVERSION"
    assert set(active.json()[0]) == {
        "name",
        "period",
        "conversionSubmissionWindow",
        "conversionApprovalWindow",
        "status",
    }
    posted = get(c, "postedConversionWindows", "ECAL")
    assert [w["status"] for w in posted.json()] == ["POSTED"]
    one = get(c, "torConversionWindowStatus", "ECAL", torConversionWindow=OPEN)
    assert one.status == 200 and one.json()["period"]["name"] == "2026_M03"
    unknown = get(c, "torConversionWindowStatus", "ECAL", torConversionWindow="TOR_NOPE")
    assert unknown.status == 400 and codes(unknown) == ["TOR0016"]
    paths = get(c, "torConversionPaths", "ECAL", torConversionWindow=OPEN).json()
    assert {(p["source"], p["sink"], p["maxMw"]) for p in paths} == {
        ("MALIN_5_N101", "DLAP_PGAE-APND", 50),
        ("PALOVRDE_ASR-APND", "DLAP_SCE-APND", 30),
    }


def test_invalid_requests_answer_error_and_are_listed(ready: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    body = request_body()
    body["conversionRequests"] += [
        {**body["conversionRequests"][0], "sink": "DLAP_SCE-APND"},  # no such path
        {**body["conversionRequests"][0], "mw": 45},  # 10 + 45 > 50
        {**body["conversionRequests"][0], "transfereeAO": "ZZZZ"},
    ]
    r = c.request("POST", f"{BASE}/torConversionCreation", json=body)
    assert r.status == 200, r.text
    assert r.json()["status"] == "ERROR" and len(json.loads(r.json()["errorMessages"])) == 3
    listed = get(c, "torConversionRequestList", "ECAL", torConversionWindow=OPEN).json()
    assert sorted(x["requestStatus"] for x in listed) == ["ERROR", "ERROR", "ERROR", "PENDING_APPROVAL"]
    assert all(x.get("message") for x in listed if x["requestStatus"] == "ERROR")
    assert get(own_client("wcal"), "torConversionRequestList", "WCAL", torConversionWindow=OPEN).json() == []


def test_request_codes(ready: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    closed = c.request(
        "POST", f"{BASE}/torConversionCreation", json={**request_body(), "torConversionWindow": POSTED}
    )
    assert closed.status == 400 and codes(closed) == ["TOR0023"]
    unknown = c.request(
        "POST", f"{BASE}/torConversionCreation", json={**request_body(), "torConversionWindow": "X1"}
    )
    assert codes(unknown) == ["TOR0016"]
    spy = c.request("POST", f"{BASE}/torConversionCreation", json=request_body(holder="WCAL"))
    assert spy.status == 403 and codes(spy) == ["SEC0001"]
    early = own_client("wcal").request(
        "POST",
        f"{BASE}/torConversionApproval",
        json={"torConversionWindow": OPEN, "assetOwner": "WCAL", "conversionApprovalRecords": []},
    )
    assert early.status == 400 and codes(early) == ["TOR0024"]


@pytest.mark.parametrize(
    ("local", "status"),
    [
        ("2026-02-04T16:59:00", "OPEN_FOR_CONVERSION"),  # week 1 Wednesday
        ("2026-02-05T08:59:00", "CLOSED_FOR_CONVERSION"),
        ("2026-02-05T09:00:00", "OPEN_FOR_APPROVAL"),  # Thursday: the deck's MT_TOR approval day
        ("2026-02-06T16:59:00", "OPEN_FOR_APPROVAL"),
        ("2026-02-06T17:00:00", "CLOSED_FOR_APPROVAL"),
    ],
)
def test_plan_calendar_puts_approvals_on_week1_thursday(
    ready: Any, own_client: Callable[[str], Any], local: str, status: str
) -> None:
    c = own_client("ecal")
    try:
        ready.set_clock(datetime.fromisoformat(local).replace(tzinfo=PACIFIC))
        assert (
            get(c, "torConversionWindowStatus", "ECAL", torConversionWindow=OPEN).json()["status"] == status
        )
    finally:
        ready.set_clock(SIM_WEEK1_MONDAY)


def test_approval_and_posting_grant_mt_tor_crrs(ready: Any, own_client: Callable[[str], Any]) -> None:
    ecal, wcal = own_client("ecal"), own_client("wcal")
    r = ecal.request(
        "POST",
        f"{BASE}/torConversionCreation",
        json=request_body(source="PALOVRDE_ASR-APND", sink="DLAP_SCE-APND", mw=7.5),
    )
    assert r.json()["status"] == "VALID", r.text
    ext(ready, f"/torWindows/{OPEN}/status", {"status": "OPEN_FOR_APPROVAL"})
    records = get(wcal, "mtTorCRRApprovalList", "WCAL", torConversionWindow=OPEN).json()
    mine = [x for x in records if x["sink"] == "DLAP_SCE-APND"]
    assert {x["tou"] for x in mine} == {"ON", "OFF"} and all(
        x["approvalStatus"] == "PENDING_APPROVAL" for x in mine
    )
    assert get(ecal, "mtTorCRRApprovalList", "ECAL", torConversionWindow=OPEN).json() == []
    approve = [
        {k: x[k] for k in ("conversionApprovalId", "source", "sink", "tou", "hedgeType", "mw")}
        | {"approvalStatus": "APPROVED"}
        for x in mine
    ]
    stolen = ecal.request(
        "POST",
        f"{BASE}/torConversionApproval",
        json={"torConversionWindow": OPEN, "assetOwner": "ECAL", "conversionApprovalRecords": approve},
    )
    assert stolen.json()["status"] == "ERROR"
    r = wcal.request(
        "POST",
        f"{BASE}/torConversionApproval",
        json={"torConversionWindow": OPEN, "assetOwner": "WCAL", "conversionApprovalRecords": approve},
    )
    assert r.status == 200 and r.json()["status"] == "VALID", r.text
    posted = ext(ready, f"/torWindows/{OPEN}/post")
    assert len(posted["mtTorCrrIds"]) == 2
    after = get(wcal, "mtTorCRRApprovalList", "WCAL", torConversionWindow=OPEN).json()
    assert {x["mtTorCrrId"] for x in after if x["approvalStatus"] == "APPROVED"} == set(posted["mtTorCrrIds"])
    assert all(x["approvalStatus"] == "DISAPPROVED" for x in after if x["sink"] != "DLAP_SCE-APND")
    statuses = {
        x["sink"]: x["requestStatus"]
        for x in get(ecal, "torConversionRequestList", "ECAL", torConversionWindow=OPEN).json()
        if x["mw"] == 7.5
    }
    assert statuses == {"DLAP_SCE-APND": "APPROVED"}
    d = wcal.request(
        "GET",
        "/marketdata/v1.0/privateGeneralData",
        params={
            "participantName": "WCAL",
            "privateGeneralDownloadType": "PRIVATE_EXISTING_CRR_SYSTEM",
            "fileFormat": "JSON",
        },
    )
    assert d.status == 200, d.text
    system = json.loads(read_zip(d.body)[1])["records"]
    assert {c["CRRID"] for c in system if c["CRRType"] == "MT_TOR"} == set(posted["mtTorCrrIds"])
    assert [w["name"] for w in get(wcal, "postedConversionWindows", "WCAL").json()] == [POSTED, OPEN]
