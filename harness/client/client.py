"""The one CRR API client: httpx over mutual TLS, sync (``CRRClient``) and async (``AsyncCRRClient``).

Everything that is not I/O lives once, in ``_ClientCore``: URL and header building, the
``caiso-request-id``, response wrapping, logging, hooks, and the retry policy, which is a
small generator (``_ClientCore.exchange``) that says "send" or "sleep N seconds". The two
clients only drive that generator with blocking or awaiting I/O, so the two can never
disagree about what is retried or what is sent.

Retry policy: only an answer carrying GEN0003 ("system busy") is retried, with exponential
back-off and jitter, honouring ``Retry-After``. Nothing else is: a 5xx may have been applied
(a portfolio created twice is worse than a failed run), and transport failures are what the
connectivity checker must *report*, not paper over.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import ipaddress
import json as jsonlib
import logging
import random
import ssl
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import httpx

from harness.client.errors import (
    CRRServiceException,
    CRRTransportError,
    classify_transport_error,
    is_error,
    media_type,
    parse_error,
)
from harness.client.targets import resolve_target
from harness.client.tls import ClientIdentity, build_ssl_context
from harness.contract.wire import JSON_MEDIA_TYPE, REQUEST_ID_HEADER

if TYPE_CHECKING:
    from os import PathLike

    from harness.config import CrrsimConfig

log = logging.getLogger("crrsim.client")

DEFAULT_TIMEOUT = 15.0  # FIELD-FACTS: the reference client uses 15 s connect and read
RETRYABLE_CODES = frozenset({"GEN0003"})

ResponseHook = Callable[["CRRResponse"], None]


# --------------------------------------------------------------------------------------
# value types
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CRRResponse:
    """One HTTP answer (one attempt). ``ok`` is False for non-2xx and for HTML pages."""

    status: int
    headers: httpx.Headers
    body: bytes
    request_id: str | None
    elapsed_s: float
    method: str = ""
    url: str = ""
    attempt: int = 1

    @property
    def content_type(self) -> str:
        return media_type(self.headers.get("content-type"))

    @property
    def ok(self) -> bool:
        return not is_error(self.status, self.content_type)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        try:
            return jsonlib.loads(self.body)
        except ValueError:
            raise ValueError(
                f"{self.method} {self.url} answered {self.status} with a body that is not JSON "
                f"({self.content_type or 'no content type'}, {len(self.body)} bytes)"
            ) from None

    def error(self) -> CRRServiceException | None:
        """The error this answer represents, or None when ``ok``."""
        if self.ok:
            return None
        return parse_error(
            self.status,
            self.headers.get("content-type"),
            self.body,
            self.request_id,
            location=self.headers.get("location"),
        )

    def raise_for_error(self) -> CRRResponse:
        error = self.error()
        if error is not None:
            raise error
        return self


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    backoff: float = 0.5  # first back-off ceiling in seconds; doubles per retry
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    codes: frozenset[str] = RETRYABLE_CODES

    def delay(self, retries_done: int, response: CRRResponse) -> float | None:
        """Seconds to wait before retrying ``response``, or None to stop and return it."""
        if retries_done >= self.retries or response.ok:
            return None
        error = response.error()
        if error is None or not self.codes.intersection(error.codes):
            return None
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_backoff, self.backoff * 2**retries_done)
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # "equal jitter"


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    params: Any
    headers: dict[str, str]
    content: bytes | None
    request_id: str | None
    timeout: Any = httpx.USE_CLIENT_DEFAULT
    fresh_ids: bool = True  # False when the caller chose (or removed) the request id

    def httpx_args(self) -> dict[str, Any]:
        """The arguments of ``httpx.(Async)Client.request``: both clients send exactly this."""
        return {
            "method": self.method,
            "url": self.url,
            "params": self.params,
            "headers": self.headers,
            "content": self.content,
            "timeout": self.timeout,
        }

    def with_new_request_id(self) -> _Call:
        if not self.fresh_ids:
            return self
        request_id = str(uuid.uuid4())
        headers = {**self.headers, REQUEST_ID_HEADER: request_id}
        return replace(self, headers=headers, request_id=request_id)


@dataclass(frozen=True)
class _Send:
    call: _Call
    attempt: int


@dataclass(frozen=True)
class _Sleep:
    seconds: float


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # shortest float repr round-trips decimals of <= 15 digits exactly
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------------------
# the shared, I/O-free core
# --------------------------------------------------------------------------------------
@dataclass
class _ClientCore:
    base_url: str
    policy: RetryPolicy
    hooks: list[ResponseHook] = field(default_factory=list)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def url_for(self, path: str) -> str:
        """``path`` is relative to the base URL; a full URL must stay on the same origin."""
        if "://" in path:
            parts = urlsplit(path)
            if f"{parts.scheme}://{parts.netloc}".lower() != self.origin.lower():
                raise ValueError(f"{path} is not on {self.origin}; this client only talks to its target.")
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def prepare(
        self,
        method: str,
        path: str,
        params: Any,
        json: Any,
        content: bytes | None,
        headers: Mapping[str, str | None] | None,
        timeout: float | None = None,
    ) -> _Call:
        if json is not None and content is not None:
            raise ValueError("pass either json= or content=, not both")
        if json is not None:
            content = jsonlib.dumps(json, separators=(",", ":"), default=_json_default).encode()
        merged: dict[str, str | None] = {REQUEST_ID_HEADER: str(uuid.uuid4()), "Accept": JSON_MEDIA_TYPE}
        caller_id = any(name.lower() == REQUEST_ID_HEADER for name in headers or {})
        if content is not None:
            merged["Content-Type"] = JSON_MEDIA_TYPE
        lower = {k.lower(): k for k in merged}
        for name, value in (headers or {}).items():
            merged.pop(lower.get(name.lower(), name), None)
            merged[name] = value  # None means "send no such header" (negative tests)
        sent = {k: v for k, v in merged.items() if v is not None}
        request_id = next((v for k, v in sent.items() if k.lower() == REQUEST_ID_HEADER), None)
        return _Call(
            method.upper(),
            self.url_for(path),
            params,
            sent,
            content,
            request_id,
            httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout),
            fresh_ids=not caller_id,
        )

    def exchange(self, call: _Call) -> Generator[_Send | _Sleep, CRRResponse | None, CRRResponse]:
        """The retry policy as steps for a driver: send, maybe sleep and send again, return.

        Each attempt is a new HTTP request and gets its own request id (unless the caller
        fixed one), so every id in CAISO's logs and ours names exactly one exchange.
        """
        retries_done = 0
        while True:
            response = yield _Send(call, retries_done + 1)
            assert response is not None
            delay = self.policy.delay(retries_done, response)
            if delay is None:
                return response
            retries_done += 1
            log.debug(
                "%s %s busy (GEN0003), retry %d/%d in %.2fs [caiso-request-id %s]",
                call.method,
                call.url,
                retries_done,
                self.policy.retries,
                delay,
                call.request_id,
            )
            yield _Sleep(delay)
            call = call.with_new_request_id()

    def finish(self, call: _Call, raw: httpx.Response, elapsed: float, attempt: int) -> CRRResponse:
        response = CRRResponse(
            status=raw.status_code,
            headers=raw.headers,
            body=raw.content,
            request_id=call.request_id or raw.headers.get(REQUEST_ID_HEADER),
            elapsed_s=elapsed,
            method=call.method,
            url=call.url,
            attempt=attempt,
        )
        log.debug(
            "%s %s -> %d %s in %.3fs (attempt %d) [caiso-request-id %s]",
            call.method,
            call.url,
            response.status,
            response.content_type or "-",
            elapsed,
            attempt,
            response.request_id,
        )
        for hook in self.hooks:
            hook(response)
        return response

    @contextlib.contextmanager
    def transport_errors(self, call: _Call) -> Iterator[None]:
        """Turn httpx's transport failures into our CRRTransportError around one send (a plain
        context manager, so the async client can use it around an ``await`` too)."""
        try:
            yield
        except httpx.TransportError as exc:
            kind = classify_transport_error(exc)
            log.debug(
                "%s %s -> %s: %s [caiso-request-id %s]", call.method, call.url, kind, exc, call.request_id
            )
            raise CRRTransportError(
                kind,
                f"{call.method} {call.url} failed ({kind}): {exc}",
                url=call.url,
                request_id=call.request_id,
            ) from exc


# --------------------------------------------------------------------------------------
# the two clients
# --------------------------------------------------------------------------------------
class _BaseClient:
    """Construction shared by both clients; subclasses add only the I/O."""

    def __init__(
        self,
        base_url: str,
        identity: ClientIdentity | None = None,
        ca: str | PathLike[str] | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        retries: int = 3,
        *,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        on_response: Iterable[ResponseHook] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        allow_http: bool = False,
        max_connections: int = 100,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.identity = identity
        self.ssl_context = ssl_context or build_ssl_context(identity, ca)
        self._core = _ClientCore(
            resolve_target(base_url, allow_http=allow_http),
            RetryPolicy(retries=retries, backoff=backoff, max_backoff=max_backoff),
            list(on_response or []),
        )
        loopback = _is_loopback(urlsplit(self._core.base_url).hostname)
        self._httpx_options: dict[str, Any] = {
            "verify": self.ssl_context,
            "timeout": timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            "limits": httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            "follow_redirects": False,  # a redirect is usually a login page: report it, do not follow
            "trust_env": not loopback,  # proxies from the environment never apply to the sandbox
        }

    @classmethod
    def from_config(
        cls, cfg: CrrsimConfig, *, password_provider: Callable[[], str] | None = None, **kwargs: Any
    ) -> Self:
        """Client for the config's target and identity; ``kwargs`` go to the constructor."""
        options: dict[str, Any] = {
            "identity": cfg.client_identity(password_provider),
            "ca": cfg.ca_path(),
            "timeout": cfg.timeout,
            "retries": cfg.retries,
        }
        options.update(kwargs)
        return cls(cfg.base_url(), **options)

    @property
    def base_url(self) -> str:
        return self._core.base_url

    @property
    def origin(self) -> str:
        """scheme://host:port of the target, for paths outside the base path (e.g. /simctl)."""
        return self._core.origin

    @property
    def retries(self) -> int:
        return self._core.policy.retries

    @property
    def on_response(self) -> list[ResponseHook]:
        """Callables run with every CRRResponse (each attempt); runners append recorders here."""
        return self._core.hooks

    def url_for(self, path: str) -> str:
        return self._core.url_for(path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r}, identity={self.identity!r})"


