"""Which operationId is which step of the portfolio lifecycle, per service.

Auction and nomination share one lifecycle (create, read, list, status, submit, retract,
delete; auction adds the required credit) under different operationIds. This table is the
one place that says which is which (and how many records one upload may hold): the sandbox binds its handlers with it, the scenario
steps call through it, and tests find the operations by it.
"""

from __future__ import annotations

PORTFOLIO_OPERATIONS: dict[str, dict[str, str]] = {
    "auction": {
        "create": "portfolioCreation", "submit": "portfolioSubmission", "retract": "postPortfolioRetraction",
        "delete": "deletePortfolio", "get": "getPortfolio", "list": "getPortfolioList",
        "status": "getPortfolioStatus", "credit": "getPortfolioRequiredCredit",
    },
    "nomination": {
        "create": "portfolioCreation", "submit": "portfolioSubmission", "retract": "portfolioRetraction",
        "delete": "deletePortfolio", "get": "portfolio", "list": "portfolioList", "status": "portfolioStatus",
    },
}

MAX_RECORDS = 500  # bids + offers (or nominations) in one portfolio upload: CAISO's limit
