"""The portfolio lifecycle shared by the auction (bids/offers) and nomination services.

Both CRR services manage named portfolios per (market, participant) with the same operations
and the same status machine; they differ only in the records a portfolio holds and the rules
those records obey. So the lifecycle lives here once, and each service supplies a
``PortfolioRules`` subclass (record parsing and checks, rendering, which error code a closed
window gives for which operation).

Status machine (the contract's ``PortfolioStatusType``)::

    create --(no records)--> NEW          create --(records)--> VALID
    VALID --submit ok--> SUBMITTED --retract--> VALID
    VALID --submit, a record fails a state check--> INVALID (errorMessage says why)
    VALID --submit, credit exceeded--> refused (SER0030); both contracts describe REJECTED as
        passing straight back to VALID, so the portfolio is VALID again at once, its
        errorMessage saying why the last submission was rejected (submit it again later)
    any but SUBMITTED --delete--> DELETED (the row is removed; the name is free again)

Which rule violations are whole-request 400s and which make a portfolio INVALID
(both contracts say an INVALID portfolio is only *saved* by the MUI editor or by a failed
submission, never by an API upload):

* Request-level, nothing saved: identity (SEC0001), market (MKT0001, closed window), name
  (POR0215/POR0103/SER0022, POR0101), more than ``MAX_RECORDS`` records (SER0030), and every
  *static* record rule -- one a later change of state cannot fix: curve shape, unknown or
  non-biddable node, source = sink, period/TOU not offered by the market, asset owner not the
  participant, a sell offer for a CRR the participant does not hold. Each bad record gets its
  own SER0030 entry naming it (``newBids[3]: ...``), so an API client can fix them all at once.
* Portfolio INVALID at submission (400 SER0030 answer *and* the portfolio saved as INVALID with
  the same sentences in ``errorMessage``): rules that depend on state that changes between
  creation and submission -- a sell offer whose CRR was traded away or is already offered in
  another submitted portfolio, nomination totals over the participant's caps. This is the
  contract's own example of ``errorMessage``. An INVALID portfolio then gets AUC0037/NOM0101
  on submission and POR0011 on retraction; the participant deletes it and uploads a fixed one.

Another participant's portfolio is never revealed: lookups are by (market, participant, name),
so a portfolio of an SC the certificate may not act for is simply not found (POR0100, after
SEC0001 refused acting for that SC at all). POR0023 is only given when the certificate may act
for the SC that owns the name too (one certificate, several SC IDs), where it leaks nothing.

Concurrent edits: each write takes a per-portfolio edit lock; a second write to the same
portfolio while one is in progress gets POR0306. Creation checks its (up to 500 x 20 points)
records' distinct kinds in chunks and yields to the event loop between them, so other clients
stay served while a big upload is checked -- and a concurrent edit of that portfolio meets the
lock.
The lock also holds between the workers of a multi-process sandbox (see ``EditLocks``).
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Hashable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from itertools import count, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar

from harness.contract.portfolios import MAX_RECORDS
from harness.sandbox.domain import markets, node_list
from harness.sandbox.errors import CRRError
from harness.sandbox.jsoncodec import dumps, dumps_text, parse
from harness.sandbox.store import next_ids
from harness.sandbox.timefmt import iso

if TYPE_CHECKING:
    from harness.sandbox.domain.clock import Clock
    from harness.sandbox.domain.markets import Market

MAX_NAME = 100
CHUNK = 100  # distinct records parsed between two yields to the event loop
MAX_LISTED_ERRORS = 50

NEW, VALID, INVALID, SUBMITTED, REJECTED, DELETED = (
    "NEW",
    "VALID",
    "INVALID",
    "SUBMITTED",
    "REJECTED",
    "DELETED",
)


RECORD_ID_KIND = "portfolio_record"  # one id sequence for bidIds and nominationIds


# --------------------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Record:
    """One bid, offer or nomination, in exact integer units."""

    side: str  # BUY | SELL | NOMINATION
    asset_owner: str
    source: str
    sink: str
    hedge_type: str
    tou: str
    period: str
    crr_type: str
    mw_milli: int
    curve: tuple[tuple[int, int], ...] | None = None
    crr_id: int | None = None
    record_id: int | None = None
    portfolio_id: int | None = None
    participant: str | None = None

    @property
    def path(self) -> tuple[str, str, str, str, str]:
        return (self.source, self.sink, self.tou, self.period, self.hedge_type)


def milli(mw: float | int) -> int:
    """MW -> thousandths. Exact for contract-valid values (``multipleOf: 0.001``)."""
    return round(mw * 1000)


def cents(price: float | int) -> int:
    return round(price * 100)


def load_records(
    conn: sqlite3.Connection, where: str, args: Sequence[Any], side: str | None = None
) -> list[Record]:
    """Records of the portfolios selected by a WHERE clause over ``p`` (crr_portfolios), by record id."""
    rows = conn.execute(
        "SELECT p.portfolio_id, p.participant, s.records FROM crr_portfolios p"
        " JOIN crr_portfolio_recordsets s ON s.portfolio_id = p.portfolio_id"
        f" WHERE {where}",
        tuple(args),
    )
    out: list[Record] = []
    for pid, participant, text in rows:
        doc = parse(text)
        curves = [tuple(map(tuple, curve)) for curve in doc["curves"]]  # stored as integers
        kinds = doc["kinds"]
        for rid, kind, _ in doc["records"]:
            k = kinds[kind]
            if side is not None and k[0] != side:
                continue
            out.append(
                Record(
                    side=k[0],
                    asset_owner=k[2],
                    source=k[3],
                    sink=k[4],
                    hedge_type=k[5],
                    tou=k[6],
                    period=k[7],
                    crr_type=k[8],
                    mw_milli=k[9],
                    curve=curves[k[10]] if k[10] is not None else None,
                    crr_id=k[1],
                    record_id=rid,
                    portfolio_id=pid,
                    participant=participant,
                )
            )
    out.sort(key=lambda r: r.record_id or 0)
    return out


def _records_text(
    ids: Sequence[int], records: Sequence[Record], raw: Sequence[tuple[str, Mapping[str, Any]]]
) -> str:
    """The portfolio's records as one compact JSON document, everything a portfolio holds: the
    checks read it (``load_records``) and a GET renders from it (``render_portfolio``).

    ``curves``: each distinct curve once, as [milli-MW, cents] pairs. ``kinds``: each distinct
    record once (side, CRR id, asset owner, source, sink, hedge type, TOU, period, CRR type,
    milli-MW, curve index). ``records``: [record id, kind index, description] in upload order.
    Records that say the same thing are one object (``check_records``), so a 500-bid upload
    that repeats a few is a few kinds and rows built in C.
    """
    curve_at: dict[Any, int] = {}
    kind_at: dict[int, int] = {}  # id(record) -> its kind's index
    kinds: list[tuple[Any, ...]] = []
    for r in dict(zip(map(id, records), records, strict=True)).values():
        at = None
        if r.curve:
            at = curve_at.setdefault(r.curve, len(curve_at))
        kind_at[id(r)] = len(kinds)
        kinds.append(
            (
                r.side,
                r.crr_id,
                r.asset_owner,
                r.source,
                r.sink,
                r.hedge_type,
                r.tou,
                r.period,
                r.crr_type,
                r.mw_milli,
                at,
            )
        )
    descriptions = map(dict.get, map(itemgetter(1), raw), repeat("description"))
    rows = list(zip(ids, map(kind_at.__getitem__, map(id, records)), descriptions, strict=True))
    return dumps_text({"curves": list(curve_at), "kinds": kinds, "records": rows})


# --------------------------------------------------------------------------------------
# what a service plugs in
# --------------------------------------------------------------------------------------
@dataclass
class CreateContext:
    """What record checks may consult: the caller, the market, and rule-specific data."""

    participant: str
    market: Market
    data: dict[str, Any]


class PortfolioRules:
    """Per-service record rules; subclasses override the hooks they need."""

    service: ClassVar[str]
    market_type: ClassVar[str]
    # (side, request array, response array)
    collections: ClassVar[tuple[tuple[str, str, str], ...]]
    id_field: ClassVar[str]  # bidId | nominationId
    record_fields: ClassVar[dict[str, tuple[str, ...]]]  # side -> contract properties, in order
    # error codes per operation when the market's window is not open
    closed_codes: ClassVar[dict[str, str]]
    in_error_code: ClassVar[str]  # submitting an INVALID portfolio
    creation_failed_code: ClassVar[str | None] = None  # first entry of a refused upload
    shared_field: ClassVar[str | None] = None  # a record list that records often share (bid curves)

    def prepare(
        self, conn: sqlite3.Connection, ctx: CreateContext, raw: Sequence[tuple[str, dict[str, Any]]]
    ) -> None:
        """Load whatever the record checks need (e.g. the CRRs that offers sell) into ctx.data;
        here the market's source/sink list at its latest version (overrides call this too)."""
        ctx.data["nodes"] = node_list.current(conn, ctx.market.name)

    def parse(self, side: str, raw: dict[str, Any], ctx: CreateContext) -> tuple[Record | None, list[str]]:
        """One request record -> (Record, []) or (None, [problems])."""
        raise NotImplementedError

    # what ``parse`` reads of a record: properties it needs, ones it may go without, and lists
    # (shared bid curves) that count by identity
    key_properties: ClassVar[tuple[str, ...]] = ()
    key_optional: ClassVar[tuple[str, ...]] = ()
    key_by_identity: ClassVar[tuple[str, ...]] = ()

    def record_keys(self, raw: Sequence[tuple[str, Mapping[str, Any]]]) -> Sequence[Hashable] | None:
        """What ``parse`` reads of each record, as a key: two records of one upload with the
        same key parse to the same (Record, problems), so ``check_records`` parses each key
        once. Built by maps of C callables, no Python step per record. None: parse every
        record on its own (a service without key properties, or a record lacking one)."""
        if not self.key_properties:
            return None
        if not raw:
            return []
        sides, items = zip(*raw, strict=True)
        columns = [
            sides,
            map(itemgetter(*self.key_properties), items),
            *(map(dict.get, items, repeat(name)) for name in self.key_optional),
            *(map(id, map(dict.get, items, repeat(name))) for name in self.key_by_identity),
        ]
        try:
            return list(zip(*columns, strict=True))
        except (KeyError, TypeError):  # a record without one of them: each parsed on its own (and refused)
            return None

    def check_portfolio(
        self, records: Sequence[Record], raw: Sequence[tuple[str, dict[str, Any]]]
    ) -> list[str]:
        """Rules across records of one upload (e.g. the same CRR offered twice)."""
        return []

    def submission_errors(
        self, conn: sqlite3.Connection, portfolio: sqlite3.Row, records: list[Record]
    ) -> list[str]:
        """State-dependent checks at submission; any problem makes the portfolio INVALID."""
        return []

    def refuse_submission(self, conn: sqlite3.Connection, portfolio: sqlite3.Row) -> None:
        """Raise a request-level error when the participant may not submit at all (eligibility)."""

    def required_credit_cents(self, records: Sequence[Record]) -> int:
        return 0

    def credit_problem(self, conn: sqlite3.Connection, portfolio: sqlite3.Row) -> str | None:
        """A reason to refuse the submission for credit (the portfolio stays VALID, the reason in its errorMessage)."""
        return None

    # common static checks -----------------------------------------------------------
    def location_problems(self, raw: Mapping[str, Any], ctx: CreateContext, side: str = "BUY") -> list[str]:
        """Asset owner, nodes, period and TOU: what every CRR record must satisfy.

        Memoised per upload on the five values it reads: a 500-record portfolio repeats a few
        paths, and these checks were a measurable share of a big upload.
        """
        key = (
            raw.get("assetOwner"),
            raw.get("source", ""),
            raw.get("sink", ""),
            raw.get("period"),
            raw.get("tou"),
            side,
        )
        memo = ctx.data.setdefault("_locations", {})
        try:
            found = memo.get(key)
        except TypeError:  # an unhashable value (schema-invalid anyway): no memo
            return self._location_problems(raw, ctx, side)
        if found is None:
            found = memo[key] = tuple(self._location_problems(raw, ctx, side))
        return list(found)

    def _location_problems(self, raw: Mapping[str, Any], ctx: CreateContext, side: str) -> list[str]:
        problems = []
        nodes = ctx.data.get("nodes") or node_list.NodeList(ctx.market.name)
        owner = raw.get("assetOwner")
        if owner != ctx.participant:
            problems.append(f"assetOwner {owner} must be the portfolio's participant {ctx.participant}")
        source, sink = raw.get("source", ""), raw.get("sink", "")
        for role, name in (("source", source), ("sink", sink)):
            problem = nodes.problem(role, name, side)
            if problem:
                problems.append(problem)
        if source and source == sink:
            problems.append(f"source and sink are both {source}; a CRR needs two different nodes")
        period, tou = raw.get("period"), raw.get("tou")
        if ctx.market.period(str(period)) is None:
            offered = ", ".join(p.name for p in ctx.market.periods)
            problems.append(
                f"period {period} is not offered by market {ctx.market.name} (offered: {offered})"
            )
        if tou not in ctx.market.tous:
            problems.append(f"TOU {tou} is not offered by market {ctx.market.name}")
        return problems


