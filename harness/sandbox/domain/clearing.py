"""Market clearing on the network model: one simultaneous feasibility test per TOU and period.

Runs on the ``market.clear`` event (the operator's ``run_clearing``), inside its transaction,
once per market (a second run is a no-op: holdings were already granted). The network is
``domain.grid`` (the IEEE 300-bus case with CAISO's names); the CRRs already held for the
market's periods baseload it.

Auction, per (TOU, period): every submitted buy bid's and sell offer's curve becomes steps (the MW
between two points at the later point's price; an offer is cut to what its seller still holds),
and ``domain.sft.clear`` awards them as the feasibility test allows (an LP solved by HiGHS). Node
prices come from its duals; a path's clearing price is its sink's price minus its source's, so
prices add up across paths, counterflow paths clear at negative prices and uncongested ones at 0.

Prices, rounded: node prices to $0.0001, a path's price to the cent from the difference of those.
Rounding each node to the cent instead could publish a marginal bid's path at one cent above what
it bid (two roundings of half a cent each); this way the path's price is the exact one within
$0.0001 before its own rounding, so an awarded bid never bid below its published price, and the
published node prices still add up to every path's price within half a cent.

Ties and degenerate solutions, the documented rule: the LP fixes how many MW each path buys and
sells (the branches see only those totals); within a path the MW go to the steps from the highest
bid (lowest offer) down, and steps at the same price share what is left at that price pro rata,
to the 0.001 MW, remainders by bid id. So equal bids are treated alike, whatever vertex HiGHS
returns, and the same inputs always give the same awards.

Holdings, per path and hedge type: MW sold by offers go first to that path's buyers (in bid-id
order) as ``holdings.transfer`` (the buyer's CRR names the seller's as parent); the rest of what
a buyer won is a new AUC CRR (``holdings.grant``); sold MW no buyer on the path took are retired
from the seller's CRR (``holdings.retire``): the network bought them back.

Allocation, per (TOU, period): each participant's nominations are first cut to its caps (pro rata
within a cap); then ``allocate`` scales every nomination by one factor until a branch binds,
freezes the nominations that load that branch, and goes on scaling the others (pro rata where it
binds, all of a nomination where nothing binds). Awards become CRRs of the nominated type at 0.

Results, for the market-data service's downloads:

``clearing_awards`` -- one row per awarded (or sold) record::

    award_id INTEGER PK, market TEXT, record_id INTEGER (the bidId / nominationId),
    portfolio_id INTEGER, participant TEXT, side TEXT (BUY | SELL | NOMINATION),
    source TEXT, sink TEXT, hedge_type TEXT, tou TEXT, period TEXT, crr_type TEXT,
    mw_milli INTEGER (awarded MW x 1000; > 0), price_cents INTEGER (the path's clearing price,
    $/MW for the term x 100; 0 for allocations), crr_ids TEXT (JSON list of the CRRs granted
    or, for SELL, the seller's CRR), cleared_at TEXT

``clearing_prices`` -- one row per path that had bids or nominations: market, source, sink, tou,
period, hedge_type (PK), price_cents, cleared_milli (MW bought on the path x 1000).

``clearing_nodes`` -- every biddable node's price per TOU and period: market, node, tou, period
(PK), price_e4 ($/MW x 10,000: finer than a path's cent, see "Prices" below).

``clearing_constraints`` -- the binding branches per TOU and period: market, branch, tou, period
(PK), shadow_cents ($/MW of limit x 100; 0 for allocations), flow_milli (signed, in the
direction that binds), limit_milli.

``clearing_runs`` -- (market PK, cleared_at): which markets have been cleared.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np

from harness.sandbox.domain import holdings, markets, node_list, sft
from harness.sandbox.domain.clock import now_from
from harness.sandbox.domain.grid import Grid, load_grid
from harness.sandbox.domain.markets import AUCTION, Market
from harness.sandbox.domain.portfolios import Record, submitted_records
from harness.sandbox.errors import CRRError
from harness.sandbox.timefmt import iso

Curve = Sequence[tuple[int, int]]  # ((mw_milli, price_cents), ...)
Group = tuple[str, str]  # (tou, period)
K = TypeVar("K", bound=Hashable)


# --------------------------------------------------------------------------------------
# pure clearing math (integers: milli-MW and cents)
# --------------------------------------------------------------------------------------
class Step(NamedTuple):
    price: int  # cents
    qty: int  # milli-MW
    owner: int  # bid / offer / nomination id


def curve_steps(owner: int, curve: Curve) -> list[Step]:
    """A curve as quantity steps: the MW between two points at the later point's price."""
    return [
        Step(curve[i][1], curve[i][0] - curve[i - 1][0], owner)
        for i in range(1, len(curve))
        if curve[i][0] > curve[i - 1][0]
    ]


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


