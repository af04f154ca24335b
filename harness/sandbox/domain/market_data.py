"""Market data: the records of every download (general, market, results, caps), built from
the sandbox's own state and validated against the file schemas before they are sent."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import defaultdict
from datetime import datetime
from typing import Any

from harness.sandbox.timefmt import iso

SERVICE = "market_data"


CAP_PREFIX = "NOMCAP_"


LM_TYPES = ("LSE_LMT", "LMT_CNT")


SYSTEM_TYPES = ("MT", "MT_TOR", "LSE_THCNT")


ALLOCATION_TYPES = ("LSE", "OBAALSE")


SET_ASIDE_INTERFACES = (("MALIN500", 25.0, 400.0), ("PACI", 20.0, 300.0), ("NOB", 15.0, 150.0))


SIGNATURE_SOURCE = {
    "PGAE-30": "TH_NP15_GEN-APND",
    "SCE-31": "TH_SP15_GEN-APND",
    "SDGE-32": "TH_SP15_GEN-APND",
}


log = logging.getLogger("crrsim.sandbox.market_data")


def crr_record(crr: Any) -> dict[str, Any]:
    return {
        "CRRID": crr.crr_id,
        "ParentCRRID": crr.parent_id,
        "AssetOwner": crr.owner,
        "MarketName": crr.market,
        "Source": crr.source,
        "Sink": crr.sink,
        "HedgeType": crr.hedge_type,
        "TOU": crr.tou,
        "CRRType": crr.crr_type,
        "MW": crr.mw,
        "Period": crr.period,
        "StartDate": iso(crr.start),
        "EndDate": iso(crr.end),
    }


def all_crrs(conn: sqlite3.Connection) -> list[Any]:
    from harness.sandbox.domain import holdings

    owners = [r[0] for r in conn.execute("SELECT DISTINCT owner FROM crr_holdings ORDER BY owner")]
    return sorted((c for o in owners for c in holdings.holdings_of(conn, o)), key=lambda c: c.crr_id)


def origin_of(crr: Any, secondary: set[int], now: datetime) -> str:
    if crr.crr_id in secondary:
        return "SECONDARY_MARKET"
    if crr.crr_type in LM_TYPES:
        return "LM_CURRENT_PLUS_3" if crr.end.year <= now.year + 3 else "LM_BEYOND_3"
    if crr.crr_type in SYSTEM_TYPES:
        return "SYSTEM"
    if crr.crr_type in ALLOCATION_TYPES:
        return "ALLOCATION"
    return "AUCTION"


def source_sink_records(nodes: Any, tous: tuple[str, ...]) -> list[dict[str, Any]]:
    """The market's source/sink list (a ``node_list.NodeList``) at its latest version: a retired
    node is no longer listed, an islanded one is not biddable."""
    return [
        {
            "SourceSink": n.name,
            "Type": n.type,
            "BiddableFlag": "Yes" if n.biddable else "No",
            "Zone": n.zone,
            "AugmentedBusName": n.augmented_bus or None,
            "EMSBusName": n.ems_bus or None,
            "ParticipationFactor": n.participation_factor,
            "TOU": tou,
        }
        for n in nodes.nodes
        for tou in tous
    ]


def base_loading_records(conn: sqlite3.Connection, market: Any) -> list[dict[str, Any]]:
    periods = {p.name for p in market.periods}
    grouped: dict[tuple[str, str, str, str, str], int] = defaultdict(int)
    for crr in all_crrs(conn):
        if crr.period in periods:
            grouped[(crr.source, crr.sink, crr.hedge_type, crr.tou, crr.period)] += round(crr.mw * 1000)
    return [
        {
            "MarketName": market.name,
            "Source": s,
            "Sink": k,
            "HedgeType": h,
            "TOU": t,
            "Period": p,
            "MW": m / 1000,
        }
        for (s, k, h, t, p), m in sorted(grouped.items())
    ]


def set_aside_records(market: Any) -> list[dict[str, Any]]:
    if market.term != "ANNUAL":
        return []
    return [
        {
            "MarketName": market.name,
            "InterfaceName": name,
            "Period": p.name,
            "TOU": tou,
            "SetAsidePercent": pct,
            "SetAsideMW": mw,
        }
        for name, pct, mw in SET_ASIDE_INTERFACES
        for p in market.periods
        for tou in market.tous
    ]


def binding_records(conn: sqlite3.Connection, market: str) -> list[dict[str, Any]]:
    """The branches that bound in the feasibility test, per TOU and period, with the shadow price
    (what one more MW of limit was worth; 0 in an allocation) and the flow that met the limit."""
    rows = conn.execute(
        "SELECT * FROM clearing_constraints WHERE market = ? ORDER BY period, tou, branch", (market,)
    )
    return [
        {
            "MarketName": market,
            "ConstraintName": r["branch"],
            "Period": r["period"],
            "TOU": r["tou"],
            "ShadowPrice": r["shadow_cents"] / 100,
            "FlowMW": r["flow_milli"] / 1000,
            "LimitMW": r["limit_milli"] / 1000,
        }
        for r in rows
    ]


def clearing_price_records(conn: sqlite3.Connection, market: str) -> list[dict[str, Any]]:
    """Every path bid on (price = sink's minus source's, to the cent; MW bought), then every
    node's own price to $0.0001 (a row with a Source and no Sink), per TOU and period: node
    prices add up to every path's within half a cent."""
    paths = conn.execute(
        "SELECT * FROM clearing_prices WHERE market = ? ORDER BY source, sink, tou, period, hedge_type",
        (market,),
    )
    nodes = conn.execute(
        "SELECT * FROM clearing_nodes WHERE market = ? ORDER BY node, tou, period", (market,)
    )
    return [
        {
            "MarketName": market,
            "Source": r["source"],
            "Sink": r["sink"],
            "HedgeType": r["hedge_type"],
            "TOU": r["tou"],
            "Period": r["period"],
            "ClearingPrice": r["price_cents"] / 100,
            "ClearedMW": r["cleared_milli"] / 1000,
        }
        for r in paths
    ] + [
        {
            "MarketName": market,
            "Source": r["node"],
            "TOU": r["tou"],
            "Period": r["period"],
            "ClearingPrice": r["price_e4"] / 10_000,
        }
        for r in nodes
    ]