# --------------------------------------------------------------------------------------
# shared checks
# --------------------------------------------------------------------------------------
def check_portfolio_name(name: Any) -> str:
    """POR0215 blank, POR0103 too long, SER0022 characters (the contract's pattern)."""
    if not isinstance(name, str) or not name.strip():
        raise CRRError("POR0215")
    if len(name) > MAX_NAME:
        raise CRRError("POR0103", name[:MAX_NAME] + "...")
    allowed = all(c.isascii() and (c.isalnum() or c in " ._-") for c in name)
    if not allowed or not any(c.isascii() and c.isalnum() for c in name):
        other_space = next((c for c in name if c.isspace() and c != " "), None)
        if other_space is not None:  # the contract's pattern says \s; its words say "space"
            raise CRRError(
                "SER0022",
                name,
                detail=(
                    f"Portfolio name {name!r} holds {_SPACE_NAMES.get(other_space, 'a whitespace character')}; "
                    "a name may hold letters, digits, spaces, '_', '-' and '.', and no other whitespace."
                ),
            )
        raise CRRError("SER0022", name)
    return name


_SPACE_NAMES = {
    "\n": "a line break",
    "\r": "a carriage return",
    "\t": "a tab",
    "\f": "a form feed",
    "\v": "a vertical tab",
    "\u00a0": "a no-break space",
}


