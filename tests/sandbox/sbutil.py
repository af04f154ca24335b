"""Small helpers for the sandbox tests (imported by name; pytest puts this folder on sys.path)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.client import CRRClient
    from harness.pki import DevPKI


def rid() -> str:
    return str(uuid.uuid4())


def make_client(pki: DevPKI, url: str, name: str) -> CRRClient:
    from harness.client import ClientIdentity, CRRClient

    files = pki.identities.get(name) or pki.bad[name]
    return CRRClient(url, identity=ClientIdentity.from_pem(files.cert, files.key), ca=pki.ca_cert, retries=0)


def getter(base: str) -> Callable[..., Any]:
    """``get(client, op, sc, **params)``: a GET of ``base/op`` as participant ``sc``."""

    def get(client: Any, op: str, sc: str, **params: str) -> Any:
        return client.request("GET", f"{base}/{op}", params={"participantName": sc, **params})

    return get


def ext(operator: Any, path: str, body: dict[str, Any] | None = None) -> Any:
    """POST to a control-plane extension (``/simctl/v1`` + path) and return its JSON; skips
    when the app has not wired ``harness.sandbox.control_ext`` yet."""
    import pytest

    r = operator.client.request("POST", f"{operator.client.origin}/simctl/v1{path}", json=body or {})
    if r.status == 404:
        pytest.skip("harness.sandbox.control_ext routes are not wired into the sandbox app")
    assert r.status == 200, r.text
    return r.json()


def codes(response: Any) -> list[str]:
    """Error codes of a CRRServiceException answer (asserting its shape on the way)."""
    body = response.json()
    assert set(body) == {"errorList", "creationTime", "serviceVersion"}, body
    for entry in body["errorList"]:
        assert set(entry) == {"errorCode", "errorDescription", "severity"}, entry
        assert entry["errorDescription"].strip()
    return [e["errorCode"] for e in body["errorList"]]


# auction and nomination share the portfolio lifecycle paths: operation -> (method, path)
PORTFOLIO_CALLS = {
    "submit": ("POST", "portfolioSubmission"),
    "retract": ("POST", "portfolioRetraction"),
    "delete": ("DELETE", "portfolio"),
    "status": ("GET", "portfolioStatus"),
    "get": ("GET", "portfolio"),
    "credit": ("GET", "portfolioRequiredCredit"),
}


def portfolio_act(client: CRRClient, base: str, what: str, name: str, participant: str, market: str) -> Any:
    """One portfolio operation by name: status/get/credit/submit/retract/delete."""
    ids = {"portfolioName": name, "marketName": market, "participantName": participant}
    method, path = PORTFOLIO_CALLS[what]
    if method == "POST":
        return client.request(method, f"{base}/{path}", json=ids)
    return client.request(method, f"{base}/{path}", params=ids)


def error(response: Any, code: str, status: int = 400) -> list[dict[str, Any]]:
    """Assert a CRRServiceException with ``code`` first; return its error list."""
    assert response.status == status, response.body[:500]
    errors = response.json()["errorList"]
    assert errors[0]["errorCode"] == code, errors
    return errors


def ok(response: Any) -> Any:
    """Assert a 200 and return its JSON body."""
    assert response.status == 200, response.body[:800]
    return response.json()
