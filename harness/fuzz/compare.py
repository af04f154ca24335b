"""Differential mode: the same generated read requests to the target and to a fresh sandbox.

``crrsim fuzz --env mapstage --compare-with sandbox``: every call the engine makes to the target
(reads only: a comparison never writes) is sent again, by an ``after_call`` hook, to a sandbox
started for the purpose with the same plan and the dev identity acting for the same SC ID. The
report lists every divergence in status class (2xx/4xx/5xx), error code and response shape
(keys and JSON types, not values): where the sandbox and Map-Stage differ.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.client import CRRClient
from harness.contract.wire import REQUEST_ID_HEADER
from harness.reports import plural

EXAMPLES_PER_OPERATION = 3


def shape(value: Any, depth: int = 0) -> Any:
    """The JSON shape of a value: object keys with their shapes, a list's first item's shape, a type name."""
    if depth > 6:
        return "..."
    if isinstance(value, dict):
        return {k: shape(v, depth + 1) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0], depth + 1)] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return "string"


def _summary(status: int, content: bytes) -> tuple[str, str, Any]:
    """(status class, first error code, shape) of an answer."""
    try:
        body = json.loads(content or b"null")
    except (ValueError, UnicodeDecodeError):
        body = "<not JSON>"
    code = ""
    if isinstance(body, dict) and isinstance(body.get("errorList"), list) and body["errorList"]:
        first = body["errorList"][0]
        code = str(first.get("errorCode", "")) if isinstance(first, dict) else ""
        return f"{status // 100}xx", code, "CRRServiceException"
    return f"{status // 100}xx", code, shape(body)


@dataclass
class Comparison:
    client: CRRClient  # the reference sandbox, as the dev identity acting for the same SC ID
    label: str  # what the reference is called in the report
    compared: int = 0
    divergences: Counter[str] = field(default_factory=Counter)  # operation -> count
    examples: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def compare(self, case: Any, response: Any) -> None:
        """Send the case again to the reference and record how the answers differ (thread-safe)."""
        sent = case.as_transport_kwargs(base_url=self.client.base_url)
        # the same headers, request id included (a malformed or missing one is part of the case)
        headers: dict[str, str | None] = dict(sent.get("headers") or {})
        if not any(k.lower() == REQUEST_ID_HEADER for k in headers):
            headers[REQUEST_ID_HEADER] = None  # the client would add a fresh one
        reference = self.client.request(
            sent["method"], sent["url"], params=sent.get("params"), headers=headers
        )
        theirs = _summary(response.status_code, response.content or b"")
        ours = _summary(reference.status, reference.body)
        differences = []
        if theirs[0] != ours[0]:
            differences.append(f"status {response.status_code} here, {reference.status} on {self.label}")
        elif theirs[1] != ours[1]:
            differences.append(f"error code {theirs[1] or '-'} here, {ours[1] or '-'} on {self.label}")
        elif theirs[2] != ours[2]:
            differences.append(f"response shape differs from {self.label}'s")
        with self._lock:
            self.compared += 1
            if differences:
                label = case.operation.label
                self.divergences[label] += 1
                found = self.examples.setdefault(label, [])
                if len(found) < EXAMPLES_PER_OPERATION:
                    found.append(
                        f"{differences[0]} (caiso-request-id {reference.request_id} on {self.label})"
                    )

    def lines(self) -> list[str]:
        if not self.compared:
            return [f"no call was compared with {self.label}"]
        out = [
            f"{plural(self.compared, 'call')} compared with {self.label}; "
            f"{sum(self.divergences.values())} diverged in {plural(len(self.divergences), 'operation')}"
        ]
        for label, count in sorted(self.divergences.items()):
            out.append(
                f"{label}: {plural(count, 'divergence')}, e.g. " + "; ".join(self.examples.get(label, []))
            )
        return out
