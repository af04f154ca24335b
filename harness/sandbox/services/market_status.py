"""CRR Market Status: the lifecycle of allocation and auction markets, read from ``markets``.

"Active" means results not yet posted (PREP, OPEN or CLOSED); "posted" means POSTED. Every
operation names the participant it acts for; the certificate must be provisioned for it.
"""

from __future__ import annotations

from typing import Any

from harness.sandbox.domain import markets
from harness.sandbox.services.request import Operations, Reply, SandboxRequest

SERVICE = "market_status"
operations = Operations(SERVICE)
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


@operations.handler("getMarketStatus")
async def market_status(req: SandboxRequest) -> Reply:
    _check_participant(req)
    with req.store.read() as conn:
        market = markets.require_market(conn, req.params["marketName"], req.clock)
    return Reply(body=_status_body(req, market))


@operations.handler("getMarketInfo")
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


operations.handler("getActiveAllocationMarkets")(_lister(markets.ALLOCATION, ACTIVE))
operations.handler("getActiveAuctionMarkets")(_lister(markets.AUCTION, ACTIVE))
operations.handler("getPostedAllocationMarkets")(_lister(markets.ALLOCATION, POSTED))
operations.handler("getPostedAuctionMarkets")(_lister(markets.AUCTION, POSTED))
