"""The portfolio operations auction and nomination share, as request handlers.

Not a CRR service of its own: ``auction`` and ``nomination`` bind these handlers to their
operationIds through ``harness.contract.portfolios.PORTFOLIO_OPERATIONS`` (the one table of
which operationId is which lifecycle step) and their ``PortfolioRules``. Each handler reads
the request, takes the portfolio's edit lock, runs the lifecycle step of
``domain.portfolios`` in one transaction and shapes the reply.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from harness.contract.portfolios import PORTFOLIO_OPERATIONS
from harness.contract.wire import JSON_MEDIA_TYPE
from harness.sandbox.domain import portfolios
from harness.sandbox.domain.credit import cents_to_dollars
from harness.sandbox.domain.portfolios import (
    DELETED,
    NEW,
    SUBMITTED,
    VALID,
    CreateContext,
    PortfolioRules,
    check_portfolio_name,
    find_portfolio,
    portfolio_bodies,
    require_market,
    require_window,
    status_body,
)
from harness.sandbox.errors import CRRError
from harness.sandbox.services.request import Handler, Reply, SandboxRequest
from harness.sandbox.store.locks import EDIT_LOCKS


def _json_reply(text: str) -> Reply:
    return Reply(raw=text.encode(), content_type=JSON_MEDIA_TYPE)


def _identifier(req: SandboxRequest) -> tuple[str, str, str]:
    """(participant, market, portfolio name) from query parameters or a PortfolioIdentifier body."""
    src: Mapping[str, Any] = req.body if isinstance(req.body, dict) else req.params
    market = src.get("marketName", src.get("market"))  # CAISO's nomination file says "market"
    if not isinstance(market, str):
        raise CRRError("SER0017", "marketName is required")
    participant = req.participant(src.get("participantName"))
    return participant, market, check_portfolio_name(src.get("portfolioName"))


def _find(
    conn: sqlite3.Connection,
    req: SandboxRequest,
    rules: PortfolioRules,
    market: str,
    participant: str,
    name: str,
) -> sqlite3.Row:
    return find_portfolio(conn, rules, market, participant, name, req.caller.sc_ids)


async def create(req: SandboxRequest, rules: PortfolioRules) -> Reply:
    body = req.body if isinstance(req.body, dict) else {}
    participant = req.participant(body.get("participantName"))
    name = check_portfolio_name(body.get("portfolioName"))
    market_name = str(body.get("marketName", ""))
    raw = portfolios.upload_records(rules, body)
    with EDIT_LOCKS.hold((rules.service, market_name, participant, name), req.store):
        with req.store.read() as conn:
            market = require_market(conn, rules, market_name, req.clock)
            require_window(market, rules, "create")
            portfolios.refuse_duplicate(conn, rules, market_name, participant, name)
            ctx = CreateContext(participant, market, {})
            rules.prepare(conn, ctx, raw)
        records = await portfolios.check_records(rules, ctx, raw)
        status = VALID if records else NEW
        with req.store.write() as conn:
            # the window or the name may have changed while the records were checked
            market = require_market(conn, rules, market_name, req.clock)
            require_window(market, rules, "create")
            portfolios.refuse_duplicate(conn, rules, market_name, participant, name)
            portfolios.insert(
                conn, rules, market_name, participant, name, status, raw, records, req.clock.now()
            )
    return Reply(status_body(name, market_name, status))


async def get(req: SandboxRequest, rules: PortfolioRules) -> Reply:
    participant, market, name = _identifier(req)
    with req.store.read() as conn:
        require_market(conn, rules, market, req.clock)
        row = _find(conn, req, rules, market, participant, name)
        text = portfolios.portfolio_body(conn, rules, row)
    return _json_reply(text)


async def list_portfolios(req: SandboxRequest, rules: PortfolioRules) -> Reply:
    participant = req.participant()
    market = str(req.params.get("marketName", ""))
    with req.store.read() as conn:
        require_market(conn, rules, market, req.clock)
        bodies = portfolio_bodies(conn, rules, market, participant)
    return _json_reply("[" + ",".join(bodies) + "]")


async def status(req: SandboxRequest, rules: PortfolioRules) -> Reply:
    participant, market, name = _identifier(req)
    with req.store.read() as conn:
        require_market(conn, rules, market, req.clock)
        row = _find(conn, req, rules, market, participant, name)
    return Reply(status_body(row))


async def required_credit(req: SandboxRequest, rules: PortfolioRules) -> Reply:
    participant, market, name = _identifier(req)
    with req.store.read() as conn:
        require_market(conn, rules, market, req.clock)
        row = _find(conn, req, rules, market, participant, name)
    return Reply(
        {
            "portfolioName": row["name"],
            "marketName": row["market"],
            "requiredCredit": cents_to_dollars(row["required_credit_cents"]),
        }
    )


@contextmanager
def _editing(
    req: SandboxRequest, rules: PortfolioRules, action: str
) -> Iterator[tuple[sqlite3.Connection, sqlite3.Row]]:
    """One edit of an existing portfolio: its edit lock, a write transaction, the market's window
    for ``action``, and the portfolio row."""
    participant, market_name, name = _identifier(req)
    with (
        EDIT_LOCKS.hold((rules.service, market_name, participant, name), req.store),
        req.store.write() as conn,
    ):
        market = require_market(conn, rules, market_name, req.clock)
        require_window(market, rules, action)
        yield conn, _find(conn, req, rules, market_name, participant, name)


async def submit(req: SandboxRequest, rules: PortfolioRules) -> Reply:
    with _editing(req, rules, "submit") as (conn, row):
        failure = portfolios.submit(conn, rules, row, req.clock.now())
    if failure is not None:
        raise failure  # after the commit: the INVALID status (or the credit reason) is saved
    return Reply(status_body(row["name"], row["market"], SUBMITTED))


async def retract(req: SandboxRequest, rules: PortfolioRules) -> Reply:
    with _editing(req, rules, "retract") as (conn, row):
        portfolios.retract(conn, row, req.clock.now())
    return Reply(status_body(row["name"], row["market"], VALID))


async def delete(req: SandboxRequest, rules: PortfolioRules) -> Reply:
    with _editing(req, rules, "delete") as (conn, row):
        portfolios.delete(conn, row)
    return Reply(status_body(row["name"], row["market"], DELETED))


STEPS: dict[str, Callable[[SandboxRequest, PortfolioRules], Awaitable[Reply]]] = {
    "create": create,
    "get": get,
    "list": list_portfolios,
    "status": status,
    "credit": required_credit,
    "submit": submit,
    "retract": retract,
    "delete": delete,
}


def portfolio_handlers(rules: PortfolioRules) -> dict[str, Handler]:
    """operationId -> handler for every lifecycle step the service's contract has."""

    def bind(step: str) -> Handler:
        async def handle(req: SandboxRequest) -> Reply:
            return await STEPS[step](req, rules)

        handle.__name__ = f"{rules.service}_{step}"
        return handle

    return {operation_id: bind(step) for step, operation_id in PORTFOLIO_OPERATIONS[rules.service].items()}
