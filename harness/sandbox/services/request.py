"""What a handler gets (the authenticated caller, validated input, the sandbox's state) and
gives back, and how a service names its handlers.

The web layer builds a ``SandboxRequest`` per call and renders the ``Reply``; a service module
collects its handlers in an ``Operations`` by operationId, and ``harness.sandbox.services``
lists the service modules explicitly (nothing registers itself by being imported).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from harness.contract.wire import JSON_MEDIA_TYPE
from harness.pki.identities import Access
from harness.sandbox.errors import CRRError

if TYPE_CHECKING:
    from harness.contract import Operation
    from harness.sandbox.domain.clock import Clock
    from harness.sandbox.store import Store

T = TypeVar("T")


@dataclass(frozen=True)
class Caller:
    """Who is calling, from the verified client certificate (never from headers or params)."""

    name: str  # certificate CN
    sc_ids: frozenset[str]
    access: Access
    services: frozenset[str]  # provisioned services; empty = all
    operator: bool = False

    def may_use(self, service: str) -> bool:
        return not self.services or service in self.services


@dataclass
class SandboxRequest:
    caller: Caller
    operation: Operation
    params: dict[str, Any]  # validated query/header parameters by name
    body: Any  # validated JSON body, or None
    request_id: str
    store: Store
    clock: Clock

    def participant(self, name: str | None = None) -> str:
        """The SC ID this call acts for, refused (SEC0001) unless the certificate may act for it."""
        sc = name
        if sc is None:
            sc = self.params.get("participantName")
        if sc is None and isinstance(self.body, dict):
            sc = self.body.get("participantName")
        if sc is None:
            raise CRRError("SER0017", "participantName")
        if sc not in self.caller.sc_ids:
            raise CRRError("SEC0001", sc, status=403)
        return sc


@dataclass
class Reply:
    body: Any = None
    status: int = 200
    content_type: str = JSON_MEDIA_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # pre-encoded body (downloads), sent as is


Handler = Callable[[SandboxRequest], Awaitable[Reply]]


class Operations:
    """One service's handlers by operationId, collected where they are defined."""

    def __init__(self, service: str, handlers: dict[str, Handler] | None = None) -> None:
        self.service = service
        self.handlers: dict[str, Handler] = dict(handlers or {})

    def handler(self, operation_id: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            if operation_id in self.handlers:
                raise RuntimeError(f"two handlers for {self.service}.{operation_id}")
            self.handlers[operation_id] = fn
            return fn

        return register


def listing(
    req: SandboxRequest,
    load: Callable[[sqlite3.Connection], Iterable[T]],
    keep: Callable[[T, datetime], bool],
    view: Callable[[T, datetime], Any],
) -> Reply:
    """The items (of any participant: windows are public) that ``keep`` at the simulated clock."""
    req.participant()
    now = req.clock.now()
    with req.store.read() as conn:
        found = [item for item in load(conn) if keep(item, now)]
    return Reply(body=[view(item, now) for item in found])
