"""Business-rule-aware bodies for the big uploads, so positive data is valid for the market.

Random bid curves, nominations and offers almost never satisfy the rules (curve shape, biddable
nodes, a period and TOU the market offers, the caller as asset owner, a CRR the caller holds
with its own source, sink and term), so positive cases of portfolio creation and of offer
creation would all stop at the record checks. For half of them (chosen by the case, so a seed
repeats the run) the records are replaced by ones built from the live values (the market's
products and node list, the caller's SC ID and holdings, another SC ID as counterparty); the
other half keep schemathesis' data and exercise the refusals. Negative cases are never touched:
they must break the contract.

A third of the rewritten uploads then break exactly one business rule in one record (another
SC ID as asset owner, the same node as source and sink, a node outside the network model, a
bid curve whose MW goes down, a CRR nobody holds, more MW than the CRR holds): still
schema-valid, so the contract cannot catch it, and the target must refuse it with a business
code (``checks.crr_broken_rule_refused``, which also re-sends the upload without the break to
see that the refusal was about it). One rule at a time, so a refusal that is missing names the
rule.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.contract.portfolios import MAX_RECORDS
from harness.fuzz.live import LiveValues

# trading hub and load zone pairs every CRR network model has: the sources and sinks used when
# the target's node list could not be read
NODE_PAIRS: tuple[tuple[str, str], ...] = (
    ("TH_NP15_GEN-APND", "DLAP_PGAE-APND"),
    ("TH_SP15_GEN-APND", "DLAP_SCE-APND"),
    ("TH_NP15_GEN-APND", "TH_SP15_GEN-APND"),
    ("TH_SP15_GEN-APND", "DLAP_SDGE-APND"),
)
RECORD_FIELDS = {"auction": "newBids", "nomination": "newNominations"}
# operationId -> (offer type, post type) of the secondary market's offer creations
OFFERS = {
    "postPublicSmSellOffers": ("sell", "public"),
    "postPrivateSmSellOffers": ("sell", "private"),
    "postPublicSmBuyOffers": ("buy", "public"),
    "postPrivateSmBuyOffers": ("buy", "private"),
}
NO_SUCH_CRR = 9_999_999_999  # the contract's largest CRR id: held by nobody


@dataclass(frozen=True)
class Break:
    """The one rule an upload breaks on purpose, and where: ``key`` is the record list's field
    (None when the body is the list), ``index`` the record, ``original`` it before the break."""

    rule: str
    key: str | None
    index: int
    original: dict[str, Any]

    def unbroken(self, body: Any) -> Any:
        """A copy of ``body`` with the record restored: the same upload without the break."""
        out = copy.deepcopy(body)
        records = out if self.key is None else out[self.key]
        records[self.index] = copy.deepcopy(self.original)
        return out


def _pair(live: LiveValues, rng: random.Random) -> tuple[str, str]:
    """Two different biddable nodes: from the target's node list when read, else known hubs."""
    if len(live.nodes) >= 2:
        source, sink = rng.sample(live.nodes, 2)
        return source, sink
    return rng.choice(NODE_PAIRS)


def valid_records(
    service: str, live: LiveValues, products: list[tuple[str, str]], rng: random.Random
) -> list[dict[str, Any]]:
    """Records a participant could really upload to a market offering ``products``: 1-3, and one
    upload in eight a big one (100 up to the 500-record limit), where size problems live."""
    records = []
    count = rng.randint(100, MAX_RECORDS) if rng.random() < 1 / 8 else rng.randint(1, 3)
    for _ in range(count):
        period, tou = rng.choice(products)
        source, sink = _pair(live, rng)
        record: dict[str, Any] = {
            "assetOwner": live.participant,
            "source": source,
            "sink": sink,
            "hedgeType": "OBL",
            "tou": tou,
            "period": period,
        }
        if service == "auction":
            price = round(rng.uniform(0.1, 5.0), 2)
            mw = round(rng.uniform(0.5, 10.0), 3)
            record.update(crrType="AUC", bidCurve=[{"mw": 0, "price": price}, {"mw": mw, "price": price}])
        else:
            record.update(crrType="LSE", mw=round(rng.uniform(0.5, 5.0), 3))
        records.append(record)
    return records


def valid_offers(
    kind: str, post: str, template: dict[str, Any], live: LiveValues, rng: random.Random
) -> list[dict[str, Any]] | None:
    """1-3 offers the participant could really post: a sell names a CRR it holds with that CRR's
    source, sink, TOU, hedge and term and a small part of its MW; a buy names two nodes of the
    network and a real term. The rest (contact details, ...) is schemathesis' template."""
    if kind == "sell" and not live.holdings:
        return None
    if post == "private" and not live.counterparties:
        return None
    offers = []
    for _ in range(rng.randint(1, 3)):
        offer = copy.deepcopy(template)
        held = rng.choice(live.holdings[:5]) if live.holdings else None
        if kind == "sell" and held is not None:
            offer.update(
                crrId=int(held["CRRID"]),
                source=held["Source"],
                sink=held["Sink"],
                tou=held["TOU"],
                hedgeType=held["HedgeType"],
                crrType=held["CRRType"],
            )
        else:
            source, sink = _pair(live, rng)
            offer.update(source=source, sink=sink)
        if held is not None:
            offer.update(startDate=held["StartDate"], endDate=held["EndDate"])
        offer.update(
            assetOwner=live.participant,
            mw=round(rng.uniform(0.1, 1.0), 3),
            price=round(rng.uniform(0.5, 20.0), 2),
        )
        if post == "private":
            offer["targetMpName"] = rng.choice(live.counterparties)
        offers.append(offer)
    return offers


