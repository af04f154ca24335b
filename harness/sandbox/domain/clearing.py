"""Market clearing: uniform-price auctions and capped, pro-rata allocations.

Runs on the ``market.clear`` event (the operator's ``run_clearing``), inside its transaction,
once per market (a second run is a no-op: holdings were already granted).

Auction, per path = (source, sink, TOU, period, hedge type):

* Demand: every submitted buy bid's curve as steps -- the MW between two points at the later
  point's price (a flat two-point curve ``[(0, P), (MW, P)]`` is MW at P).
* Supply: the path's network capacity (``path_capacity_milli``) at a reserve price of 0, plus
  submitted sell offers of held CRRs on that path (their curve steps at their prices).
* Demand is served from the highest price down, each step from the cheapest supply up, while
  the demand price is at least the supply price. When supply runs out inside a price level,
  the bids at that level share what is left pro rata (to the 0.001 MW, ties by bid id).
* One clearing price per path: the price of the last (lowest) demand level served when the
  path is congested (supply ran out), else the price of the most expensive supply used (0 when
  only network capacity was used). So every awarded bid bid at least the clearing price, every
  sold offer asked at most it, and no bid is awarded more than its curve's MW.
* Holdings: MW served from network capacity become a new AUC CRR for the buyer
  (``holdings.grant``); MW served from a sell offer move from the seller's CRR to the buyer
  (``holdings.transfer``: the seller keeps the rest, the buyer's CRR names it as parent).

Allocation, per path = (source, sink, TOU, period, hedge type): each participant's nominations
are first cut to its caps (pro rata within a cap), then, if they exceed the path capacity,
scaled pro rata to it; awards become CRRs of the nominated type (LSE / OBAALSE) at price 0.

Results, for the market-data service's downloads:

``clearing_awards`` -- one row per awarded (or sold) record::

    award_id INTEGER PK, market TEXT, record_id INTEGER (the bidId / nominationId),
    portfolio_id INTEGER, participant TEXT, side TEXT (BUY | SELL | NOMINATION),
    source TEXT, sink TEXT, hedge_type TEXT, tou TEXT, period TEXT, crr_type TEXT,
    mw_milli INTEGER (awarded MW x 1000; > 0), price_cents INTEGER (the path's clearing price,
    $/MW for the term x 100; 0 for allocations), crr_ids TEXT (JSON list of the CRRs granted
    or, for SELL, the seller's CRR), cleared_at TEXT

``clearing_prices`` -- one row per path that had bids or nominations::

    market, source, sink, tou, period, hedge_type (PK), price_cents INTEGER,
    cleared_milli INTEGER (MW awarded on the path x 1000), capacity_milli INTEGER

``clearing_runs`` -- (market PK, cleared_at): which markets have been cleared.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.sandbox.domain import holdings, markets, network
from harness.sandbox.domain.clock import now_from
from harness.sandbox.domain.markets import AUCTION, Market
from harness.sandbox.domain.portfolios import Record, submitted_records
from harness.sandbox.timefmt import iso

SAME_ZONE_CAPACITY_MW = 500
CROSS_ZONE_CAPACITY_MW = 200

Curve = Sequence[tuple[int, int]]  # ((mw_milli, price_cents), ...)


def path_capacity_milli(source: str, sink: str) -> int:
    """Simple transfer limit of a path: generous inside a zone, tighter across zones."""
    a, b = network.node(source), network.node(sink)
    same = a is not None and b is not None and a.zone == b.zone
    return (SAME_ZONE_CAPACITY_MW if same else CROSS_ZONE_CAPACITY_MW) * 1000


# --------------------------------------------------------------------------------------
# pure clearing math (integers: milli-MW and cents)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    price: int  # cents
    qty: int  # milli-MW
    owner: int  # bid id (demand) / offer id (supply); 0 = network capacity


def curve_steps(owner: int, curve: Curve) -> list[Step]:
    """A curve as quantity steps: the MW between two points at the later point's price."""
    return [
        Step(curve[i][1], curve[i][0] - curve[i - 1][0], owner)
        for i in range(1, len(curve))
        if curve[i][0] > curve[i - 1][0]
    ]


