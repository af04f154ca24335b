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
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from harness.sandbox import registry
from harness.sandbox.context import Reply, SandboxRequest
from harness.sandbox.errors import CRRError
from harness.sandbox.registry import handler, on
from harness.sandbox.services.historical_forecasted_load import (
    PACIFIC,
    local_midnight,
    raise_all,
)
from harness.sandbox.services.messages import calendar_source, publish
from harness.sandbox.services.storable import refuse_unstorable
from harness.sandbox.timefmt import iso, parse
from harness.sandbox.windows import scheduled_status, status_listing

SERVICE = "load_migration"
ALLOCATED_TYPES = ("LSE", "OBAALSE")

UDCS: dict[str, tuple[str, str]] = {  # UDC -> (owning SC, its default load aggregation point)
    "UPGAE": ("ECAL", "DLAP_PGAE-APND"),
    "USCE": ("WCAL", "DLAP_SCE-APND"),
    "USDGE": ("NCAL", "DLAP_SDGE-APND"),
}
LSES: dict[str, tuple[str, str]] = {  # DUNS -> (LSE name, SC acting for it)
    "111111111": ("LSE_ECAL", "ECAL"),
    "222222222": ("LSE_WCAL", "WCAL"),
    "333333333": ("LSE_NCAL", "NCAL"),
    "444444444": ("LSE_SCAL", "SCAL"),
    "555555555": ("LSE_YCAL", "YCAL"),
}

registry.schema(
    "CREATE TABLE IF NOT EXISTS lm_markets ("
    " name TEXT PRIMARY KEY, effective_date TEXT NOT NULL, open_date TEXT NOT NULL, close_date TEXT NOT NULL,"
    " nhour_posting TEXT NOT NULL, nhour_post_date TEXT, status_override TEXT, posted_at TEXT)"
)
registry.schema(
    "CREATE TABLE IF NOT EXISTS lm_customers (market TEXT, udc TEXT, lse TEXT, class TEXT, num INTEGER,"
    " last_modified TEXT, PRIMARY KEY(market, udc, lse, class))"
)
registry.schema(
    "CREATE TABLE IF NOT EXISTS lm_dasr (market TEXT, udc TEXT, record_id TEXT, class TEXT, from_lse TEXT,"
    " to_lse TEXT, num INTEGER, last_modified TEXT, PRIMARY KEY(market, udc, record_id))"
)
registry.schema(
    "CREATE TABLE IF NOT EXISTS lm_rates (market TEXT, udc TEXT, class TEXT, tou TEXT, season INTEGER,"
    " year INTEGER, kw_milli INTEGER, upload_date TEXT, last_modified TEXT,"
    " PRIMARY KEY(market, udc, class, tou, season))"
)
registry.schema(
    "CREATE TABLE IF NOT EXISTS lm_nhour (market TEXT, dlap TEXT, season INTEGER, tou TEXT,"
    " effective_date TEXT, he INTEGER, last_modified TEXT)"
)
registry.schema(
    "CREATE TABLE IF NOT EXISTS lm_percentages (id INTEGER PRIMARY KEY, market TEXT, udc TEXT,"
    " from_lse TEXT, to_lse TEXT, from_ao TEXT, to_ao TEXT, season INTEGER, tou TEXT, pct REAL, mw REAL)"
)
registry.schema(
    "CREATE TABLE IF NOT EXISTS lm_crrs (market TEXT, crr_id INTEGER, parent_id INTEGER, owner TEXT,"
    " source TEXT, sink TEXT, tou TEXT, start_date TEXT, end_date TEXT, crr_type TEXT, initial_mw REAL,"
    " PRIMARY KEY(market, crr_id))"
)


