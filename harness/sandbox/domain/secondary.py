"""Secondary market: bilateral offers and responses between participants, checked against
holdings and credit. The rules behind the secondary_market service, on plain values."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from decimal import Decimal
from typing import Any

from harness.sandbox.errors import CRRError
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
    from harness.sandbox.domain import holdings

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
    from harness.sandbox.domain import network

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
