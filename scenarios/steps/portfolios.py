"""Auction and nomination portfolios: create from files or tables, submit, retract, delete, check.

Both services share one lifecycle, so every step takes the kind ("auction" or "nomination")
as a parameter instead of existing twice.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.contract.portfolios import PORTFOLIO_OPERATIONS
from harness.scenarios.pytest_plugin import writes
from harness.scenarios.steplib import given, parsers, then, when
from scenarios import datafiles
from scenarios.context import ScenarioContext

KIND = r"(?P<kind>auction|nomination)"
NAME = r'"(?P<name>[^"]+)"'

OPS = PORTFOLIO_OPERATIONS  # operationId of each lifecycle step, per service (one table)
# request collections and the answer's collections, per kind
COLLECTIONS = {"auction": ("newBids", "newOffers"), "nomination": ("newNominations",)}
HELD = {"bid": "bids", "offer": "offers", "nomination": "nominations"}
ACTIONS = {"submit": "submit", "retract": "retract", "delete": "delete"}
DEFAULT_PATH = {"source": "TH_NP15_GEN-APND", "sink": "DLAP_PGAE-APND", "tou": "ON"}


def market_periods(ctx: ScenarioContext, market: str) -> list[str]:
    cache = ctx.data.setdefault("periods", {})
    if market not in cache:
        ctx.call(
            "market_status", "getMarketInfo", params={"marketName": market, "participantName": ctx.me.sc}
        )
        info = ctx.expect_ok()
        cache[market] = list(dict.fromkeys(p["period"]["name"] for p in info.get("products", [])))
    return cache[market]


def nomination(ctx: ScenarioContext, row: dict[str, str], period: str) -> dict[str, Any]:
    return {
        "assetOwner": row.get("assetOwner", ctx.me.sc),
        "source": row["source"],
        "sink": row["sink"],
        "hedgeType": row.get("hedgeType", row.get("hedge", "OBL")),
        "tou": row["tou"],
        "period": row.get("period", period),
        "crrType": row.get("crrType", "LSE"),
        "mw": datafiles.number(row["mw"]),
    }


def bid(
    ctx: ScenarioContext, row: dict[str, str], period: str, curve: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A buy bid; a file row's single MW/price becomes CAISO's usual two-point curve."""
    if curve is None:
        price = datafiles.number(row["price"])
        curve = [{"mw": 0, "price": price}, {"mw": datafiles.number(row["mw"]), "price": price}]
    return {
        "assetOwner": row.get("assetOwner", ctx.me.sc),
        "source": row["source"],
        "sink": row["sink"],
        "hedgeType": row.get("hedgeType", row.get("hedge", "OBL")),
        "tou": row["tou"],
        "period": row.get("period", period),
        "crrType": row.get("crrType", "AUC"),
        "bidCurve": curve,
    }


def create(ctx: ScenarioContext, kind: str, name: str, records: dict[str, list[dict[str, Any]]]) -> None:
    market = ctx.require_market()
    body: dict[str, Any] = {"portfolioName": name, "marketName": market, "participantName": ctx.me.sc}
    for collection in COLLECTIONS[kind]:
        body[collection] = records.get(collection, [])
    ctx.call(kind, OPS[kind]["create"], body=body)


def records_from_rows(
    ctx: ScenarioContext, kind: str, rows: list[dict[str, str]]
) -> dict[str, list[dict[str, Any]]]:
    period = market_periods(ctx, ctx.require_market())[0]
    if kind == "nomination":
        return {"newNominations": [nomination(ctx, r, period) for r in rows]}
    return {"newBids": [bid(ctx, r, period) for r in rows]}


def identifier(ctx: ScenarioContext, name: str, participant: str | None = None) -> dict[str, str]:
    return {
        "portfolioName": name,
        "marketName": ctx.require_market(),
        "participantName": participant or ctx.me.sc,
    }


def act(
    ctx: ScenarioContext, kind: str, action: str, name: str, who: Any = None, participant: str | None = None
) -> None:
    ident = identifier(ctx, name, participant)
    if action == "delete":
        ctx.call(kind, OPS[kind]["delete"], who=who, params=ident)
    elif action == "status":
        ctx.call(kind, OPS[kind]["status"], who=who, params=ident)
    else:
        ctx.call(kind, OPS[kind][action], who=who, body=ident)


