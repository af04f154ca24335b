"""Step 4: one safe read call per CRR service, classified so a participant knows whom to call.

Which call is chosen comes from the contract (``harness.contract``), never from a list of
paths: a new contract version changes the probe without code changes. The probe only ever
sends GETs of operations the contract marks as reads; required parameters get harmless
made-up values, so a business answer such as "market not found" is expected and still proves
that the request travelled, authenticated and was authorised.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness.client import AsyncCRRClient, CRRResponse, CRRTransportError
from harness.client.errors import HTML_PAGE, REDIRECT, SYNTHETIC_CODES
from harness.contract import Catalogue, Operation, Parameter, load_catalogue
from harness.contract.catalogue import resolve_specs_dir
from harness.contract.wire import JSON_MEDIA_TYPE
from harness.probe.model import ServiceResult, ServiceStatus

# A name no CRR system will hold: lookups with it answer "not found" cheaply, never with data.
PROBE_NAME = "CRRSIM_PROBE"
# SEC0002: the certificate is not provisioned for this service/operation (SEC0001 is about the
# SC ID it tries to act for, which is ACCESS_DENIED).
NOT_PROVISIONED_CODES = frozenset({"SEC0002"})
SECURITY_PREFIX = "SEC"
# Codes saying the probe's own request was invalid, the path unknown, or the system broken.
# Every other code in a 4xx answer is a business answer about the made-up name.
REQUEST_INVALID_CODES = frozenset({"SER0017", "SER0022", "SER0030"})
NOT_FOUND_CODES = frozenset({"SER0029"})
SERVER_CODES = frozenset({"SER0001", "SER0028", "GEN0003"})
GATEWAY_CODES = frozenset({HTML_PAGE, REDIRECT})
SERVICE_MEDIA = (JSON_MEDIA_TYPE,)


# ----------------------------------------------------------------------------- selection
def _cost(op: Operation) -> tuple[int, int, int, int]:
    """Lower is cheaper. Order of concerns:

    1. answers in JSON (a download operation may stream a whole file),
    2. acts for the participant (exercises the SC ID authorisation we want to prove),
    3. fewer required parameters to invent,
    4. fewer parameters that are free-text names (enum/date values are always valid).
    """
    required = [p for p in op.parameters if p.required and p.location == "query"]
    names = [p for p in required if p.name != "participantName" and "enum" not in p.schema]
    json_answer = (op.response_media.get("200") or "").startswith(SERVICE_MEDIA)
    return (0 if json_answer else 1, 0 if op.takes_participant else 1, len(required), len(names))


@functools.lru_cache(maxsize=8)
def _reads_in(folder: Path) -> dict[str, Operation]:
    return safe_reads(load_catalogue(folder))


def reads_for(specs: Path | None) -> dict[str, Operation]:
    """The probe's calls for a contract folder (parsing ten YAML files once per folder and process)."""
    return dict(_reads_in(resolve_specs_dir(specs).resolve()))


def safe_reads(catalogue: Catalogue) -> dict[str, Operation]:
    """Per service, the cheapest GET the contract marks as a read (None if it has none)."""
    chosen: dict[str, Operation] = {}
    for service in catalogue:
        reads = [op for op in service.operations if op.method == "GET" and not op.writes]
        if reads:
            chosen[service.name] = min(reads, key=_cost)  # min() is stable: contract order breaks ties
    return chosen


# ----------------------------------------------------------------------------- parameters
def _fits(value: str, schema: dict[str, Any]) -> bool:
    pattern = schema.get("pattern")
    if pattern and not re.search(pattern, value):
        return False
    return len(value) <= int(schema.get("maxLength", 10**6)) and len(value) >= int(schema.get("minLength", 0))