@dataclass(frozen=True)
class LMMarket:
    name: str
    effective: datetime
    open_date: datetime
    close_date: datetime
    nhour_posting: str
    nhour_post_date: datetime | None
    status_override: str | None
    posted_at: datetime | None

    def status(self, now: datetime) -> str:
        return scheduled_status(now, ((self.open_date, "PREP"), (self.close_date, "OPEN")), "CLOSED",
                                self.status_override, self.posted_at)

    def to_contract(self, now: datetime) -> dict[str, Any]:
        out: dict[str, Any] = {
            "marketName": self.name,
            "effectiveDate": iso(self.effective),
            "nHourDataPosting": self.nhour_posting,
        }
        if self.nhour_post_date is not None:
            out["nHourDataPostDate"] = iso(self.nhour_post_date)
        out["submissionWindow"] = {"openDate": iso(self.open_date), "closeDate": iso(self.close_date)}
        out["marketStatus"] = self.status(now)
        return out


def _market(row: sqlite3.Row) -> LMMarket:
    return LMMarket(
        row["name"], parse(row["effective_date"]), parse(row["open_date"]), parse(row["close_date"]),
        row["nhour_posting"], parse(row["nhour_post_date"]) if row["nhour_post_date"] else None,
        row["status_override"], parse(row["posted_at"]) if row["posted_at"] else None,
    )


def save_market(conn: sqlite3.Connection, m: LMMarket) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO lm_markets VALUES (?,?,?,?,?,?,?,?)",
        (m.name, iso(m.effective), iso(m.open_date), iso(m.close_date), m.nhour_posting,
         iso(m.nhour_post_date) if m.nhour_post_date else None, m.status_override,
         iso(m.posted_at) if m.posted_at else None),
    )


def all_markets(conn: sqlite3.Connection) -> list[LMMarket]:
    return [_market(r) for r in conn.execute("SELECT * FROM lm_markets ORDER BY effective_date, name")]