def portfolio_names(ctx: ScenarioContext, kind: str) -> list[str]:
    ctx.call(
        kind, OPS[kind]["list"], params={"marketName": ctx.require_market(), "participantName": ctx.me.sc}
    )
    found = ctx.expect_ok() or []
    return [str(item.get("portfolioName")) if isinstance(item, dict) else str(item) for item in found]


def status_of(ctx: ScenarioContext, kind: str, name: str) -> str:
    act(ctx, kind, "status", name)
    return str(ctx.expect_ok().get("status"))


@when(parsers.re(rf'I create the {KIND} portfolio {NAME} from the file "(?P<file>[^"]+)"'))
@writes
def create_from_file(ctx: ScenarioContext, kind: str, name: str, file: str) -> None:
    """Upload a participant file (scenarios/data or CRRSIM_SCENARIO_DATA) as a new portfolio.

    Nomination files: source, sink, tou, mw [, period, hedgeType, crrType]; bid files add price.
    Missing periods default to the market's first period; the asset owner is my SC ID.
    """
    create(ctx, kind, name, records_from_rows(ctx, kind, datafiles.rows(file)))


@given(
    parsers.re(
        rf'I have submitted the {KIND} portfolio {NAME} from the file "(?P<file>[^"]+)"'
        r"(?: in the (?P<alias>(?:monthly|annual) (?:allocation|auction)) market)?"
    )
)
@writes
def submitted_from_file(ctx: ScenarioContext, kind: str, name: str, file: str, alias: str | None) -> None:
    """Set-up for a scenario that needs my submitted portfolio: upload the file and submit it,
    in my market or the plan market named (which stays my market only for this step)."""
    current = ctx.market
    if alias:
        ctx.market = ctx.env.market(alias)
    try:
        create(ctx, kind, name, records_from_rows(ctx, kind, datafiles.rows(file)))
        ctx.expect_ok()
        act(ctx, kind, "submit", name)
        ctx.expect_ok()
    finally:
        ctx.market = current


@when(parsers.re(rf"I create the {KIND} portfolio {NAME} with these (?:bids|nominations):"))
@writes
def create_from_table(ctx: ScenarioContext, kind: str, name: str, datatable: list[list[str]]) -> None:
    """Create a portfolio typed as a table, with the same columns as the upload files."""
    create(ctx, kind, name, records_from_rows(ctx, kind, datafiles.table_rows(datatable)))


@when(parsers.parse('I create the auction portfolio "{name}" with one buy bid using the curve "{curve}"'))
@writes
def create_with_curve(ctx: ScenarioContext, name: str, curve: str) -> None:
    """One buy bid whose curve is the named one from scenarios/data/curves.yaml."""
    curves = datafiles.curves()
    if curve not in curves:
        pytest.fail(f"no curve {curve!r} in curves.yaml; known: {', '.join(curves)}", pytrace=False)
    period = market_periods(ctx, ctx.require_market())[0]
    create(ctx, "auction", name, {"newBids": [bid(ctx, DEFAULT_PATH, period, curves[curve])]})


@when(parsers.re(rf"I create the auction portfolio {NAME} offering that CRR at (?P<price>-?[\d.]+) \$/MW"))
@writes
def create_offer(ctx: ScenarioContext, name: str, price: str) -> None:
    """A sell offer of the CRR found by an earlier 'holds a CRR' step, for all its MW."""
    crr = ctx.need("crr", "no CRR chosen: add a step like 'Given I hold a CRR for the market's period'")
    p = datafiles.number(price)
    offer = {
        "crrId": crr["crrId"],
        "assetOwner": ctx.me.sc,
        "source": crr["source"],
        "sink": crr["sink"],
        "hedgeType": crr["hedgeType"],
        "tou": crr["tou"],
        "period": crr["period"],
        "crrType": crr["crrType"],
        "bidCurve": [{"mw": 0, "price": p}, {"mw": crr["mw"], "price": p}],
    }
    create(ctx, "auction", name, {"newOffers": [offer]})


@when(parsers.re(rf"I (?P<action>submit|retract|delete) the {KIND} portfolio {NAME}"))
@writes
def my_portfolio_action(ctx: ScenarioContext, action: str, kind: str, name: str) -> None:
    """Submit, retract or delete one of my portfolios in my market."""
    act(ctx, kind, action, name)


