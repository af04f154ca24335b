"""Which operationId is which step of the portfolio lifecycle, per service.

Auction and nomination share one lifecycle (create, read, list, status, submit, retract,
delete; auction adds the required credit) under different operationIds. This table is the
one place that says which is which (and how many records one upload may hold): the sandbox binds its handlers with it, the scenario
steps call through it, and tests find the operations by it.
"""

from __future__ import annotations

from typing import Any

PORTFOLIO_OPERATIONS: dict[str, dict[str, str]] = {
    "auction": {
        "create": "portfolioCreation",
        "submit": "portfolioSubmission",
        "retract": "postPortfolioRetraction",
        "delete": "deletePortfolio",
        "get": "getPortfolio",
        "list": "getPortfolioList",
        "status": "getPortfolioStatus",
        "credit": "getPortfolioRequiredCredit",
    },
    "nomination": {
        "create": "portfolioCreation",
        "submit": "portfolioSubmission",
        "retract": "portfolioRetraction",
        "delete": "deletePortfolio",
        "get": "portfolio",
        "list": "portfolioList",
        "status": "portfolioStatus",
    },
}

MAX_RECORDS = 500  # bids + offers (or nominations) in one portfolio upload: CAISO's limit


def market_products(market: dict[str, Any]) -> list[tuple[str, str]]:
    """(period name, TOU) pairs a contract Market object offers: what a record may bid on."""
    out = []
    for product in market.get("products") or []:
        period = (product.get("period") or {}).get("name") if isinstance(product, dict) else None
        if isinstance(period, str) and isinstance(product.get("tou"), str):
            out.append((period, product["tou"]))
    return out
