"""Bad input always gets a CAISO error code, never a 500 (and never a crash)."""

from __future__ import annotations

import json
import random
import socket
import ssl
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.client import CRRClient
from harness.contract import load_catalogue
from harness.pki import DevPKI
from harness.sandbox.jsoncodec import MAX_DEPTH, nesting
from harness.sandbox.launch import RunningSandbox
from harness.sandbox.web.validation import OperationValidator
from tests.sandbox.sbutil import codes, rid

STATUS_PATH = "/marketstatus/v1.0/marketStatus"


@pytest.mark.parametrize(
    "value", [None, "", "not-a-uuid", "c9b09ec13a3a4e68a4d789aece526b05", "{" + "0" * 36 + "}"]
)
def test_request_id_missing_or_malformed(client_for: Callable[[str], CRRClient], value: str | None):
    r = client_for("ecal").get("/status", headers={"caiso-request-id": value})
    assert r.status == 400 and codes(r) == ["SER0017"]
    assert "caiso-request-id" in r.json()["errorList"][0]["errorDescription"]


def test_request_id_is_echoed(client_for: Callable[[str], CRRClient]):
    value = rid()
    r = client_for("ecal").get("/status", headers={"caiso-request-id": value})
    assert r.status == 200 and r.json() == {"status": "up"}
    assert r.headers["caiso-request-id"] == value


def test_every_parameter_error_is_reported(client_for: Callable[[str], CRRClient]):
    r = client_for("ecal").get(STATUS_PATH, params={"participantName": "EC$AL"})
    assert r.status == 400
    assert codes(r) == ["SER0030", "SER0030"]  # marketName missing + participantName pattern
    text = " ".join(e["errorDescription"] for e in r.json()["errorList"])
    assert "marketName" in text and "participantName" in text


def test_too_long_parameter(client_for: Callable[[str], CRRClient]):
    r = client_for("ecal").get(STATUS_PATH, params={"participantName": "ECAL", "marketName": "M" * 51})
    assert r.status == 400 and codes(r) == ["SER0030"]


def test_unknown_query_parameters_are_ignored(client_for: Callable[[str], CRRClient]):
    r = client_for("ecal").get(
        STATUS_PATH, params={"participantName": "ECAL", "marketName": "NOPE", "x": "1"}
    )
    assert r.status == 400 and codes(r) == ["MKT0001"]


def test_unknown_path_and_wrong_method(client_for: Callable[[str], CRRClient]):
    ecal = client_for("ecal")
    r = ecal.get("/auction/v9.9/nothing")
    assert r.status == 404 and codes(r) == ["SER0029"]
    r = ecal.get(f"{ecal.origin}/elsewhere")
    assert r.status == 404 and codes(r) == ["SER0029"]
    r = ecal.request("DELETE", "/status")
    assert r.status == 405 and codes(r) == ["SER0017"] and "GET" in r.headers["allow"]


@pytest.mark.parametrize(
    "content",
    [
        b"{",
        b"not json",
        b"\xff\xfe",
        b"NaN",
        b"[]",
        b"null",
        b'{"marketName": 1}',
        b"{}",
        b'"x"',
        b"1e999999",
    ],
)
def test_bad_bodies_get_400(client_for: Callable[[str], CRRClient], content: bytes):
    r = client_for("ecal").request("POST", "/auction/v1.0/portfolioCreation", content=content)
    assert r.status == 400, r.text
    assert set(codes(r)) <= {"SER0017", "SER0030", "SER0022"}


def test_body_validation_is_exact_about_multiple_of():
    op = load_catalogue()["auction"].operation("portfolioCreation")
    validator = OperationValidator(op, ())
    # find every multipleOf in the schema and check a value on the grid passes it exactly
    schema_text = str(op.request_schema)
    assert "multipleOf" in schema_text
    from harness.sandbox.web.validation import compile_schema

    grid = compile_schema({"type": "number", "multipleOf": 0.001})
    assert all(grid.is_valid(float(f"{i}.{j:03d}")) for i in (0, 1, 37) for j in range(0, 1000, 7))
    assert not grid.is_valid(1.0005)
    _, errors = validator.body(b'{"participantName": "ECAL"}')
    assert errors and all(e.code in ("SER0030", "SER0022") for e in errors)


