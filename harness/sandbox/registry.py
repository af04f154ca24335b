"""Maps (service, operationId) to handler coroutines, and market events to listeners.

Service modules register themselves at import time; the server routes whatever operations
the loaded contract declares, so an operation with no handler answers with a clear SER0029
instead of disappearing, and a new contract version needs no routing code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from harness.sandbox.context import Reply, SandboxRequest

Handler = Callable[[SandboxRequest], Awaitable[Reply]]
Listener = Callable[..., Any]

HANDLERS: dict[tuple[str, str], Handler] = {}
SCHEMAS: list[str] = []  # SQL DDL statements, run once at start-up (CREATE TABLE IF NOT EXISTS ...)
LISTENERS: dict[str, list[Listener]] = {}


def handler(service: str, operation_id: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        key = (service, operation_id)
        if key in HANDLERS:
            raise RuntimeError(f"two handlers for {service}.{operation_id}")
        HANDLERS[key] = fn
        return fn

    return register


def schema(ddl: str) -> None:
    """Declare tables a service needs; the store creates them at start-up."""
    SCHEMAS.append(ddl)


def on(event: str) -> Callable[[Listener], Listener]:
    """Listen to sandbox events, called synchronously with keyword arguments inside the write
    transaction that caused the event (raise to roll it back):

    - ``plan.setup(conn, clock)`` after the plan's markets exist;
    - ``window.opened(conn, clock, market: str)``, ``window.closed(conn, clock, market: str)``;
    - ``market.clear(conn, clock, market: Market)`` compute awards, grant holdings;
    - ``market.posted(conn, clock, market: Market)`` after the market reads POSTED;
    - ``message.publish(conn, clock, text, to: list[str], subject, sent: datetime)``.
    """

    def register(fn: Listener) -> Listener:
        LISTENERS.setdefault(event, []).append(fn)
        return fn

    return register


def emit(event: str, **payload: Any) -> None:
    for fn in LISTENERS.get(event, []):
        fn(**payload)


def load_services() -> None:
    """Import every module in harness.sandbox.services so their handlers register."""
    import importlib
    import pkgutil

    from harness.sandbox import services

    for info in pkgutil.iter_modules(services.__path__):
        importlib.import_module(f"{services.__name__}.{info.name}")
