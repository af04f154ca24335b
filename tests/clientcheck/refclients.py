"""Three reference B2B clients for ``crrsim client-check``'s tests, each a real HTTP client over
mTLS running one Market Sim day (week 1 Wednesday: two auction portfolios created, submitted
and read back, the market's status, a download, the messages).

* ``good``: one connection pool, a fresh UUID per request, honours Retry-After, backs off on
  a 500, reads a write back when its answer is lost, ignores what it does not know.
* ``naive``: a new connection per request, one request id for the whole day, retries 5xx at
  once and 4xx in a loop, re-creates after a lost answer, a 1 s timeout, the portfolio's name as
  participantName on submit, JSON-only Accept on downloads, and a tight status poll at the end.
* ``strict``: ``good``, but it reads answers like a Java client with Jackson's defaults: an
  unknown field or an id above 2^31-1 throws, and its generic error handling re-sends the
  call at once.

Run as ``python -m tests.clientcheck.refclients KIND URL CA CERT KEY`` (a process of its own,
as a participant's client is).
"""

from __future__ import annotations

import ssl
import sys
import time
import uuid
from typing import Any

import httpx

from harness.contract import load_catalogue

SC = "ECAL"
MARKET = "AUC_MN_2026_M03"
JSON_ONLY = "application/json"
DOWNLOAD_ACCEPT = "application/octet-stream, application/json"
INT32_MAX = 2**31 - 1


class StrictError(ValueError):
    """What a strict deserialiser throws."""


def _bid(tou: str) -> dict[str, Any]:
    return {
        "assetOwner": SC,
        "source": "TH_NP15_GEN-APND",
        "sink": "DLAP_PGAE-APND",
        "hedgeType": "OBL",
        "tou": tou,
        "period": "2026_M03",
        "crrType": "AUC",
        "bidCurve": [{"mw": 0, "price": 5.0}, {"mw": 10, "price": 5.0}],
    }


