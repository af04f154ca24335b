"""CRR Market Data: public and private downloads as ZIP files, built from the sandbox's own state.

Where each download comes from:

* existing CRRs (public, and private by origin) -- ``holdings``; origin is the CRR type
  (AUC auction; LSE/OBAALSE allocation; MT/MT_TOR/LSE_THCNT system; LSE_LMT/LMT_CNT load
  migration, split at the end of the third year after the current one) except that CRRs
  created by an approved secondary-market trade are SECONDARY_MARKET;
* source/sink list and replacements -- ``network``; grouped base loading -- CRRs held for the
  market's periods; set-aside -- annual markets only;
* results, clearing prices and binding constraints -- what ``domain.clearing`` stored from the
  network's feasibility test (awards; path and node prices; the branches that bound, with shadow
  price, flow and limit), readable once the market is POSTED (MKT0007), for the right market
  type (SER0005);
* nomination-cap data -- the nomination service's ``nomination_caps``; a calculation is named
  ``NOMCAP_<allocation market>`` and is posted at the market's data publish date (CAP0002).
  SEQ, UPPER_BOUND and SIGNATURE belong to annual calculations, MEQ to monthly ones (SER0005).

Private data is only ever the caller's own SC (SEC0001 otherwise); no records is DWL0005
(public) or DWL0006 (private), except for the results of a POSTED market: those files exist
once it is posted, so nothing awarded is an empty file with its header row, like the
clearing-price file always was. A file that fails its draft-07 schema is never sent (SER0003).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from harness.sandbox.domain import downloads, node_list
from harness.sandbox.domain.market_data import (
    CAP_PREFIX,
    all_crrs,
    base_loading_records,
    binding_records,
    cap_records,
    clearing_price_records,
    crr_record,
    log,
    origin_of,
    private_result_records,
    public_result_records,
    set_aside_records,
    source_sink_records,
)
from harness.sandbox.errors import CRRError
from harness.sandbox.services.request import Operations, Reply, SandboxRequest
from harness.sandbox.timefmt import iso

SERVICE = "market_data"
operations = Operations(SERVICE)


def deliver(
    req: SandboxRequest,
    download_type: str,
    records: list[dict[str, Any]],
    stem: str,
    private: bool,
    market: str | None = None,
    empty_is_a_file: bool = False,
) -> Reply:
    """The download as a ZIP. No records is DWL0005/DWL0006, except where an empty file is
    the answer (``empty_is_a_file``): the results of a POSTED market, whose files exist once it is
    posted even when nothing was awarded (a participant's import job expects the header row)."""
    if not records and not empty_is_a_file:
        raise CRRError("DWL0006" if private else "DWL0005")
    file_format = req.params["fileFormat"]
    doc = downloads.document(download_type, records, market, iso(req.clock.now()))
    problems = downloads.check_document(download_type, doc)
    if problems:
        log.error("%s file breaks its schema: %s", download_type, problems[:5])
        raise CRRError("SER0003")
    name, data = downloads.build_zip(download_type, file_format, doc, stem)
    return Reply(
        raw=data,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _market(conn: sqlite3.Connection, req: SandboxRequest, market_type: str | None, posted: bool) -> Any:
    from harness.sandbox.domain import markets

    market = markets.require_market(conn, req.params["marketName"], req.clock)
    if market_type is not None and market.market_type != market_type:
        raise CRRError("SER0005", market.name)
    if posted and market.status != "POSTED":
        raise CRRError("MKT0007", market.name)
    return market


@operations.handler("getPublicGeneralData")
async def public_general(req: SandboxRequest) -> Reply:
    req.participant()
    kind = req.params["publicGeneralDownloadType"]
    with req.store.read() as conn:
        if kind == "PUBLIC_EXISTING_CRR":
            records = [crr_record(c) for c in all_crrs(conn) if c.end > req.clock.now()]
        elif kind == "SOURCE_SINK_REPLACEMENT":
            records = [
                {"RetiredSourceSink": a, "ReplacementSourceSink": b, "EffectiveDate": d}
                for a, b, d in node_list.replacements(conn)
            ]
        else:
            raise CRRError("DWL0001")
    return deliver(req, kind, records, downloads.file_stem(kind), private=False)


@operations.handler("getPublicMarketData")
async def public_market(req: SandboxRequest) -> Reply:
    req.participant()
    kind = req.params["publicMarketDownloadType"]
    with req.store.read() as conn:
        market = _market(conn, req, None, posted=False)
        if req.clock.now() < market.data_publish_date:
            raise CRRError("DWL0005")
        if kind == "SOURCE_SINK":
            records = source_sink_records(node_list.current(conn, market.name), market.tous)
        elif kind == "GROUPED_BASE_LOADING":
            records = base_loading_records(conn, market)
        elif kind == "SET_ASIDE":
            records = set_aside_records(market)
        else:
            raise CRRError("DWL0001")
    return deliver(
        req, kind, records, downloads.file_stem(kind, market.name), private=False, market=market.name
    )


def _public_results(req: SandboxRequest, market_type: str, param: str) -> Reply:
    req.participant()
    kind = req.params[param]
    with req.store.read() as conn:
        market = _market(conn, req, market_type, posted=True)
        if kind == "BINDING_CONSTRAINT":
            records = binding_records(conn, market.name)
        elif kind == "CLEARING_PRICE" and market_type == "AUCTION":
            records = clearing_price_records(conn, market.name)
        elif kind in ("PUBLIC_AUCTION_RESULT", "PUBLIC_ALLOCATION_RESULT"):
            records = public_result_records(conn, market)
        else:
            raise CRRError("DWL0001")
    return deliver(
        req,
        kind,
        records,
        downloads.file_stem(kind, market.name),
        private=False,
        market=market.name,
        empty_is_a_file=True,
    )


@operations.handler("getPublicAllocationResult")
async def public_allocation(req: SandboxRequest) -> Reply:
    return _public_results(req, "ALLOCATION", "publicAllocationResultDownloadType")


@operations.handler("getPublicAuctionResult")
async def public_auction(req: SandboxRequest) -> Reply:
    return _public_results(req, "AUCTION", "publicAuctionResultDownloadType")


def _private_results(req: SandboxRequest, market_type: str, param: str) -> Reply:
    sc = req.participant()
    kind = req.params[param]
    with req.store.read() as conn:
        market = _market(conn, req, market_type, posted=True)
        records = private_result_records(conn, market, sc)
    return deliver(
        req,
        kind,
        records,
        downloads.file_stem(kind, market.name, sc),
        private=True,
        market=market.name,
        empty_is_a_file=True,
    )


@operations.handler("getPrivateAllocationResult")
async def private_allocation(req: SandboxRequest) -> Reply:
    return _private_results(req, "ALLOCATION", "privateAllocationResultDownloadType")


@operations.handler("getPrivateAuctionResult")
async def private_auction(req: SandboxRequest) -> Reply:
    return _private_results(req, "AUCTION", "privateAuctionResultDownloadType")


@operations.handler("getPrivateGeneralData")
async def private_general(req: SandboxRequest) -> Reply:
    from harness.sandbox.domain import holdings
    from harness.sandbox.domain.secondary import secondary_crr_ids

    sc = req.participant()
    kind = req.params["privateGeneralDownloadType"]
    origin = kind.removeprefix("PRIVATE_EXISTING_CRR_")
    now = req.clock.now()
    with req.store.read() as conn:
        secondary = secondary_crr_ids(conn)
        records = [
            crr_record(c) for c in holdings.holdings_of(conn, sc) if origin_of(c, secondary, now) == origin
        ]
    return deliver(req, kind, records, downloads.file_stem(kind, participant=sc), private=True)


@operations.handler("getPrivateAllocationMarketData")
async def private_caps(req: SandboxRequest) -> Reply:
    from harness.sandbox.domain import markets

    sc = req.participant()
    calc = req.params["nominationCapCalcName"]
    kind = req.params["privateAllocationDataDownloadType"]
    with req.store.read() as conn:
        market = (
            markets.get_market(conn, calc.removeprefix(CAP_PREFIX), req.clock)
            if calc.startswith(CAP_PREFIX)
            else None
        )
        if market is None or market.market_type != "ALLOCATION":
            raise CRRError("CAP0001")
        if req.clock.now() < market.data_publish_date:
            raise CRRError("CAP0002")
        if (kind == "MEQ") != (market.term == "MONTHLY"):
            raise CRRError("SER0005", calc)
        records = cap_records(conn, calc, market, kind, sc)
    return deliver(req, kind, records, downloads.file_stem(kind, calc, sc), private=True, market=market.name)
