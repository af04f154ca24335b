"""The nomination service's portfolio operations: the shared portfolio handlers bound to the
nomination rules (``harness.sandbox.domain.nomination``) under the operationIds of ``PORTFOLIO_OPERATIONS``."""

from __future__ import annotations

from harness.sandbox.domain.nomination import RULES
from harness.sandbox.services.portfolio_handlers import portfolio_handlers
from harness.sandbox.services.request import Operations

operations = Operations("nomination", portfolio_handlers(RULES))