def require_market(conn: sqlite3.Connection, rules: PortfolioRules, name: str, clock: Clock | None) -> Market:
    """The market, which must exist *as a market of this service's type* (else MKT0001)."""
    market = markets.get_market(conn, name, clock)
    if market is None:
        raise CRRError("MKT0001", name)
    if market.market_type != rules.market_type:  # the contract's code for "no such market" here
        raise CRRError(
            "MKT0001",
            name,
            detail=(
                f"Market {name} is an {market.market_type.lower()} market, not an {rules.market_type.lower()} market; "
                f"{rules.service} portfolios go to {rules.market_type.lower()} markets."
            ),
        )
    return market


_WINDOW_ACTIONS = {"create": "created", "submit": "submitted", "retract": "retracted", "delete": "deleted"}


def require_window(market: Market, rules: PortfolioRules, operation: str) -> None:
    if market.status != "OPEN":
        code = rules.closed_codes[operation]
        if code.startswith("NOM"):  # its contract sentence names two causes: say which one it is
            raise CRRError(
                code,
                market.name,
                detail=(
                    f"The submission window of market {market.name} is {market.status}; a portfolio can be "
                    f"{_WINDOW_ACTIONS[operation]} only while it is OPEN."
                ),
            )
        raise CRRError(code, market.name)


