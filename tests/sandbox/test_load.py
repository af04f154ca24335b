"""Historical and forecasted load over mTLS: windows, uploads, exceedance check, resubmission, codes."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from tests.sandbox.sbutil import codes, ext, getter

BASE = "/historicalforecastedload/v1.0"
HIST, FCST = "HIST_LOAD_2026_M03", "FCST_LOAD_2026_M03"
SINK = "DLAP_PGAE-APND"


get = getter(BASE)


def day(
    date: str, mws: Sequence[float], sink: str = SINK, data_type: str = "FINAL_LOAD"
) -> list[dict[str, Any]]:
    """Hourly records for one operating day (``date`` = local midnight in UTC)."""
    return [
        {"sinkName": sink, "effectiveDate": date, "hourEnding": he, "dataType": data_type, "mw": mw}
        for he, mw in enumerate(mws, start=1)
    ]


def upload(
    client: Any, window: str, period: str, records: list[dict[str, Any]], flag: str = "H", owner: str = "ECAL"
) -> Any:
    return client.request(
        "POST",
        f"{BASE}/loadSubmission",
        json={
            "histForecastFlag": flag,
            "assetOwner": owner,
            "loadSubmissionWindowName": window,
            "periodName": period,
            "hourlyLoad": records,
        },
    )


PROFILE = [300 + 10 * h for h in range(24)]  # peaks at HE24 = 530 MW (OFF peak), HE22 = 510 (ON)


def test_window_lists(ready: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    assert [w["name"] for w in get(c, "openHistLoadSubmissionWindow", "ECAL").json()] == [HIST]
    [fc] = get(c, "openForecastLoadSubmissionWindow", "ECAL").json()
    assert fc["name"] == FCST and fc["histForecastFlag"] == "F" and fc["windowStatus"] == "OPEN"
    closed = {w["name"]: w for w in get(c, "closedHistLoadSubmissionWindow", "ECAL").json()}
    assert {"HIST_LOAD_2026_M02", "HIST_LOAD_2027_ANNUAL"} <= set(closed)
    assert (
        len(closed["HIST_LOAD_2027_ANNUAL"]["periods"]) == 4
        and closed["HIST_LOAD_2027_ANNUAL"]["term"] == "ANNUAL"
    )
    assert {w["name"] for w in get(c, "closedForecastLoadSubmissionWindow", "ECAL").json()} == {
        "FCST_LOAD_2026_M02",
        "FCST_LOAD_2027_ANNUAL",
    }
    one = get(c, "loadSubmissionWindowStatus", "ECAL", loadSubmissionWindowName=HIST)
    assert one.status == 200 and one.json()["periods"][0]["name"] == "2025_M03"
    unknown = get(c, "loadSubmissionWindowStatus", "ECAL", loadSubmissionWindowName="NOPE")
    assert unknown.status == 400 and codes(unknown) == ["LHFV0030"]


def test_historical_upload_read_back_and_exceedance(ready: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    records = day("2025-03-03T08:00:00Z", PROFILE) + day(
        "2025-03-09T08:00:00Z", PROFILE[:23]
    )  # Mon; DST Sunday
    r = upload(c, HIST, "2025_M03", records)
    assert r.status == 200 and r.json()["status"] == "VALID" and "errorMessages" not in r.json(), r.text
    [back] = get(c, "loadData", "ECAL", loadSubmissionWindowName=HIST, periodName="2025_M03").json()
    assert back["loadSubmissionStatus"]["status"] == "VALID" and len(back["hourlyLoad"]) == 47
    tou = {(x["effectiveDate"][:10], x["hourEnding"]): x["timeOfUse"] for x in back["hourlyLoad"]}
    assert (
        tou[("2025-03-03", 7)] == "ON"
        and tou[("2025-03-03", 6)] == "OFF"
        and tou[("2025-03-09", 12)] == "OFF"
    )
    [ex] = get(c, "loadExceedanceValues", "ECAL", loadSubmissionWindowName=HIST, periodName="2025_M03").json()
    values = {
        x["timeOfUse"]: (x["maxMW"], x["exceedance"]) for x in ex["loadExceedance"] if x["sinkName"] == SINK
    }
    assert values["ON"] == (510, 510) and values["OFF"][0] == 530
    assert (
        get(
            own_client("wcal"), "loadData", "WCAL", loadSubmissionWindowName=HIST, periodName="2025_M03"
        ).json()
        == []
    )


def test_forecast_over_exceedance_is_reported_then_resubmitted(
    ready: Any, own_client: Callable[[str], Any]
) -> None:
    c = own_client("ecal")
    upload(c, HIST, "2025_M03", day("2025-03-03T08:00:00Z", PROFILE))
    high = day("2026-03-02T08:00:00Z", [mw * 1.2 for mw in PROFILE], data_type="FINAL_LOAD")
    r = upload(c, FCST, "2026_M03", high, flag="F")
    assert r.status == 200 and r.json()["status"] == "ERROR", r.text
    messages = json.loads(r.json()["errorMessages"])
    assert len(messages) == 2 and all(SINK in m for m in messages)  # one per sink and TOU
    [back] = get(c, "loadData", "ECAL", loadSubmissionWindowName=FCST, periodName="2026_M03").json()
    assert back["loadSubmissionStatus"]["status"] == "ERROR"
    ok = upload(c, FCST, "2026_M03", day("2026-03-02T08:00:00Z", PROFILE), flag="F")
    assert ok.json()["status"] == "VALID", ok.text
    [back] = get(c, "loadData", "ECAL", loadSubmissionWindowName=FCST, periodName="2026_M03").json()
    assert back["loadSubmissionStatus"]["status"] == "VALID" and back["hourlyLoad"][0]["mw"] == 300
    # another SC with no historical upload is checked against the plan's seeded values
    w = own_client("wcal")
    seeded = get(
        w, "loadExceedanceValues", "WCAL", loadSubmissionWindowName=FCST, periodName="2026_M03"
    ).json()
    assert seeded and seeded[0]["loadExceedance"]


def test_submission_codes(ready: Any, own_client: Callable[[str], Any]) -> None:
    c = own_client("ecal")
    rec = day("2025-03-03T08:00:00Z", [100])
    assert codes(upload(c, "NOPE", "2025_M03", rec)) == ["LHFV0030"]
    assert codes(upload(c, HIST, "2024_M03", rec)) == ["LHFV0031"]
    assert codes(upload(c, "HIST_LOAD_2026_M02", "2025_M02", rec)) == ["LHFV0033"]
    assert codes(upload(c, HIST, "2025_M03", day("2025-03-03T08:00:00Z", [100], data_type="GROSS_LOAD"))) == [
        "LHFV0026"
    ]
    assert codes(upload(c, FCST, "2026_M03", day("2026-03-02T08:00:00Z", [100]), flag="H")) == ["SER0030"]
    dst = [{**rec[0], "effectiveDate": "2025-03-09T08:00:00Z", "hourEnding": 24}]  # a 23-hour day
    assert codes(upload(c, HIST, "2025_M03", dst)) == ["SER0030"]
    outside = [{**rec[0], "effectiveDate": "2025-04-02T07:00:00Z"}]
    assert codes(upload(c, HIST, "2025_M03", outside)) == ["SER0030"]
    several = upload(
        c, HIST, "2025_M03", rec + rec + [{**rec[0], "sinkName": "TH_NP15_GEN-APND", "hourEnding": 2}]
    )
    assert codes(several) == ["SER0030", "SER0030"]
    spy = upload(own_client("wcal"), HIST, "2025_M03", rec)
    assert spy.status == 403 and codes(spy) == ["SEC0001"]
    mss = upload(
        own_client("ncal"),
        HIST,
        "2025_M03",
        day("2025-03-03T08:00:00Z", [100], data_type="GROSS_LOAD"),
        owner="SCAL",
    )
    assert mss.status == 200 and mss.json()["status"] == "VALID", mss.text


def test_operator_can_close_a_window(ready: Any, own_client: Callable[[str], Any]) -> None:
    assert ext(ready, f"/loadWindows/{HIST}/status", {"status": "CLOSED"})["windowStatus"] == "CLOSED"
    c = own_client("ecal")
    assert codes(upload(c, HIST, "2025_M03", day("2025-03-03T08:00:00Z", [1]))) == ["LHFV0033"]
    assert HIST in {w["name"] for w in get(c, "closedHistLoadSubmissionWindow", "ECAL").json()}