def _other_owner(record: dict[str, Any], live: LiveValues) -> None:
    others = [sc for sc in live.counterparties if sc != live.participant]
    record["assetOwner"] = others[0] if others else ("WCAL" if live.participant != "WCAL" else "ECAL")


def _same_node(record: dict[str, Any], live: LiveValues) -> None:
    record["sink"] = record["source"]


def _unknown_node(record: dict[str, Any], live: LiveValues) -> None:
    record["source"] = "CRRSIM_NO_SUCH_NODE-APND"


def _falling_curve(record: dict[str, Any], live: LiveValues) -> None:
    first, last = record["bidCurve"][0], record["bidCurve"][-1]
    record["bidCurve"] = [{"mw": last["mw"], "price": first["price"]}, {"mw": 0, "price": last["price"]}]


def _unheld_crr(record: dict[str, Any], live: LiveValues) -> None:
    record["crrId"] = NO_SUCH_CRR


def _more_than_held(record: dict[str, Any], live: LiveValues) -> None:
    held = next(h for h in live.holdings if int(h["CRRID"]) == record["crrId"])
    record["mw"] = round(float(held["MW"]) + 1, 3)


# rule broken -> how to break it in one record; the kinds of upload it applies to
BROKEN_RULES: dict[str, tuple[Callable[[dict[str, Any], LiveValues], None], tuple[str, ...]]] = {
    "a record owned by another SC ID": (_other_owner, ("auction", "nomination", "sell", "buy")),
    "the same node as source and sink": (_same_node, ("auction", "nomination", "buy")),
    "a node outside the network model": (_unknown_node, ("auction", "nomination", "buy")),
    "a bid curve whose MW goes down": (_falling_curve, ("auction",)),
    "an offer of a CRR nobody holds": (_unheld_crr, ("sell",)),
    "an offer of more MW than the CRR holds": (_more_than_held, ("sell",)),
}


def _rewrite(
    case: Any, live: LiveValues, rng: random.Random
) -> tuple[str, str | None, list[dict[str, Any]]] | None:
    """(kind, record list field or None, records) after rewriting the case's body, or None."""
    body = case.body
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id == "portfolioCreation" and isinstance(body, dict):
        service = next((s for s in RECORD_FIELDS if f"/{s}/" in case.operation.path), None)
        offered = live.products.get(str(body.get("marketName")))
        if service is None or not offered:
            return None
        if rng.random() < 0.5:
            return None
        records = valid_records(service, live, offered, rng)
        body[RECORD_FIELDS[service]] = records
        if service == "auction":
            body["newOffers"] = []
        body["participantName"] = live.participant
        return service, RECORD_FIELDS[service], records
    if operation_id in OFFERS and isinstance(body, list):
        if rng.random() < 0.5:
            return None
        kind, post = OFFERS[operation_id]
        template = next((item for item in body if isinstance(item, dict)), {})
        offers = valid_offers(kind, post, template, live, rng)
        if offers is None:
            return None
        body[:] = offers
        if isinstance(case.query, dict):
            case.query["participantName"] = live.participant
        return kind, None, offers
    return None


def make_valid(case: Any, live: LiveValues) -> Break | None:
    """Rewrite a positive upload case in place (half of them), see the module doc; the business
    rule the upload breaks on purpose, or None."""
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive:
        return None
    rng = random.Random(str(case.id))
    rewritten = _rewrite(case, live, rng)
    if rewritten is None or rng.random() >= 1 / 3:
        return None
    kind, key, records = rewritten
    rule = rng.choice([name for name, (_, kinds) in BROKEN_RULES.items() if kind in kinds])
    index = rng.randrange(len(records))
    original = copy.deepcopy(records[index])
    BROKEN_RULES[rule][0](records[index], live)
    return Break(rule, key, index, original)


def confine(case: Any, names: tuple[str, ...]) -> None:
    """On a shared environment with --allow-writes: every portfolio name a case sends (body or
    query, any phase, any mode) becomes one of the run's own, so nothing else is touched."""
    rng = random.Random(str(case.id))
    if isinstance(case.body, dict) and "portfolioName" in case.body:
        case.body["portfolioName"] = rng.choice(names)
    if isinstance(case.query, dict) and "portfolioName" in case.query:
        case.query["portfolioName"] = rng.choice(names)
