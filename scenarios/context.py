"""Per-scenario state and the request/assertion helpers every step module shares.

Steps call operations by service and operationId (the catalogue knows method and path), so
the step library follows the loaded contract, and every answer is remembered so a later
``Then`` can judge it. Failure messages carry what a participant needs to file an issue:
operation, HTTP status, CAISO error codes and the caiso-request-id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.client import CRRResponse
from harness.scenarios.env import ScenarioEnv, Who


@dataclass
class ScenarioContext:
    env: ScenarioEnv
    who: Who | None = None
    market: str | None = None
    response: CRRResponse | None = None
    operation: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # step-to-step values (held CRR, windows, ...)

    def __repr__(self) -> str:
        """Short on purpose: allure-pytest-bdd stores every step argument's repr as a step
        parameter, and the dataclass repr (the environment, its catalogue, the last answer's body)
        came to 1 MB per step: 642 MB of Allure results for one rehearsal."""
        return f"ScenarioContext(operation={self.operation or '-'!r}, market={self.market or '-'!r})"

    @property
    def me(self) -> Who:
        if self.who is None:
            self.who = self.env.me
        return self.who

    def require_market(self) -> str:
        if not self.market:
            pytest.fail(
                "no market chosen: add a step like 'Given I work in the monthly auction market'",
                pytrace=False,
            )
        return self.market

    def need(self, key: str, missing: str) -> Any:
        """A value an earlier step left in ``data``. When it is absent the step fails with
        ``missing`` (which names the Given step to add) instead of a bare KeyError, so a
        feature author sees what the scenario lacks."""
        value = self.data.get(key)
        if value is None:
            pytest.fail(missing, pytrace=False)
        return value

    def call(
        self,
        service: str,
        operation_id: str,
        *,
        who: Who | None = None,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> CRRResponse:
        op = self.env.catalogue[service].operation(operation_id)
        client = self.env.client((who or self.me).identity)
        self.operation = f"{service}.{operation_id}"
        # what the contract declares the answer to be (a download is octet-stream), unless a step says
        self.response = client.request(
            op.method, op.path, params=params, json=body, headers={"Accept": op.accept, **(headers or {})}
        )
        return self.response

    # -- judging answers ---------------------------------------------------------------
    def describe(self, response: CRRResponse | None = None) -> str:
        r = response or self.response
        if r is None:
            return "no request was made"
        text = f"{self.operation} answered HTTP {r.status} (caiso-request-id {r.request_id})"
        err = r.error()
        if err is not None and err.errors:
            text += ": " + "; ".join(f"{e.code} {e.description}" for e in err.errors[:5])
        return text

    def last(self) -> CRRResponse:
        if self.response is None:
            pytest.fail("no request was made before this step", pytrace=False)
        return self.response

    def expect_ok(self, response: CRRResponse | None = None) -> Any:
        r = response or self.last()
        if not r.ok:
            pytest.fail(f"expected success, but {self.describe(r)}", pytrace=False)
        return r.json() if r.body else None

    def error_codes(self, response: CRRResponse | None = None) -> list[str]:
        err = (response or self.last()).error()
        return [e.code for e in err.errors] if err is not None else []

    def expect_refused(self, status: int | None = None, code: str | None = None) -> None:
        r = self.last()
        if r.ok:
            pytest.fail(f"expected the request to be refused, but {self.describe(r)}", pytrace=False)
        if status is not None and r.status != status:
            pytest.fail(f"expected HTTP {status}, but {self.describe(r)}", pytrace=False)
        if code is not None and code not in self.error_codes(r):
            pytest.fail(f"expected error {code}, but {self.describe(r)}", pytrace=False)