class CRRClient(_BaseClient):
    """Blocking client; one keep-alive connection pool per instance (thread-safe)."""

    def __init__(self, base_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(base_url, *args, **kwargs)
        self._http = httpx.Client(**self._httpx_options)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: Mapping[str, str | None] | None = None,
        content: bytes | None = None,
        timeout: float | None = None,
    ) -> CRRResponse:
        call = self._core.prepare(method, path, params, json, content, headers, timeout)
        steps = self._core.exchange(call)
        reply: CRRResponse | None = None
        try:
            while True:
                step = steps.send(reply)
                if isinstance(step, _Sleep):
                    time.sleep(step.seconds)
                    reply = None
                else:
                    reply = self._send(step.call, step.attempt)
        except StopIteration as done:
            return done.value

    def _send(self, call: _Call, attempt: int) -> CRRResponse:
        start = time.perf_counter()
        with self._core.transport_errors(call):
            raw = self._http.request(**call.httpx_args())
        return self._core.finish(call, raw, time.perf_counter() - start, attempt)

    def get(self, path: str, **kwargs: Any) -> CRRResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> CRRResponse:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CRRClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncCRRClient(_BaseClient):
    """asyncio client with the same arguments and behaviour as CRRClient."""

    def __init__(self, base_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(base_url, *args, **kwargs)
        self._http = httpx.AsyncClient(**self._httpx_options)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        headers: Mapping[str, str | None] | None = None,
        content: bytes | None = None,
        timeout: float | None = None,
    ) -> CRRResponse:
        call = self._core.prepare(method, path, params, json, content, headers, timeout)
        steps = self._core.exchange(call)
        reply: CRRResponse | None = None
        try:
            while True:
                step = steps.send(reply)
                if isinstance(step, _Sleep):
                    await asyncio.sleep(step.seconds)
                    reply = None
                else:
                    reply = await self._send(step.call, step.attempt)
        except StopIteration as done:
            return done.value

    async def _send(self, call: _Call, attempt: int) -> CRRResponse:
        start = time.perf_counter()
        with self._core.transport_errors(call):
            raw = await self._http.request(**call.httpx_args())
        return self._core.finish(call, raw, time.perf_counter() - start, attempt)

    async def get(self, path: str, **kwargs: Any) -> CRRResponse:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> CRRResponse:
        return await self.request("POST", path, **kwargs)

    async def aclose(self) -> None:
        await self._http.aclose()

    close = aclose

    async def __aenter__(self) -> AsyncCRRClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