def require_market(conn: sqlite3.Connection, name: str) -> LMMarket:
    row = conn.execute("SELECT * FROM lm_markets WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise CRRError("LMV1003", name)
    return _market(row)


def set_market_status(conn: sqlite3.Connection, name: str, status: str | None) -> None:
    require_market(conn, name)
    conn.execute("UPDATE lm_markets SET status_override = ? WHERE name = ?", (status, name))


@calendar_source
def _calendar(conn: sqlite3.Connection, now: datetime) -> list[tuple[str, datetime, str]]:
    events = []
    for m in all_markets(conn):
        events.append((f"lm:{m.name}:opened", m.open_date, f"Load migration market {m.name} is open for UDC data."))
        events.append((f"lm:{m.name}:closed", m.close_date, f"Load migration market {m.name} is closed for UDC data."))
        if m.posted_at is not None:
            events.append((f"lm:{m.name}:posted", m.posted_at, f"Load migration results of {m.name} are posted."))
    return events


def udc_of(sc: str) -> str:
    for udc, (owner, _) in UDCS.items():
        if owner == sc:
            return udc
    raise CRRError("SEC0001", sc)


def _check_udc(sc: str, udc: str) -> None:
    if UDCS.get(udc, ("", ""))[0] != sc:
        raise CRRError("LMV024", udc)


def _lse_errors(records: list[dict[str, Any]], *fields: str) -> list[CRRError]:
    errors = []
    for n, rec in enumerate(records, start=1):
        for f in fields:
            if rec[f] not in LSES:
                errors.append(CRRError("SER0030", f"Record {n}: LSE {rec[f]} is not registered in the CRR system."))
    return errors


def _open_for_udc(req: SandboxRequest, conn: sqlite3.Connection) -> tuple[str, str, LMMarket, datetime]:
    sc = req.participant()
    body = req.body
    market = require_market(conn, body["loadMigrationMarket"])
    _check_udc(sc, body["udcName"])
    now = req.clock.now()
    if market.status(now) != "OPEN":
        raise CRRError("LMV0102", market.name)
    return sc, body["udcName"], market, now


OK = Reply(body={"submissionStatus": "VALID"})


@handler(SERVICE, "postNumberOfCustomers")
async def post_customers(req: SandboxRequest) -> Reply:
    with req.store.write() as conn:
        _, udc, market, now = _open_for_udc(req, conn)
        records = req.body["numberOfCustomerRecords"]
        raise_all(_lse_errors(records, "lse"))
        for rec in records:
            key = (market.name, udc, rec["lse"], rec["class"])
            if int(rec["numberOfCustomers"]) == 0:
                conn.execute("DELETE FROM lm_customers WHERE market=? AND udc=? AND lse=? AND class=?", key)
            else:
                conn.execute("INSERT OR REPLACE INTO lm_customers VALUES (?,?,?,?,?,?)",
                             (*key, int(rec["numberOfCustomers"]), iso(now)))
    return OK


@handler(SERVICE, "postDasrSummary")
async def post_dasr(req: SandboxRequest) -> Reply:
    with req.store.write() as conn:
        _, udc, market, now = _open_for_udc(req, conn)
        effective = parse(str(req.body["effectiveDate"]))
        if effective != market.effective:
            raise CRRError("LMV023", iso(effective), iso(market.effective))
        records = req.body["dasrRecords"]
        errors = _lse_errors(records, "fromLse", "toLse")
        errors += [CRRError("SER0030", f"Record {n}: fromLse and toLse are the same LSE.")
                   for n, r in enumerate(records, start=1) if r["fromLse"] == r["toLse"]]
        raise_all(errors)
        for rec in records:
            conn.execute("INSERT OR REPLACE INTO lm_dasr VALUES (?,?,?,?,?,?,?,?)",
                         (market.name, udc, rec["recordId"], rec["class"], rec["fromLse"], rec["toLse"],
                          int(rec["numCustomerTransfer"]), iso(now)))
    return OK


@handler(SERVICE, "postCustomerRates")
async def post_rates(req: SandboxRequest) -> Reply:
    with req.store.write() as conn:
        _, udc, market, now = _open_for_udc(req, conn)
        refuse_unstorable(req.body["customerRateRecords"], "Record", {"kwRate": 1000})
        for rec in req.body["customerRateRecords"]:
            conn.execute(
                "INSERT INTO lm_rates VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(market, udc, class, tou, season)"
                " DO UPDATE SET year=excluded.year, kw_milli=excluded.kw_milli, last_modified=excluded.last_modified",
                (market.name, udc, rec["class"], rec["tou"], int(rec["seasonNumber"]), int(rec["year"]),
                 round(float(rec["kwRate"]) * 1000), iso(now), iso(now)),
            )
    return OK


def _configured(req: SandboxRequest, conn: sqlite3.Connection) -> tuple[str, LMMarket]:
    sc = req.participant()
    market = require_market(conn, req.params["loadMigrationMarketName"])
    if market.status(req.clock.now()) == "PREP":
        raise CRRError("LMV1002")
    return sc, market


def _existing(req: SandboxRequest, table: str, order_by: str, key: str,
              view: Callable[[sqlite3.Row], dict[str, Any]]) -> Reply:
    """What the caller's UDC has submitted to the market so far, in one of the three tables."""
    with req.store.read() as conn:
        sc, market = _configured(req, conn)
        udc = udc_of(sc)
        rows = conn.execute(f"SELECT * FROM {table} WHERE market=? AND udc=? ORDER BY {order_by}",
                            (market.name, udc)).fetchall()
    return Reply(body={"loadMigrationMarket": market.name, "udcName": udc, key: [view(r) for r in rows]})


@handler(SERVICE, "getExistingNumberOfCustomers")
async def get_customers(req: SandboxRequest) -> Reply:
    return _existing(req, "lm_customers", "lse, class", "numberOfCustomerRecords", lambda r: {
        "lse": r["lse"], "class": r["class"], "numberOfCustomers": r["num"], "lastModified": r["last_modified"]})


@handler(SERVICE, "getExistingDasrSummary")
async def get_dasr(req: SandboxRequest) -> Reply:
    return _existing(req, "lm_dasr", "record_id", "dasrRecords", lambda r: {
        "recordId": r["record_id"], "class": r["class"], "fromLse": r["from_lse"], "toLse": r["to_lse"],
        "numCustomerTransfer": r["num"], "lastModified": r["last_modified"]})


@handler(SERVICE, "getExistingCustomerRates")
async def get_rates(req: SandboxRequest) -> Reply:
    return _existing(req, "lm_rates", "class, season, tou", "customerRateRecords", lambda r: {
        "class": r["class"], "tou": r["tou"], "seasonNumber": r["season"], "year": r["year"],
        "kwRate": r["kw_milli"] / 1000, "uploadDate": r["upload_date"], "lastModified": r["last_modified"]})


def _market_list(req: SandboxRequest, posted: bool) -> Reply:
    return status_listing(req, all_markets, lambda m, now: (m.status(now) == "POSTED") == posted,
                          LMMarket.to_contract)


@handler(SERVICE, "getActiveLoadMigrationMarketList")
async def active_markets(req: SandboxRequest) -> Reply:
    return _market_list(req, posted=False)


@handler(SERVICE, "getPostedLoadMigrationMarketList")
async def posted_markets(req: SandboxRequest) -> Reply:
    return _market_list(req, posted=True)


@handler(SERVICE, "getLoadMigrationMarketStatus")
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


@handler(SERVICE, "getLoadPercentages")
async def load_percentages(req: SandboxRequest) -> Reply:
    with req.store.read() as conn:
        sc, market = _posted(req, conn)
        udcs = [u for u, (owner, _) in UDCS.items() if owner == sc]
        marks = ",".join("?" * len(udcs)) or "''"
        rows = conn.execute(
            f"SELECT * FROM lm_percentages WHERE market = ? AND (from_ao = ? OR to_ao = ? OR udc IN ({marks}))"
            " ORDER BY id", (market.name, sc, sc, *udcs)).fetchall()
    return Reply(body={"loadMigrationMarket": market.name, "loadMigrationPercentages": [
        {"id": r["id"], "udc": r["udc"], "fromLse": r["from_lse"], "toLse": r["to_lse"],
         "fromAssetOwner": r["from_ao"], "toAssetOwner": r["to_ao"], "seasonNumber": r["season"],
         "tou": r["tou"], "loadPercentage": r["pct"], "loadTransferMw": r["mw"]} for r in rows]})


@handler(SERVICE, "getLoadMigrationCRRs")
async def load_migration_crrs(req: SandboxRequest) -> Reply:
    with req.store.read() as conn:
        sc, market = _posted(req, conn)
        rows = conn.execute("SELECT * FROM lm_crrs WHERE market = ? AND owner = ? ORDER BY crr_id",
                            (market.name, sc)).fetchall()
    return Reply(body={"loadMigrationMarket": market.name, "loadMigrationCrrs": [
        {"crrId": r["crr_id"], "parentCrrId": r["parent_id"], "assetOwner": r["owner"], "source": r["source"],
         "sink": r["sink"], "tou": r["tou"], "startDate": r["start_date"], "endDate": r["end_date"],
         "crrType": r["crr_type"], "initialMw": r["initial_mw"]} for r in rows]})


@handler(SERVICE, "getNHourData")
async def n_hour_data(req: SandboxRequest) -> Reply:
    with req.store.read() as conn:
        _, market = _configured(req, conn)
        now = req.clock.now()
        if market.nhour_posting != "Yes" or (market.nhour_post_date and now < market.nhour_post_date):
            raise CRRError("LMV0101")
        rows = conn.execute("SELECT * FROM lm_nhour WHERE market = ? ORDER BY dlap, season, tou, effective_date, he",
                            (market.name,)).fetchall()
    if not rows:
        raise CRRError("LMV0101")
    return Reply(body=[
        {"defaultLoadAggregationPoint": r["dlap"], "seasonNumber": r["season"], "tou": r["tou"],
         "effectiveDate": r["effective_date"], "hourEnding": r["he"], "lastModified": r["last_modified"]}
        for r in rows])


# --- posting ----------------------------------------------------------------------------------------


def season_of(instant: datetime) -> int:
    return (instant.astimezone(PACIFIC).month - 1) // 3 + 1


def compute_transfers(conn: sqlite3.Connection, market: str) -> list[tuple[str, str, str, int, str, float, float]]:
    """(udc, fromDUNS, toDUNS, season, tou, percentage, MW) from the UDC data of a market."""
    rates: dict[tuple[str, str, str, int], float] = {
        (r["udc"], r["class"], r["tou"], r["season"]): r["kw_milli"] / 1000
        for r in conn.execute("SELECT * FROM lm_rates WHERE market = ?", (market,))
    }
    customers: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for r in conn.execute("SELECT * FROM lm_customers WHERE market = ?", (market,)):
        customers[(r["udc"], r["lse"])][r["class"]] = r["num"]
    moved: dict[tuple[str, str, str, int, str], float] = defaultdict(float)
    base_load: dict[tuple[str, str, int, str], float] = {}
    for d in conn.execute("SELECT * FROM lm_dasr WHERE market = ? ORDER BY record_id", (market,)):
        for season in (1, 2, 3, 4):
            for tou in ("ON", "OFF"):
                rate = rates.get((d["udc"], d["class"], tou, season))
                if rate is None:
                    continue
                moved[(d["udc"], d["from_lse"], d["to_lse"], season, tou)] += d["num"] * rate / 1000
                key = (d["udc"], d["from_lse"], season, tou)
                if key not in base_load:
                    base_load[key] = sum(
                        n * rates.get((d["udc"], cls, tou, season), 0.0) / 1000
                        for cls, n in customers.get((d["udc"], d["from_lse"]), {}).items()
                    )
    out = []
    for (udc, f, t, season, tou), mw in sorted(moved.items()):
        base = base_load.get((udc, f, season, tou), 0.0)
        pct = 100.0 if base <= 0 else min(100.0, 100.0 * mw / base)
        out.append((udc, f, t, season, tou, round(pct, 6), round(mw, 6)))
    return out


def post_market(conn: sqlite3.Connection, name: str, now: datetime) -> None:
    """Post a load-migration market: percentages, load-migration CRRs, notices."""
    from harness.sandbox import holdings

    market = require_market(conn, name)
    if market.posted_at is not None:
        raise CRRError("SER0030", f"Load migration market {name} is already posted.")
    conn.execute("DELETE FROM lm_percentages WHERE market = ?", (name,))
    involved: set[str] = set()
    for udc, f, t, season, tou, pct, mw in compute_transfers(conn, name):
        from_name, from_ao = LSES[f]
        to_name, to_ao = LSES[t]
        involved |= {from_ao, to_ao}
        conn.execute(
            "INSERT INTO lm_percentages(market, udc, from_lse, to_lse, from_ao, to_ao, season, tou, pct, mw)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)", (name, udc, from_name, to_name, from_ao, to_ao, season, tou, pct, mw))
        dlap = UDCS[udc][1]
        for crr in holdings.holdings_of(conn, from_ao):
            if (crr.sink != dlap or crr.tou != tou or crr.crr_type not in ALLOCATED_TYPES
                    or crr.end <= market.effective or season_of(crr.start) != season):
                continue
            milli = int(crr.mw * 1000 * pct / 100)
            if milli < 1:
                continue
            start = max(crr.start, market.effective)
            for owner, src, snk, ctype in ((to_ao, crr.source, crr.sink, "LSE_LMT"),
                                           (from_ao, crr.sink, crr.source, "LMT_CNT")):
                crr_id = holdings.grant(conn, owner, src, snk, milli / 1000, crr.hedge_type, tou, crr.period,
                                        ctype, name, start, crr.end, parent_id=crr.crr_id)
                conn.execute("INSERT INTO lm_crrs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                             (name, crr_id, crr.crr_id, owner, src, snk, tou, iso(start), iso(crr.end), ctype,
                              milli / 1000))
    conn.execute("UPDATE lm_markets SET posted_at = ?, status_override = NULL WHERE name = ?", (iso(now), name))
    if involved:
        publish(conn, now, f"Load migration results of {name} include transfers for you.", to=sorted(involved),
                event_key=f"lm:{name}:results")


