"""CRR Load Migration: UDC data submissions and the load-migration CRRs they produce.

Business rules the sandbox applies:

* A load-migration market is PREP before its UDC window opens, OPEN inside it, CLOSED after,
  POSTED once the operator posts it (control plane) — posting wins over dates.
* Each UDC belongs to one SC (UPGAE-ECAL, USCE-WCAL, USDGE-NCAL); only that SC may submit or
  read the UDC's data (another UDC name is LMV024, an SC with no UDC is SEC0001). LSEs are
  identified by 9-digit DUNS numbers registered to SCs; unknown ones are SER0030.
* Submissions upsert by their natural key (LSE+class, DASR record id, class+TOU+season);
  a customer count of 0 removes that record. A DASR set's effectiveDate must equal the
  market's effective date (LMV023).
* Posting turns DASR transfers into load percentages per season and TOU
  (customers moved x kW/customer rate, relative to the losing LSE's load at that UDC), and
  each allocated CRR the losing SC holds at the UDC's DLAP with that TOU yields a LSE_LMT CRR
  for the gaining SC and an equal LMT_CNT counter-flow CRR for the losing SC.
* N-hour data is readable once the market says it is posted and its post date has passed
  (LMV0101 otherwise); a market still in PREP is not configured yet (LMV1002).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

from harness.sandbox.domain.load_migration import (
    UDCS,
    LMMarket,
    all_markets,
    check_udc,
    lse_errors,
    require_market,
    udc_of,
)
from harness.sandbox.domain.storable import refuse_unstorable
from harness.sandbox.errors import CRRError, raise_all
from harness.sandbox.services.request import Operations, Reply, SandboxRequest, listing
from harness.sandbox.timefmt import iso, parse

SERVICE = "load_migration"
operations = Operations(SERVICE)


def _open_for_udc(req: SandboxRequest, conn: sqlite3.Connection) -> tuple[str, str, LMMarket, datetime]:
    sc = req.participant()
    body = req.body
    market = require_market(conn, body["loadMigrationMarket"])
    check_udc(sc, body["udcName"])
    now = req.clock.now()
    if market.status(now) != "OPEN":
        raise CRRError("LMV0102", market.name)
    return sc, body["udcName"], market, now


OK = Reply(body={"submissionStatus": "VALID"})


@operations.handler("postNumberOfCustomers")
async def post_customers(req: SandboxRequest) -> Reply:
    with req.store.write() as conn:
        _, udc, market, now = _open_for_udc(req, conn)
        records = req.body["numberOfCustomerRecords"]
        raise_all(lse_errors(records, "lse"))
        for rec in records:
            key = (market.name, udc, rec["lse"], rec["class"])
            if int(rec["numberOfCustomers"]) == 0:
                conn.execute("DELETE FROM lm_customers WHERE market=? AND udc=? AND lse=? AND class=?", key)
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO lm_customers VALUES (?,?,?,?,?,?)",
                    (*key, int(rec["numberOfCustomers"]), iso(now)),
                )
    return OK


@operations.handler("postDasrSummary")
async def post_dasr(req: SandboxRequest) -> Reply:
    with req.store.write() as conn:
        _, udc, market, now = _open_for_udc(req, conn)
        effective = parse(str(req.body["effectiveDate"]))
        if effective != market.effective:
            raise CRRError("LMV023", iso(effective), iso(market.effective))
        records = req.body["dasrRecords"]
        errors = lse_errors(records, "fromLse", "toLse")
        errors += [
            CRRError("SER0030", f"Record {n}: fromLse and toLse are the same LSE.")
            for n, r in enumerate(records, start=1)
            if r["fromLse"] == r["toLse"]
        ]
        raise_all(errors)
        for rec in records:
            conn.execute(
                "INSERT OR REPLACE INTO lm_dasr VALUES (?,?,?,?,?,?,?,?)",
                (
                    market.name,
                    udc,
                    rec["recordId"],
                    rec["class"],
                    rec["fromLse"],
                    rec["toLse"],
                    int(rec["numCustomerTransfer"]),
                    iso(now),
                ),
            )
    return OK


@operations.handler("postCustomerRates")
async def post_rates(req: SandboxRequest) -> Reply:
    with req.store.write() as conn:
        _, udc, market, now = _open_for_udc(req, conn)
        refuse_unstorable(req.body["customerRateRecords"], "Record", {"kwRate": 1000})
        for rec in req.body["customerRateRecords"]:
            conn.execute(
                "INSERT INTO lm_rates VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(market, udc, class, tou, season)"
                " DO UPDATE SET year=excluded.year, kw_milli=excluded.kw_milli, last_modified=excluded.last_modified",
                (
                    market.name,
                    udc,
                    rec["class"],
                    rec["tou"],
                    int(rec["seasonNumber"]),
                    int(rec["year"]),
                    round(float(rec["kwRate"]) * 1000),
                    iso(now),
                    iso(now),
                ),
            )
    return OK


def _configured(req: SandboxRequest, conn: sqlite3.Connection) -> tuple[str, LMMarket]:
    sc = req.participant()
    market = require_market(conn, req.params["loadMigrationMarketName"])
    if market.status(req.clock.now()) == "PREP":
        raise CRRError("LMV1002")
    return sc, market


def _existing(
    req: SandboxRequest, table: str, order_by: str, key: str, view: Callable[[sqlite3.Row], dict[str, Any]]
) -> Reply:
    """What the caller's UDC has submitted to the market so far, in one of the three tables."""
    with req.store.read() as conn:
        sc, market = _configured(req, conn)
        udc = udc_of(sc)
        rows = conn.execute(
            f"SELECT * FROM {table} WHERE market=? AND udc=? ORDER BY {order_by}", (market.name, udc)
        ).fetchall()
    return Reply(body={"loadMigrationMarket": market.name, "udcName": udc, key: [view(r) for r in rows]})