def test_raw_garbage_never_causes_a_500(sandbox: RunningSandbox, dev_pki: DevPKI):
    """Hand-made requests no client library would send."""
    ecal = dev_pki.identities["ecal"]
    ctx = ssl.create_default_context(cafile=str(dev_pki.ca_cert))
    ctx.load_cert_chain(str(ecal.cert), str(ecal.key))
    header = f"caiso-request-id: {rid()}\r\n"
    requests = [
        f"GET /crr/marketstatus/v1.0/marketStatus?participantName=%FF%FE&marketName=%00 HTTP/1.1\r\n{header}",
        f"GET /crr/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n{header}",
        f"POST /crr/auction/v1.0/portfolioCreation HTTP/1.1\r\n{header}Content-Type: application/json\r\n"
        'Content-Length: 5\r\n\r\n{"a":',
        f"GET /crr/status?{'x=' * 3000} HTTP/1.1\r\n{header}",
        f"TRACE /crr/status HTTP/1.1\r\n{header}",
    ]
    for text in requests:
        if "Content-Length" not in text:
            text += "\r\n"
        with (
            socket.create_connection(("127.0.0.1", sandbox.port), timeout=5) as raw,
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
        ):
            tls.sendall(text.replace("\r\n\r\n\r\n", "\r\n\r\n").encode("latin-1"))
            answer = tls.recv(65536)
        status = int(answer.split(b" ", 2)[1])
        assert 400 <= status < 500, (text, answer[:300])


# --------------------------------------------------------------------------------------
# specific codes for invalid names and enum parameters
# --------------------------------------------------------------------------------------
def _creation(name: str) -> dict[str, object]:
    return {
        "portfolioName": name,
        "marketName": "AUC_MN_2026_M03",
        "participantName": "ECAL",
        "newBids": [],
        "newOffers": [],
    }


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "POR0215"),
        ("   ", "POR0215"),
        ("a" * 101, "POR0103"),
        ("bad/name" * 20, "POR0103"),
        ("bad/name", "SER0022"),
        ("...", "SER0022"),
    ],
)
def test_portfolio_name_codes(client_for: Callable[[str], CRRClient], name: str, code: str):
    r = client_for("ecal").request("POST", "/auction/v1.0/portfolioCreation", json=_creation(name))
    assert r.status == 400 and codes(r) == [code], r.text


def test_portfolio_name_codes_in_query_parameters(client_for: Callable[[str], CRRClient]):
    ecal = client_for("ecal")
    params = {"participantName": "ECAL", "marketName": "AUC_MN_2026_M03"}
    r = ecal.get("/auction/v1.0/portfolioStatus", params={**params, "portfolioName": " "})
    assert r.status == 400 and codes(r) == ["POR0215"], r.text
    r = ecal.get("/auction/v1.0/portfolioStatus", params={**params, "portfolioName": "x" * 101})
    assert r.status == 400 and codes(r) == ["POR0103"], r.text


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        (
            "/marketdata/v1.0/publicGeneralData",
            {"publicGeneralDownloadType": "NOPE", "fileFormat": "CSV", "participantName": "ECAL"},
            "DWL0001",
        ),
        (
            "/marketdata/v1.0/publicGeneralData",
            {
                "publicGeneralDownloadType": "PUBLIC_EXISTING_CRR",
                "fileFormat": "XLS",
                "participantName": "ECAL",
            },
            "DWL0002",
        ),
        (
            "/secondarymarket/v1.0/mySmOffersByStatus",
            {"participantName": "ECAL", "OfferStatusType": "NOPE"},
            "SER0014",
        ),
        (
            "/secondarymarket/v1.0/mySmResponesByStatus",
            {"participantName": "ECAL", "responseStatusType": "X"},
            "SER0014",
        ),
    ],
)
def test_enum_parameters_have_their_own_codes(
    client_for: Callable[[str], CRRClient], path: str, params: dict[str, str], code: str
):
    r = client_for("ecal").get(path, params=params)
    assert r.status == 400 and codes(r) == [code], r.text