def fill(total: int, steps: Iterable[Step], best_first: bool) -> dict[int, int]:
    """``total`` milli-MW of one path and side handed to its steps by price (highest bid or lowest
    offer first); the steps at the price where it runs out share the rest pro rata."""
    order = sorted(steps, key=lambda s: -s.price if best_first else s.price)
    out: dict[int, int] = defaultdict(int)
    i = 0
    while i < len(order) and total > 0:
        j, level = i, 0
        while j < len(order) and order[j].price == order[i].price:
            level += order[j].qty
            j += 1
        if level <= total:
            for s in order[i:j]:
                out[s.owner] += s.qty
            total -= level
        else:  # the marginal price: share what is left
            wants: dict[int, int] = defaultdict(int)
            for s in order[i:j]:
                wants[s.owner] += s.qty
            for owner, qty in prorate(total, wants).items():
                out[owner] += qty
            total = 0
        i = j
    return {k: v for k, v in out.items() if v > 0}


def allocate(
    grid: Grid, wants: Mapping[K, tuple[str, str, int]], held: Sequence[sft.Held] = ()
) -> tuple[dict[K, int], list[int]]:
    """Allocation's feasibility test: (milli-MW per nomination, indices of the branches that bound).

    ``wants`` maps a nomination to (source, sink, milli-MW after caps). Every nomination not yet
    frozen grows by one common factor from 0 towards all it asked for; the first branch to reach
    its limit freezes the nominations that load it (in its binding direction), and the others grow
    on. A closed form per round (one factor, linear flows), so no solver is needed."""
    keys = sorted(wants, key=repr)
    if not keys:
        return {}, []
    limits = grid.limits
    base = np.zeros(len(limits))
    for h in held:
        base += h.mw * grid.shift(h.source, h.sink)
    shift = np.column_stack([grid.shift(wants[k][0], wants[k][1]) * wants[k][2] / 1000 for k in keys])
    factor = np.zeros(len(keys))
    frozen = np.zeros(len(keys), dtype=bool)
    bound: list[int] = []
    while not frozen.all():
        fixed = base + shift @ factor
        grow = shift[:, ~frozen].sum(axis=1)  # flow per unit of the common factor
        room = np.full(len(limits), np.inf)
        up, down = grow > 1e-9, grow < -1e-9
        room[up] = (np.maximum(limits[up] - fixed[up], 0.0)) / grow[up]
        room[down] = (np.maximum(limits[down] + fixed[down], 0.0)) / -grow[down]
        step = min(float(room.min()), float((1 - factor[~frozen]).min()))
        factor[~frozen] += step
        if np.all(factor[~frozen] >= 1 - 1e-12):
            break
        worst = int(np.argmin(room))
        bound.append(worst)
        loads = (~frozen) & (shift[worst] * np.sign(grow[worst]) > 1e-9)
        if not loads.any():  # only a sum of negligible loadings reached it: freeze the largest
            loads[int(np.argmax(np.where(frozen, -np.inf, shift[worst] * np.sign(grow[worst]))))] = True
        frozen |= loads
    awards = {k: min(wants[k][2], int(f * wants[k][2] + 1e-6)) for k, f in zip(keys, factor, strict=True)}
    return awards, bound


