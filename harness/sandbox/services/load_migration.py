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

from harness.sandbox.domain import load_migration as lm
from harness.sandbox.domain.load_migration import LMMarket, all_markets, require_market, udc_of
from harness.sandbox.domain.storable import refuse_unstorable
from harness.sandbox.services.request import Operations, Reply, SandboxRequest, listing
from harness.sandbox.timefmt import parse

SERVICE = "load_migration"
operations = Operations(SERVICE)


def _open_for_udc(req: SandboxRequest, conn: sqlite3.Connection) -> tuple[str, LMMarket, datetime]:
    now = req.clock.now()
    udc = req.body["udcName"]
    return udc, lm.open_for_udc(conn, req.participant(), req.body["loadMigrationMarket"], udc, now), now


OK = Reply(body={"submissionStatus": "VALID"})


@operations.handler("postNumberOfCustomers")
async def post_customers(req: SandboxRequest) -> Reply:
    with req.store.write() as conn:
        udc, market, now = _open_for_udc(req, conn)
        lm.submit_customers(conn, market, udc, req.body["numberOfCustomerRecords"], now)
    return OK


@operations.handler("postDasrSummary")
async def post_dasr(req: SandboxRequest) -> Reply:
    with req.store.write() as conn:
        udc, market, now = _open_for_udc(req, conn)
        effective = parse(str(req.body["effectiveDate"]))
        lm.submit_dasr(conn, market, udc, effective, req.body["dasrRecords"], now)
    return OK


@operations.handler("postCustomerRates")
async def post_rates(req: SandboxRequest) -> Reply:
    with req.store.write() as conn:
        udc, market, now = _open_for_udc(req, conn)
        refuse_unstorable(req.body["customerRateRecords"], "Record", {"kwRate": 1000})
        lm.submit_rates(conn, market, udc, req.body["customerRateRecords"], now)
    return OK


def _configured(req: SandboxRequest, conn: sqlite3.Connection) -> tuple[str, LMMarket]:
    return req.participant(), lm.configured_market(
        conn, req.params["loadMigrationMarketName"], req.clock.now()
    )


def _existing(
    req: SandboxRequest, kind: lm.Submitted, key: str, view: Callable[[sqlite3.Row], dict[str, Any]]
) -> Reply:
    """What the caller's UDC has submitted to the market so far, of one kind."""
    with req.store.read() as conn:
        sc, market = _configured(req, conn)
        udc = udc_of(sc)
        rows = lm.submitted(conn, kind, market, udc)
    return Reply(body={"loadMigrationMarket": market.name, "udcName": udc, key: [view(r) for r in rows]})


@operations.handler("getExistingNumberOfCustomers")
async def get_customers(req: SandboxRequest) -> Reply:
    return _existing(
        req,
        "customers",
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
        "dasr",
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
        "rates",
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
    return req.participant(), lm.posted_market(conn, req.params["loadMigrationMarketName"], req.clock.now())


@operations.handler("getLoadPercentages")
async def load_percentages(req: SandboxRequest) -> Reply:
    with req.store.read() as conn:
        sc, market = _posted(req, conn)
        rows = lm.percentages_for(conn, market, sc)
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
        rows = lm.crrs_for(conn, market, sc)
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
        rows = lm.nhour_data(conn, market, req.clock.now())
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
