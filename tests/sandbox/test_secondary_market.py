"""Secondary market end to end over mTLS: ECAL offers, WCAL responds, CRRs move; every SMT code.

Holdings are read back through market data's private existing-CRR downloads, so a trade is
checked the way a participant would check it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from harness.sandbox.domain.downloads import read_zip
from tests.sandbox.sbutil import codes

BASE = "/secondarymarket/v1.0"
CONTACT = {"name": "Trading desk", "phone": "555-010-0100", "email": "desk@ecal.example"}


def crrs(client: Any, sc: str, origin: str = "AUCTION") -> list[dict[str, Any]]:
    r = client.request(
        "GET",
        "/marketdata/v1.0/privateGeneralData",
        params={
            "participantName": sc,
            "privateGeneralDownloadType": f"PRIVATE_EXISTING_CRR_{origin}",
            "fileFormat": "JSON",
        },
    )
    if r.status == 400 and codes(r) == ["DWL0006"]:
        return []
    assert r.status == 200, r.text
    return json.loads(read_zip(r.body)[1])["records"]


def crr_of(client: Any, sc: str, source: str, sink: str) -> dict[str, Any]:
    return next(c for c in crrs(client, sc) if (c["Source"], c["Sink"]) == (source, sink))


def sell(
    crr: dict[str, Any], mw: float = 5, price: float = 2.5, owner: str = "ECAL", **kw: Any
) -> dict[str, Any]:
    return {
        "assetOwner": owner,
        "crrId": crr["CRRID"],
        "source": crr["Source"],
        "sink": crr["Sink"],
        "tou": crr["TOU"],
        "hedgeType": crr["HedgeType"],
        "crrType": kw.pop("crrType", crr["CRRType"]),
        "startDate": crr["StartDate"],
        "endDate": crr["EndDate"],
        "mw": mw,
        "price": price,
        **kw,
    }


def post(client: Any, op: str, body: Any, sc: str) -> Any:
    return client.request("POST", f"{BASE}/{op}", params={"participantName": sc}, json=body)


def offers(client: Any, sc: str, status: str) -> list[dict[str, Any]]:
    r = client.request(
        "GET", f"{BASE}/mySmOffersByStatus", params={"participantName": sc, "OfferStatusType": status}
    )
    assert r.status == 200, r.text
    return r.json()


def responses(client: Any, sc: str, status: str) -> list[dict[str, Any]]:
    r = client.request(
        "GET", f"{BASE}/mySmResponesByStatus", params={"participantName": sc, "responseStatusType": status}
    )
    assert r.status == 200, r.text
    return r.json()


def test_private_sell_offer_trade_moves_the_crr(ecal: Any, wcal: Any) -> None:
    crr = crr_of(ecal, "ECAL", "TH_NP15_GEN-APND", "DLAP_PGAE-APND")
    r = post(ecal, "privateSmSellOfferCreation", [sell(crr, targetMpName="WCAL")], "ECAL")
    assert r.status == 200, r.text
    [status] = r.json()
    assert status["offerStatus"] == "PENDING_MP_RESPONSE" and status["postType"] == "PRIVATE"
    request_id = status["requestId"]
    pending = [x["requestId"] for x in responses(wcal, "WCAL", "PENDING_MP_RESPONSE")]
    assert request_id in pending
    r = post(wcal, "smResponseToSellOffers", [{"requestId": request_id}], "WCAL")
    assert r.status == 200, r.text
    assert r.json()[0]["responseStatus"] == "APPROVED" and r.json()[0]["requestId"] == request_id
    assert request_id in [o["requestId"] for o in offers(ecal, "ECAL", "APPROVED")]
    assert request_id in [x["requestId"] for x in responses(wcal, "WCAL", "APPROVED")]
    bought = [c for c in crrs(wcal, "WCAL", "SECONDARY_MARKET") if c["ParentCRRID"] == crr["CRRID"]]
    assert [c["MW"] for c in bought] == [5]
    assert crr_of(ecal, "ECAL", "TH_NP15_GEN-APND", "DLAP_PGAE-APND")["MW"] == crr["MW"] - 5
    texts = [
        m["message"]
        for m in wcal.request(
            "GET",
            "/messages/v1.0/private",
            params={"participantName": "WCAL", "fromDate": "2026-01-01T00:00:00Z"},
        ).json()
    ]
    assert any(f"request {request_id} is approved" in t for t in texts)


def test_public_sell_offer_needs_a_named_counterparty(ecal: Any, wcal: Any) -> None:
    crr = crr_of(ecal, "ECAL", "TH_SP15_GEN-APND", "DLAP_SCE-APND")
    r = post(ecal, "publicSmSellOfferCreation", [sell(crr, mw=1.5, price=3, contactInfo=CONTACT)], "ECAL")
    assert r.status == 200, r.text
    request_id = r.json()[0]["requestId"]
    assert r.json()[0]["offerStatus"] == "POSTED"
    posted = [o for o in offers(ecal, "ECAL", "POSTED") if o["requestId"] == request_id]
    assert posted and posted[0]["contactInfo"] == CONTACT
    early = post(wcal, "smResponseToSellOffers", [{"requestId": request_id}], "WCAL")
    assert early.status == 400 and codes(early) == ["SMT0082"]
    target = {"requestId": request_id, "respondingMpName": "WCAL", "price": 3}
    assert codes(post(ecal, "smPublicOfferToSpecifiedMp", [{**target, "price": 2.99}], "ECAL")) == ["SMT0145"]
    assert codes(post(wcal, "smPublicOfferToSpecifiedMp", [target], "WCAL")) == ["SMT0063"]
    assert codes(
        post(ecal, "smPublicOfferToSpecifiedMp", [{**target, "respondingMpName": "ZZZZ"}], "ECAL")
    ) == ["SMT0107"]
    assert codes(post(ecal, "smPublicOfferToSpecifiedMp", [{**target, "requestId": 987654}], "ECAL")) == [
        "SMT0016"
    ]
    r = post(ecal, "smPublicOfferToSpecifiedMp", [target], "ECAL")
    assert r.status == 200 and r.json()[0]["offerStatus"] == "PENDING_MP_RESPONSE", r.text
    r = post(wcal, "smResponseToSellOffers", [{"requestId": request_id}], "WCAL")
    assert r.status == 200 and r.json()[0]["responseStatus"] == "APPROVED", r.text
    again = post(wcal, "smResponseToSellOffers", [{"requestId": request_id}], "WCAL")
    assert codes(again) == ["SMT0082"]


def test_buy_offer_answered_with_a_held_crr(ecal: Any, wcal: Any) -> None:
    theirs = crr_of(wcal, "WCAL", "TH_SP15_GEN-APND", "DLAP_SDGE-APND")
    wanted = {k: v for k, v in sell(theirs, mw=3, price=1.25, targetMpName="WCAL").items() if k != "crrId"}
    r = post(ecal, "privateSmBuyOfferCreation", [wanted], "ECAL")
    assert r.status == 200 and r.json()[0]["offerType"] == "BUY", r.text
    request_id = r.json()[0]["requestId"]
    wrong_owner = post(
        wcal,
        "smResponseToBuyOffers",
        [
            {
                "requestId": request_id,
                "crrId": crr_of(ecal, "ECAL", "TH_SP15_GEN-APND", "DLAP_SCE-APND")["CRRID"],
            }
        ],
        "WCAL",
    )
    assert wrong_owner.status == 400 and codes(wrong_owner) == ["SER0030"]
    wrong_kind = post(wcal, "smResponseToSellOffers", [{"requestId": request_id}], "WCAL")
    assert codes(wrong_kind) == ["SER0030"]
    r = post(wcal, "smResponseToBuyOffers", [{"requestId": request_id, "crrId": theirs["CRRID"]}], "WCAL")
    assert r.status == 200 and r.json()[0]["responseStatus"] == "APPROVED", r.text
    got = [c for c in crrs(ecal, "ECAL", "SECONDARY_MARKET") if c["ParentCRRID"] == theirs["CRRID"]]
    assert [c["MW"] for c in got] == [3]
    [resp] = [x for x in responses(wcal, "WCAL", "APPROVED") if x["requestId"] == request_id]
    assert (
        resp["crrId"] == theirs["CRRID"]
        and resp["initiatingAO"] == "ECAL"
        and resp["initiatingOfferType"] == "BUY"
    )


def test_buy_offer_for_another_crr_type_is_smt0138(ecal: Any, wcal: Any) -> None:
    theirs = crr_of(wcal, "WCAL", "TH_ZP26_GEN-APND", "SLAP_PGST-APND")
    wanted = {
        k: v
        for k, v in sell(theirs, mw=1, price=1, targetMpName="WCAL", crrType="LSE").items()
        if k != "crrId"
    }
    request_id = post(ecal, "privateSmBuyOfferCreation", [wanted], "ECAL").json()[0]["requestId"]
    r = post(wcal, "smResponseToBuyOffers", [{"requestId": request_id, "crrId": theirs["CRRID"]}], "WCAL")
    assert r.status == 400 and codes(r) == ["SMT0138"]


def test_offer_validation_codes(ecal: Any, wcal: Any, own_client: Callable[[str], Any]) -> None:
    mine = crr_of(ecal, "ECAL", "TH_NP15_GEN-APND", "DLAP_PGAE-APND")
    theirs = crr_of(wcal, "WCAL", "TH_SP15_GEN-APND", "DLAP_SDGE-APND")
    cases = [
        ([sell(mine, owner="WCAL", contactInfo=CONTACT)], ["SMT0146"]),
        ([sell(mine, crrType="LSE", contactInfo=CONTACT)], ["SMT0138"]),
        ([sell(theirs, contactInfo=CONTACT)], ["SER0030"]),
        ([sell(mine, mw=999, contactInfo=CONTACT)], ["SER0030"]),
        ([sell(mine, contactInfo=CONTACT), sell(mine, owner="WCAL", contactInfo=CONTACT)], ["SMT0146"]),
    ]
    for body, expected in cases:
        r = post(ecal, "publicSmSellOfferCreation", body, "ECAL")
        assert r.status == 400 and codes(r) == expected, (body, r.text)
    before = [o["requestId"] for o in offers(ecal, "ECAL", "POSTED")]
    assert len(before) == len(set(before))  # the refused batch above created nothing
    r = post(ecal, "privateSmSellOfferCreation", [sell(mine, targetMpName="ECAL")], "ECAL")
    assert codes(r) == ["SMT0107"]
    spy = post(wcal, "publicSmSellOfferCreation", [sell(mine, contactInfo=CONTACT)], "ECAL")
    assert spy.status == 403 and codes(spy) == ["SEC0001"]
    nosy = wcal.request(
        "GET", f"{BASE}/mySmOffersByStatus", params={"participantName": "ECAL", "OfferStatusType": "POSTED"}
    )
    assert nosy.status == 403 and codes(nosy) == ["SEC0001"]
    bad = ecal.request(
        "GET", f"{BASE}/mySmOffersByStatus", params={"participantName": "ECAL", "OfferStatusType": "NOPE"}
    )
    assert bad.status == 400
    readonly = post(
        own_client("ecal-readonly"), "publicSmSellOfferCreation", [sell(mine, contactInfo=CONTACT)], "ECAL"
    )
    assert readonly.status == 403