# --------------------------------------------------------------------------------------
# the market.clear listener
# --------------------------------------------------------------------------------------
def clear_market(conn: sqlite3.Connection, market: Market | str, clock: Any = None, **_: Any) -> None:
    m = market if isinstance(market, Market) else markets.require_market(conn, market, clock)
    if conn.execute("SELECT 1 FROM clearing_runs WHERE market = ?", (m.name,)).fetchone():
        return
    now = iso(clock.now() if clock is not None else now_from(conn))
    try:
        if m.market_type == AUCTION:
            _clear_auction(conn, m, now)
        else:
            _clear_allocation(conn, m, now)
    except sft.ClearingError as exc:  # the operator is told which branch; nothing is committed
        raise CRRError("SER0030", f"Market {m.name} cannot be cleared: {exc}.") from None
    conn.execute("INSERT INTO clearing_runs(market, cleared_at) VALUES (?, ?)", (m.name, now))


def _groups(records: Sequence[Record]) -> dict[Group, list[Record]]:
    out: dict[Group, list[Record]] = defaultdict(list)
    for r in records:
        out[(r.tou, r.period)].append(r)
    return dict(sorted(out.items()))


def held_crrs(conn: sqlite3.Connection, m: Market, nodes: node_list.NodeList) -> dict[Group, list[sft.Held]]:
    """The CRRs held for the market's periods, at their nodes as the market's list maps them (a
    CRR at a retired PNode baseloads its replacement)."""
    out: dict[Group, list[sft.Held]] = defaultdict(list)
    for crr in holdings.held_for(conn, [p.name for p in m.periods]):
        out[(crr.tou, crr.period)].append(sft.Held(nodes.mapped(crr.source), nodes.mapped(crr.sink), crr.mw))
    return out


def _record_awards(
    conn: sqlite3.Connection, market: str, awards: Iterable[tuple[Record, int, int, list[int]]], now: str
) -> None:
    """(record, milli-MW, price in cents, CRR ids) per award, in one statement."""
    conn.executemany(
        "INSERT INTO clearing_awards(market, record_id, portfolio_id, participant, side, source, sink, hedge_type,"
        " tou, period, crr_type, mw_milli, price_cents, crr_ids, cleared_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                market,
                r.record_id,
                r.portfolio_id,
                r.participant,
                r.side,
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
            )
            for r, mw, price, crr_ids in awards
        ],
    )


def _record_group(
    conn: sqlite3.Connection,
    market: str,
    group: Group,
    node_e4: Mapping[str, int],
    binding: Iterable[tuple[str, int, int, int]],
) -> None:
    tou, period = group
    conn.executemany(
        "INSERT INTO clearing_nodes(market, node, tou, period, price_e4) VALUES (?,?,?,?,?)",
        [(market, n, tou, period, c) for n, c in sorted(node_e4.items())],
    )
    conn.executemany(
        "INSERT INTO clearing_constraints(market, branch, tou, period, shadow_cents, flow_milli, limit_milli)"
        " VALUES (?,?,?,?,?,?,?)",
        [(market, name, tou, period, s, f, lim) for name, s, f, lim in binding],
    )


def _record_prices(
    conn: sqlite3.Connection, market: str, prices: Mapping[tuple[str, ...], tuple[int, int]]
) -> None:
    conn.executemany(
        "INSERT INTO clearing_prices(market, source, sink, tou, period, hedge_type, price_cents, cleared_milli)"
        " VALUES (?,?,?,?,?,?,?,?)",
        [(market, *path, price, cleared) for path, (price, cleared) in sorted(prices.items())],
    )


def _held_part(conn: sqlite3.Connection, offer: Record) -> Curve:
    """An offer's curve cut to what the seller still holds (a CRR may have been traded since)."""
    crr = holdings.get_crr(conn, offer.crr_id or 0)
    held = round(crr.mw * 1000) if crr is not None and crr.owner == offer.participant else 0
    return [(min(mw, held), price) for mw, price in offer.curve or ()]


