"""The sandbox's aiohttp application: contract-driven routing, identity, access and validation.

One handler routes by a dict look-up on (method, path) built from the loaded catalogue: no
per-request middleware chain, no regex routing, so the hot path (e.g. GET /status) is a handful
of dict look-ups on top of aiohttp itself. Everything an operation needs per request is worked
out once at start-up in its ``Route`` (handler, compiled validators, error templates, whether
it writes); the caller's identity is worked out once per TLS connection, not per request
(decoding the peer certificate costs ~8 us, a tenth of a GET /status). Order of checks, each
refusing with a CRRServiceException:

1. identity from the verified client certificate's CN (unknown CN -> 403 SEC0002);
2. route (unknown path -> 404 SER0029, known path with another method -> 405 SER0017);
3. ``caiso-request-id`` present and a UUID (400 SER0017);
4. access: operator certificates only reach the control plane, service provisioning,
   read-only certificates never reach a writing operation (403 SEC0002);
5. handler registered (404 SER0029 "not implemented in the sandbox");
6. parameters and body against the contract (400 SER0030/SER0022/SER0017, all errors);
7. the handler; CRRError -> its status and body; anything else -> logged, 500 SER0028.
"""

from __future__ import annotations

import inspect
import logging
import os
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from harness.contract import Catalogue, Operation, Service, load_catalogue
from harness.contract.wire import JSON_MEDIA_TYPE, REQUEST_ID_FORM, REQUEST_ID_HEADER
from harness.sandbox import control, services
from harness.sandbox.control import OperatorCall
from harness.sandbox.domain.clock import Clock
from harness.sandbox.errors import CRRError
from harness.sandbox.jsoncodec import loads
from harness.sandbox.services.request import Caller, Handler, Reply, SandboxRequest
from harness.sandbox.store import Store
from harness.sandbox.web.faults import FaultInjector
from harness.sandbox.web.guard import GUARDS, in_request, read_body
from harness.sandbox.web.judging import Judging
from harness.sandbox.web.provisioning import load_provisioning
from harness.sandbox.web.responses import (
    dumps,
    error_response,
    error_templates,
    json_response,
    service_version,
)
from harness.sandbox.web.tls import common_name
from harness.sandbox.web.validation import OperationValidator, ResponseChecker, check_request_id

log = logging.getLogger("crrsim.sandbox")

BASE_PATH = "/crr"
STRICT_ENV = "CRRSIM_SANDBOX_STRICT"
MAX_BODY = 32 * 1024 * 1024  # a 500-bid x 20-point portfolio is ~0.4 MB; leave ample headroom
SANDBOX_KEY: web.AppKey[Sandbox] = web.AppKey("sandbox")


CALLER_KEY = "crrsim.caller"  # the request's Caller, once known (read by the access log)


@dataclass
class Route:
    operation: Operation
    service: Service
    validator: OperationValidator
    checker: ResponseChecker | None
    templates: dict[str, tuple[int | None, str]]
    version: str
    handler: Handler | None  # None: the contract has it, the sandbox does not (SER0029)
    # worked out once from the operation (Operation.writes is a property that scans the tags)
    writes: bool = field(init=False)
    service_name: str = field(init=False)
    reads_body: bool = field(init=False)

    def __post_init__(self) -> None:
        self.writes = self.operation.writes
        self.service_name = self.operation.service
        self.reads_body = self.validator.body_validator is not None


