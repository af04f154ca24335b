"""CRR Market Status: the lifecycle of allocation and auction markets, read from ``markets``.

"Active" means results not yet posted (PREP, OPEN or CLOSED); "posted" means POSTED. Every
operation names the participant it acts for; the certificate must be provisioned for it.
"""

from __future__ import annotations

from typing import Any

from harness.sandbox import markets
from harness.sandbox.context import Reply, SandboxRequest
from harness.sandbox.registry import handler

SERVICE = "market_status"
ACTIVE = ("PREP", "OPEN", "CLOSED")
POSTED = ("POSTED",)


def _check_participant(req: SandboxRequest) -> None:
    if req.operation.takes_participant:
        req.participant()


def _status_body(req: SandboxRequest, market: markets.Market) -> Any:
    """The status as the loaded contract shapes it: a bare enum string (CAISO's files) or an object."""
    schema = req.operation.responses.get("200") or {}
    if schema.get("type") != "object":
        return market.status
    values = {
        "name": market.name,
        "marketName": market.name,
        "status": market.status,
        "marketStatus": market.status,
        "marketType": market.market_type,
        "marketTerm": market.term,
    }
    return {k: values[k] for k in schema.get("properties", {}) if k in values}


@handler(SERVICE, "getMarketStatus")
async def market_status(req: SandboxRequest) -> Reply:
    _check_participant(req)
    with req.store.read() as conn:
        market = markets.require_market(conn, req.params["marketName"], req.clock)
    return Reply(body=_status_body(req, market))


@handler(SERVICE, "getMarketInfo")
async def market_info(req: SandboxRequest) -> Reply:
    _check_participant(req)
    with req.store.read() as conn:
        market = markets.require_market(conn, req.params["marketName"], req.clock)
    return Reply(body=market.to_contract())


def _lister(market_type: str, statuses: tuple[str, ...]) -> Any:
    async def list_markets(req: SandboxRequest) -> Reply:
        _check_participant(req)
        with req.store.read() as conn:
            found = markets.list_markets(conn, market_type, statuses, clock=req.clock)
        return Reply(body=[m.to_contract() for m in found])

    return list_markets


handler(SERVICE, "getActiveAllocationMarkets")(_lister(markets.ALLOCATION, ACTIVE))
handler(SERVICE, "getActiveAuctionMarkets")(_lister(markets.AUCTION, ACTIVE))
handler(SERVICE, "getPostedAllocationMarkets")(_lister(markets.ALLOCATION, POSTED))
handler(SERVICE, "getPostedAuctionMarkets")(_lister(markets.AUCTION, POSTED))
