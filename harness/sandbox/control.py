"""The Market Sim operator's control plane: ``/simctl/v1/...`` (JSON, operator certificate only).

It drives what CAISO's staff drive in a real Market Sim: the plan's markets, the calendar
(simulated clock), submission windows, clearing and market notices. Clearing and messages
are events (``market.clear``/``market.posted``, ``message.publish``) so the service modules
that own the data do the work; the control plane only sequences it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from harness.sandbox import markets, plan, registry
from harness.sandbox.errors import CRRError
from harness.sandbox.guard import in_request, read_body
from harness.sandbox.jsoncodec import loads
from harness.sandbox.responses import error_response, json_response
from harness.sandbox.timefmt import iso, parse

if TYPE_CHECKING:
    from harness.sandbox.app import Sandbox

PREFIX = "/simctl/v1"
DEFAULT_WINDOW = timedelta(days=2)
_DURATION = re.compile(r"^\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$")

ControlHandler = Callable[["Sandbox", web.Request, dict[str, Any]], Awaitable[Any]]


def parse_duration(text: str | int | float) -> timedelta:
    """``"1d"``, ``"2h30m"``, ``"90s"`` or a number of seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return timedelta(seconds=float(text))
    m = _DURATION.match(str(text))
    if not m or not any(m.groups()):
        raise CRRError("SER0030", f"Duration {text!r} is not like 1d, 2h30m, 45m or 90s.")
    d, h, mi, s = (int(g or 0) for g in m.groups())
    return timedelta(days=d, hours=h, minutes=mi, seconds=s)


def _date(body: dict[str, Any], key: str) -> Any:
    value = body.get(key)
    if value is None:
        return None
    try:
        return parse(str(value))
    except ValueError as exc:
        raise CRRError("SER0030", f"{key} must be an ISO 8601 date-time, got {value!r}.") from exc


def market_view(m: markets.Market) -> dict[str, Any]:
    return {**m.to_contract(), "status": m.status, "tier": m.tier, "posted": m.posted_at is not None}


def clock_view(sb: Sandbox) -> dict[str, Any]:
    return {"now": iso(sb.clock.now()), "simulated": sb.clock.is_simulated, "running": sb.clock.running}