def find_portfolio(
    conn: sqlite3.Connection,
    rules: PortfolioRules,
    market: str,
    participant: str,
    name: str,
    acting_for: frozenset[str] = frozenset(),
) -> sqlite3.Row:
    """The portfolio of ``participant``; POR0023 when another SC the caller may act for
    (``acting_for``) owns that name, else POR0100 (never revealing anyone else's)."""
    row = conn.execute(
        "SELECT * FROM crr_portfolios WHERE service = ? AND market = ? AND participant = ? AND name = ?",
        (rules.service, market, participant, name),
    ).fetchone()
    if row is not None:
        return row
    others = sorted(acting_for - {participant})
    if others:
        marks = ",".join("?" * len(others))
        owner = conn.execute(
            f"SELECT participant FROM crr_portfolios WHERE service = ? AND market = ? AND name = ?"
            f" AND participant IN ({marks}) LIMIT 1",
            (rules.service, market, name, *others),
        ).fetchone()
        if owner is not None:
            raise CRRError("POR0023", name, participant)
    raise CRRError("POR0100", name)


def portfolio_bodies(
    conn: sqlite3.Connection, rules: PortfolioRules, market: str, participant: str
) -> list[str]:
    """The participant's portfolios in a market, each as the contract's Portfolio JSON text."""
    rows = conn.execute(
        "SELECT p.name, s.records FROM crr_portfolios p"
        " JOIN crr_portfolio_recordsets s ON s.portfolio_id = p.portfolio_id"
        " WHERE p.service = ? AND p.market = ? AND p.participant = ? ORDER BY p.portfolio_id",
        (rules.service, market, participant),
    ).fetchall()
    return [render_portfolio(rules, name, market, text) for name, text in rows]


