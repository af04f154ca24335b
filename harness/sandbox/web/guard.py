"""Connection guard: slow or oversized requests are cut off before they cost anything.

aiohttp has no read timeout for a request's head (a client may trickle its headers, or send
none, and hold the connection forever) and answers an oversized request line or header with
a plain-text 400 and an ERROR traceback in the log. The guard sits between the transport and
aiohttp's own protocol (``runner.server()``, the public protocol factory) and adds, per
connection, what production HTTP servers have:

* ``read_timeout`` (default 30 s): from the connection's start (after the TLS handshake) or from
  the first byte of a later request, the whole request head must arrive within it; the body
  must arrive within it too (``read_body``). Otherwise the connection is closed.
* ``idle_timeout`` (default 75 s): a keep-alive connection with no request in progress.
* ``MAX_HEAD`` (8 KiB): a request line plus headers larger than that gets a CRRServiceException
  400 (SER0017) and the connection is closed; aiohttp never sees the bytes.

It only finds where a request head ends (the blank line); parsing stays aiohttp's job. The
handler tells the guard when a request starts and ends (``GUARDS[request.protocol]``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import http_exceptions, web

from harness.contract.wire import JSON_MEDIA_TYPE, REQUEST_ID_FORM, REQUEST_ID_HEADER
from harness.sandbox.errors import CRRError
from harness.sandbox.jsoncodec import dumps
from harness.sandbox.web.responses import error_body

READ_TIMEOUT_S = 30.0
IDLE_TIMEOUT_S = 75.0
MAX_HEAD = 8192  # bytes of request line + headers; a real CRR request head is well under 1 KiB
_END_OF_HEAD = b"\r\n\r\n"
_TOO_BIG = f"the request line and headers exceed {MAX_HEAD} bytes"
_ASTERISK_FORM = re.compile(rb"[A-Za-z]+ \* ")
_FLUSH_S = 0.2  # time for aiohttp to write the answer before a timed-out connection is closed

# aiohttp's protocol object of a live connection -> its guard (a handler finds its own here);
# a plain dict (aiohttp's RequestHandler takes no weak reference), emptied in connection_lost
GUARDS: dict[Any, ConnectionGuard] = {}


class ConnectionGuard(asyncio.Protocol):
    """Wraps one aiohttp protocol instance; forwards every event, adds deadlines and a head limit."""

    def __init__(self, inner: Any, read_timeout: float, idle_timeout: float) -> None:
        self.inner = inner
        self.read_timeout = read_timeout
        self.idle_timeout = idle_timeout
        self.transport: asyncio.Transport | None = None
        self.deadline = 0.0  # loop time after which the connection is cut (0: none), see _sweep
        self._loop = asyncio.get_running_loop()
        self._head_bytes = 0  # bytes of the current request head seen so far
        self._tail = b""  # last bytes of the previous chunk: the blank line may straddle chunks
        self._awaiting_head = True
        self._in_request = False
        self.body_timed_out = False  # the answer to this request closes the connection

    # -- asyncio.Protocol, forwarded ------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        GUARDS[self.inner] = self
        self.inner.connection_made(transport)
        self._arm(self.read_timeout)  # a new connection must start its request promptly

    def data_received(self, data: bytes) -> None:
        if self._awaiting_head and not self._scan_head(data):
            return
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        GUARDS.pop(self.inner, None)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    # -- what the handler tells us ----------------------------------------------------------
    def request_started(self) -> None:
        """Headers are parsed and the handler runs: its own work is not bounded here."""
        self._in_request = True
        self._disarm()

    async def finish(self, request: web.Request) -> None:
        """End the request bracket. A request refused before its body was read (405, 404, a bad
        request id) still sends that body on a keep-alive connection: it is read here first, or
        its bytes would arrive after ``request_done`` and be counted as the next request's head
        (a 15 KB upload refused with 405 then came back as "head over 8192 bytes")."""
        if request.body_exists and not request.content.is_eof() and not self.body_timed_out:
            with contextlib.suppress(CRRError, web.HTTPException, ConnectionError):
                await self.read_body(request)  # bounded by read_timeout and aiohttp's client_max_size
        self.request_done()

    def request_done(self) -> None:
        """Wait for the next request head (idle keep-alive until its first byte); after a body
        that never came, close once the answer is out (aiohttp would otherwise linger 10 s
        draining a body that will not arrive)."""
        self._in_request = False
        if self.body_timed_out and self.transport is not None:
            asyncio.get_running_loop().call_later(_FLUSH_S, self.transport.close)
            return
        self._awaiting_head, self._head_bytes, self._tail = True, 0, b""
        self._arm(self.idle_timeout)

    async def read_body(self, request: web.Request) -> bytes:
        """The request body, which must arrive within ``read_timeout``."""
        try:
            async with asyncio.timeout(self.read_timeout):
                return await _read(request)
        except TimeoutError:
            self.body_timed_out = True
            raise CRRError(
                "SER0017",
                f"the request body did not arrive within {self.read_timeout:g} s",
            ) from None
        except CRRError:  # a body that does not decode, or is cut short (_read)
            self.body_timed_out = True  # the connection's framing is lost: close after the answer
            raise

    # -- internals ----------------------------------------------------------------------------
    def _scan_head(self, data: bytes) -> bool:
        """Track the request head; False when the request was refused (data not forwarded)."""
        if self._head_bytes == 0 and not self._in_request:
            self._arm(self.read_timeout)  # first byte of a request: the head has read_timeout
            if _ASTERISK_FORM.match(data):  # aiohttp's router answers it with a text/plain 404
                self._refuse_head(
                    "the asterisk-form target (OPTIONS *) is not served; the CRR services live under /crr"
                )
                return False
        window = self._tail + data if self._tail else data
        end = window.find(_END_OF_HEAD)
        if end == -1:
            self._head_bytes += len(data)
            self._tail = window[-3:]
            if self._head_bytes > MAX_HEAD:
                self._refuse_head(_TOO_BIG)
                return False
            return True
        self._head_bytes += end + len(_END_OF_HEAD) - len(self._tail)
        if self._head_bytes > MAX_HEAD:
            self._refuse_head(_TOO_BIG)
            return False
        self._awaiting_head, self._tail = False, b""
        return True

    def _refuse_head(self, why: str) -> None:
        err = CRRError("SER0017", why)
        body = dumps(error_body(err, {}, "V1.0"))
        head = (
            f"HTTP/1.1 400 Bad Request\r\nContent-Type: {JSON_MEDIA_TYPE}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        self._awaiting_head = False
        if self.transport is not None:
            self.transport.write(head + body)
            self.transport.close()

    def _arm(self, seconds: float) -> None:
        # a deadline, not a timer: two timers per request cost more than the request's routing;
        # one sweep per SWEEP_S looks at every connection instead
        self.deadline = self._loop.time() + seconds
        _ensure_sweep(self._loop)

    def _disarm(self) -> None:
        self.deadline = 0.0

    def _expire(self) -> None:
        self.deadline = 0.0
        if self.transport is not None and not self._in_request:
            self.transport.abort()


SWEEP_S = 0.5  # how often deadlines are looked at: a timeout fires up to this much late
_sweeping: set[asyncio.AbstractEventLoop] = set()


def _ensure_sweep(loop: asyncio.AbstractEventLoop) -> None:
    if loop not in _sweeping:
        _sweeping.add(loop)
        loop.call_later(SWEEP_S, _sweep, loop)


def _sweep(loop: asyncio.AbstractEventLoop) -> None:
    """Cut every connection of this loop whose deadline has passed; keep sweeping while any
    connection is open."""
    now = loop.time()
    for guard in [g for g in GUARDS.values() if g._loop is loop and 0.0 < g.deadline <= now]:
        guard._expire()
    if any(g._loop is loop for g in GUARDS.values()):
        loop.call_later(SWEEP_S, _sweep, loop)
    else:
        _sweeping.discard(loop)


async def in_request(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Run a handler inside the connection's request bracket: the head deadline stops while it
    works, the idle deadline starts when it is done, and a connection whose body timed out is
    closed after its answer. Plain ``handler(request)`` where the app runs without the guard."""
    guard = GUARDS.get(request.protocol)
    if guard is None:
        return await handler(request)
    guard.request_started()
    try:
        response = await handler(request)
        if guard.body_timed_out:
            response.force_close()
        return response
    finally:
        await guard.finish(request)


