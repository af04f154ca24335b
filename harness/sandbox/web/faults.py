"""Fault injection: a sandbox that misbehaves on purpose, seeded and rate-controlled.

For two audiences: ``crrsim fuzz`` (its tests prove it reports each fault a fuzzer can see), and
participants rehearsing their own client against answers a real system sometimes gives. Off
unless ``crrsim sandbox serve --fault NAME[,NAME] [--fault-rate P] [--fault-seed N]``. Each call
draws once from a seeded generator: with probability ``rate`` one of the chosen faults that fits
the answer is applied (the same seed and call order give the same faults).

Faults on successful answers: ``wrong-type`` (a response field of the wrong type),
``missing-field`` (a required field left out), ``html-200`` (a gateway's HTML page with 200),
``undocumented-status`` (a status the contract does not list), ``maintenance-503`` (503 with
Retry-After), ``slow`` (the answer delayed), ``reset`` (the connection cut mid-answer),
``large-ids`` (every integer id, nested ones too, above 2^31, still within the contract), ``leak`` (another participant's
record added to a list). Faults on refusals: ``server-error`` (a 500 instead of the 400 for a
malformed request), ``bad-error-body`` (an error that is not a CRRServiceException).
"""

from __future__ import annotations

import asyncio
import copy
import random
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from harness.contract.wire import JSON_MEDIA_TYPE
from harness.sandbox.jsoncodec import dumps

SUCCESS_FAULTS = (
    "wrong-type",
    "missing-field",
    "html-200",
    "undocumented-status",
    "maintenance-503",
    "slow",
    "reset",
    "large-ids",
    "leak",
)
ERROR_FAULTS = ("server-error", "bad-error-body")
FAULTS = (*SUCCESS_FAULTS, *ERROR_FAULTS)
SLOW_S = 1.5  # above the fuzz's response-time limit on a sandbox (1 s), below its 15 s timeout
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please sign in.</body></html>"


class FaultError(ValueError):
    """An unknown fault name or a rate outside 0..1; the message is a sentence for the user."""


