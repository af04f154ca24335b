"""What a handler gets: the authenticated caller, validated input, and the sandbox's state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.sandbox.errors import CRRError

if TYPE_CHECKING:
    from harness.contract import Operation
    from harness.sandbox.clock import Clock
    from harness.sandbox.store import Store


@dataclass(frozen=True)
class Caller:
    """Who is calling, from the verified client certificate (never from headers or params)."""

    name: str  # certificate CN
    sc_ids: frozenset[str]
    access: str  # "rw" | "ro"
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
    extras: dict[str, Any] = field(default_factory=dict)

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
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # pre-encoded body (downloads), sent as is