async def read_body(request: web.Request) -> bytes:
    """The request body, bounded by the connection's read timeout."""
    guard = GUARDS.get(request.protocol)
    if guard is None:
        async with asyncio.timeout(READ_TIMEOUT_S):
            return await _read(request)
    return await guard.read_body(request)


async def _read(request: web.Request) -> bytes:
    """``request.read()``, a body aiohttp cannot read becoming the SER0017 that says why."""
    try:
        return await request.read()
    except web.RequestPayloadError as exc:
        raise CRRError("SER0017", payload_sentence(exc.__cause__, request.headers)) from None


SUPPORTED_ENCODINGS = "gzip, deflate or br"


def payload_sentence(exc: BaseException | None, headers: Any) -> str:
    """What is wrong with a body aiohttp could not read, in words a client's author can act
    on (aiohttp's own text names a Python package, or echoes the bytes)."""
    if isinstance(exc, http_exceptions.ContentEncodingError):
        encoding = "".join(ch for ch in (headers.get("Content-Encoding") or "").strip() if ch.isprintable())[
            :40
        ]
        if not encoding:  # refused while the head was parsed: aiohttp keeps no headers for the answer
            return (
                f"the body does not decode as its Content-Encoding says; the sandbox takes {SUPPORTED_ENCODINGS} "
                "bodies, or uncompressed ones"
            )
        if encoding.lower() in ("gzip", "x-gzip", "deflate", "br"):
            return f"the body is marked 'Content-Encoding: {encoding}' but is not {encoding} data"
        return f"'Content-Encoding: {encoding}' is not taken; send the body as {SUPPORTED_ENCODINGS}, or uncompressed"
    if isinstance(exc, (http_exceptions.ContentLengthError, http_exceptions.TransferEncodingError)):
        return "the body ended before the length its Content-Length or chunked encoding announced"
    return "the body could not be read as sent (its framing or encoding is broken)"