@operations.handler("getExistingNumberOfCustomers")
async def get_customers(req: SandboxRequest) -> Reply:
    return _existing(
        req,
        "lm_customers",
        "lse, class",
        "numberOfCustomerRecords",
        lambda r: {
            "lse": r["lse"],
            "class": r["class"],
            "numberOfCustomers": r["num"],
            "lastModified": r["last_modified"],
        },
    )


@operations.handler("getExistingDasrSummary")
async def get_dasr(req: SandboxRequest) -> Reply:
    return _existing(
        req,
        "lm_dasr",
        "record_id",
        "dasrRecords",
        lambda r: {
            "recordId": r["record_id"],
            "class": r["class"],
            "fromLse": r["from_lse"],
            "toLse": r["to_lse"],
            "numCustomerTransfer": r["num"],
            "lastModified": r["last_modified"],
        },
    )


@operations.handler("getExistingCustomerRates")
async def get_rates(req: SandboxRequest) -> Reply:
    return _existing(
        req,
        "lm_rates",
        "class, season, tou",
        "customerRateRecords",
        lambda r: {
            "class": r["class"],
            "tou": r["tou"],
            "seasonNumber": r["season"],
            "year": r["year"],
            "kwRate": r["kw_milli"] / 1000,
            "uploadDate": r["upload_date"],
            "lastModified": r["last_modified"],
        },
    )


def _market_list(req: SandboxRequest, posted: bool) -> Reply:
    return listing(
        req, all_markets, lambda m, now: (m.status(now) == "POSTED") == posted, LMMarket.to_contract
    )


@operations.handler("getActiveLoadMigrationMarketList")
async def active_markets(req: SandboxRequest) -> Reply:
    return _market_list(req, posted=False)


@operations.handler("getPostedLoadMigrationMarketList")
async def posted_markets(req: SandboxRequest) -> Reply:
    return _market_list(req, posted=True)


@operations.handler("getLoadMigrationMarketStatus")
async def market_status(req: SandboxRequest) -> Reply:
    req.participant()
    with req.store.read() as conn:
        market = require_market(conn, req.params["loadMigrationMarketName"])
    return Reply(body={"marketStatus": market.status(req.clock.now())})


def _posted(req: SandboxRequest, conn: sqlite3.Connection) -> tuple[str, LMMarket]:
    sc = req.participant()
    market = require_market(conn, req.params["loadMigrationMarketName"])
    if market.status(req.clock.now()) != "POSTED":
        raise CRRError("LMV0103", market.name)
    return sc, market


@operations.handler("getLoadPercentages")
async def load_percentages(req: SandboxRequest) -> Reply:
    with req.store.read() as conn:
        sc, market = _posted(req, conn)
        udcs = [u for u, (owner, _) in UDCS.items() if owner == sc]
        marks = ",".join("?" * len(udcs)) or "''"
        rows = conn.execute(
            f"SELECT * FROM lm_percentages WHERE market = ? AND (from_ao = ? OR to_ao = ? OR udc IN ({marks}))"
            " ORDER BY id",
            (market.name, sc, sc, *udcs),
        ).fetchall()
    return Reply(
        body={
            "loadMigrationMarket": market.name,
            "loadMigrationPercentages": [
                {
                    "id": r["id"],
                    "udc": r["udc"],
                    "fromLse": r["from_lse"],
                    "toLse": r["to_lse"],
                    "fromAssetOwner": r["from_ao"],
                    "toAssetOwner": r["to_ao"],
                    "seasonNumber": r["season"],
                    "tou": r["tou"],
                    "loadPercentage": r["pct"],
                    "loadTransferMw": r["mw"],
                }
                for r in rows
            ],
        }
    )


@operations.handler("getLoadMigrationCRRs")
async def load_migration_crrs(req: SandboxRequest) -> Reply:
    with req.store.read() as conn:
        sc, market = _posted(req, conn)
        rows = conn.execute(
            "SELECT * FROM lm_crrs WHERE market = ? AND owner = ? ORDER BY crr_id", (market.name, sc)
        ).fetchall()
    return Reply(
        body={
            "loadMigrationMarket": market.name,
            "loadMigrationCrrs": [
                {
                    "crrId": r["crr_id"],
                    "parentCrrId": r["parent_id"],
                    "assetOwner": r["owner"],
                    "source": r["source"],
                    "sink": r["sink"],
                    "tou": r["tou"],
                    "startDate": r["start_date"],
                    "endDate": r["end_date"],
                    "crrType": r["crr_type"],
                    "initialMw": r["initial_mw"],
                }
                for r in rows
            ],
        }
    )


@operations.handler("getNHourData")
async def n_hour_data(req: SandboxRequest) -> Reply:
    with req.store.read() as conn:
        _, market = _configured(req, conn)
        now = req.clock.now()
        if market.nhour_posting != "Yes" or (market.nhour_post_date and now < market.nhour_post_date):
            raise CRRError("LMV0101")
        rows = conn.execute(
            "SELECT * FROM lm_nhour WHERE market = ? ORDER BY dlap, season, tou, effective_date, he",
            (market.name,),
        ).fetchall()
    if not rows:
        raise CRRError("LMV0101")
    return Reply(
        body=[
            {
                "defaultLoadAggregationPoint": r["dlap"],
                "seasonNumber": r["season"],
                "tou": r["tou"],
                "effectiveDate": r["effective_date"],
                "hourEnding": r["he"],
                "lastModified": r["last_modified"],
            }
            for r in rows
        ]
    )
