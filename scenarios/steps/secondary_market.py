"""CRR Secondary Market: public sell offers, naming a counterparty, responses."""

from __future__ import annotations

from typing import Any

from harness.scenarios.pytest_plugin import writes
from harness.scenarios.steplib import parsers, then, when
from scenarios import datafiles
from scenarios.context import ScenarioContext

SERVICE = "secondary_market"
CONTACT = {"name": "Market Sim QA", "phone": "916-555-0100", "email": "qa@example.com"}


def offer(ctx: ScenarioContext) -> dict[str, Any]:
    return ctx.need("sm_offer", "no secondary market offer posted in this scenario")


@when(parsers.re(r"I post a public sell offer of that CRR at (?P<price>[\d.]+) \$/MW"))
@writes
def post_public_sell(ctx: ScenarioContext, price: str) -> None:
    """Post the chosen held CRR (all its MW) on the public bulletin board."""
    crr = ctx.data["crr"]
    item = {
        "assetOwner": ctx.me.sc,
        "crrId": crr["crrId"],
        "startDate": crr["startDate"],
        "endDate": crr["endDate"],
        "source": crr["source"],
        "sink": crr["sink"],
        "tou": crr["tou"],
        "hedgeType": crr["hedgeType"],
        "crrType": crr["crrType"],
        "mw": crr["mw"],
        "price": datafiles.number(price),
        "contactInfo": CONTACT,
    }
    ctx.call(SERVICE, "postPublicSmSellOffers", params={"participantName": ctx.me.sc}, body=[item])
    if ctx.last().ok:
        posted = ctx.expect_ok()
        ctx.data["sm_offer"] = {**item, "requestId": posted[0].get("requestId") if posted else None}


@when(parsers.parse('I offer it to participant "{other}" at the posted price'))
@writes
def name_counterparty(ctx: ScenarioContext, other: str) -> None:
    """Name the counterparty of my public offer (it then awaits that participant's response)."""
    o = offer(ctx)
    ctx.call(
        SERVICE,
        "targetSmPublicOfferToMp",
        params={"participantName": ctx.me.sc},
        body=[{"requestId": o["requestId"], "respondingMpName": other, "price": o["price"]}],
    )


@when(parsers.parse('participant "{other}" accepts my sell offer'))
@writes
def counterparty_accepts(ctx: ScenarioContext, other: str) -> None:
    """The named counterparty responds to my sell offer (the trade is credit-checked at once)."""
    o = offer(ctx)
    ctx.call(
        SERVICE,
        "postSmResponseToSellOffers",
        who=ctx.env.participant(other),
        params={"participantName": other},
        body=[{"requestId": o["requestId"]}],
    )


@then(parsers.parse('my secondary market offers with status "{status}" include that CRR'))
def my_offers_include(ctx: ScenarioContext, status: str) -> None:
    """getMySmOffersByStatus lists my offer of the chosen CRR under this status."""
    ctx.call(
        SERVICE, "getMySmOffersByStatus", params={"participantName": ctx.me.sc, "OfferStatusType": status}
    )
    crr_ids = [o.get("crrId") for o in ctx.expect_ok() or []]
    assert ctx.data["crr"]["crrId"] in crr_ids, (
        f"no {status} offer of CRR {ctx.data['crr']['crrId']} among {crr_ids}"
    )


@then(parsers.parse('participant "{other}" has a secondary market response with status "{status}"'))
def response_status(ctx: ScenarioContext, other: str, status: str) -> None:
    """The counterparty's own responses list holds one for my offer with this status."""
    o = offer(ctx)
    ctx.call(
        SERVICE,
        "getMySmResponsesByStatus",
        who=ctx.env.participant(other),
        params={"participantName": other, "responseStatusType": status},
    )
    request_ids = [r.get("requestId") for r in ctx.expect_ok() or []]
    assert o["requestId"] in request_ids, f"{other} has no {status} response to request {o['requestId']}"
