"""The auction service's portfolio operations: the shared portfolio handlers bound to the
auction rules (``harness.sandbox.domain.auction``) under the operationIds of ``PORTFOLIO_OPERATIONS``."""

from __future__ import annotations

from harness.sandbox.domain.auction import RULES
from harness.sandbox.services.portfolio_handlers import portfolio_handlers
from harness.sandbox.services.request import Operations

operations = Operations("auction", portfolio_handlers(RULES))