def test_enum_codes_only_where_the_contract_lists_them():
    op = load_catalogue()["market_data"].operation("getPublicGeneralData")
    query = {"publicGeneralDownloadType": "NOPE", "fileFormat": "CSV", "participantName": "ECAL"}
    _, errors = OperationValidator(op, ()).params(query, {})
    assert [e.code for e in errors] == ["SER0030"]
    _, errors = OperationValidator(op, ("DWL0001", "DWL0002")).params(query, {})
    assert [e.code for e in errors] == ["DWL0001"]


# --------------------------------------------------------------------------------------
# strict (closed) schemas
# --------------------------------------------------------------------------------------
def test_closed_schema_allows_required_names_missing_from_properties():
    from harness.sandbox.web.validation import compile_schema

    schema = {
        "type": "object",
        "required": ["conversionApprovalWindow"],
        "properties": {"ConversionApprovalWindow": {"type": "string"}},
    }
    closed = compile_schema(schema, closed=True)
    assert closed.is_valid({"conversionApprovalWindow": {"any": "thing"}})
    assert not closed.is_valid({"conversionApprovalWindow": 1, "other": 2})
    assert not closed.is_valid({})
    assert closed.is_valid({"conversionApprovalWindow": 1, "ConversionApprovalWindow": "x"})
    assert not closed.is_valid({"conversionApprovalWindow": 1, "ConversionApprovalWindow": 2})


# --------------------------------------------------------------------------------------
# the fast path for big bodies accepts exactly what the full validator accepts
# --------------------------------------------------------------------------------------
def _bid(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "assetOwner": "ECAL",
        "source": "TH_NP15_GEN-APND",
        "sink": "DLAP_PGAE-APND",
        "hedgeType": "OBL",
        "tou": "ON",
        "period": "2026_M03",
        "crrType": "AUC",
        "bidCurve": [{"mw": 0, "price": 5}, {"mw": 10, "price": 5}],
        "description": f"bid {i}",
        **extra,
    }


def _random_body(rng: random.Random, hazards: bool = True) -> bytes:
    """A ~20-60 KB portfolio, usually valid, with random hazards for the repeated-curve folding."""
    curves = []
    for _ in range(rng.randint(1, 4)):
        points = [
            {"mw": round(i * rng.choice([0.5, 1.25, 0.001, 7]), 3), "price": round(90 - i * 1.5, 2)}
            for i in range(rng.randint(2, 20))
        ]
        curves.append(points)
    bids = [_bid(i, bidCurve=rng.choice(curves)) for i in range(rng.randint(40, 120))]
    body: dict[str, object] = {
        "portfolioName": "fold test",
        "marketName": "AUC_MN_2026_M03",
        "participantName": "ECAL",
        "newBids": bids,
        "newOffers": [],
    }
    hazard = rng.randrange(12) if hazards else -1
    victim = rng.choice(bids)
    if hazard == 0:  # off the 0.001 grid, by a little
        victim["bidCurve"] = [dict(p) for p in victim["bidCurve"]]
        victim["bidCurve"][-1]["mw"] = victim["bidCurve"][-1]["mw"] + rng.choice([0.0004, 1e-9, 0.0001])
    elif hazard == 1:
        victim["bidCurve"] = [{"mw": 0, "price": 1.005}, {"mw": 1, "price": 1}]
    elif hazard == 2:  # a curve where the key holds something else
        victim["bidCurve"] = rng.choice([5, "x]", [[1], [2]], [{"mw": "a]b", "price": 1}], None, []])
    elif hazard == 3:  # the key somewhere unexpected
        body["extra"] = {"bidCurve": [{"mw": 1.0005, "price": 1}]}
    elif hazard == 4:
        victim["description"] = 'quote "bidCurve":[1] inside'
    elif hazard == 5:  # too many points
        victim["bidCurve"] = [{"mw": float(i), "price": 1.0} for i in range(21)]
    text = json.dumps(body, separators=(",", ":"))
    if hazard == 6:  # a duplicate key: the later value wins
        text = text.replace('"bidCurve":[', '"bidCurve":[{"mw":0.0001,"price":1}],"bidCurve":[', 1)
    elif hazard == 7:  # spacing after the key: not folded, still validated
        text = text.replace('"bidCurve":', '"bidCurve" : ', 1)
    elif hazard == 8:
        text = text.replace(
            '"description":"bid 0"', '"x\\"bidCurve":[{"mw":1.00001}],"description":"bid 0"', 1
        )
    elif hazard == 9:  # \u escapes could spell a placeholder: such a body is not folded
        text = text.replace('"description":"bid 0"', '"description":"caf\\u00e9 \\u007e"', 1)
    return text.encode()