def _node_e4(clearing: sft.Clearing, records: Iterable[Record], nodes: node_list.NodeList) -> dict[str, int]:
    """Prices of the list's biddable nodes and of every node bid at (a retired one at its
    replacement's price), in $/MW x 10,000."""
    names = {n.name for n in nodes.nodes if n.biddable}
    names.update(x for r in records for x in (r.source, r.sink))
    return {n: round(clearing.node_price(nodes.mapped(n)) * 10_000) for n in names}


def _clear_auction(conn: sqlite3.Connection, m: Market, now: str) -> None:
    grid = load_grid()
    nodes = node_list.current(conn, m.name)
    held = held_crrs(conn, m, nodes)
    found = _groups(submitted_records(conn, "auction", m.name))
    # every TOU and period gets its node prices published, bid on or not (0 where nothing binds)
    every = sorted({(tou, p.name) for tou in m.tous for p in m.periods} | set(found))
    for group in every:
        records = found.get(group, [])
        lp_steps: list[sft.Step] = []
        sides: dict[tuple[str, str, str], list[Step]] = defaultdict(list)
        side_of: list[int] = []  # per LP step: the index of its (source, sink, side) in ``sides``
        index: dict[tuple[str, str, str], int] = {}
        for r in records:
            if not r.curve or not r.record_id:
                continue
            side = (r.source, r.sink, r.side)
            at = index.setdefault(side, len(index))
            sell = r.side == "SELL"
            for s in curve_steps(r.record_id, _held_part(conn, r) if sell else r.curve):
                sides[side].append(s)
                side_of.append(at)
                lp_steps.append(
                    sft.Step(
                        len(lp_steps),
                        nodes.mapped(r.source),
                        nodes.mapped(r.sink),
                        s.qty / 1000,
                        s.price / 100,
                        sell,
                    )
                )
        result = sft.clear(grid, lp_steps, held.get(group, ()))
        # the LP fixes each path's and side's total; the tie rule hands it to the steps
        totals = np.bincount(
            np.asarray(side_of, dtype=np.int64), weights=result.awarded, minlength=len(index)
        )
        won: dict[int, int] = {}
        for side, at in index.items():
            won.update(fill(round(float(totals[at]) * 1000), sides[side], best_first=side[2] == "BUY"))
        node_e4 = _node_e4(result, records, nodes)
        _record_prices(conn, m.name, _settle(conn, m, records, won, node_e4, now))
        binding = [
            (
                b.branch.name,
                round(b.shadow_price * 100),
                round(b.flow_mw * 1000),
                round(b.branch.limit_mw * 1000),
            )
            for b in result.binding
        ]
        _record_group(conn, m.name, group, node_e4, binding)


