"""Issue 19 items 1, 2 and 8: numbers and date-times at the edges, and the answers around routing.

Each case once answered 500 (or stored what it could not later use) or answered without the
caller's request id; each must be a CRRServiceException naming the field, with nothing stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.sbutil import codes
from tests.sandbox.test_hostile_input import snapshot

AUC = "AUC_MN_2026_M03"
ALLOC = "ALLOC_MN_2026_M03_T1"
HUGE = {
    "2^62": "4611686018427387904",
    "1e308": "1e308",
    "10^30": "1" + "0" * 30,
    "1e400": "1e400",
    "10^309": "1" + "0" * 309,
    "10^400": "1" + "0" * 400,
}


@pytest.fixture(scope="module")
def ready(operator: Any) -> None:
    operator.setup_plan()
    operator.open_window(AUC)
    operator.open_window(ALLOC)


@pytest.fixture(scope="module")
def ecal(ready: None, own_client: Callable[[str], Any]) -> Any:
    return own_client("ecal")


def post(client: Any, path: str, text: str, **params: str) -> Any:
    return client.request(
        "POST", path, params=params, content=text.encode(), headers={"Content-Type": "application/json"}
    )


def bid(mw: str, price: str = "5") -> str:
    return (
        '{"assetOwner":"ECAL","source":"TH_NP15_GEN-APND","sink":"DLAP_PGAE-APND","hedgeType":"OBL",'
        f'"tou":"ON","period":"2026_M03","crrType":"AUC","bidCurve":[{{"mw":0,"price":{price}}},'
        f'{{"mw":{mw},"price":{price}}}]}}'
    )


@pytest.mark.parametrize("label", sorted(HUGE))
@pytest.mark.parametrize("bids", [1, 300])  # 300 bids (~60 KB) take the folded fast path
def test_a_huge_curve_number_is_named_not_a_500(ecal: Any, own_sandbox: Any, label: str, bids: int) -> None:
    before = snapshot(own_sandbox.db)
    records = ",".join([bid("10")] * (bids - 1) + [bid(HUGE[label])])
    r = post(
        ecal,
        "/auction/v1.0/portfolioCreation",
        f'{{"portfolioName":"huge {label} {bids}","marketName":"{AUC}","participantName":"ECAL",'
        f'"newBids":[{records}],"newOffers":[]}}',
    )
    assert r.status == 400, r.text[:300]
    assert codes(r) == ["SER0030"], r.text[:300]
    assert f"newBids[{bids - 1}].bidCurve[1].mw: " in r.text and "beyond ±10^15" in r.text, r.text[:300]
    assert snapshot(own_sandbox.db) == before


def test_a_huge_nomination_is_refused_before_it_is_stored(ecal: Any, own_sandbox: Any) -> None:
    """A nomination of 10^309 MW used to be stored, read back, then answer 500 on submission."""
    before = snapshot(own_sandbox.db)
    nom = (
        '{"assetOwner":"ECAL","source":"TH_NP15_GEN-APND","sink":"DLAP_PGAE-APND","hedgeType":"OBL",'
        f'"tou":"ON","period":"2026_M03","crrType":"LSE","mw":{HUGE["10^309"]}}}'
    )
    r = post(
        ecal,
        "/nomination/v1.0/portfolioCreation",
        f'{{"portfolioName":"huge nom","marketName":"{ALLOC}","participantName":"ECAL","newNominations":[{nom}]}}',
    )
    assert codes(r) == ["SER0030"] and "newNominations[0].mw: an integer of about 310 digits" in r.text, (
        r.text
    )
    assert snapshot(own_sandbox.db) == before


@pytest.mark.parametrize(
    "operation", ["publicSmBuyOfferCreation", "privateSmBuyOfferCreation", "privateSmSellOfferCreation"]
)
def test_a_huge_offer_is_refused(ecal: Any, own_sandbox: Any, operation: str) -> None:
    before = snapshot(own_sandbox.db)
    r = ecal.request(
        "POST",
        f"/secondarymarket/v1.0/{operation}",
        params={"participantName": "ECAL"},
        content=f'[{{"crrId":1,"mw":{HUGE["10^400"]},"price":1}}]'.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status == 400 and codes(r) == ["SER0030"], (operation, r.text[:300])
    assert "[0].mw: an integer of about 401 digits is beyond ±10^15" in r.text, r.text[:300]
    assert snapshot(own_sandbox.db) == before


EDGES = [
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
]


@pytest.mark.parametrize("when", EDGES)
@pytest.mark.parametrize("where", ["public fromDate", "public toDate", "private fromDate", "private toDate"])
def test_a_year_edge_date_time_is_a_field_error(ecal: Any, when: str, where: str) -> None:
    kind, name = where.split()
    params = {"participantName": "ECAL", "fromDate": "2026-01-01T00:00:00Z", name: when}
    r = ecal.request("GET", f"/messages/v1.0/{kind}", params=params)
    assert r.status == 400 and codes(r) == ["SER0030"], r.text[:300]
    assert f"{name}: " in r.text and "years 0001-9999 in UTC" in r.text, r.text[:300]


@pytest.mark.parametrize("when", EDGES[:3])
def test_a_year_edge_effective_date_is_a_field_error(
    own_client: Callable[[str], Any], ready: None, when: str
) -> None:
    udc = own_client("ecal")
    r = post(
        udc,
        "/loadmigration/v1.0/dasrSummary",
        f'{{"udcName":"PGAE","effectiveDate":"{when}","transfers":[]}}',
        participantName="ECAL",
    )
    assert r.status < 500, r.text[:300]
    assert any(
        "effectiveDate: " in e["errorDescription"] and "years 0001-9999" in e["errorDescription"]
        for e in r.json()["errorList"]
    ), r.text[:400]


def test_a_date_time_one_day_inside_the_range_is_served(ecal: Any) -> None:
    r = ecal.request(
        "GET",
        "/messages/v1.0/private",
        params={
            "participantName": "ECAL",
            "fromDate": "0001-01-02T00:00:00Z",
            "toDate": "9999-12-30T00:00:00Z",
        },
    )
    assert r.status == 200, r.text[:300]


def test_a_wrong_method_is_an_invalid_request_and_echoes_the_request_id(ecal: Any) -> None:
    rid = str(uuid.uuid4())
    r = ecal.request(
        "PUT", "/auction/v1.0/portfolioCreation", content=b"{}", headers={"caiso-request-id": rid}
    )
    assert r.status == 405 and r.headers.get("allow") == "POST"
    assert codes(r) == ["SER0017"] and "use POST" in r.text  # SER0029 is the contract's 404 code
    assert r.headers.get("caiso-request-id") == rid


def test_an_unknown_path_echoes_the_request_id(ecal: Any) -> None:
    rid = str(uuid.uuid4())
    r = ecal.request("GET", "/auction/v1.0/nothingHere", headers={"caiso-request-id": rid})
    assert r.status == 404 and codes(r) == ["SER0029"]
    assert r.headers.get("caiso-request-id") == rid


def _patterned_parameters() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(method, path, a patterned query parameter, every required query parameter)."""
    from harness.contract import load_catalogue

    return sorted(
        {
            (
                op.method,
                op.path,
                p.name,
                tuple(q.name for q in op.parameters if q.location == "query" and q.required),
            )
            for service in load_catalogue(None)
            for op in service.operations
            for p in op.parameters
            if p.location == "query"
            and isinstance(p.schema, dict)
            and p.schema.get("type") == "string"
            and p.schema.get("pattern")
        }
    )


PLAIN = {"participantName": "ECAL", "marketName": AUC, "portfolioName": "x"}


@pytest.mark.parametrize("control", ["\n", "\t"])
def test_no_name_with_a_line_break_or_tab_gets_past_validation(ecal: Any, control: str) -> None:
    """Issue 19 item 13: every patterned name (query parameters here; portfolio names in
    test_auction) refuses a line break or a tab, wherever it sits."""
    checked = 0
    for method, path, name, required in _patterned_parameters():
        params = {q: PLAIN.get(q, "x") for q in required}
        params[name] = f"ECAL{control}X"
        r = ecal.request(method, path, params=params, **({} if method in ("GET", "DELETE") else {"json": {}}))
        assert r.status == 400, (path, name, r.text[:200])
        said = [e["errorDescription"] for e in r.json()["errorList"]]
        assert any(
            d.startswith(f"{name}: ") or (name == "portfolioName" and "no other whitespace" in d)
            for d in said
        ), (path, name, said)
        checked += 1
    assert checked >= 20, checked
