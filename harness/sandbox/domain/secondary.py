"""Secondary market: bilateral offers and responses between participants, checked against
holdings and credit. The rules behind the secondary_market service, on plain values."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from harness.sandbox.domain import holdings, network, participants
from harness.sandbox.domain.messages import publish
from harness.sandbox.domain.participants import known_participant
from harness.sandbox.errors import CRRError, raise_all
from harness.sandbox.store.sqlite import next_id
from harness.sandbox.timefmt import iso, parse

SERVICE = "secondary_market"


LIVE = ("POSTED", "PENDING_MP_RESPONSE", "PENDING_CREDIT_CHECK")


OFFER_STATUSES = ("POSTED", "PENDING_MP_RESPONSE", "APPROVED", "DISAPPROVED", "PENDING_CREDIT_CHECK", "ERROR")


RESPONSE_STATUSES = OFFER_STATUSES[1:]


def milli(mw: Any) -> int:
    return int(Decimal(str(mw)) * 1000)


def cents(price: Any) -> int:
    return int(Decimal(str(price)) * 100)


def secondary_crr_ids(conn: sqlite3.Connection) -> set[int]:
    """CRRs created by approved trades (market data's PRIVATE_EXISTING_CRR_SECONDARY_MARKET)."""
    return {r[0] for r in conn.execute("SELECT new_crr_id FROM sm_responses WHERE new_crr_id IS NOT NULL")}


def _common(r: sqlite3.Row) -> dict[str, Any]:
    return {
        "source": r["source"],
        "sink": r["sink"],
        "tou": r["tou"],
        "hedgeType": r["hedge"],
        "crrType": r["crr_type"],
        "startDate": r["start_date"],
        "endDate": r["end_date"],
        "mw": r["mw_milli"] / 1000,
    }


def _offer_head(r: sqlite3.Row) -> dict[str, Any]:
    """The fields an offer and its status share, in the contract's order."""
    out: dict[str, Any] = {
        "assetOwner": r["owner"],
        "requestId": r["request_id"],
        "offerType": r["offer_type"],
        "postType": r["post_type"],
    }
    if r["crr_id"]:
        out["crrId"] = r["crr_id"]
    out.update(_common(r))
    return out


def offer_view(r: sqlite3.Row) -> dict[str, Any]:
    out = _offer_head(r)
    out["price"] = r["price_cents"] / 100
    if r["target"]:
        out["targetMpName"] = r["target"]
    if r["contact"]:
        out["contactInfo"] = json.loads(r["contact"])
    return out


def status_view(r: sqlite3.Row) -> dict[str, Any]:
    out = _offer_head(r)
    out["offerStatus"] = r["status"]
    if r["message"]:
        out["message"] = r["message"]
    return out


def response_view(offer: sqlite3.Row, resp: sqlite3.Row | None, responder: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if resp is not None:
        out["responseId"] = resp["response_id"]
    out.update(
        {
            "requestId": offer["request_id"],
            "initiatingOfferType": offer["offer_type"],
            "initiatingAO": offer["owner"],
        }
    )
    crr_id = offer["crr_id"] or (resp["crr_id"] if resp is not None else None)
    if crr_id:
        out["crrId"] = crr_id
    out.update(_common(offer))
    out["price"] = offer["price_cents"] / 100
    out["respondingAssetOwner"] = responder
    return out


def find_offer(conn: sqlite3.Connection, request_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM sm_offers WHERE request_id = ?", (int(request_id),)).fetchone()
    if row is None:
        raise CRRError("SMT0016", request_id)
    return row


def check_sell(
    conn: sqlite3.Connection, n: int, item: dict[str, Any], owner: str, now: datetime, pending: dict[int, int]
) -> list[CRRError]:
    crr = holdings.get_crr(conn, int(item["crrId"]))
    if crr is None or crr.owner != owner or crr.mw <= 0:
        return [CRRError("SER0030", f"Offer {n}: CRR {item['crrId']} is not held by {owner}.")]
    errors = []
    if item["crrType"] != crr.crr_type:
        errors.append(
            CRRError(
                "SMT0138",
                detail=f"Offer {n}: CRR {crr.crr_id} is of type {crr.crr_type}, not {item['crrType']}.",
            )
        )
    wanted = (item["source"], item["sink"], item["tou"], item["hedgeType"])
    if wanted != (crr.source, crr.sink, crr.tou, crr.hedge_type):
        errors.append(
            CRRError(
                "SER0030",
                f"Offer {n}: source, sink, TOU or hedge type differ from CRR {crr.crr_id} "
                f"({crr.source} to {crr.sink} {crr.tou} {crr.hedge_type}).",
            )
        )
    if (parse(str(item["startDate"])), parse(str(item["endDate"]))) != (crr.start, crr.end):
        errors.append(
            CRRError(
                "SER0030", f"Offer {n}: dates must be the CRR's term {iso(crr.start)} to {iso(crr.end)}."
            )
        )
    if crr.end <= now:
        errors.append(CRRError("SER0030", f"Offer {n}: CRR {crr.crr_id} has expired."))
    if crr.crr_id not in pending:
        pending[crr.crr_id] = sum(
            r[0]
            for r in conn.execute(
                "SELECT mw_milli FROM sm_offers WHERE crr_id = ? AND offer_type = 'SELL' AND status IN (?,?,?)",
                (crr.crr_id, *LIVE),
            )
        )
    pending[crr.crr_id] += milli(item["mw"])
    if pending[crr.crr_id] > milli(crr.mw):
        errors.append(
            CRRError(
                "SER0030",
                f"Offer {n}: CRR {crr.crr_id} holds {crr.mw:.3f} MW, less than offered "
                "across your open sell offers.",
            )
        )
    return errors


def check_buy(n: int, item: dict[str, Any]) -> list[CRRError]:
    errors = [
        CRRError("SER0030", f"Offer {n}: {item[k]} is not a node of the CRR network model.")
        for k in ("source", "sink")
        if not network.is_node(item[k])
    ]
    if item["source"] == item["sink"]:
        errors.append(CRRError("SER0030", f"Offer {n}: source and sink are the same node."))
    if parse(str(item["endDate"])) <= parse(str(item["startDate"])):
        errors.append(CRRError("SER0030", f"Offer {n}: endDate is not after startDate."))
    return errors


def post_offers(
    conn: sqlite3.Connection,
    sc: str,
    now: datetime,
    offer_type: str,
    post_type: str,
    items: list[dict[str, Any]],
) -> list[sqlite3.Row]:
    """Post a batch of offers, all or none: each offer's assetOwner must be ``sc`` (SMT0146), a
    private one names a known participant other than ``sc`` (SMT0107), a SELL offer names a CRR
    ``sc`` holds and fits it (``check_sell``), a BUY offer's path is in the network
    (``check_buy``). Public offers are POSTED; private ones wait for their counterparty, who
    gets a message. Returns the offers as stored."""
    errors: list[CRRError] = []
    pending: dict[int, int] = {}
    for n, item in enumerate(items, start=1):
        if item["assetOwner"] != sc:
            errors.append(
                CRRError(
                    "SMT0146",
                    detail=f"Offer {n}: assetOwner {item['assetOwner']} is not the participant {sc} making the request.",
                )
            )
            continue
        target = item.get("targetMpName")
        if post_type == "PRIVATE" and (
            not isinstance(target, str) or target == sc or not known_participant(conn, target)
        ):
            errors.append(CRRError("SMT0107", target))
        errors += check_sell(conn, n, item, sc, now, pending) if offer_type == "SELL" else check_buy(n, item)
    raise_all(errors)
    out = []
    for item in items:
        request_id = next_id(conn, "sm_request")
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
        out.append(find_offer(conn, request_id))
        if post_type == "PRIVATE":
            publish(
                conn,
                now,
                f"{sc} sent you a private secondary market {offer_type.lower()} offer (request {request_id}).",
                to=item["targetMpName"],
            )
    return out


def _offers_named(
    conn: sqlite3.Connection, items: list[dict[str, Any]], errors: list[CRRError]
) -> Iterator[tuple[dict[str, Any], sqlite3.Row]]:
    """Each item with the offer its requestId names; an unknown one is an error (SMT0016) kept
    in ``errors`` for the batch's all-or-none refusal."""
    for item in items:
        try:
            yield item, find_offer(conn, item["requestId"])
        except CRRError as err:
            errors.append(err)


def name_counterparties(
    conn: sqlite3.Connection, sc: str, now: datetime, items: list[dict[str, Any]]
) -> list[sqlite3.Row]:
    """The initiator of POSTED public offers names each one's counterparty at the posted price
    (another price is SMT0145), all or none; the offer then waits for that participant."""
    errors: list[CRRError] = []
    checked = []
    for item, offer in _offers_named(conn, items, errors):
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
    out = []
    for request_id, target in checked:
        conn.execute(
            "UPDATE sm_offers SET target = ?, status = 'PENDING_MP_RESPONSE' WHERE request_id = ?",
            (target, request_id),
        )
        offer = find_offer(conn, request_id)
        publish(
            conn,
            now,
            f"{sc} named you as counterparty of secondary market {offer['offer_type'].lower()} offer {request_id}.",
            to=target,
        )
        out.append(offer)
    return out


def _matching_crr(conn: sqlite3.Connection, sc: str, offer: sqlite3.Row, crr_id: int) -> CRRError | None:
    """Why the CRR a responder hands over for a BUY offer does not fit it, or None."""
    crr = holdings.get_crr(conn, crr_id)
    if crr is None or crr.owner != sc or milli(crr.mw) < offer["mw_milli"]:
        return CRRError(
            "SER0030", f"CRR {crr_id} is not held by {sc} with at least {offer['mw_milli'] / 1000:.3f} MW."
        )
    if crr.crr_type != offer["crr_type"]:
        return CRRError(
            "SMT0138",
            detail=f"CRR {crr.crr_id} is of type {crr.crr_type}; the offer asks for {offer['crr_type']}.",
        )
    term = (crr.source, crr.sink, crr.tou, crr.hedge_type, iso(crr.start), iso(crr.end))
    wanted = (
        offer["source"],
        offer["sink"],
        offer["tou"],
        offer["hedge"],
        offer["start_date"],
        offer["end_date"],
    )
    if term != wanted:
        return CRRError(
            "SER0030",
            f"CRR {crr.crr_id} does not match the path, TOU, hedge type and term of request {offer['request_id']}.",
        )
    return None


def respond(
    conn: sqlite3.Connection, sc: str, now: datetime, offer_type: str, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The named counterparty answers offers waiting for it (SMT0082 otherwise), all or none;
    a BUY offer is answered with a CRR the responder holds that matches it. Each trade runs the
    credit check at once: the buyer's cost (MW x $/MW) must fit its credit limit, else it is
    DISAPPROVED; an approved trade moves the MW (``holdings.transfer``); both parties get a
    message. Returns (requestId, responseId, status, message) per item."""
    errors: list[CRRError] = []
    plans = []
    for item, offer in _offers_named(conn, items, errors):
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
            crr_id = int(item["crrId"])
            misfit = _matching_crr(conn, sc, offer, crr_id)
            if misfit is not None:
                errors.append(misfit)
                continue
        plans.append((offer, crr_id))
    raise_all(errors)
    out = []
    for offer, crr_id in plans:
        seller, buyer = (offer["owner"], sc) if offer_type == "SELL" else (sc, offer["owner"])
        cost_cents = offer["mw_milli"] * offer["price_cents"] // 1000
        response_id = next_id(conn, "sm_response")
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
            "UPDATE sm_offers SET status = ?, message = ?, crr_id = COALESCE(crr_id, ?) WHERE request_id = ?",
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
    return out


def offers_of(conn: sqlite3.Connection, owner: str, status: str) -> list[sqlite3.Row]:
    """``owner``'s offers in ``status`` (one of OFFER_STATUSES, else SER0014)."""
    if status not in OFFER_STATUSES:
        raise CRRError("SER0014", status)
    return conn.execute(
        "SELECT * FROM sm_offers WHERE owner = ? AND status = ? ORDER BY request_id", (owner, status)
    ).fetchall()


def responses_of(conn: sqlite3.Connection, sc: str, status: str) -> list[dict[str, Any]]:
    """What ``sc`` answered (or has to answer, PENDING_MP_RESPONSE) in ``status``, as the contract
    shows responses (one of RESPONSE_STATUSES, else SER0014)."""
    if status not in RESPONSE_STATUSES:
        raise CRRError("SER0014", status)
    out = []
    if status == "PENDING_MP_RESPONSE":
        for offer in conn.execute(
            "SELECT * FROM sm_offers WHERE target = ? AND status = ? ORDER BY request_id", (sc, status)
        ).fetchall():
            out.append(response_view(offer, None, sc))
    for resp in conn.execute(
        "SELECT * FROM sm_responses WHERE responder = ? AND status = ? ORDER BY response_id", (sc, status)
    ).fetchall():
        out.append(response_view(find_offer(conn, resp["request_id"]), resp, sc))
    return out