def portfolio_body(conn: sqlite3.Connection, rules: PortfolioRules, row: sqlite3.Row) -> str:
    """One portfolio (a row of crr_portfolios) as the contract's Portfolio JSON text."""
    text = conn.execute(
        "SELECT records FROM crr_portfolio_recordsets WHERE portfolio_id = ?", (row["portfolio_id"],)
    ).fetchone()[0]
    return render_portfolio(rules, row["name"], row["market"], text)


def status_body(
    row_or_name: sqlite3.Row | str,
    market: str | None = None,
    status: str | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    if isinstance(row_or_name, str):
        body: dict[str, Any] = {"portfolioName": row_or_name, "marketName": market, "status": status}
    else:
        body = {
            "portfolioName": row_or_name["name"],
            "marketName": row_or_name["market"],
            "status": status or row_or_name["status"],
        }
        error = error if status else row_or_name["error_message"]
    if error:
        body["errorMessage"] = error
    return body


def problem_errors(problems: Sequence[str], first: str | None) -> CRRError:
    """Problems as one CRRError (each its own SER0030 entry, at most MAX_LISTED_ERRORS)."""
    errors = [CRRError("SER0030", detail=p) for p in problems[:MAX_LISTED_ERRORS]]
    if len(problems) > MAX_LISTED_ERRORS:
        errors.append(
            CRRError("SER0030", detail=f"... and {len(problems) - MAX_LISTED_ERRORS} more problems")
        )
    if first:
        return CRRError(first, more=errors)
    head, *rest = errors
    head.more = rest
    return head


# --------------------------------------------------------------------------------------
# the lifecycle, on plain values (the services' handlers read requests and shape replies)
# --------------------------------------------------------------------------------------
def upload_records(rules: PortfolioRules, body: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(side, record) for every record object of a creation body, at most MAX_RECORDS."""
    raw: list[tuple[str, dict[str, Any]]] = []
    for side, field_name, _ in rules.collections:
        items = body.get(field_name) or []
        if type(items) is list and set(map(type, items)) <= {dict}:  # the usual case, in C
            raw.extend(zip(repeat(side), items))
        else:
            raw.extend((side, item) for item in items if isinstance(item, dict))
    if len(raw) > MAX_RECORDS:
        raise CRRError(
            "SER0030",
            detail=f"The portfolio holds {len(raw)} records; at most {MAX_RECORDS} bids and offers"
            f" (or nominations) are accepted in one portfolio.",
        )
    return raw


async def check_records(
    rules: PortfolioRules, ctx: CreateContext, raw: Sequence[tuple[str, dict[str, Any]]]
) -> list[Record]:
    """Every record through the service's rules; the problems of all of them as one error.

    Records that say the same thing (the same ``rules.record_keys``) are parsed once: a
    500-bid upload usually repeats a few, and the keys, the grouping and the records' list are
    built in C, so an upload costs a Python step per *distinct* record, not per record.
    Parsing yields to the event loop every CHUNK records, so other clients stay served while
    500 distinct records are checked."""
    found = rules.record_keys(raw)
    keys: Sequence[int] = range(len(raw))  # every record on its own, unless it has keys
    if found is not None:
        codes: dict[Hashable, int] = {}
        # each key hashed once: records with equal keys get the first one's number (a value
        # that cannot be a key is schema-invalid anyway: every record on its own then)
        with suppress(TypeError):
            keys = list(map(codes.setdefault, found, count()))
    todo = dict(zip(keys, raw, strict=True))
    done: dict[int, tuple[Record | None, list[str]]] = {}
    for n, (key, (side, item)) in enumerate(todo.items()):
        if n and not n % CHUNK:
            await asyncio.sleep(0)
        done[key] = rules.parse(side, item, ctx)
    if any(found for _, found in done.values()):
        labels = {side: field for side, field, _ in rules.collections}
        counters: dict[str, int] = {}
        problems: list[str] = []
        for key, (side, _) in zip(keys, raw, strict=True):
            index = counters.get(side, 0)
            counters[side] = index + 1
            problems.extend(f"{labels[side]}[{index}]: {p}" for p in done[key][1])
        raise problem_errors(problems, rules.creation_failed_code)
    by_key = {key: record for key, (record, _) in done.items() if record is not None}
    if len(by_key) == len(done):
        records = list(map(by_key.__getitem__, keys))
    else:  # records the rules left out without a problem
        records = [by_key[key] for key in keys if key in by_key]
    problems = rules.check_portfolio(records, raw)
    if problems:
        raise problem_errors(problems, rules.creation_failed_code)
    return records


def refuse_duplicate(
    conn: sqlite3.Connection, rules: PortfolioRules, market: str, participant: str, name: str
) -> None:
    exists = conn.execute(
        "SELECT 1 FROM crr_portfolios WHERE service = ? AND market = ? AND participant = ? AND name = ?",
        (rules.service, market, participant, name),
    ).fetchone()
    if exists:
        raise CRRError("POR0101", name)


def insert(
    conn: sqlite3.Connection,
    rules: PortfolioRules,
    market: str,
    participant: str,
    name: str,
    status: str,
    raw: Sequence[tuple[str, dict[str, Any]]],
    records: Sequence[Record],
    now: datetime,
) -> None:
    when = iso(now)
    ids = next_ids(conn, RECORD_ID_KIND, len(records))
    cur = conn.execute(
        "INSERT INTO crr_portfolios(service, market, participant, name, status, required_credit_cents,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
        (rules.service, market, participant, name, status, rules.required_credit_cents(records), when, when),
    )
    conn.execute(
        "INSERT INTO crr_portfolio_recordsets(portfolio_id, records) VALUES (?, ?)",
        (cur.lastrowid, _records_text(ids, records, raw)),
    )


def render_portfolio(rules: PortfolioRules, name: str, market: str, records_text: str) -> str:
    """The contract's Portfolio object as compact JSON text, rendered from the stored records
    (``_records_text``) when it is read.

    Rendered at each read, not stored at creation: a maximum-size upload (500 x 20 points)
    then writes ~15 KB instead of ~450 KB and skips an encoding nobody may ask for, while a
    read costs ~1 ms (a 10-bid portfolio: ~20 us). What a client reads back is exactly the
    contract's properties with the values it sent (MW and prices from their exact thousandths
    and cents: 1.5 for 1.500, 10 for 10.0), and nothing it sent outside the contract, which
    strict clients would refuse.

    Each kind of record is rendered once and copied per record (C); for a big portfolio each
    distinct curve is encoded once too: the records hold a placeholder integer (19 digits from
    a random base) in its place, the skeleton is encoded, and each placeholder is replaced by
    its curve's JSON. If the skeleton holds the placeholders' 12-digit prefix anywhere else,
    the curves are put back and everything is encoded the plain way.
    """
    doc = parse(records_text)
    curves = [
        [{"mw": _number(m, 1000), "price": _number(c, 100)} for m, c in curve] for curve in doc["curves"]
    ]
    splice = len(doc["records"]) > _SPLICE_FROM
    base = secrets.randbelow(9 * 10**17) + 10**18 if splice else 0
    outs = {side: out for side, _, out in rules.collections}
    templates = []
    for side, crr_id, owner, source, sink, hedge, tou, period, crr_type, mw, at in doc["kinds"]:
        stored = {
            "crrId": crr_id,
            "assetOwner": owner,
            "source": source,
            "sink": sink,
            "hedgeType": hedge,
            "tou": tou,
            "period": period,
            "crrType": crr_type,
            "mw": _number(mw, 1000),
            "bidCurve": None if at is None else base + at if splice else curves[at],
        }
        fields = [key for key in rules.record_fields[side] if stored.get(key) is not None]
        templates.append((outs[side], {key: stored[key] for key in fields}))
    id_field = rules.id_field
    rendered: dict[str, list[dict[str, Any]]] = {out: [] for _, _, out in rules.collections}
    for rid, kind, description in doc["records"]:
        out, template = templates[kind]
        record = {id_field: rid, **template}
        if description is not None:
            record["description"] = description
        rendered[out].append(record)
    body = {"portfolioName": name, "marketName": market, **rendered}
    if not splice or not curves:
        return dumps_text(body)
    skeleton = dumps(body)
    prefix = str(base)[:12].encode()
    parts = skeleton.split(prefix)
    if base % 10**7 + len(curves) >= 10**7 or len(parts) - 1 != sum(
        "bidCurve" in r for records in rendered.values() for r in records
    ):
        for records in rendered.values():  # put the curves back and encode plainly
            for r in records:
                if "bidCurve" in r:
                    r["bidCurve"] = curves[r["bidCurve"] - base]
        return dumps_text(body)
    texts = [dumps(points) for points in curves]
    first = base - base % 10**7
    pieces = [parts[0]]
    for part in parts[1:]:
        pieces += (texts[first + int(part[:7]) - base], part[7:])
    return b"".join(pieces).decode()


_SPLICE_FROM = 50  # records from which encoding each curve once beats encoding it per record


def _number(units: int, per: int) -> int | float:
    """An exact count of 1/per units as the JSON number a client wrote: 15 for 15000 milli-MW,
    1.5 for 1500 (the division of two exact integers is the double nearest the decimal)."""
    return units // per if units % per == 0 else units / per


def set_status(
    conn: sqlite3.Connection, row: sqlite3.Row, status: str, now: datetime, error: str | None = None
) -> None:
    conn.execute(
        "UPDATE crr_portfolios SET status = ?, error_message = ?, updated_at = ? WHERE portfolio_id = ?",
        (status, error, iso(now), row["portfolio_id"]),
    )


def submit(
    conn: sqlite3.Connection, rules: PortfolioRules, row: sqlite3.Row, now: datetime
) -> CRRError | None:
    """Submit a portfolio. Refusals of the request raise; a portfolio that fails its
    state-dependent checks is saved INVALID (or VALID with the reason, for credit) and the error to answer
    with is returned, so the caller commits the new status first and raises it after."""
    name, market = row["name"], row["market"]
    state = row["status"]
    if state == NEW:
        raise CRRError("POR0013", name)
    if state == SUBMITTED:
        raise CRRError("POR0051", name, market)
    if state == INVALID:
        raise CRRError(rules.in_error_code, name, market)
    rules.refuse_submission(conn, row)
    records = load_records(conn, "p.portfolio_id = ?", (row["portfolio_id"],))
    problems = rules.submission_errors(conn, row, records)
    credit = None if problems else rules.credit_problem(conn, row)
    if problems:
        set_status(conn, row, INVALID, now, "; ".join(problems) + ";")
        return problem_errors(problems, None)
    if credit:  # REJECTED is transitional (both contracts): the refusal answers, the portfolio is VALID
        set_status(conn, row, VALID, now, f"The last submission was rejected: {credit}")
        return CRRError("SER0030", detail=credit)
    set_status(conn, row, SUBMITTED, now)
    return None


def retract(conn: sqlite3.Connection, row: sqlite3.Row, now: datetime) -> None:
    name, state = row["name"], row["status"]
    if state == NEW:
        raise CRRError("POR0012", name)
    if state == INVALID:
        raise CRRError("POR0011", name)
    if state != SUBMITTED:
        raise CRRError("POR0038", name)
    set_status(conn, row, VALID, now)


def delete(conn: sqlite3.Connection, row: sqlite3.Row) -> None:
    if row["status"] == SUBMITTED:
        raise CRRError("POR0010", row["name"])
    conn.execute("DELETE FROM crr_portfolios WHERE portfolio_id = ?", (row["portfolio_id"],))


def submitted_records(
    conn: sqlite3.Connection,
    service: str,
    market: str,
    where: str = "",
    args: Sequence[Any] = (),
    side: str | None = None,
) -> list[Record]:
    """Records (of one ``side`` if given) of the SUBMITTED portfolios of a market (what clearing
    and cap checks see); ``where`` may narrow the portfolios (columns of ``p``)."""
    clause = "p.service = ? AND p.market = ? AND p.status = 'SUBMITTED'" + (f" AND {where}" if where else "")
    return load_records(conn, clause, (service, market, *args), side)
