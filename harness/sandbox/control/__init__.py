"""The Market Sim operator's control plane (``/simctl/v1``): what CAISO's staff do in a real
Market Sim -- the plan, the calendar, windows, clearing, notices.

Every operation is a plain function of an ``OperatorCall`` (store, clock, path parameters,
query, JSON body) returning JSON-ready data or raising a ``CRRError``; ``ROUTES`` lists them all,
and the web layer serves each one the same way (operator certificate only, JSON in and out,
CRRServiceException bodies). Adding an operation is one function and one line in a ``ROUTES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.sandbox.control import plane, windows
from harness.sandbox.domain.clock import Clock
from harness.sandbox.store import Store

PREFIX = "/simctl/v1"


@dataclass(frozen=True)
class OperatorCall:
    """What a control operation gets: the sandbox's state and the call's inputs."""

    store: Store
    clock: Clock
    path: Mapping[str, str] = field(default_factory=dict)  # path parameters, e.g. {"name": ...}
    query: Mapping[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)


Operation = Callable[[OperatorCall], Any]

# (method, path under PREFIX, operation): the whole control plane
ROUTES: tuple[tuple[str, str, Operation], ...] = (*plane.ROUTES, *windows.ROUTES)