def head_sentence(exc: BaseException | None) -> str:
    """Why aiohttp's parser refused a request, never echoing the client's bytes (aiohttp's own
    text quotes the offending header or line, control characters and all)."""
    if isinstance(exc, http_exceptions.PayloadEncodingError):
        return payload_sentence(exc, {})
    if isinstance(exc, http_exceptions.LineTooLong):
        return "a request line or header is longer than the server takes"
    if isinstance(exc, http_exceptions.InvalidHeader):
        return (
            "a header is not valid HTTP/1.1 (a control character in its value, a space in its name, "
            "or a folded line)"
        )
    if isinstance(exc, http_exceptions.BadStatusLine):
        return "the request line is not 'METHOD /path HTTP/1.1'"
    if isinstance(exc, http_exceptions.InvalidURLError):
        return "the request target is not a path (the CRR services live under /crr)"
    reason = str(getattr(exc, "message", "") or "").split(":", 1)[0].splitlines()[0] if exc else ""
    reason = "".join(ch for ch in reason if ch.isprintable())[:80].rstrip(". ")
    if not reason:
        return "the request is not valid HTTP/1.1"
    return f"{reason[0].lower()}{reason[1:]} (the request is not valid HTTP/1.1)"


class CRRRequestHandler(web.RequestHandler):
    """aiohttp's protocol with one change: the answers aiohttp writes itself (a request it
    cannot parse, a body it cannot decode, a handler that escaped every catch) are
    CRRServiceException bodies like every other refusal, not text/plain pages that quote the
    client's bytes. ``handle_error`` is the method aiohttp routes all of those through."""

    def handle_error(
        self, request: Any, status: int = 500, exc: BaseException | None = None, message: str | None = None
    ) -> web.StreamResponse:
        super().handle_error(request, status, exc, message)  # logs; raises when an answer already began
        if status >= 500:
            err = CRRError("SER0028", status=status)
        else:
            cause = exc.__cause__ if isinstance(exc, web.RequestPayloadError) else exc
            err = CRRError("SER0017", head_sentence(cause), status=status)
        request_id = request.headers.get(REQUEST_ID_HEADER, "")
        headers = {"Content-Type": JSON_MEDIA_TYPE}
        if REQUEST_ID_FORM.fullmatch(request_id):
            headers[REQUEST_ID_HEADER] = request_id
        response = web.Response(body=dumps(error_body(err, {}, "V1.0")), status=status, headers=headers)
        response.force_close()
        return response


def guarded(
    factory: Callable[[], Any], read_timeout: float = READ_TIMEOUT_S, idle_timeout: float = IDLE_TIMEOUT_S
) -> Callable[[], ConnectionGuard]:
    """A protocol factory for ``loop.create_server`` wrapping aiohttp's (``runner.server``)."""

    def make() -> ConnectionGuard:
        return ConnectionGuard(factory(), read_timeout, idle_timeout)

    return make


class QuietParseErrors(logging.Filter):
    """aiohttp logs every malformed request with a full traceback at ERROR; a client's bad
    bytes are not the sandbox's error. Keep one WARNING line, drop the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and type(exc).__name__ in _CLIENT_FAULTS:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg = f"{record.getMessage()}: {exc}"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


# aiohttp.http_exceptions: the client's fault, not the server's
_CLIENT_FAULTS = frozenset(
    {
        "BadHttpMessage",
        "BadHttpMethod",
        "BadStatusLine",
        "LineTooLong",
        "InvalidHeader",
        "InvalidURLError",
        "TransferEncodingError",
        "ContentLengthError",
        "ContentEncodingError",
        "RequestPayloadError",  # the same, met while aiohttp drains a refused request's body
    }
)


def quiet_parse_errors() -> None:
    logger = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, QuietParseErrors) for f in logger.filters):
        logger.addFilter(QuietParseErrors())
