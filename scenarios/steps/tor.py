"""TOR CRR conversion: holders request MT_TOR conversions, transferees approve them."""

from __future__ import annotations

from typing import Any

import pytest

from harness.scenarios.pytest_plugin import writes
from harness.scenarios.steplib import given, parsers, then, when
from scenarios.context import ScenarioContext

SERVICE = "tor_conversion"


def windows(ctx: ScenarioContext, status: str) -> list[dict[str, Any]]:
    ctx.call(SERVICE, "getNewConversionWindowForRequest", params={"participantName": ctx.me.sc})
    return [w for w in ctx.expect_ok() or [] if w.get("status") == status]


def tor_window(ctx: ScenarioContext) -> str:
    return ctx.need("tor_window", "no TOR conversion window chosen in this scenario")


@given(parsers.parse('TOR holder "{holder}" has requested an MT_TOR conversion for me'))
@writes
def holder_requests(ctx: ScenarioContext, holder: str) -> None:
    """The holder converts 5 MW of its first TOR path, naming me as transferee, in the window
    that is open for conversion."""
    who = ctx.env.participant(holder)
    ctx.call(SERVICE, "getNewConversionWindowForRequest", who=who, params={"participantName": holder})
    open_windows = [w for w in ctx.expect_ok() or [] if w.get("status") == "OPEN_FOR_CONVERSION"]
    if not open_windows:
        pytest.skip(f"no TOR conversion window is open for conversion on {ctx.env.settings.target}")
    name = open_windows[0]["name"]
    ctx.call(
        SERVICE,
        "getTorConversionWindowPaths",
        who=who,
        params={"torConversionWindow": name, "participantName": holder},
    )
    path = ctx.expect_ok()[0]
    ctx.call(
        SERVICE,
        "postTorConversionRequest",
        who=who,
        body={
            "torConversionWindow": name,
            "torHolder": holder,
            "conversionRequests": [
                {
                    "source": path["source"],
                    "sink": path["sink"],
                    "startDate": path["startDate"],
                    "endDate": path["endDate"],
                    "mw": 5,
                    "transfereeAO": ctx.me.sc,
                    "modeled": "Y",
                }
            ],
        },
    )
    body = ctx.expect_ok()
    assert body.get("status") == "VALID", (
        f"the conversion request was not accepted: {body.get('errorMessages')}"
    )
    ctx.data["tor_window"] = name


@given("a TOR conversion window open for approval")
def window_open_for_approval(ctx: ScenarioContext) -> None:
    """Pick the conversion window that is open for approval."""
    found = windows(ctx, "OPEN_FOR_APPROVAL")
    if not found:
        pytest.skip(f"no TOR conversion window is open for approval on {ctx.env.settings.target}")
    ctx.data["tor_window"] = found[0]["name"]


def pending(ctx: ScenarioContext) -> list[dict[str, Any]]:
    ctx.call(
        SERVICE,
        "getMtTorCRRList",
        params={"torConversionWindow": tor_window(ctx), "participantName": ctx.me.sc},
    )
    return list(ctx.expect_ok() or [])


@when("I list the MT_TOR CRRs awaiting my approval")
def list_pending(ctx: ScenarioContext) -> None:
    """getMtTorCRRList for the window (remembered for the approval step)."""
    ctx.data["tor_records"] = pending(ctx)


@when("I approve every MT_TOR CRR awaiting my approval")
@writes
def approve_all(ctx: ScenarioContext) -> None:
    """Approve every record still PENDING_APPROVAL in the window."""
    records = ctx.data.get("tor_records")
    if records is None:
        records = pending(ctx)
    approvals = [
        {**r, "approvalStatus": "APPROVED"} for r in records if r.get("approvalStatus") == "PENDING_APPROVAL"
    ]
    ctx.call(
        SERVICE,
        "postTorConversionApproval",
        body={
            "torConversionWindow": tor_window(ctx),
            "assetOwner": ctx.me.sc,
            "conversionApprovalRecords": approvals,
        },
    )


@then(parsers.parse('the MT_TOR CRRs awaiting my approval are all "{status}"'))
def approvals_are(ctx: ScenarioContext, status: str) -> None:
    """Every record of mine in the window has this approval status (and there is at least one)."""
    records = pending(ctx)
    assert records, "there are no MT_TOR records for me in the window"
    statuses = sorted({str(r.get("approvalStatus")) for r in records})
    assert statuses == [status], f"MT_TOR approval statuses are {statuses}, expected all {status}"