def test_folded_validation_matches_the_full_validator():
    op = load_catalogue()["auction"].operation("portfolioCreation")
    validator = OperationValidator(op, ("SER0022",))
    assert validator.shared is not None
    rng = random.Random(20261124)
    outcomes = set()
    for _ in range(300):
        raw = _random_body(rng)
        body, errors = validator.body(raw)
        expected = validator.body_validator.is_valid(json.loads(raw))
        assert (not errors) == expected, raw[:300]
        assert body == json.loads(raw)
        outcomes.add(expected)
    assert outcomes == {True, False}


def test_folding_shares_repeated_curves():
    op = load_catalogue()["auction"].operation("portfolioCreation")
    validator = OperationValidator(op, ("SER0022",))
    raw = _random_body(random.Random(1), hazards=False).replace(b"fold test", b"fold share")
    body, errors = validator.body(raw)
    assert not errors
    assert len({id(b["bidCurve"]) for b in body["newBids"]}) <= 4


def test_no_folding_where_a_keyword_compares_records():
    """uniqueItems (and friends) compare whole records: such a schema always sees the real arrays."""
    from harness.sandbox.web.validation import _shared_arrays

    curve = {"type": "array", "items": {"type": "object", "properties": {"mw": {"type": "number"}}}}
    bids = {"type": "array", "items": {"type": "object", "properties": {"bidCurve": curve}}}
    _, shared = _shared_arrays({"type": "object", "properties": {"newBids": bids}})
    assert shared is not None and shared.parents == ("newBids",)
    _, shared = _shared_arrays({"type": "object", "properties": {"newBids": {**bids, "uniqueItems": True}}})
    assert shared is None


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


_JSON = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ab\u00e9,:'),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet='[]{}"ab', max_size=3), inner, max_size=3)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_JSON, st.booleans())
def test_nesting_counts_the_brackets_outside_strings(value: Any, ascii_only: bool) -> None:
    """The codec's depth test reads brackets from the bytes, skipping strings: strings full of
    brackets, quotes and escapes must not count (the fast path pairs quotes, the slow one
    follows escapes)."""
    raw = json.dumps(value, separators=(",", ":"), ensure_ascii=ascii_only).encode()
    assert nesting(raw) == _depth(value)
    assert nesting(raw, limit=1) == min(_depth(value), 2)


