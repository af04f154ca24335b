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

import json
from typing import Any

from harness.sandbox.domain.messages import publish
from harness.sandbox.domain.participants import known_participant
from harness.sandbox.domain.secondary import (
    OFFER_STATUSES,
    RESPONSE_STATUSES,
    cents,
    check_buy,
    check_sell,
    find_offer,
    milli,
    offer_view,
    response_view,
    status_view,
)
from harness.sandbox.domain.storable import refuse_unstorable
from harness.sandbox.errors import CRRError, raise_all
from harness.sandbox.services.request import Operations, Reply, SandboxRequest
from harness.sandbox.timefmt import iso, parse

SERVICE = "secondary_market"
operations = Operations(SERVICE)


def _create(req: SandboxRequest, offer_type: str, post_type: str) -> Reply:
    sc = req.participant()
    now = req.clock.now()
    items = req.body if isinstance(req.body, list) else []
    if not items:
        raise CRRError("SER0017", "an empty list of offers")
    refuse_unstorable(items, "Offer", {"mw": 1000, "price": 100}, ("startDate", "endDate"))
    errors: list[CRRError] = []
    pending: dict[int, int] = {}
    with req.store.write() as conn:
        for n, item in enumerate(items, start=1):
            if item["assetOwner"] != sc:
                errors.append(
                    CRRError(
                        "SMT0146",
                        detail=f"Offer {n}: assetOwner {item['assetOwner']} is not "
                        f"the participant {sc} making the request.",
                    )
                )
                continue
            target = item.get("targetMpName")
            if post_type == "PRIVATE" and (target == sc or not known_participant(conn, target)):
                errors.append(CRRError("SMT0107", target))
            errors += (
                check_sell(conn, n, item, sc, now, pending) if offer_type == "SELL" else check_buy(n, item)
            )
        raise_all(errors)
        out = []
        for item in items:
            request_id = req.store.next_id(conn, "sm_request")
            contact = item.get("contactInfo")
            conn.execute(
                "INSERT INTO sm_offers VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    request_id,
                    sc,
                    offer_type,
                    post_type,
                    item.get("crrId"),
                    item["source"],
                    item["sink"],
                    item["tou"],
                    item["hedgeType"],
                    item["crrType"],
                    iso(parse(str(item["startDate"]))),
                    iso(parse(str(item["endDate"]))),
                    milli(item["mw"]),
                    cents(item["price"]),
                    item.get("targetMpName") if post_type == "PRIVATE" else None,
                    json.dumps(contact, sort_keys=True) if contact else None,
                    "PENDING_MP_RESPONSE" if post_type == "PRIVATE" else "POSTED",
                    None,
                    iso(now),
                ),
            )
            out.append(status_view(find_offer(conn, request_id)))
            if post_type == "PRIVATE":
                publish(
                    conn,
                    now,
                    f"{sc} sent you a private secondary market {offer_type.lower()} offer "
                    f"(request {request_id}).",
                    to=item["targetMpName"],
                )
    return Reply(body=out)


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
    sc = req.participant()
    now = req.clock.now()
    items = req.body if isinstance(req.body, list) else []
    out = []
    with req.store.write() as conn:
        errors: list[CRRError] = []
        checked = []
        for item in items:
            try:
                offer = find_offer(conn, item["requestId"])
            except CRRError as err:
                errors.append(err)
                continue
            if offer["owner"] != sc:
                errors.append(CRRError("SMT0063", offer["request_id"], sc))
            elif offer["post_type"] != "PUBLIC" or offer["status"] != "POSTED":
                errors.append(
                    CRRError(
                        "SER0030",
                        f"Request {offer['request_id']} is {offer['status']}; only a "
                        "POSTED public offer can be given a counterparty.",
                    )
                )
            elif item["respondingMpName"] == sc or not known_participant(conn, item["respondingMpName"]):
                errors.append(CRRError("SMT0107", item["respondingMpName"]))
            elif cents(item["price"]) != offer["price_cents"]:
                errors.append(CRRError("SMT0145", offer["request_id"]))
            else:
                checked.append((offer["request_id"], item["respondingMpName"]))
        raise_all(errors)
        for request_id, target in checked:
            conn.execute(
                "UPDATE sm_offers SET target = ?, status = 'PENDING_MP_RESPONSE' WHERE request_id = ?",
                (target, request_id),
            )
            offer = find_offer(conn, request_id)
            publish(
                conn,
                now,
                f"{sc} named you as counterparty of secondary market {offer['offer_type'].lower()} "
                f"offer {request_id}.",
                to=target,
            )
            out.append(status_view(offer))
    return Reply(body=out)