@dataclass
class FaultInjector:
    names: tuple[str, ...]
    rate: float = 0.2
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = [n for n in self.names if n not in FAULTS]
        if unknown:
            raise FaultError(f"unknown fault {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise FaultError(f"--fault-rate must be between 0 and 1, got {self.rate}")
        self._rng = random.Random(self.seed)

    @classmethod
    def parse(cls, text: str | None, rate: float = 0.2, seed: int = 0) -> FaultInjector | None:
        names = tuple(n.strip() for n in (text or "").split(",") if n.strip())
        return cls(names, rate, seed) if names else None

    def _pick(self, fitting: tuple[str, ...]) -> str | None:
        chosen = [n for n in self.names if n in fitting]
        if not chosen or self._rng.random() >= self.rate:
            return None
        return self._rng.choice(chosen)

    # -- successful answers -------------------------------------------------------------------
    async def on_success(
        self,
        request: web.Request,
        body: Any,
        status: int,
        headers: dict[str, str],
        required: list[str],
        participant: str | None,
    ) -> web.StreamResponse | None:
        """A faulty response instead of the real one, or None to send the real one."""
        fault = self._pick(SUCCESS_FAULTS)
        if fault is None:
            return None
        if fault == "slow":
            await asyncio.sleep(SLOW_S)
            return None
        if fault == "html-200":
            return web.Response(body=HTML_PAGE, status=200, content_type="text/html", headers=headers)
        if fault == "undocumented-status":
            return web.Response(body=dumps(body), status=418, content_type=JSON_MEDIA_TYPE, headers=headers)
        if fault == "maintenance-503":
            return maintenance(headers, retry_after=30)
        if fault == "reset":
            cut_connection(request)
            raise ConnectionResetError("fault: connection reset mid-answer")
        changed = copy.deepcopy(body)
        if fault == "wrong-type" and _retype(changed):
            return _json(changed, status, headers)
        if fault == "missing-field" and _drop_required(changed, required):
            return _json(changed, status, headers)
        if fault == "large-ids" and enlarge_ids(changed):
            return _json(changed, status, headers)
        if fault == "leak" and isinstance(changed, list) and changed and isinstance(changed[0], dict):
            stranger = copy.deepcopy(changed[0])
            other = "ZZZZ" if participant != "ZZZZ" else "YYYY"
            owners = [k for k in ("participantName", "assetOwner", "owner") if k in stranger] or [
                "participantName"
            ]
            for key in owners:
                stranger[key] = other
            changed.append(stranger)
            return _json(changed, status, headers)
        return None

    # -- refusals ------------------------------------------------------------------------------
    def on_error(self, response: web.Response) -> web.Response:
        fault = self._pick(ERROR_FAULTS) if response.status < 500 else None
        if fault == "server-error" and response.status == 400:
            return web.Response(
                body=response.body,
                status=500,
                content_type=JSON_MEDIA_TYPE,
                headers={k: v for k, v in response.headers.items() if k.lower() != "content-type"},
            )
        if fault == "bad-error-body":
            return web.Response(text="Bad Request", status=response.status, content_type="text/plain")
        return response


def maintenance(headers: dict[str, str], retry_after: int) -> web.Response:
    """The answer of a system down for maintenance: 503, GEN0003, ``Retry-After`` seconds."""
    error = {
        "errorList": [
            {"errorCode": "GEN0003", "errorDescription": "Down for maintenance.", "severity": "ERROR"}
        ]
    }
    return web.Response(
        body=dumps(error),
        status=503,
        content_type=JSON_MEDIA_TYPE,
        headers={**headers, "Retry-After": str(retry_after)},
    )


def cut_connection(request: web.Request) -> None:
    """The start of a 200 answer, then the connection aborted: what a client sees when a
    gateway or the network drops an answer the server already committed to."""
    if request.transport is not None:
        request.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 999\r\n\r\n{"
        )
        request.transport.abort()


def _json(body: Any, status: int, headers: dict[str, str]) -> web.Response:
    return web.Response(body=dumps(body), status=status, content_type=JSON_MEDIA_TYPE, headers=headers)


def _first_object(body: Any) -> dict[str, Any] | None:
    if isinstance(body, dict):
        return body
    if isinstance(body, list):
        return next((item for item in body if isinstance(item, dict)), None)
    return None


def _retype(body: Any) -> bool:
    target = _first_object(body)
    if target is None:
        return False
    for key, value in target.items():
        if isinstance(value, str):
            target[key] = 12345
            return True
        if isinstance(value, int | float) and not isinstance(value, bool):
            target[key] = "not a number"
            return True
    return False


def _drop_required(body: Any, required: list[str]) -> bool:
    target = _first_object(body)
    if target is None:
        return False
    for key in required:
        if key in target:
            del target[key]
            return True
    return False


ID_OFFSET = 2**31


def enlarge_ids(body: Any) -> set[int]:
    """Every integer id of the answer, nested ones included (``bids[].bidId``, ``offers[].crrId``,
    where a client's 32-bit ``Integer`` fields live), moved above 2^31-1 by ``ID_OFFSET`` and kept
    distinct: still within the contract's 10 digits. The ids it made (empty: none to move)."""
    moved: set[int] = set()
    for node in _objects(body):
        for key, value in node.items():
            if (
                key.lower().endswith("id")
                and isinstance(value, int)
                and not isinstance(value, bool)
                and value < 2**31
            ):
                node[key] = ID_OFFSET + value
                moved.add(ID_OFFSET + value)
    return moved


def _objects(body: Any) -> list[dict[str, Any]]:
    """Every object of a JSON value, outermost first."""
    found: list[dict[str, Any]] = []
    stack = [body]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