def _awards(conn: sqlite3.Connection, market: str, participant: str | None = None) -> list[sqlite3.Row]:
    sql = "SELECT * FROM clearing_awards WHERE market = ?"
    args: list[Any] = [market]
    if participant is not None:
        sql += " AND participant = ?"
        args.append(participant)
    return conn.execute(sql + " ORDER BY award_id", args).fetchall()


def public_result_records(conn: sqlite3.Connection, market: Any) -> list[dict[str, Any]]:
    """Awards without who got them, one line per path, side and CRR type."""
    auction = market.market_type == "AUCTION"
    grouped: dict[tuple[Any, ...], int] = defaultdict(int)
    for a in _awards(conn, market.name):
        key = (
            a["source"],
            a["sink"],
            a["hedge_type"],
            a["tou"],
            a["period"],
            a["crr_type"],
            a["side"] if auction else None,
            a["price_cents"] if auction else None,
        )
        grouped[key] += a["mw_milli"]
    out = []
    for (s, k, h, t, p, ct, side, price), mw in sorted(
        grouped.items(), key=lambda kv: tuple(map(str, kv[0]))
    ):
        rec = {
            "MarketName": market.name,
            "Source": s,
            "Sink": k,
            "HedgeType": h,
            "TOU": t,
            "Period": p,
            "CRRType": ct,
        }
        if auction:
            rec.update({"Side": side, "AwardedMW": mw / 1000, "ClearingPrice": price / 100})
        else:
            rec["AwardedMW"] = mw / 1000
        out.append(rec)
    return out


def private_result_records(conn: sqlite3.Connection, market: Any, participant: str) -> list[dict[str, Any]]:
    out = []
    for a in _awards(conn, market.name, participant):
        common = {
            "Source": a["source"],
            "Sink": a["sink"],
            "HedgeType": a["hedge_type"],
            "TOU": a["tou"],
            "Period": a["period"],
            "CRRType": a["crr_type"],
            "AwardedMW": a["mw_milli"] / 1000,
            "CRRIDs": [int(x) for x in json.loads(a["crr_ids"] or "[]")],
        }
        if market.market_type == "AUCTION":
            out.append(
                {
                    "MarketName": market.name,
                    "AssetOwner": participant,
                    "BidID": a["record_id"],
                    "PortfolioID": a["portfolio_id"],
                    "Side": a["side"],
                    **common,
                    "ClearingPrice": a["price_cents"] / 100,
                }
            )
        else:
            out.append(
                {
                    "MarketName": market.name,
                    "AssetOwner": participant,
                    "NominationID": a["record_id"],
                    "PortfolioID": a["portfolio_id"],
                    **common,
                }
            )
    return out


def cap_records(
    conn: sqlite3.Connection, calc: str, market: Any, kind: str, participant: str
) -> list[dict[str, Any]]:
    from harness.sandbox.domain import network, nomination

    out = []
    for (sink, tou, period, crr_type), milli in sorted(
        nomination.caps_of(conn, market.name, participant).items()
    ):
        base = {"NominationCapCalcName": calc, "AssetOwner": participant}
        mw = milli / 1000
        if kind == "SIGNATURE":
            node = network.node(sink)
            source = SIGNATURE_SOURCE.get(node.zone if node else "", "TH_ZP26_GEN-APND")
            out.append(
                {
                    **base,
                    "Source": source,
                    "Sink": sink,
                    "TOU": tou,
                    "Period": period,
                    "CRRType": crr_type,
                    "MW": mw,
                }
            )
        else:
            # superset of spellings; the file keeps the ones its draft-07 schema defines
            names = {
                "UPPER_BOUND": ("UpperBound", "UpperBoundMW"),
                "SEQ": ("SEQ", "TotalSEQ"),
                "MEQ": ("MEQ", "TotalMEQ"),
            }[kind]
            out.append(
                {
                    **base,
                    "Sink": sink,
                    "TOU": tou,
                    "Period": period,
                    "CRRType": crr_type,
                    **dict.fromkeys(names, mw),
                }
            )
    return out