class Sandbox:
    """State shared by every request: the catalogue's routes, the store, clock and provisioning."""

    def __init__(
        self,
        catalogue: Catalogue,
        store: Store,
        provisioning: dict[str, Caller],
        strict: bool = False,
        faults: FaultInjector | None = None,
        judging: Judging | None = None,
    ) -> None:
        self.faults = faults  # off unless `sandbox serve --fault ...`
        self.judging = judging  # off unless `sandbox serve --judge ...` (crrsim client-check)
        self.catalogue = catalogue
        self.store = store
        self.clock = Clock(store)
        self.provisioning = provisioning
        self.strict = strict
        self.routes: dict[tuple[str, str], Route] = {}
        self.methods: dict[str, list[str]] = {}
        # verified peer certificate -> caller, once per TLS connection (see module docstring)
        self._callers: weakref.WeakKeyDictionary[Any, Caller] = weakref.WeakKeyDictionary()
        handlers = services.handlers()
        for service in catalogue:
            templates = error_templates(service)
            for op in service.operations:
                path = BASE_PATH + op.path
                self.routes[(op.method, path)] = Route(
                    operation=op,
                    service=service,
                    validator=OperationValidator(op, service.error_codes),
                    checker=ResponseChecker(op) if strict else None,
                    templates=templates,
                    version=service_version(op.path),
                    handler=handlers.get((op.service, op.operation_id)),
                )
                self.methods.setdefault(path, []).append(op.method)

    def caller(self, request: web.Request) -> Caller:
        """Who is calling (cached per connection); kept on the request for the access log."""
        transport = request.transport
        if transport is None:
            raise CRRError("SEC0002")
        try:
            caller = self._callers[transport]
        except KeyError:
            caller = self._callers[transport] = self._caller_of(transport)
        except TypeError:  # a transport that takes no weak reference: no cache
            caller = self._caller_of(transport)
        request[CALLER_KEY] = caller
        return caller

    def _caller_of(self, transport: Any) -> Caller:
        cn = common_name(transport.get_extra_info("peercert"))
        caller = self.provisioning.get(cn) if cn else None
        if caller is None:
            raise CRRError("SEC0002")
        return caller

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        # the connection guard's request bracket (guard.in_request), inlined on the hot path
        guard = GUARDS.get(request.protocol)
        serve = self._dispatch if self.judging is None else self._judged
        if guard is None:
            return await serve(request)
        guard.request_started()
        try:
            response = await serve(request)
            if guard.body_timed_out:
                response.force_close()
            return response
        finally:
            await guard.finish(request)

    async def _judged(self, request: web.Request) -> web.StreamResponse:
        assert self.judging is not None
        route = self.routes.get((request.method, request.path))
        named = (route.service_name, route.operation.operation_id) if route is not None else None
        return await self.judging.watch(request, self._dispatch, named)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        route: Route | None = None
        request_id: str | None = None
        try:
            caller = self.caller(request)
            path = request.path
            route = self.routes.get((request.method, path))
            if route is None:
                allowed = self.methods.get(path)
                if allowed:  # the contract has no 405 code: SER0017 ("invalid request") says what is wrong
                    raise CRRError(
                        "SER0017",
                        detail=f"Method {request.method} is not allowed on {path}; use {', '.join(allowed)}.",
                        status=405,
                    )
                raise CRRError("SER0029", path)
            request_id = check_request_id(request.headers.get(REQUEST_ID_HEADER))
            if (
                caller.operator
                or (route.writes and caller.access != "rw")
                or not caller.may_use(route.service_name)
            ):
                raise CRRError("SEC0002")
            handler = route.handler
            if handler is None:
                raise CRRError(
                    "SER0029", detail=f"{route.operation.operation_id} is not implemented in the sandbox."
                )
            validator = route.validator
            if validator.checks:
                params, errors = validator.params(request.query, request.headers)
            else:
                params, errors = {}, []
            body = None
            if route.reads_body:
                if not _is_json(request.headers.get("Content-Type")):
                    raise CRRError(
                        "SER0017",
                        "the body must be sent as JSON with 'Content-Type: application/json' "
                        f"(got {request.headers.get('Content-Type') or 'no Content-Type'})",
                    )
                body, body_errors = validator.body(await read_body(request))
                errors += body_errors
            if errors:
                raise CRRError(errors[0].code, *errors[0].args_, detail=errors[0].detail, more=errors[1:])
            judging = self.judging
            if judging is not None:
                early = judging.before(request, route.operation.operation_id, params, body, request_id)
                if early is not None:
                    return early
            ctx = SandboxRequest(caller, route.operation, params, body, request_id, self.store, self.clock)
            result = handler(ctx)
            reply: Reply = await result if inspect.isawaitable(result) else result
            if judging is not None:
                late = await judging.after(request, reply, {REQUEST_ID_HEADER: request_id})
                if late is not None:
                    return late
            if self.faults is not None and reply.raw is None:
                faulty = await self.faults.on_success(
                    request,
                    reply.body,
                    reply.status,
                    {REQUEST_ID_HEADER: request_id},
                    _required_fields(route.operation),
                    params.get("participantName"),
                )
                if faulty is not None:
                    return faulty
            return self.render(route, reply, request_id)
        except CRRError as err:
            templates = route.templates if route else {}
            version = route.version if route else "V1.0"
            if request_id is None:  # refused before the id was checked (404, 405, 403): echo a valid one
                sent = request.headers.get(REQUEST_ID_HEADER, "")
                request_id = sent if REQUEST_ID_FORM.fullmatch(sent) else None
            headers = {"Allow": ", ".join(self.methods.get(request.path, []))} if err.status == 405 else None
            response = error_response(err, templates, version, request_id, headers)
            return self.faults.on_error(response) if self.faults is not None else response
        except web.HTTPRequestEntityTooLarge:
            return error_response(
                CRRError("SER0017", f"the body exceeds {MAX_BODY} bytes"), request_id=request_id
            )
        except Exception:
            log.exception(
                "unhandled error in %s %s (request id %s)", request.method, request.path, request_id
            )
            return error_response(CRRError("SER0028"), request_id=request_id)

    def control_handler(
        self, operation: control.Operation
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """The one way a control-plane operation is served: operator certificate only, a JSON
        object in, JSON out, CRRServiceException bodies for refusals."""

        async def run(request: web.Request) -> web.StreamResponse:
            try:
                if not self.caller(request).operator:
                    raise CRRError("SEC0002")
                body: Any = {}
                if request.can_read_body:
                    raw = await read_body(request)
                    if raw.strip():
                        try:
                            body = loads(raw)
                        except ValueError as exc:
                            raise CRRError("SER0017", "the body is not valid JSON") from exc
                if not isinstance(body, dict):
                    raise CRRError("SER0017", "the body must be a JSON object")
                call = OperatorCall(self.store, self.clock, request.match_info, request.query, body)
                return json_response(operation(call))
            except CRRError as err:
                return error_response(err)
            except Exception:
                log.exception("control plane %s failed", request.path)
                return error_response(CRRError("SER0028"))

        async def handle(request: web.Request) -> web.StreamResponse:
            return await in_request(request, run)

        return handle

    def render(self, route: Route, reply: Reply, request_id: str) -> web.Response:
        headers = (
            {REQUEST_ID_HEADER: request_id, **reply.headers}
            if reply.headers
            else {REQUEST_ID_HEADER: request_id}
        )
        if reply.raw is not None:
            return web.Response(
                body=reply.raw, status=reply.status, content_type=reply.content_type, headers=headers
            )
        if route.checker is not None and reply.status == 200:
            problems = route.checker.problems(reply.body)
            if problems:
                log.error("%s response breaks the contract: %s", route.operation.operation_id, problems)
                raise CRRError("SER0028", detail="response breaks the contract: " + "; ".join(problems)[:900])
        headers["Content-Type"] = JSON_MEDIA_TYPE
        return web.Response(body=dumps(reply.body), status=reply.status, headers=headers)


def _required_fields(operation: Operation) -> list[str]:
    """The required properties of a successful answer's object (or of its list's items)."""
    schema = operation.responses.get("200") or {}
    if isinstance(schema, dict) and schema.get("type") == "array":
        schema = schema.get("items") or {}
    required = schema.get("required") if isinstance(schema, dict) else None
    return [str(r) for r in required] if isinstance(required, list) else []


def _is_json(content_type: str | None) -> bool:
    """``application/json`` or a ``+json`` type, any parameters (charset) allowed. A body is
    only ever read for operations that take one; every real client sends this header."""
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == JSON_MEDIA_TYPE or (media.startswith("application/") and media.endswith("+json"))


def build_app(
    db: str | Path,
    specs: str | Path | None = None,
    provisioning: str | Path | None = None,
    strict: bool | None = None,
    faults: FaultInjector | None = None,
    judging: Judging | None = None,
) -> web.Application:
    """The whole sandbox as an aiohttp application (TLS is the server's job)."""
    catalogue = load_catalogue(specs)
    store = Store(db)
    if strict is None:
        strict = os.environ.get(STRICT_ENV, "") not in ("", "0", "false")
    sandbox = Sandbox(
        catalogue, store, load_provisioning(provisioning), strict=strict, faults=faults, judging=judging
    )
    app = web.Application(client_max_size=MAX_BODY)
    app[SANDBOX_KEY] = sandbox
    for method, path, operation in control.ROUTES:
        app.router.add_route(method, control.PREFIX + path, sandbox.control_handler(operation))
    # every contract path as a plain (exact-match) resource: aiohttp finds it with one dict
    # look-up instead of walking up the path to the catch-all; the catch-all stays for the rest
    for path in sandbox.methods:
        app.router.add_route("*", path, sandbox.dispatch)
    app.router.add_route("*", "/{tail:.*}", sandbox.dispatch)

    async def close_store(_: web.Application) -> None:
        store.close()
        if judging is not None:
            judging.close()

    app.on_cleanup.append(close_store)
    return app
