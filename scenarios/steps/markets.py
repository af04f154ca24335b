"""Market Status: which markets exist, their status, periods and lists."""

from __future__ import annotations

from typing import Any

import pytest

from harness.scenarios.steplib import parsers, then
from harness.scenarios.team import status_of
from scenarios.context import ScenarioContext

LISTS = {
    ("active", "allocation"): "getActiveAllocationMarkets",
    ("active", "auction"): "getActiveAuctionMarkets",
    ("posted", "allocation"): "getPostedAllocationMarkets",
    ("posted", "auction"): "getPostedAuctionMarkets",
}


def _market_info(ctx: ScenarioContext, name: str) -> dict[str, Any]:
    ctx.call("market_status", "getMarketInfo", params={"marketName": name, "participantName": ctx.me.sc})
    return ctx.expect_ok()


@then(
    parsers.re(
        r'the market "(?P<market>[^"]+)" is listed among the (?P<which>active|posted) (?P<kind>allocation|auction) markets'
    )
)
def market_listed(ctx: ScenarioContext, market: str, which: str, kind: str) -> None:
    """The market appears in the active (or posted) allocation (or auction) market list."""
    name = ctx.env.market(market)
    ctx.call("market_status", LISTS[(which, kind)], params={"participantName": ctx.me.sc})
    names = [m.get("name") for m in ctx.expect_ok() or []]
    if name not in names:
        pytest.fail(
            f"{name} is not among the {which} {kind} markets: {', '.join(map(str, names)) or 'none'}",
            pytrace=False,
        )


@then(parsers.parse('the market "{market}" has status "{status}"'))
def market_has_status(ctx: ScenarioContext, market: str, status: str) -> None:
    """Market Status says PREP, OPEN, CLOSED or POSTED."""
    name = ctx.env.market(market)
    ctx.call("market_status", "getMarketStatus", params={"marketName": name, "participantName": ctx.me.sc})
    actual = status_of(ctx.expect_ok())
    assert actual == status, f"{name} has status {actual}, expected {status}"


@then(parsers.parse('the market "{market}" offers the periods "{periods}"'))
def market_offers_periods(ctx: ScenarioContext, market: str, periods: str) -> None:
    """Market Info lists exactly these periods (comma-separated) among its products."""
    info = _market_info(ctx, ctx.env.market(market))
    offered = sorted({p["period"]["name"] for p in info.get("products", [])})
    wanted = sorted(p.strip() for p in periods.split(","))
    assert offered == wanted, f"{market} offers periods {offered}, expected {wanted}"
