"""CRR Secondary Market: bilateral CRR trades between participants, checked against holdings.

Business rules the sandbox applies:

* Offers are BUY or SELL, PUBLIC (a bulletin-board post with contact details, status POSTED)
  or PRIVATE (aimed at a named participant, status PENDING_MP_RESPONSE). The initiator of a
  public offer names its counterparty later (smPublicOfferToSpecifiedMp) at the posted price
  (another price is SMT0145); that also makes it PENDING_MP_RESPONSE.
* Every offer's assetOwner must be the calling participantName (SMT0146); a named
  counterparty must be a known participant other than the initiator (SMT0107).
* A SELL offer names a CRR its owner holds; source, sink, TOU, hedge type and dates must be
  the CRR's, its crrType must be the CRR's (SMT0138), and the MW on offer across the owner's
  live offers may not exceed what the CRR holds. A BUY offer's nodes must be in the network.
* Only the named counterparty may respond, and only while the offer is PENDING_MP_RESPONSE
  (SMT0082); an unknown request is SMT0016. Responding to a BUY offer hands over a CRR the
  responder holds that matches the offer (type mismatch SMT0138).
* A response runs the credit check at once: the buyer's cost (MW x $/MW) must fit its credit
  limit, else the trade is DISAPPROVED. An approved trade moves the MW with
  ``holdings.transfer`` and both parties get a private message.

Batches are all-or-nothing: any invalid item refuses the whole request with every error.
"""

from __future__ import annotations

from harness.sandbox.domain import secondary
from harness.sandbox.domain.secondary import offer_view, status_view
from harness.sandbox.domain.storable import refuse_unstorable
from harness.sandbox.errors import CRRError
from harness.sandbox.services.request import Operations, Reply, SandboxRequest

SERVICE = "secondary_market"
operations = Operations(SERVICE)


def _create(req: SandboxRequest, offer_type: str, post_type: str) -> Reply:
    sc = req.participant()
    items = req.body if isinstance(req.body, list) else []
    if not items:
        raise CRRError("SER0017", "an empty list of offers")
    refuse_unstorable(items, "Offer", {"mw": 1000, "price": 100}, ("startDate", "endDate"))
    with req.store.write() as conn:
        posted = secondary.post_offers(conn, sc, req.clock.now(), offer_type, post_type, items)
    return Reply(body=[status_view(offer) for offer in posted])


@operations.handler("postPublicSmBuyOffers")
async def public_buy(req: SandboxRequest) -> Reply:
    return _create(req, "BUY", "PUBLIC")


@operations.handler("postPublicSmSellOffers")
async def public_sell(req: SandboxRequest) -> Reply:
    return _create(req, "SELL", "PUBLIC")


@operations.handler("postPrivateSmBuyOffers")
async def private_buy(req: SandboxRequest) -> Reply:
    return _create(req, "BUY", "PRIVATE")


@operations.handler("postPrivateSmSellOffers")
async def private_sell(req: SandboxRequest) -> Reply:
    return _create(req, "SELL", "PRIVATE")


@operations.handler("targetSmPublicOfferToMp")
async def target_offer(req: SandboxRequest) -> Reply:
    items = req.body if isinstance(req.body, list) else []
    with req.store.write() as conn:
        named = secondary.name_counterparties(conn, req.participant(), req.clock.now(), items)
    return Reply(body=[status_view(offer) for offer in named])


@operations.handler("postSmResponseToBuyOffers")
async def respond_buy(req: SandboxRequest) -> Reply:
    items = req.body if isinstance(req.body, list) else []
    with req.store.write() as conn:
        return Reply(body=secondary.respond(conn, req.participant(), req.clock.now(), "BUY", items))


@operations.handler("postSmResponseToSellOffers")
async def respond_sell(req: SandboxRequest) -> Reply:
    items = req.body if isinstance(req.body, list) else []
    with req.store.write() as conn:
        return Reply(body=secondary.respond(conn, req.participant(), req.clock.now(), "SELL", items))


@operations.handler("getMySmOffersByStatus")
async def my_offers(req: SandboxRequest) -> Reply:
    sc = req.participant()
    with req.store.read() as conn:
        rows = secondary.offers_of(conn, sc, str(req.params.get("OfferStatusType")))
    return Reply(body=[offer_view(r) for r in rows])


@operations.handler("getMySmResponsesByStatus")
async def my_responses(req: SandboxRequest) -> Reply:
    sc = req.participant()
    with req.store.read() as conn:
        return Reply(body=secondary.responses_of(conn, sc, str(req.params.get("responseStatusType"))))
