"""Business-rule-aware bodies for the big uploads, so positive data is valid for the market.

Random bid curves and nominations almost never satisfy the rules (curve shape, biddable nodes,
a period and TOU the market offers, the caller as asset owner), so positive cases of portfolio
creation would all stop at the record checks. For half of them (chosen by the case, so a seed
repeats the run) the records are replaced by 1-3 records built from the market's own products
and the caller's SC ID; the other half keep schemathesis' data and exercise the refusals.
Negative cases are never touched: they must break the contract.
"""

from __future__ import annotations

import random
from typing import Any

# trading hub and load zone pairs every CRR network model has (sources and sinks that are biddable)
NODE_PAIRS: tuple[tuple[str, str], ...] = (
    ("TH_NP15_GEN-APND", "DLAP_PGAE-APND"),
    ("TH_SP15_GEN-APND", "DLAP_SCE-APND"),
    ("TH_NP15_GEN-APND", "TH_SP15_GEN-APND"),
    ("TH_SP15_GEN-APND", "DLAP_SDGE-APND"),
)
RECORD_FIELDS = {"auction": "newBids", "nomination": "newNominations"}


def valid_records(service: str, participant: str, products: list[tuple[str, str]], rng: random.Random) -> list[dict[str, Any]]:
    """1-3 records a participant could really upload to a market offering ``products``."""
    records = []
    for _ in range(rng.randint(1, 3)):
        period, tou = rng.choice(products)
        source, sink = rng.choice(NODE_PAIRS)
        record: dict[str, Any] = {"assetOwner": participant, "source": source, "sink": sink, "hedgeType": "OBL",
                                  "tou": tou, "period": period}
        if service == "auction":
            price = round(rng.uniform(0.1, 5.0), 2)
            mw = round(rng.uniform(0.5, 10.0), 3)
            record.update(crrType="AUC", bidCurve=[{"mw": 0, "price": price}, {"mw": mw, "price": price}])
        else:
            record.update(crrType="LSE", mw=round(rng.uniform(0.5, 5.0), 3))
        records.append(record)
    return records


def make_valid(case: Any, participant: str, products: dict[str, list[tuple[str, str]]]) -> None:
    """Rewrite a positive portfolio creation case in place (half of them), see the module doc."""
    meta = getattr(case, "meta", None)
    body = case.body
    if meta is None or not meta.generation.mode.is_positive or not isinstance(body, dict):
        return
    if case.operation.definition.raw.get("operationId") != "portfolioCreation":
        return
    service = next((s for s in RECORD_FIELDS if f"/{s}/" in case.operation.path), None)
    offered = products.get(str(body.get("marketName")))
    if service is None or not offered:
        return
    rng = random.Random(str(case.id))
    if rng.random() < 0.5:
        return
    body[RECORD_FIELDS[service]] = valid_records(service, participant, offered, rng)
    if service == "auction":
        body["newOffers"] = []
    body["participantName"] = participant


def confine(case: Any, names: tuple[str, ...]) -> None:
    """On a shared environment with --allow-writes: every portfolio name a case sends (body or
    query, any phase, any mode) becomes one of the run's own, so nothing else is touched."""
    rng = random.Random(str(case.id))
    if isinstance(case.body, dict) and "portfolioName" in case.body:
        case.body["portfolioName"] = rng.choice(names)
    if isinstance(case.query, dict) and "portfolioName" in case.query:
        case.query["portfolioName"] = rng.choice(names)