def _settle(
    conn: sqlite3.Connection,
    m: Market,
    records: Sequence[Record],
    won: Mapping[int, int],
    node_e4: Mapping[str, int],
    now: str,
) -> dict[tuple[str, ...], tuple[int, int]]:
    """Move holdings and write the awards; returns (price, bought milli-MW) per path bid on."""
    by_path: dict[tuple[str, str, str, str, str], list[Record]] = defaultdict(list)
    for r in records:
        by_path[r.path].append(r)
    prices: dict[tuple[str, ...], tuple[int, int]] = {}
    awards: list[tuple[Record, int, int, list[int]]] = []
    grants: list[holdings.GrantRow] = []
    granted_to: list[list[int]] = []  # the award's CRR list each grant's id is appended to
    for path, recs in by_path.items():
        source, sink, tou, period_name, hedge = path
        price = round((node_e4[sink] - node_e4[source]) / 100)  # cents
        sellers = [r for r in recs if r.side == "SELL" and won.get(r.record_id or 0, 0)]
        left = {r.record_id or 0: won[r.record_id or 0] for r in sellers}
        awards += [(r, left[r.record_id or 0], price, [r.crr_id or 0]) for r in sellers]
        bought = 0
        period = m.period(period_name)
        for r in (r for r in recs if r.side == "BUY"):
            qty = won.get(r.record_id or 0, 0)
            if not qty:
                continue
            bought += qty
            crr_ids: list[int] = []
            need = qty
            for seller in sellers:  # what offers on this path sold goes to its buyers first
                take = min(need, left[seller.record_id or 0])
                if take:
                    crr_ids.append(
                        holdings.transfer(conn, seller.crr_id or 0, take / 1000, r.participant or "")
                    )
                    left[seller.record_id or 0] -= take
                    need -= take
            if need and period is not None:
                grants.append(
                    (
                        r.participant or "",
                        source,
                        sink,
                        need,
                        hedge,
                        tou,
                        period_name,
                        "AUC",
                        m.name,
                        period.start,
                        period.end,
                        None,
                    )
                )
                granted_to.append(crr_ids)
            awards.append((r, qty, price, crr_ids))
        for seller in sellers:  # sold MW no buyer on the path took: the network bought them back
            if left[seller.record_id or 0]:
                holdings.retire(conn, seller.crr_id or 0, left[seller.record_id or 0])
        prices[path] = (price, bought)
    for crr_id, crr_ids in zip(holdings.grant_many(conn, grants), granted_to, strict=True):
        crr_ids.append(crr_id)
    _record_awards(conn, m.name, awards, now)
    return prices


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
    grid = load_grid()
    nodes = node_list.current(conn, m.name)
    held = held_crrs(conn, m, nodes)
    records = submitted_records(conn, "nomination", m.name)
    caps: dict[CapKey, int] = {}
    for row in conn.execute("SELECT * FROM nomination_caps WHERE market = ?", (m.name,)):
        caps[(row["participant"], (row["sink"], row["tou"], row["period"], row["crr_type"]))] = row[
            "cap_milli"
        ]
    capped = cap_nominations(records, caps)
    for group, noms in _groups(records).items():
        wants = {
            r.record_id or 0: (nodes.mapped(r.source), nodes.mapped(r.sink), capped.get(r.record_id or 0, 0))
            for r in noms
        }
        awards, bound = allocate(grid, {k: w for k, w in wants.items() if w[2] > 0}, held.get(group, ()))
        totals: dict[tuple[str, ...], tuple[int, int]] = {}
        granted: list[tuple[Record, int]] = []
        for r in noms:
            qty = awards.get(r.record_id or 0, 0)
            if qty > 0 and m.period(r.period) is not None:
                granted.append((r, qty))
            totals[r.path] = (0, totals.get(r.path, (0, 0))[1] + max(qty, 0))
        ids = holdings.grant_many(
            conn,
            [
                (
                    r.participant or "",
                    r.source,
                    r.sink,
                    qty,
                    r.hedge_type,
                    r.tou,
                    r.period,
                    r.crr_type,
                    m.name,
                    *_bounds(m, r.period),
                    None,
                )
                for r, qty in granted
            ],
        )
        _record_awards(conn, m.name, [(r, q, 0, [i]) for (r, q), i in zip(granted, ids, strict=True)], now)
        _record_prices(conn, m.name, totals)
        flows = _flows(grid, wants, awards, held.get(group, ()))
        binding = [
            (grid.branches[i].name, 0, round(flows[i] * 1000), round(grid.branches[i].limit_mw * 1000))
            for i in sorted(set(bound))
        ]
        _record_group(conn, m.name, group, {}, binding)


def _bounds(m: Market, period: str) -> tuple[Any, Any]:
    p = m.period(period)
    assert p is not None  # callers keep only the market's own periods
    return p.start, p.end


def _flows(
    grid: Grid, wants: Mapping[int, tuple[str, str, int]], awards: Mapping[int, int], held: Sequence[sft.Held]
) -> Any:
    flows = np.zeros(len(grid.branches))
    for h in held:
        flows += h.mw * grid.shift(h.source, h.sink)
    for key, (source, sink, _) in wants.items():
        flows += awards.get(key, 0) / 1000 * grid.shift(source, sink)
    return flows