# --- Market Sim plan ----------------------------------------------------------------------------------


def _first_of_month(today: date, months_ahead: int) -> datetime:
    m = today.month - 1 + months_ahead
    return local_midnight(date(today.year + m // 12, m % 12 + 1, 1))


def _name(effective: datetime) -> str:
    local = effective.astimezone(PACIFIC)
    return f"LOAD_MIGRATION_{local.year}_M{local.month:02d}"


def plan_markets(now: datetime) -> list[LMMarket]:
    today = now.astimezone(PACIFIC).date()
    day = timedelta(days=1)
    this, nxt, later = (_first_of_month(today, k) for k in (0, 1, 2))
    return [
        LMMarket(_name(this), this, now - 30 * day, now - 15 * day, "No", None, None, None),
        LMMarket(_name(nxt), nxt, now - day, now + 5 * day, "Yes", now - 2 * day, None, None),
        LMMarket(_name(later), later, now + 20 * day, now + 30 * day, "No", None, None, None),
    ]


SEED_MARKET = "ALLOC_LT_2026_SEED"  # where the seeded allocated CRR says it came from


def seed_allocated_crr(conn: sqlite3.Connection, market: LMMarket) -> None:
    """ECAL holds an allocated CRR at its UDC's DLAP so posting the open market migrates something."""
    from harness.sandbox import holdings

    if conn.execute("SELECT 1 FROM crr_holdings WHERE market = ? LIMIT 1", (SEED_MARKET,)).fetchone():
        return
    local = market.effective.astimezone(PACIFIC)
    period = f"{local.year}_M{local.month:02d}"
    end = local_midnight(date(local.year + (local.month == 12), local.month % 12 + 1, 1))
    holdings.grant(conn, "ECAL", "TH_NP15_GEN-APND", UDCS["UPGAE"][1], 40, "OBL", "ON", period, "LSE",
                   SEED_MARKET, market.effective, end)


def seed_plan(conn: sqlite3.Connection, now: datetime) -> None:
    markets = plan_markets(now)
    for m in markets:
        save_market(conn, m)
    posted, open_ = markets[0], markets[1]
    stamp = iso(now - timedelta(days=20))
    # a posted market with a small transfer so percentages are non-empty
    conn.execute("INSERT OR REPLACE INTO lm_customers VALUES (?,?,?,?,?,?)",
                 (posted.name, "UPGAE", "111111111", "RESIDENTIAL", 1000, stamp))
    conn.execute("INSERT OR REPLACE INTO lm_dasr VALUES (?,?,?,?,?,?,?,?)",
                 (posted.name, "UPGAE", "PLAN-1", "RESIDENTIAL", "111111111", "222222222", 50, stamp))
    for season in (1, 2, 3, 4):
        for tou, kw in (("ON", 1500), ("OFF", 900)):
            conn.execute("INSERT OR REPLACE INTO lm_rates VALUES (?,?,?,?,?,?,?,?,?)",
                         (posted.name, "UPGAE", "RESIDENTIAL", tou, season, now.year - 1, kw, stamp, stamp))
    post_market(conn, posted.name, now - timedelta(days=10))
    seed_allocated_crr(conn, open_)
    # N-hour data for the open market: the top load hours per DLAP, season and TOU
    season = season_of(open_.effective)
    conn.execute("DELETE FROM lm_nhour WHERE market = ?", (open_.name,))
    for _, dlap in UDCS.values():
        for offset, (tou, he) in enumerate((("ON", 17), ("ON", 18), ("OFF", 23))):
            eff = open_.effective - timedelta(days=365 - 7 * offset)
            conn.execute("INSERT INTO lm_nhour VALUES (?,?,?,?,?,?,?)",
                         (open_.name, dlap, season, tou, iso(local_midnight(eff.astimezone(PACIFIC).date())), he,
                          iso(now - 2 * timedelta(days=1))))


@on("plan.setup")
def on_plan_setup(conn: sqlite3.Connection, clock: Any, **_: Any) -> None:
    seed_plan(conn, clock.now())