def harmless_value(param: Parameter, participant: str, now: datetime | None = None) -> Any:
    """A value that passes the parameter's validation and selects nothing real."""
    schema = param.schema or {}
    if param.name == "participantName":
        return participant
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type", "string")
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    fmt = schema.get("format")
    now = now or datetime.now(UTC)
    if fmt == "date-time":
        return (now - timedelta(days=1)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    if fmt == "date":
        return (now - timedelta(days=1)).strftime("%Y-%m-%d")
    candidates = [PROBE_NAME, PROBE_NAME.replace("_", ""), "PROBE", "P", "0"]
    limit = int(schema.get("maxLength", 64))
    for candidate in candidates:
        value = candidate[:limit]
        if value and _fits(value, schema):
            return value
    return candidates[0][:limit]


def request_params(op: Operation, participant: str) -> dict[str, Any]:
    return {
        p.name: harmless_value(p, participant) for p in op.parameters if p.required and p.location == "query"
    }


# ----------------------------------------------------------------------------- classification
def classify_response(op: Operation, response: CRRResponse) -> ServiceResult:
    code: str | None = None

    def result(status: ServiceStatus, diagnosis: str, fix: str = "") -> ServiceResult:
        return ServiceResult(
            service=op.service,
            operation_id=op.operation_id,
            method=op.method,
            path=op.path,
            status=status,
            diagnosis=diagnosis,
            fix=fix,
            http_status=response.status,
            error_code=code,
            latency_s=response.elapsed_s,
            request_id=response.request_id,
        )

    if response.ok:
        return result(ServiceStatus.OK, f"answered {response.status} with data")
    error = response.error()
    codes = error.codes if error else []
    code = codes[0] if codes else None
    description = error.errors[0].description if error and error.errors else ""
    if code in GATEWAY_CODES:  # an HTML page or a redirect: something in front of the service answered
        return result(
            ServiceStatus.UNEXPECTED_RESPONSE,
            f"HTTP {response.status}: {description}",
            "a gateway or proxy answered instead of the CRR service: check the URL and any proxy",
        )
    if code in NOT_PROVISIONED_CODES:
        return result(
            ServiceStatus.NOT_PROVISIONED,
            f"the certificate is not provisioned for this service ({code})",
            "ask your Local Security Administrator to provision this certificate for the service",
        )
    if (code or "").startswith(SECURITY_PREFIX) or response.status in (401, 403):
        return result(
            ServiceStatus.ACCESS_DENIED,
            f"access denied ({code or f'HTTP {response.status}'}): {description}".rstrip(": "),
            "check that this certificate may act for the SC ID given with --participant",
        )
    if response.status >= 500 or code in SERVER_CODES:
        return result(
            ServiceStatus.SERVER_ERROR,
            f"server error HTTP {response.status}{' ' + code if code else ''}: {description}",
            "retry later; if it persists, report it with the caiso-request-id",
        )
    business = code and code not in SYNTHETIC_CODES | REQUEST_INVALID_CODES | NOT_FOUND_CODES
    if business and 400 <= response.status < 500:
        return result(
            ServiceStatus.OK,
            f"business answer {code} to the probe's made-up query ({description}):"
            " connectivity and authorisation proven",
        )
    if response.status == 404:
        return result(
            ServiceStatus.NOT_FOUND,
            f"the service path was not found (HTTP 404{', ' + code if code else ''})",
            "check the base URL and that the server runs this contract version",
        )
    return result(
        ServiceStatus.UNEXPECTED_RESPONSE,
        f"the service refused the probe's request (HTTP {response.status}"
        f"{' ' + code if code else ''}: {description})",
        "the server may run another contract version: check --specs against the server",
    )


TRANSPORT_STATUS = {
    "tls_verify": ServiceStatus.TLS_FAILURE,
    "tls": ServiceStatus.TLS_FAILURE,
    "timeout": ServiceStatus.TIMEOUT,
    "connect": ServiceStatus.CONNECTION_FAILURE,
    "protocol": ServiceStatus.CONNECTION_FAILURE,
}


def not_answered(op: Operation, status: ServiceStatus, diagnosis: str, **extra: Any) -> ServiceResult:
    return ServiceResult(
        service=op.service,
        operation_id=op.operation_id,
        method=op.method,
        path=op.path,
        status=status,
        diagnosis=diagnosis,
        **extra,
    )


# ----------------------------------------------------------------------------- calling
async def call_one(client: AsyncCRRClient, op: Operation, participant: str) -> ServiceResult:
    assert op.method == "GET" and not op.writes, "the probe never writes"
    started = time.perf_counter()
    try:
        response = await client.request(
            op.method, op.path, params=request_params(op, participant), headers={"Accept": op.accept}
        )
    except CRRTransportError as exc:
        return not_answered(
            op,
            TRANSPORT_STATUS.get(exc.kind, ServiceStatus.CONNECTION_FAILURE),
            f"no answer ({exc.kind}): {exc}",
            latency_s=time.perf_counter() - started,
            request_id=exc.request_id,
        )
    return classify_response(op, response)


def _heard(on_result: Callable[[ServiceResult], None], task: asyncio.Task[ServiceResult]) -> None:
    """A service that answered is heard at once; a late or failed one when the wait ends."""
    if not task.cancelled() and task.exception() is None:
        on_result(task.result())


async def probe_services(
    client: AsyncCRRClient,
    reads: dict[str, Operation],
    participant: str,
    timeout: float,
    on_result: Callable[[ServiceResult], None] | None = None,
) -> list[ServiceResult]:
    """All services at once; any not done when ``timeout`` runs out is reported as TIMEOUT.
    ``on_result`` hears each service as it answers (the live display), the late ones at the end."""
    names = sorted(reads)
    tasks = {name: asyncio.create_task(call_one(client, reads[name], participant)) for name in names}
    if on_result is not None:
        for task in tasks.values():
            task.add_done_callback(functools.partial(_heard, on_result))
    started = time.perf_counter()
    await asyncio.wait(tasks.values(), timeout=timeout)
    late = [t for t in tasks.values() if not t.done()]
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    results: list[ServiceResult] = []
    for name in names:
        task = tasks[name]
        if task.done() and not task.cancelled() and task.exception() is None:
            results.append(task.result())
            continue
        if not task.cancelled() and task.exception() is not None:
            results.append(
                not_answered(
                    reads[name], ServiceStatus.CONNECTION_FAILURE, f"the call failed: {task.exception()}"
                )
            )
            if on_result is not None:
                on_result(results[-1])
        else:
            results.append(
                not_answered(
                    reads[name],
                    ServiceStatus.TIMEOUT,
                    f"no answer within the probe's time limit ({time.perf_counter() - started:.1f} s)",
                    fix="the service is slow or stuck; retry with a longer --timeout, then report it",
                    latency_s=time.perf_counter() - started,
                )
            )
            if on_result is not None:
                on_result(results[-1])
    return results