class RefClient:
    def __init__(self, kind: str, url: str, ca: str, cert: str, key: str) -> None:
        self.kind, self.url = kind, url.rstrip("/")
        context = ssl.create_default_context(cafile=ca)  # httpx drops cert= beside a verify path
        context.load_cert_chain(cert, key)
        self.tls = {"verify": context}
        self.timeout = 1.0 if kind == "naive" else 15.0
        self.pool = httpx.Client(timeout=self.timeout, **self.tls) if kind != "naive" else None  # type: ignore[arg-type]
        self.session_id = str(uuid.uuid4())
        self.schemas = {
            (op.method, op.path): op.responses.get("200")
            for service in load_catalogue(None)
            for op in service.operations
        }

    # -- one call, with the client's own error handling ------------------------------------
    def _send(
        self, method: str, path: str, params: dict[str, str] | None, body: Any, accept: str
    ) -> httpx.Response:
        headers = {
            "caiso-request-id": self.session_id if self.kind == "naive" else str(uuid.uuid4()),
            "Accept": accept,
        }
        if self.pool is not None:
            return self.pool.request(method, self.url + path, params=params, json=body, headers=headers)
        with httpx.Client(timeout=self.timeout, **self.tls) as once:  # type: ignore[arg-type]
            return once.request(method, self.url + path, params=params, json=body, headers=headers)

    def call(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: Any = None,
        accept: str = JSON_ONLY,
        read_back: Any = None,
    ) -> Any:
        if self.kind == "naive":
            return self._naive(method, path, params, body, accept)
        backoff = 1.0
        for _attempt in range(4):
            try:
                r = self._send(method, path, params, body, accept)
            except httpx.TimeoutException:
                time.sleep(backoff)
                backoff *= 2
                continue
            except httpx.TransportError:
                if read_back is not None and read_back():
                    return None  # the write was saved: its answer was lost, nothing to re-send
                time.sleep(backoff)
                backoff *= 2
                continue
            if r.status_code == 503:
                time.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            if r.status_code >= 500:
                time.sleep(backoff)
                backoff *= 2
                continue
            if r.status_code >= 400 or not r.headers.get("content-type", "").startswith("application/json"):
                return None
            try:
                return self.read(method, path, r)
            except StrictError:
                try:  # a generated client's "retry once on any error", at once
                    return self.read(method, path, self._send(method, path, params, body, accept))
                except StrictError:
                    return None
        return None

    def _naive(self, method: str, path: str, params: dict[str, str] | None, body: Any, accept: str) -> Any:
        for _attempt in range(4):  # anything that is not a 200 is tried again, at once
            try:
                r = self._send(method, path, params, body, accept)
            except httpx.TransportError:
                continue
            if r.status_code == 200:
                return r.json() if r.headers.get("content-type", "").startswith("application/json") else None
        return None

    def read(self, method: str, path: str, r: httpx.Response) -> Any:
        data = r.json()
        if self.kind == "strict":
            self._strict(data, self.schemas.get((method, path)) or {})
        return data

    def _strict(self, data: Any, schema: dict[str, Any]) -> None:
        """Jackson with its defaults: unknown properties fail; ids go into 32-bit Integers."""
        if schema.get("type") == "array" and isinstance(data, list):
            for item in data:
                self._strict(item, schema.get("items") or {})
            return
        if isinstance(data, dict):
            known = schema.get("properties")
            if isinstance(known, dict):
                unknown = set(data) - set(known)
                if unknown:
                    raise StrictError(f"Unrecognized field {sorted(unknown)[0]!r}")
            for key, value in data.items():
                if key.lower().endswith("id") and isinstance(value, int) and value > INT32_MAX:
                    raise StrictError(f"Numeric value ({value}) out of range of int")
                child = known.get(key, {}) if isinstance(known, dict) else {}
                self._strict(value, child if isinstance(child, dict) else {})
        elif isinstance(data, list):
            for item in data:
                self._strict(item, {})

    # -- the day -----------------------------------------------------------------------------
    def ids(self, name: str) -> dict[str, str]:
        return {"marketName": MARKET, "portfolioName": name, "participantName": SC}

    def exists(self, name: str) -> bool:
        r = self._send("GET", "/auction/v1.0/portfolioStatus", self.ids(name), None, JSON_ONLY)
        return r.status_code == 200

    def day(self) -> None:
        self.call("GET", "/status")
        self.call("GET", "/marketstatus/v1.0/marketStatus", {"marketName": MARKET, "participantName": SC})
        self.call("GET", "/marketstatus/v1.0/activeAuctionMarkets", {"participantName": SC})
        names = [("March test", "ON"), ("March test OFF", "OFF")]
        for name, tou in names:
            body = {
                "portfolioName": name,
                "marketName": MARKET,
                "participantName": SC,
                "newBids": [_bid(tou)],
                "newOffers": [],
            }
            self.call(
                "POST", "/auction/v1.0/portfolioCreation", body=body, read_back=lambda n=name: self.exists(n)
            )
            self.call("GET", "/auction/v1.0/portfolioStatus", self.ids(name))
            submit = self.ids(name)
            if self.kind == "naive":
                submit["participantName"] = name  # the public Java client's mistake
            self.call("POST", "/auction/v1.0/portfolioSubmission", body=submit)
            self.call("GET", "/auction/v1.0/portfolio", self.ids(name))
        self.call("GET", "/auction/v1.0/portfolioList", {"marketName": MARKET, "participantName": SC})
        self.call(
            "GET",
            "/marketdata/v1.0/publicMarketData",
            {
                "marketName": MARKET,
                "publicMarketDownloadType": "SOURCE_SINK",
                "fileFormat": "JSON",
                "participantName": SC,
            },
            accept=JSON_ONLY if self.kind == "naive" else DOWNLOAD_ACCEPT,
        )
        self.call("GET", "/messages/v1.0/public", {"participantName": SC, "fromDate": "2026-02-01T00:00:00Z"})
        for name, _tou in names:  # the end-of-day check of every portfolio
            self.call("GET", "/auction/v1.0/portfolioStatus", self.ids(name))
            self.call("GET", "/auction/v1.0/portfolio", self.ids(name))
        self.call("GET", "/auction/v1.0/portfolioList", {"marketName": MARKET, "participantName": SC})
        if self.kind == "naive":  # waiting for the market to close, as fast as it can ask
            for _ in range(15):
                self.call(
                    "GET", "/marketstatus/v1.0/marketStatus", {"marketName": MARKET, "participantName": SC}
                )
        self.call("GET", "/status")


def main(argv: list[str]) -> int:
    kind, url, ca, cert, key = argv
    client = RefClient(kind, url, ca, cert, key)
    client.day()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