@dataclass
class PathResult:
    price: int  # cents
    fills: list[tuple[int, int, int]] = field(default_factory=list)  # (bid id, supplier id | 0, milli)

    @property
    def awarded(self) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        for bid, _, qty in self.fills:
            out[bid] += qty
        return dict(out)

    @property
    def sold(self) -> dict[int, int]:
        out: dict[int, int] = defaultdict(int)
        for _, supplier, qty in self.fills:
            if supplier:
                out[supplier] += qty
        return dict(out)

    @property
    def cleared(self) -> int:
        return sum(q for _, _, q in self.fills)


def prorate(available: int, wants: Mapping[int, int]) -> dict[int, int]:
    """Share ``available`` among ``wants`` in proportion, in whole units, never above a want.

    Leftover units after flooring go one each to the largest remainders (ties: lowest id).
    """
    total = sum(wants.values())
    if total <= available:
        return dict(wants)
    shares = {k: w * available // total for k, w in wants.items()}
    left = available - sum(shares.values())
    order = sorted(wants, key=lambda k: (-(wants[k] * available % total), k))
    for k in order[:left]:
        shares[k] += 1
    return shares


def clear_path(
    capacity: int, bids: Mapping[int, Curve], offers: Mapping[int, Curve] | None = None
) -> PathResult:
    """Uniform-price clearing of one path (see the module docstring)."""
    supply = [Step(0, capacity, 0)] if capacity > 0 else []
    for oid, curve in (offers or {}).items():
        supply.extend(curve_steps(oid, curve))
    supply.sort(key=lambda s: (s.price, s.owner))
    left = [s.qty for s in supply]
    levels: dict[int, list[Step]] = defaultdict(list)
    for bid, curve in bids.items():
        for step in curve_steps(bid, curve):
            levels[step.price].append(step)
    result = PathResult(price=0)
    si = 0  # first supply step with anything left
    last_served: int | None = None
    dearest_used: int | None = None
    congested = False
    for price in sorted(levels, reverse=True):
        while si < len(supply) and left[si] == 0:
            si += 1
        if si == len(supply):
            congested = True
            break
        avail = sum(left[j] for j in range(si, len(supply)) if supply[j].price <= price)
        if avail == 0:
            break  # the cheapest supply left asks more than this (and every lower) bid
        steps = levels[price]
        wants: dict[int, int] = defaultdict(int)
        for step in steps:
            wants[step.owner] += step.qty
        shares = prorate(avail, wants)
        for bid in sorted(shares):
            need = shares[bid]
            j = si
            while need:
                if left[j] and supply[j].price <= price:
                    take = min(need, left[j])
                    left[j] -= take
                    need -= take
                    result.fills.append((bid, supply[j].owner, take))
                    dearest_used = max(
                        dearest_used if dearest_used is not None else supply[j].price, supply[j].price
                    )
                j += 1
        last_served = price
        if sum(shares.values()) < sum(wants.values()):
            congested = True
            break
    if last_served is not None:
        result.price = last_served if congested else (dearest_used or 0)
    return result


# --------------------------------------------------------------------------------------
# the market.clear listener
# --------------------------------------------------------------------------------------
def clear_market(conn: sqlite3.Connection, market: Market | str, clock: Any = None, **_: Any) -> None:
    m = market if isinstance(market, Market) else markets.require_market(conn, market, clock)
    if conn.execute("SELECT 1 FROM clearing_runs WHERE market = ?", (m.name,)).fetchone():
        return
    now = iso(clock.now() if clock is not None else now_from(conn))
    if m.market_type == AUCTION:
        _clear_auction(conn, m, now)
    else:
        _clear_allocation(conn, m, now)
    conn.execute("INSERT INTO clearing_runs(market, cleared_at) VALUES (?, ?)", (m.name, now))


def _by_path(records: Sequence[Record]) -> dict[tuple[str, str, str, str, str], list[Record]]:
    out: dict[tuple[str, str, str, str, str], list[Record]] = defaultdict(list)
    for r in records:
        out[r.path].append(r)
    return out


def _record_award(
    conn: sqlite3.Connection,
    market: str,
    r: Record,
    mw: int,
    price: int,
    crr_ids: list[int],
    now: str,
    side: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO clearing_awards(market, record_id, portfolio_id, participant, side, source, sink, hedge_type,"
        " tou, period, crr_type, mw_milli, price_cents, crr_ids, cleared_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            market,
            r.record_id,
            r.portfolio_id,
            r.participant,
            side or r.side,
            r.source,
            r.sink,
            r.hedge_type,
            r.tou,
            r.period,
            r.crr_type,
            mw,
            price,
            json.dumps(crr_ids),
            now,
        ),
    )


def _record_price(
    conn: sqlite3.Connection, market: str, path: tuple[str, ...], price: int, cleared: int, capacity: int
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO clearing_prices VALUES (?,?,?,?,?,?,?,?,?)",
        (market, *path, price, cleared, capacity),
    )


def _held_part(conn: sqlite3.Connection, offer: Record) -> Curve:
    """An offer's curve cut to what the seller still holds (a CRR may have been traded since)."""
    crr = holdings.get_crr(conn, offer.crr_id or 0)
    held = round(crr.mw * 1000) if crr is not None and crr.owner == offer.participant else 0
    return [(min(mw, held), price) for mw, price in offer.curve or ()]


def _clear_auction(conn: sqlite3.Connection, m: Market, now: str) -> None:
    for path, records in _by_path(submitted_records(conn, "auction", m.name)).items():
        source, sink, tou, period_name, hedge = path
        bids = {r.record_id: r.curve for r in records if r.side == "BUY" and r.curve and r.record_id}
        offers = {
            r.record_id: _held_part(conn, r) for r in records if r.side == "SELL" and r.curve and r.record_id
        }
        by_id = {r.record_id: r for r in records}
        capacity = path_capacity_milli(source, sink)
        result = clear_path(capacity, bids, offers)
        period = m.period(period_name)
        granted: dict[int, list[int]] = defaultdict(list)
        for bid, supplier, qty in result.fills:
            buyer = by_id[bid]
            if supplier:
                crr_id = by_id[supplier].crr_id or 0
                granted[bid].append(holdings.transfer(conn, crr_id, qty / 1000, buyer.participant or ""))
            elif period is not None:
                granted[bid].append(
                    holdings.grant(
                        conn,
                        buyer.participant or "",
                        source,
                        sink,
                        qty / 1000,
                        hedge,
                        tou,
                        period_name,
                        "AUC",
                        m.name,
                        period.start,
                        period.end,
                    )
                )
        for bid, qty in result.awarded.items():
            _record_award(conn, m.name, by_id[bid], qty, result.price, granted[bid], now)
        for offer, qty in result.sold.items():
            seller = by_id[offer]
            _record_award(conn, m.name, seller, qty, result.price, [seller.crr_id or 0], now)
        _record_price(conn, m.name, path, result.price, result.cleared, capacity)


CapKey = tuple[str, tuple[str, str, str, str]]  # (participant, (sink, tou, period, crr_type))


def cap_nominations(nominations: Sequence[Record], caps: Mapping[CapKey, int]) -> dict[int, int]:
    """Nominations -> milli-MW per nomination id after the caps (pro rata within one cap)."""
    groups: dict[CapKey, dict[int, int]] = defaultdict(dict)
    for r in nominations:
        groups[(r.participant or "", (r.sink, r.tou, r.period, r.crr_type))][r.record_id or 0] = r.mw_milli
    capped: dict[int, int] = {}
    for key, wants in groups.items():
        capped.update(prorate(caps.get(key, 0), wants))
    return capped


def _clear_allocation(conn: sqlite3.Connection, m: Market, now: str) -> None:
    records = submitted_records(conn, "nomination", m.name)
    caps: dict[CapKey, int] = {}
    for row in conn.execute("SELECT * FROM nomination_caps WHERE market = ?", (m.name,)):
        caps[(row["participant"], (row["sink"], row["tou"], row["period"], row["crr_type"]))] = row[
            "cap_milli"
        ]
    capped = cap_nominations(records, caps)
    for path, noms in _by_path(records).items():
        source, sink, tou, period_name, hedge = path
        capacity = path_capacity_milli(source, sink)
        awards = prorate(capacity, {r.record_id or 0: capped.get(r.record_id or 0, 0) for r in noms})
        period = m.period(period_name)
        total = 0
        for r in noms:
            qty = awards.get(r.record_id or 0, 0)
            if qty <= 0 or period is None:
                continue
            crr_id = holdings.grant(
                conn,
                r.participant or "",
                source,
                sink,
                qty / 1000,
                hedge,
                tou,
                period_name,
                r.crr_type,
                m.name,
                period.start,
                period.end,
            )
            _record_award(conn, m.name, r, qty, 0, [crr_id], now)
            total += qty
        _record_price(conn, m.name, path, 0, total, capacity)
