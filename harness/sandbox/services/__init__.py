"""The CRR services: one module per service, thin -- read the request, call the domain, shape
the reply. ``SERVICES`` lists them explicitly; the web layer routes every operation of the
loaded contract to ``handlers()`` (an operation without a handler answers SER0029).

``request`` (what a handler gets and gives) and ``portfolio_handlers`` (the lifecycle auction
and nomination share) are helpers, not services; no service imports another.
"""

from __future__ import annotations

from harness.sandbox.services import (
    app_status,
    auction,
    historical_forecasted_load,
    load_migration,
    market_data,
    market_status,
    messages,
    nomination,
    secondary_market,
    tor_conversion,
)
from harness.sandbox.services.request import Handler, Operations

SERVICES: tuple[Operations, ...] = (
    app_status.operations,
    auction.operations,
    historical_forecasted_load.operations,
    load_migration.operations,
    market_data.operations,
    market_status.operations,
    messages.operations,
    nomination.operations,
    secondary_market.operations,
    tor_conversion.operations,
)


def handlers() -> dict[tuple[str, str], Handler]:
    """(service, operationId) -> handler, for every service."""
    return {(ops.service, op): fn for ops in SERVICES for op, fn in ops.handlers.items()}
