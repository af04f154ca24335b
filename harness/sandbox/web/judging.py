"""The judging sandbox: it watches every request a participant's client sends and, on the
script's seeded schedule, answers the way CAISO sometimes does.

On only for ``crrsim client-check`` (``sandbox serve --judge SCRIPT --observe FILE``). It
never judges: it writes what it saw and what it answered, one ``Seen`` per request as NDJSON
(flushed per line, with an ``arrived`` line when each request comes in, so the check can tell
when the client went idle: nothing arriving and nothing in flight), and the judge
(``harness.clientcheck``) reads that file after the run. Everything it needs from a request is
on the wire: no agent in the client.

The schedule (``harness.config.clientscript``): calls are counted per kind (read/write) among
those the sandbox would carry out (a malformed request gets its 400 and does not count); the
kind's faults, shuffled with the seed, may start at call ``first[kind]`` and are ``every``
calls apart, each firing on the first due call it fits (a fault waiting for an operation goes
first when that operation comes). "before" faults answer instead of the operation (it does
not run); "after" faults act on the real answer (the operation ran and committed).
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import random
import ssl
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from aiohttp import web

from harness.config.clientscript import (
    FAULT_TIMING,
    KINDS,
    ClientScript,
    Kind,
    PlannedFault,
    Seen,
    kind_of,
)
from harness.contract.wire import JSON_MEDIA_TYPE, REQUEST_ID_HEADER
from harness.sandbox.errors import CRRError
from harness.sandbox.jsoncodec import dumps, loads
from harness.sandbox.services.request import Reply
from harness.sandbox.web.faults import ID_OFFSET, cut_connection, enlarge_ids, maintenance
from harness.sandbox.web.responses import error_response
from harness.sandbox.web.tls import common_name

SEEN_KEY = "crrsim.seen"  # the request's notes for its record: route, fault, ...
NEW_FIELD = "crrNotice"  # the optional field a compatible MINOR version might add
NEW_HEADER = "caiso-service-notice"  # ... and the optional header
GONE_POLL_S = 0.05


class FaultSchedule:
    """Which call gets which fault; deterministic for a seed and a call order."""

    def __init__(self, script: ClientScript) -> None:
        schedule = script.schedule
        order = random.Random(schedule.seed).sample(list(schedule.faults), len(schedule.faults))
        self.first = {k: schedule.first.get(k, 1) for k in KINDS}
        self.every = schedule.every
        self.pending: dict[Kind, list[PlannedFault]] = {k: [f for f in order if k in f.kinds] for k in KINDS}
        self.calls: dict[Kind, int] = dict.fromkeys(KINDS, 0)
        self.last: dict[Kind, int] = dict.fromkeys(KINDS, -(10**9))

    def due(self, kind: Kind, operation_id: str) -> PlannedFault | None:
        """Count one call of ``kind``; the fault it gets, if any (not yet spent: see ``fired``)."""
        self.calls[kind] += 1
        n = self.calls[kind]
        if n < self.first[kind] or n - self.last[kind] < self.every:
            return None
        fitting = [f for f in self.pending[kind] if f.fits(kind, operation_id)]
        narrow = [f for f in fitting if f.operations]
        chosen = narrow or fitting
        return chosen[0] if chosen else None

    def fired(self, kind: Kind, fault: PlannedFault) -> None:
        self.pending[kind].remove(fault)
        self.last[kind] = self.calls[kind]


def sni_callback(sslobj: Any, server_name: str | None, _ctx: ssl.SSLContext) -> None:
    """Keep the server name the client asked for on its TLS object (no answer changes)."""
    sslobj.crrsim_sni = server_name


def judging_context(ctx: ssl.SSLContext) -> ssl.SSLContext:
    """The sandbox's server context, made to let an old client in so it can be told: TLS 1.0 and
    1.1 are accepted (and judged), and the server name each client sends is kept."""
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.sni_callback = sni_callback
    return ctx


class Judging:
    def __init__(self, script: ClientScript, observe: Path) -> None:
        self.script = script
        self.schedule = FaultSchedule(script)
        self.out = open(observe, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - lives with the app
        self.inflight = 0
        self.aliases: set[int] = set()
        self._conns: weakref.WeakKeyDictionary[Any, tuple[int, dict[str, Any]]] = weakref.WeakKeyDictionary()
        self._next_conn = 1

    def close(self) -> None:
        self.out.close()

    # -- the request's record ----------------------------------------------------------------
    def _connection(self, request: web.Request) -> tuple[int, dict[str, Any]]:
        transport = request.transport
        if transport is None:
            return 0, {}
        try:  # keyed by aiohttp's protocol, one per connection (uvloop's transports take no weakref)
            return self._conns[request.protocol]
        except KeyError:
            pass
        sslobj = transport.get_extra_info("ssl_object")
        der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
        facts = {
            "tls": sslobj.version() if sslobj is not None else "",
            "sni": getattr(sslobj, "crrsim_sni", None),
            "cert_cn": common_name(transport.get_extra_info("peercert")),
            "cert_sha256": hashlib.sha256(der).hexdigest() if der else None,
        }
        entry = self._conns[request.protocol] = (self._next_conn, facts)
        self._next_conn += 1
        return entry

    async def watch(
        self,
        request: web.Request,
        dispatch: Callable[[web.Request], Awaitable[web.StreamResponse]],
        route: tuple[str, str] | None,
    ) -> web.StreamResponse:
        """Serve ``request`` through ``dispatch`` and write down what was asked and answered;
        ``route``: the (service, operationId) its method and path name, if any."""
        t0 = time.time()
        self.out.write(f'{{"arrived":{t0}}}\n')  # the check's idle clock waits for its answer
        self.inflight += 1
        inflight = self.inflight
        conn, facts = self._connection(request)
        notes: dict[str, Any] = {}
        if route is not None:
            notes["service"], notes["operation"] = route
        request[SEEN_KEY] = notes
        response: web.StreamResponse | None = None
        try:
            response = await dispatch(request)
            return response
        finally:
            self.inflight -= 1
            raw = b""
            if request.body_exists:
                try:
                    raw = await request.read()
                except Exception:  # noqa: BLE001 - a cut connection: no body to note
                    raw = b""
            self._write(request, response, notes, raw, t0, conn, facts, inflight)

    def _write(
        self,
        request: web.Request,
        response: web.StreamResponse | None,
        notes: dict[str, Any],
        raw: bytes,
        t0: float,
        conn: int,
        facts: dict[str, Any],
        inflight: int,
    ) -> None:
        body = _json_object(raw)
        query = dict(request.query)
        status = response.status if response is not None else None
        code = message = None
        if isinstance(response, web.Response) and status is not None and status >= 400:
            code, message = _first_error(response.body)
        cut = notes.get("fault") == "reset-after-commit"

        def field_of(name: str) -> str | None:
            value = query.get(name, body.get(name))
            return None if value is None else str(value)

        seen = Seen(
            t0=t0,
            t1=time.time(),
            conn=conn,
            tls=facts.get("tls", ""),
            sni=facts.get("sni"),
            cert_cn=facts.get("cert_cn"),
            cert_sha256=facts.get("cert_sha256"),
            method=request.method,
            path=request.path,
            query=query,
            request_id=request.headers.get(REQUEST_ID_HEADER),
            content_type=request.headers.get("Content-Type"),
            accept=request.headers.get("Accept"),
            body_sha256=hashlib.sha256(raw).hexdigest() if raw else None,
            records_sha256=_records_hash(body),
            participant=field_of("participantName"),
            portfolio=field_of("portfolioName"),
            market=field_of("marketName"),
            service=notes.get("service"),
            operation=notes.get("operation"),
            kind=kind_of(request.method),
            inflight=inflight,
            status=None if cut else status,
            error_code=code,
            error=message,
            fault=notes.get("fault"),
            client_gone_after=notes.get("client_gone_after"),
            headers_added=notes.get("headers_added", []),
        )
        self.out.write(json.dumps(asdict(seen), separators=(",", ":")) + "\n")

    # -- the schedule's faults ------------------------------------------------------------------
    def before(
        self, request: web.Request, operation_id: str, params: dict[str, Any], body: Any, request_id: str
    ) -> web.Response | None:
        """Put enlarged ids back (a client that read a ``large-ids`` answer sends them again), and
        answer instead of the operation when a "before" fault is due."""
        notes = request.get(SEEN_KEY)
        if notes is None:
            return None
        if self.aliases:
            restore_ids(params, self.aliases)
            restore_ids(body, self.aliases)
        kind = kind_of(request.method)
        fault = self.schedule.due(kind, operation_id)
        notes["planned"] = fault
        if fault is None or FAULT_TIMING[fault.fault] != "before":
            return None
        self.schedule.fired(kind, fault)
        notes["fault"] = fault.fault
        headers = {REQUEST_ID_HEADER: request_id}
        if fault.fault == "retry-after":
            return maintenance(headers, retry_after=self.script.schedule.retry_after_s)
        return error_response(CRRError("SER0028"), request_id=request_id)

    async def after(self, request: web.Request, reply: Reply, headers: dict[str, str]) -> web.Response | None:
        """The real answer changed (or delayed, or cut off) when an "after" fault is due and fits."""
        notes = request.get(SEEN_KEY)
        fault: PlannedFault | None = notes.get("planned") if notes else None
        if notes is None or fault is None or FAULT_TIMING[fault.fault] != "after" or reply.status != 200:
            return None
        kind = kind_of(request.method)
        if fault.fault == "reset-after-commit":
            self.schedule.fired(kind, fault)
            notes["fault"] = fault.fault
            cut_connection(request)
            return web.Response(status=200)  # never reaches the client: the connection is gone
        if fault.fault == "slow":
            self.schedule.fired(kind, fault)
            notes["fault"] = fault.fault
            notes["client_gone_after"] = await _wait_or_gone(request, self.script.schedule.slow_s)
            return None
        body = _reply_body(reply)
        if body is None:
            return None
        if fault.fault == "new-header":
            self.schedule.fired(kind, fault)
            notes.update(fault=fault.fault, headers_added=[NEW_HEADER])
            value = "A compatible change: this header is new in a MINOR version."
            return _json(body, {**headers, NEW_HEADER: value})
        changed = copy.deepcopy(body)
        if fault.fault == "large-ids":
            made = enlarge_ids(changed)
            if not made:
                return None  # nothing to enlarge here: the fault waits for an answer with ids
            self.aliases |= made
        elif not _add_field(changed):
            return None
        self.schedule.fired(kind, fault)
        notes["fault"] = fault.fault
        return _json(changed, headers)


def _json(body: Any, headers: dict[str, str]) -> web.Response:
    return web.Response(body=dumps(body), status=200, content_type=JSON_MEDIA_TYPE, headers=headers)


def _reply_body(reply: Reply) -> Any:
    if reply.raw is None:
        return reply.body
    if reply.content_type != JSON_MEDIA_TYPE:
        return None
    try:
        return loads(reply.raw)
    except ValueError:
        return None


def _add_field(body: Any) -> bool:
    """A new optional field on the answer's object (a list's first object)."""
    target = body if isinstance(body, dict) else None
    if isinstance(body, list):
        target = next((item for item in body if isinstance(item, dict)), None)
    if target is None:
        return False
    target[NEW_FIELD] = "A compatible change: this field is new in a MINOR version."
    return True


def restore_ids(value: Any, aliases: set[int]) -> None:
    """Ids the sandbox enlarged, sent back by the client, become the stored ids again."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.lower().endswith("id") and isinstance(item, int) and item in aliases:
                value[key] = item - ID_OFFSET
            elif (
                key.lower().endswith("id")
                and isinstance(item, str)
                and item.isdigit()
                and int(item) in aliases
            ):
                value[key] = str(int(item) - ID_OFFSET)
            else:
                restore_ids(item, aliases)
    elif isinstance(value, list):
        for item in value:
            restore_ids(item, aliases)


async def _wait_or_gone(request: web.Request, delay: float) -> float | None:
    """Wait ``delay`` seconds; how long it took the client to give up, if it did first."""
    start = time.monotonic()
    while (waited := time.monotonic() - start) < delay:
        transport = request.transport
        if transport is None or transport.is_closing():
            return round(waited, 3)
        await asyncio.sleep(GONE_POLL_S)
    return None


def _records_hash(body: dict[str, Any]) -> str | None:
    """A body's content without its name: a portfolio re-created under another name has the
    same hash (the judge's duplicate check)."""
    if not body:
        return None
    rest = {k: v for k, v in body.items() if k != "portfolioName"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, default=str).encode()).hexdigest()


def _json_object(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _first_error(body: Any) -> tuple[str | None, str | None]:
    if not isinstance(body, bytes | bytearray):
        return None, None
    data = _json_object(bytes(body))
    errors = data.get("errorList")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0].get("errorCode"), errors[0].get("errorDescription")
    return None, None
