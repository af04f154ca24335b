"""CRR Historical and Forecasted Load: windows, hourly load uploads, read-back, exceedance."""

from __future__ import annotations

from typing import Any

import pytest

from harness.scenarios.pytest_plugin import writes
from harness.scenarios.steplib import given, parsers, then, when
from scenarios import datafiles
from scenarios.context import ScenarioContext

SERVICE = "historical_forecasted_load"
LIST_OPS = {
    "historical": "getOpenHistoricalLoadSubmissionWindowList",
    "forecast": "getOpenForecastLoadSubmissionWindowList",
}
FLAGS = {"historical": "H", "forecast": "F"}


def window(ctx: ScenarioContext) -> dict[str, Any]:
    return ctx.need(
        "load_window", "no load window chosen: add 'Given an open forecast load submission window'"
    )


@given(parsers.re(r"an open (?P<kind>historical|forecast) load submission window"))
def open_load_window(ctx: ScenarioContext, kind: str) -> None:
    """Pick an open window of that kind (monthly first) and its first period."""
    ctx.call(SERVICE, LIST_OPS[kind], params={"participantName": ctx.me.sc})
    windows = sorted(ctx.expect_ok() or [], key=lambda w: w.get("term") != "MONTHLY")
    if not windows:
        pytest.skip(f"no {kind} load submission window is open on {ctx.env.settings.target}")
    ctx.data["load_window"] = {"kind": kind, **windows[0]}


@when(
    parsers.re(
        r'I submit (?P<kind>historical|forecast) load(?: for "(?P<owner>[^"]+)")? from the file "(?P<file>[^"]+)"'
    )
)
@writes
def submit_load(ctx: ScenarioContext, kind: str, owner: str | None, file: str) -> None:
    """Upload hourly load (file: sinkName, hourEnding, mw [, dataType]) for the window's first
    period; each row's hour is loaded on the period's first day."""
    w = window(ctx)
    period = w["periods"][0]
    hourly = [
        {
            "sinkName": r["sinkName"],
            "effectiveDate": period["startDate"],
            "hourEnding": int(r["hourEnding"]),
            "dataType": r.get("dataType", "FINAL_LOAD"),
            "mw": datafiles.number(r["mw"]),
        }
        for r in datafiles.rows(file)
    ]
    ctx.data["load_submitted"] = len(hourly)
    ctx.call(
        SERVICE,
        "postLoadSubmission",
        body={
            "histForecastFlag": FLAGS[kind],
            "assetOwner": owner or ctx.me.sc,
            "loadSubmissionWindowName": w["name"],
            "periodName": period["name"],
            "hourlyLoad": hourly,
        },
    )


@then(parsers.parse('the load submission is "{status}"'))
def load_submission_status(ctx: ScenarioContext, status: str) -> None:
    """The upload's answer says VALID (or ERROR, with the reasons)."""
    body = ctx.expect_ok()
    assert body.get("status") == status, (
        f"load submission is {body.get('status')}: {body.get('errorMessages', '')}"
    )


@then(parsers.re(r"I can read back the (?P<kind>historical|forecast) load I submitted"))
def read_back_load(ctx: ScenarioContext, kind: str) -> None:
    """getLoadData returns the hourly records I uploaded for that window and period."""
    w = window(ctx)
    ctx.call(
        SERVICE,
        "getLoadData",
        params={
            "loadSubmissionWindowName": w["name"],
            "periodName": w["periods"][0]["name"],
            "participantName": ctx.me.sc,
        },
    )
    sets = ctx.expect_ok() or []
    count = sum(len(s.get("hourlyLoad", [])) for s in sets)
    assert count == ctx.data.get("load_submitted"), (
        f"read back {count} hourly records, submitted {ctx.data.get('load_submitted')}"
    )


@then("the load exceedance values can be read")
def exceedance_values(ctx: ScenarioContext) -> None:
    """getLoadExceedanceValues answers with exceedance per sink and TOU for the window."""
    w = window(ctx)
    ctx.call(
        SERVICE,
        "getLoadExceedanceValues",
        params={
            "loadSubmissionWindowName": w["name"],
            "periodName": w["periods"][0]["name"],
            "participantName": ctx.me.sc,
        },
    )
    sets = ctx.expect_ok() or []
    assert any(s.get("loadExceedance") for s in sets), "no exceedance values for the window"
