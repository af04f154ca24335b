"""Business-rule-aware bodies for the big uploads, so positive data is valid for the market.

Random bid curves and nominations almost never satisfy the rules (curve shape, biddable nodes,
a period and TOU the market offers, the caller as asset owner), so positive cases of portfolio
creation would all stop at the record checks. For half of them (chosen by the case, so a seed
repeats the run) the records are replaced by 1-3 records built from the market's own products
and the caller's SC ID; the other half keep schemathesis' data and exercise the refusals.
Negative cases are never touched: they must break the contract.

A third of the rewritten uploads then break exactly one business rule in one record (another
SC ID as asset owner, the same node as source and sink, a node outside the network model, a
bid curve whose MW goes down): still schema-valid, so the contract cannot catch it, and the
target must refuse it with a business code (``checks.crr_broken_rule_refused``). One rule at a
time, so a refusal that is missing names the rule.
"""

from __future__ import annotations

import random
from typing import Any

from harness.contract.portfolios import MAX_RECORDS

# trading hub and load zone pairs every CRR network model has (sources and sinks that are biddable)
NODE_PAIRS: tuple[tuple[str, str], ...] = (
    ("TH_NP15_GEN-APND", "DLAP_PGAE-APND"),
    ("TH_SP15_GEN-APND", "DLAP_SCE-APND"),
    ("TH_NP15_GEN-APND", "TH_SP15_GEN-APND"),
    ("TH_SP15_GEN-APND", "DLAP_SDGE-APND"),
)
RECORD_FIELDS = {"auction": "newBids", "nomination": "newNominations"}


def valid_records(service: str, participant: str, products: list[tuple[str, str]], rng: random.Random) -> list[dict[str, Any]]:
    """Records a participant could really upload to a market offering ``products``: 1-3, and one
    upload in eight a big one (100 up to the 500-record limit), where size problems live."""
    records = []
    count = rng.randint(100, MAX_RECORDS) if rng.random() < 1 / 8 else rng.randint(1, 3)
    for _ in range(count):
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


def _other_owner(record: dict[str, Any], participant: str) -> None:
    record["assetOwner"] = "WCAL" if participant != "WCAL" else "ECAL"


def _same_node(record: dict[str, Any], participant: str) -> None:
    record["sink"] = record["source"]


def _unknown_node(record: dict[str, Any], participant: str) -> None:
    record["source"] = "CRRSIM_NO_SUCH_NODE-APND"


def _falling_curve(record: dict[str, Any], participant: str) -> None:
    first, last = record["bidCurve"][0], record["bidCurve"][-1]
    record["bidCurve"] = [{"mw": last["mw"], "price": first["price"]}, {"mw": 0, "price": last["price"]}]


# rule broken -> how to break it in one record; the services it applies to
BROKEN_RULES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "a record owned by another SC ID": (_other_owner, ("auction", "nomination")),
    "the same node as source and sink": (_same_node, ("auction", "nomination")),
    "a node outside the network model": (_unknown_node, ("auction", "nomination")),
    "a bid curve whose MW goes down": (_falling_curve, ("auction",)),
}


def make_valid(case: Any, participant: str, products: dict[str, list[tuple[str, str]]]) -> str | None:
    """Rewrite a positive portfolio creation case in place (half of them), see the module doc;
    the business rule the upload breaks on purpose, or None."""
    meta = getattr(case, "meta", None)
    body = case.body
    if meta is None or not meta.generation.mode.is_positive or not isinstance(body, dict):
        return None
    if case.operation.definition.raw.get("operationId") != "portfolioCreation":
        return None
    service = next((s for s in RECORD_FIELDS if f"/{s}/" in case.operation.path), None)
    offered = products.get(str(body.get("marketName")))
    if service is None or not offered:
        return None
    rng = random.Random(str(case.id))
    if rng.random() < 0.5:
        return None
    records = valid_records(service, participant, offered, rng)
    body[RECORD_FIELDS[service]] = records
    if service == "auction":
        body["newOffers"] = []
    body["participantName"] = participant
    if rng.random() >= 1 / 3:
        return None
    rule = rng.choice([name for name, (_, services) in BROKEN_RULES.items() if service in services])
    BROKEN_RULES[rule][0](rng.choice(records), participant)
    return rule


def confine(case: Any, names: tuple[str, ...]) -> None:
    """On a shared environment with --allow-writes: every portfolio name a case sends (body or
    query, any phase, any mode) becomes one of the run's own, so nothing else is touched."""
    rng = random.Random(str(case.id))
    if isinstance(case.body, dict) and "portfolioName" in case.body:
        case.body["portfolioName"] = rng.choice(names)
    if isinstance(case.query, dict) and "portfolioName" in case.query:
        case.query["portfolioName"] = rng.choice(names)