def _compact(bids: list[dict[str, Any]]) -> bytes:
    body = {
        "portfolioName": "p",
        "marketName": "AUC",
        "participantName": "ECAL",
        "newBids": bids,
        "newOffers": [],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def test_folding_keeps_the_codec_limits_exact():
    """A big body is folded (its curves cut out) before the depth and number limits are read:
    the limits still fall exactly where the whole body puts them, and a body the fold cannot
    read safely (a \\u escape could spell a placeholder) takes the ordinary path."""
    validator = OperationValidator(load_catalogue()["auction"].operation("portfolioCreation"), ("SER0022",))
    assert validator.shared is not None
    bids = [_bid(i) for i in range(200)]
    plain = _compact(bids)
    assert validator.shared.fold(plain) is not None
    assert validator.body(plain)[1] == []
    # body (1) > newBids (2) > bid (3) > x: 61 arrays = 64 levels, the most a body may nest
    for arrays, refused in ((MAX_DEPTH - 3, False), (MAX_DEPTH - 2, True)):
        deep = _compact([*bids[:-1], _bid(199, x=json.loads("[" * arrays + "]" * arrays))])
        errors = validator.body(deep)[1]
        assert bool(errors) == refused, arrays
        if refused:
            assert errors[0].code == "SER0017" and f"deeper than {MAX_DEPTH}" in str(errors[0].args_)
    escaped = plain.replace(b'"bid 7"', b'"bid \\u0041"')
    assert validator.shared.fold(escaped) is None
    body, errors = validator.body(escaped)
    assert errors == [] and body["newBids"][7]["description"] == "bid A"


def test_one_curve_for_every_bid_is_cut_once():
    """The common upload: every bid bids one curve. It is cut out by a join, not per record,
    and every bid gets it back (a second curve takes the general cut)."""
    validator = OperationValidator(load_catalogue()["auction"].operation("portfolioCreation"), ("SER0022",))
    assert validator.shared is not None
    for bids in (
        [_bid(i) for i in range(100)],
        [*(_bid(i) for i in range(99)), _bid(99, bidCurve=[{"mw": 0, "price": 1}, {"mw": 2, "price": 1}])],
    ):
        raw = _compact(bids)
        folded = validator.shared.fold(raw)
        assert folded is not None and folded[3] == 100
        assert len(folded[1]) == len({json.dumps(b["bidCurve"]) for b in bids})
        body, errors = validator.body(raw)
        assert errors == [] and body == json.loads(raw)


def test_a_folded_body_of_listed_names_keeps_the_codec_limits():
    """A folded body that uses only the schema's names skips the byte scans of its text (its
    depth is then known and its numbers bounded by the folded schema): a number beyond 10^15
    or a deep value at a listed name, or anything at another name, is still refused by the
    ordinary path with the same words."""
    validator = OperationValidator(load_catalogue()["auction"].operation("portfolioCreation"), ("SER0022",))
    assert validator.shared is not None and validator.shared.shape is not None
    offer = {**_bid(0), "crrId": 7}
    plain = _compact([_bid(i) for i in range(150)])
    folded = validator.shared.fold(plain)
    assert folded is not None and validator.shared.shape.holds(folded[0])

    def refused(raw: bytes) -> str:
        errors = validator.body(raw)[1]
        assert errors, raw[-200:]
        return f"{errors[0].code} {errors[0].args_} {errors[0].detail}"

    with_offer = json.loads(plain)
    with_offer["newOffers"] = [{**offer, "crrId": 10**16}]
    assert "newOffers[0].crrId" in refused(json.dumps(with_offer, separators=(",", ":")).encode())
    with_offer["newOffers"] = [{**offer, "crrId": 7}]
    assert validator.body(json.dumps(with_offer, separators=(",", ":")).encode())[1] == []
    deep = _compact([*(_bid(i) for i in range(149)), _bid(149, assetOwner=json.loads("[" * 70 + "]" * 70))])
    assert f"deeper than {MAX_DEPTH}" in refused(deep)
    unlisted = _compact([*(_bid(i) for i in range(149)), _bid(149, x={"y": 1e16})])
    assert "newBids[149].x.y" in refused(unlisted) and "beyond" in refused(unlisted)
