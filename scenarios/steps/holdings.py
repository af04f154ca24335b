"""CRRs a participant holds, found the way a participant finds them: its existing-CRR downloads."""

from __future__ import annotations

from typing import Any

import pytest

from harness.scenarios.env import Who
from harness.scenarios.steplib import given, parsers
from scenarios.context import ScenarioContext
from scenarios.steps.downloads import records, request_download, unpack
from scenarios.steps.portfolios import market_periods

ORIGINS = ("AUCTION", "ALLOCATION", "SECONDARY_MARKET", "SYSTEM")


def held_crrs(ctx: ScenarioContext, who: Who) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    saved = ctx.who
    ctx.who = who
    try:
        for origin in ORIGINS:
            response = request_download(ctx, f"PRIVATE_EXISTING_CRR_{origin}", "JSON")
            if not response.ok:
                continue  # no records of that origin (DWL0006) or not provisioned
            _, text = unpack(response, "JSON")
            found.extend(records(text, "JSON"))
    finally:
        ctx.who = saved
    return found


def as_crr(rec: dict[str, Any]) -> dict[str, Any]:
    return {
        "crrId": int(rec["CRRID"]),
        "source": rec["Source"],
        "sink": rec["Sink"],
        "hedgeType": rec["HedgeType"],
        "tou": rec["TOU"],
        "period": rec["Period"],
        "crrType": rec["CRRType"],
        "mw": rec["MW"],
        "startDate": rec.get("StartDate"),
        "endDate": rec.get("EndDate"),
        "owner": rec.get("AssetOwner"),
    }


def choose(ctx: ScenarioContext, who: Who, periods: list[str]) -> None:
    """Pick a held CRR for one of the periods that no earlier scenario of this run has offered."""
    used: set[int] = ctx.env.memory.setdefault("offered_crrs", set())
    crrs = [as_crr(r) for r in held_crrs(ctx, who)]
    fitting = [c for c in crrs if c["period"] in periods and c["crrId"] not in used]
    if not fitting:
        pytest.skip(
            f"{who.sc} holds no CRR for {', '.join(periods)} that is still free to offer on {ctx.env.settings.target}"
            f" (holds {len(crrs)} CRRs); this scenario needs one"
        )
    crr = min(fitting, key=lambda c: c["crrId"])
    used.add(crr["crrId"])
    ctx.data["crr"] = crr


@given(parsers.re(r"(?:I|participant \"(?P<sc>[^\"]+)\") holds? a CRR for the market's period"))
def holds_crr_for_market(ctx: ScenarioContext, sc: str | None) -> None:
    """Find (through the existing-CRR downloads) a CRR held for one of my market's periods."""
    who = ctx.env.participant(sc) if sc else ctx.me
    choose(ctx, who, market_periods(ctx, ctx.require_market()))


@given(parsers.re(r"(?:I|participant \"(?P<sc>[^\"]+)\") holds? a CRR for the period \"(?P<period>[^\"]+)\""))
def holds_crr_for_period(ctx: ScenarioContext, sc: str | None, period: str) -> None:
    """Find (through the existing-CRR downloads) a CRR held for this period."""
    who = ctx.env.participant(sc) if sc else ctx.me
    choose(ctx, who, [period])