def _respond(req: SandboxRequest, offer_type: str) -> Reply:
    from harness.sandbox.domain import holdings, participants

    sc = req.participant()
    now = req.clock.now()
    items = req.body if isinstance(req.body, list) else []
    with req.store.write() as conn:
        errors: list[CRRError] = []
        plans = []
        for item in items:
            try:
                offer = find_offer(conn, item["requestId"])
            except CRRError as err:
                errors.append(err)
                continue
            if offer["target"] != sc or offer["status"] != "PENDING_MP_RESPONSE":
                errors.append(CRRError("SMT0082"))
                continue
            if offer["offer_type"] != offer_type:
                errors.append(
                    CRRError(
                        "SER0030",
                        f"Request {offer['request_id']} is a {offer['offer_type']} offer; "
                        f"answer it with the {offer['offer_type'].lower()}-offer response.",
                    )
                )
                continue
            crr_id = offer["crr_id"]
            if offer_type == "BUY":
                crr = holdings.get_crr(conn, int(item["crrId"]))
                crr_id = int(item["crrId"])
                if crr is None or crr.owner != sc or milli(crr.mw) < offer["mw_milli"]:
                    errors.append(
                        CRRError(
                            "SER0030",
                            f"CRR {item['crrId']} is not held by {sc} with at least "
                            f"{offer['mw_milli'] / 1000:.3f} MW.",
                        )
                    )
                    continue
                if crr.crr_type != offer["crr_type"]:
                    errors.append(
                        CRRError(
                            "SMT0138",
                            detail=f"CRR {crr.crr_id} is of type {crr.crr_type}; "
                            f"the offer asks for {offer['crr_type']}.",
                        )
                    )
                    continue
                if (crr.source, crr.sink, crr.tou, crr.hedge_type, iso(crr.start), iso(crr.end)) != (
                    offer["source"],
                    offer["sink"],
                    offer["tou"],
                    offer["hedge"],
                    offer["start_date"],
                    offer["end_date"],
                ):
                    errors.append(
                        CRRError(
                            "SER0030",
                            f"CRR {crr.crr_id} does not match the path, TOU, hedge type "
                            f"and term of request {offer['request_id']}.",
                        )
                    )
                    continue
            plans.append((offer, crr_id))
        raise_all(errors)
        out = []
        for offer, crr_id in plans:
            seller, buyer = (offer["owner"], sc) if offer_type == "SELL" else (sc, offer["owner"])
            cost_cents = offer["mw_milli"] * offer["price_cents"] // 1000
            response_id = req.store.next_id(conn, "sm_response")
            status, message, new_crr = "APPROVED", None, None
            if cost_cents > round(participants.credit_limit(conn, buyer) * 100):
                status, message = "DISAPPROVED", f"{buyer} lacks the credit for this trade."
            else:
                new_crr = holdings.transfer(conn, crr_id, offer["mw_milli"] / 1000, buyer)
            conn.execute(
                "INSERT INTO sm_responses VALUES (?,?,?,?,?,?,?,?)",
                (response_id, offer["request_id"], sc, crr_id, status, message, new_crr, iso(now)),
            )
            conn.execute(
                "UPDATE sm_offers SET status = ?, message = ?, crr_id = COALESCE(crr_id, ?)"
                " WHERE request_id = ?",
                (status, message, crr_id, offer["request_id"]),
            )
            verdict = "approved" if status == "APPROVED" else "disapproved"
            publish(
                conn,
                now,
                f"Secondary market trade for request {offer['request_id']} is {verdict}.",
                to=[seller, buyer],
            )
            entry: dict[str, Any] = {
                "requestId": offer["request_id"],
                "responseId": response_id,
                "responseStatus": status,
            }
            if message:
                entry["message"] = message
            out.append(entry)
    return Reply(body=out)


@operations.handler("postSmResponseToBuyOffers")
async def respond_buy(req: SandboxRequest) -> Reply:
    return _respond(req, "BUY")


@operations.handler("postSmResponseToSellOffers")
async def respond_sell(req: SandboxRequest) -> Reply:
    return _respond(req, "SELL")


@operations.handler("getMySmOffersByStatus")
async def my_offers(req: SandboxRequest) -> Reply:
    sc = req.participant()
    status = req.params.get("OfferStatusType")
    if status not in OFFER_STATUSES:
        raise CRRError("SER0014", status)
    with req.store.read() as conn:
        rows = conn.execute(
            "SELECT * FROM sm_offers WHERE owner = ? AND status = ? ORDER BY request_id", (sc, status)
        ).fetchall()
    return Reply(body=[offer_view(r) for r in rows])


@operations.handler("getMySmResponsesByStatus")
async def my_responses(req: SandboxRequest) -> Reply:
    sc = req.participant()
    status = req.params.get("responseStatusType")
    if status not in RESPONSE_STATUSES:
        raise CRRError("SER0014", status)
    out = []
    with req.store.read() as conn:
        if status == "PENDING_MP_RESPONSE":
            for offer in conn.execute(
                "SELECT * FROM sm_offers WHERE target = ? AND status = ? ORDER BY request_id", (sc, status)
            ).fetchall():
                out.append(response_view(offer, None, sc))
        for resp in conn.execute(
            "SELECT * FROM sm_responses WHERE responder = ? AND status = ? ORDER BY response_id", (sc, status)
        ).fetchall():
            out.append(response_view(find_offer(conn, resp["request_id"]), resp, sc))
    return Reply(body=out)