async def setup_plan(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    base = _date(body, "base")
    with sb.store.write() as conn:
        created = plan.setup_plan(conn, sb.clock, base)
    return {"markets": [m.name for m in created], **clock_view(sb)}


async def reset(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    """Every table emptied, then the plan set up (``setupPlan`` keeps what participants made)."""
    base = _date(body, "base")
    with sb.store.write() as conn:
        created = plan.reset_plan(conn, sb.clock, base)
    return {"markets": [m.name for m in created], **clock_view(sb)}


async def get_clock(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    return clock_view(sb)


async def post_clock(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    running = bool(body.get("running", False))
    if body.get("reset"):
        sb.clock.reset()
    elif body.get("set") is not None:
        sb.clock.set(_date(body, "set"), running=running)
    elif body.get("advance") is not None:
        sb.clock.advance(parse_duration(body["advance"]))
    else:
        raise CRRError("SER0030", "Send one of set (ISO date-time), advance (e.g. 1d) or reset (true).")
    return clock_view(sb)


async def list_all(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    with sb.store.read() as conn:
        found = markets.list_markets(conn, request.query.get("type"), clock=sb.clock)
    return [market_view(m) for m in found]


async def create_market(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    try:
        periods = []
        for p in body.get("periods") or []:
            if isinstance(p, str):
                periods.append(markets.Period(p, *plan.period_bounds(p)))
            else:
                periods.append(markets.Period(p["name"], parse(p["startDate"]), parse(p["endDate"])))
        now = sb.clock.now()
        market = markets.Market(
            name=str(body["name"]),
            market_type=str(body.get("marketType", markets.AUCTION)),
            term=str(body.get("marketTerm", markets.MONTHLY)),
            periods=tuple(periods),
            tous=tuple(body.get("tous") or plan.TOUS),
            open_date=_date(body, "openDate") or now,
            close_date=_date(body, "closeDate") or now + DEFAULT_WINDOW,
            data_publish_date=_date(body, "dataPublishDate") or now,
            tier=body.get("tier"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CRRError("SER0030", f"Bad market definition: {exc!s}") from exc
    if not market.periods:
        raise CRRError("SER0030", "A market needs at least one period.")
    if market.market_type not in markets.MARKET_TYPES or market.term not in markets.MARKET_TERMS:
        raise CRRError("SER0030", "marketType must be ALLOCATION|AUCTION and marketTerm MONTHLY|ANNUAL.")
    with sb.store.write() as conn:
        markets.create_market(conn, market)
        return market_view(markets.require_market(conn, market.name, sb.clock))


async def get_one(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    with sb.store.read() as conn:
        return market_view(markets.require_market(conn, request.match_info["name"], sb.clock))


async def open_window(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    """Open now: the window starts at the clock (unless already open) and stays open ``duration``."""
    name = request.match_info["name"]
    duration = parse_duration(body.get("duration", "2d"))
    now = sb.clock.now()
    with sb.store.write() as conn:
        m = markets.require_market(conn, name, sb.clock)
        close = now + duration
        if m.status == "OPEN":  # already open: only ever extend
            close = max(m.close_date, close)
        markets.set_window(conn, name, open_date=min(m.open_date, now), close_date=close)
        markets.unpost(conn, name)
        registry.emit("window.opened", conn=conn, clock=sb.clock, market=name)
        return market_view(markets.require_market(conn, name, sb.clock))


async def close_window(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    name = request.match_info["name"]
    now = sb.clock.now()
    with sb.store.write() as conn:
        m = markets.require_market(conn, name, sb.clock)
        markets.set_window(conn, name, open_date=min(m.open_date, now), close_date=now)
        registry.emit("window.closed", conn=conn, clock=sb.clock, market=name)
        return market_view(markets.require_market(conn, name, sb.clock))


async def set_status(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    """Pin a status (PREP|OPEN|CLOSED) regardless of the clock; null returns to the clock."""
    name = request.match_info["name"]
    status = body.get("status")
    if status not in (None, "PREP", "OPEN", "CLOSED"):
        raise CRRError("SER0030", "status must be PREP, OPEN, CLOSED or null.")
    with sb.store.write() as conn:
        markets.require_market(conn, name)
        markets.set_window(conn, name, status_override=status)
        return market_view(markets.require_market(conn, name, sb.clock))


async def clear(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    """Run clearing (``market.clear`` listeners award and grant), then post results."""
    name = request.match_info["name"]
    with sb.store.write() as conn:
        market = markets.require_market(conn, name, sb.clock)
        if market.status == "OPEN":
            raise CRRError("SER0030", f"Close the submission window of {name} before clearing it.")
        registry.emit("market.clear", conn=conn, clock=sb.clock, market=market)
        markets.post_results(conn, name, sb.clock.now())
        posted = markets.require_market(conn, name, sb.clock)
        registry.emit("market.posted", conn=conn, clock=sb.clock, market=posted)
        return {**market_view(posted), "listeners": len(registry.LISTENERS.get("market.clear", []))}


async def publish_message(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise CRRError("SER0030", "text (the message) is required.")
    to = body.get("to")
    recipients = [to] if isinstance(to, str) else list(to or [])
    with sb.store.write() as conn:
        registry.emit(
            "message.publish",
            conn=conn,
            clock=sb.clock,
            text=text,
            to=recipients,
            subject=body.get("subject"),
            sent=sb.clock.now(),
        )
    return {
        "published": True,
        "to": recipients,
        "listeners": len(registry.LISTENERS.get("message.publish", [])),
    }


ROUTES: tuple[tuple[str, str, ControlHandler], ...] = (
    ("POST", "/setupPlan", setup_plan),
    ("POST", "/reset", reset),
    ("GET", "/clock", get_clock),
    ("POST", "/clock", post_clock),
    ("GET", "/markets", list_all),
    ("POST", "/markets", create_market),
    ("GET", "/markets/{name}", get_one),
    ("POST", "/markets/{name}/open", open_window),
    ("POST", "/markets/{name}/close", close_window),
    ("POST", "/markets/{name}/status", set_status),
    ("POST", "/markets/{name}/clear", clear),
    ("POST", "/messages", publish_message),
)


def _wrap(sb: Sandbox, fn: ControlHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await in_request(request, run)

    async def run(request: web.Request) -> web.StreamResponse:
        try:
            caller = sb.caller(request)
            if not caller.operator:
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
            return json_response(await fn(sb, request, body))
        except CRRError as err:
            return error_response(err)
        except Exception:
            import logging

            logging.getLogger("crrsim.sandbox").exception("control plane %s failed", request.path)
            return error_response(CRRError("SER0028"))

    return handle


def add_control_routes(app: web.Application, sb: Sandbox) -> None:
    for method, path, fn in ROUTES:
        app.router.add_route(method, PREFIX + path, _wrap(sb, fn))