@when(
    parsers.re(
        rf'participant "(?P<other>[^"]+)" (?P<action>asks for the status of|submits|retracts|deletes) my {KIND} portfolio {NAME}'
    )
)
def others_portfolio_action(ctx: ScenarioContext, other: str, action: str, kind: str, name: str) -> None:
    """Another participant's certificate acting on my portfolio (naming my SC ID)."""
    verb = {
        "asks for the status of": "status",
        "submits": "submit",
        "retracts": "retract",
        "deletes": "delete",
    }[action]
    act(ctx, kind, verb, name, who=ctx.env.participant(other), participant=ctx.me.sc)


@when(parsers.re(rf'I list my {KIND} portfolios(?: in the market "(?P<market>[^"]+)")?'))
def list_portfolios(ctx: ScenarioContext, kind: str, market: str | None) -> None:
    """Ask for my portfolio list in my market (or the named one)."""
    if market:
        ctx.market = ctx.env.market(market)
    ctx.call(
        kind, OPS[kind]["list"], params={"marketName": ctx.require_market(), "participantName": ctx.me.sc}
    )


@then(parsers.re(rf"the {KIND} portfolio {NAME} (?P<check>has status|is not) \"(?P<status>[A-Z]+)\""))
def portfolio_status(ctx: ScenarioContext, kind: str, name: str, check: str, status: str) -> None:
    """The portfolio's status is (or is not) NEW, VALID, INVALID, SUBMITTED, REJECTED, DELETED."""
    actual = status_of(ctx, kind, name)
    if check == "has status":
        assert actual == status, f"{kind} portfolio {name!r} is {actual}, expected {status}"
    else:
        assert actual != status, f"{kind} portfolio {name!r} is {actual}, which it must not be"


@then(parsers.re(rf"the {KIND} portfolio {NAME} holds (?P<count>\d+) (?P<what>bid|offer|nomination)s?"))
def portfolio_holds(ctx: ScenarioContext, kind: str, name: str, count: str, what: str) -> None:
    """Reading the portfolio back gives this many bids, offers or nominations."""
    ctx.call(kind, OPS[kind]["get"], params=identifier(ctx, name))
    held = ctx.expect_ok().get(HELD[what]) or []
    assert len(held) == int(count), (
        f"{kind} portfolio {name!r} holds {len(held)} {HELD[what]}, expected {count}"
    )


@then(parsers.re(rf"my {KIND} portfolio list (?P<check>contains|does not contain) {NAME}"))
def portfolio_listed(ctx: ScenarioContext, kind: str, check: str, name: str) -> None:
    """The portfolio is (or is not) in my list for my market."""
    names = portfolio_names(ctx, kind)
    if check == "contains":
        assert name in names, f"{name!r} is not in my {kind} portfolio list: {names}"
    else:
        assert name not in names, f"{name!r} is in my {kind} portfolio list but must not be"


@then(
    parsers.re(
        rf"the required credit of the auction portfolio {NAME} is (?P<how>at most|above) \$(?P<amount>[\d,]+(?:\.\d+)?)"
    )
)
def required_credit(ctx: ScenarioContext, name: str, how: str, amount: str) -> None:
    """The credit the portfolio needs compared with an amount (e.g. the $10,000,000 limit)."""
    ctx.call("auction", OPS["auction"]["credit"], params=identifier(ctx, name))
    credit = float(ctx.expect_ok()["requiredCredit"])
    limit = float(amount.replace(",", ""))
    if how == "at most":
        assert credit <= limit, f"portfolio {name!r} needs ${credit:,.2f}, more than ${limit:,.2f}"
    else:
        assert credit > limit, f"portfolio {name!r} needs ${credit:,.2f}, not above ${limit:,.2f}"


@when(parsers.re(rf"I create the auction portfolio {NAME} buying more of that CRR"))
@writes
def create_buy_like_crr(ctx: ScenarioContext, name: str) -> None:
    """One buy bid on the chosen CRR's path, TOU and period (1 MW at $1)."""
    crr = ctx.need("crr", "no CRR chosen: add a step like 'Given I hold a CRR for the market's period'")
    row = {k: crr[k] for k in ("source", "sink", "tou", "hedgeType")}
    record = bid(ctx, row, crr["period"], [{"mw": 0, "price": 1}, {"mw": 1, "price": 1}])
    create(ctx, "auction", name, {"newBids": [record]})
