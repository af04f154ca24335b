"""The Market Sim operator's control plane: ``/simctl/v1/...`` (JSON, operator certificate only).

It drives what CAISO's staff drive in a real Market Sim: the plan's markets, the calendar
(simulated clock), submission windows, clearing and market notices. Clearing and messages
are events (``market.clear``/``market.posted``, ``message.publish``) so the service modules
that own the data do the work; the control plane only sequences it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from harness.sandbox.domain import clearing, markets, messages, node_list, plan
from harness.sandbox.errors import CRRError
from harness.sandbox.timefmt import iso, parse

if TYPE_CHECKING:
    from harness.sandbox.control import OperatorCall
    from harness.sandbox.domain.clock import Clock

DEFAULT_WINDOW = timedelta(days=2)
_DURATION = re.compile(r"^\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$")


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


def clock_view(clock: Clock) -> dict[str, Any]:
    return {"now": iso(clock.now()), "simulated": clock.is_simulated, "running": clock.running}


def setup_plan(call: OperatorCall) -> Any:
    base = _date(call.body, "base")
    with call.store.write() as conn:
        created = plan.setup_plan(conn, call.clock, base)
    return {"markets": [m.name for m in created], **clock_view(call.clock)}


def reset(call: OperatorCall) -> Any:
    """Every table emptied, then the plan set up (``setupPlan`` keeps what participants made)."""
    base = _date(call.body, "base")
    with call.store.write() as conn:
        created = plan.reset_plan(conn, call.clock, base)
    return {"markets": [m.name for m in created], **clock_view(call.clock)}


def get_clock(call: OperatorCall) -> Any:
    return clock_view(call.clock)


def post_clock(call: OperatorCall) -> Any:
    running = bool(call.body.get("running", False))
    if call.body.get("reset"):
        call.clock.reset()
    elif call.body.get("set") is not None:
        call.clock.set(_date(call.body, "set"), running=running)
    elif call.body.get("advance") is not None:
        call.clock.advance(parse_duration(call.body["advance"]))
    else:
        raise CRRError("SER0030", "Send one of set (ISO date-time), advance (e.g. 1d) or reset (true).")
    return clock_view(call.clock)


def list_all(call: OperatorCall) -> Any:
    with call.store.read() as conn:
        found = markets.list_markets(conn, call.query.get("type"), clock=call.clock)
    return [market_view(m) for m in found]


def create_market(call: OperatorCall) -> Any:
    try:
        periods = []
        for p in call.body.get("periods") or []:
            if isinstance(p, str):
                periods.append(markets.Period(p, *plan.period_bounds(p)))
            else:
                periods.append(markets.Period(p["name"], parse(p["startDate"]), parse(p["endDate"])))
        now = call.clock.now()
        market = markets.Market(
            name=str(call.body["name"]),
            market_type=str(call.body.get("marketType", markets.AUCTION)),
            term=str(call.body.get("marketTerm", markets.MONTHLY)),
            periods=tuple(periods),
            tous=tuple(call.body.get("tous") or plan.TOUS),
            open_date=_date(call.body, "openDate") or now,
            close_date=_date(call.body, "closeDate") or now + DEFAULT_WINDOW,
            data_publish_date=_date(call.body, "dataPublishDate") or now,
            tier=call.body.get("tier"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CRRError("SER0030", f"Bad market definition: {exc!s}") from exc
    if not market.periods:
        raise CRRError("SER0030", "A market needs at least one period.")
    if market.market_type not in markets.MARKET_TYPES or market.term not in markets.MARKET_TERMS:
        raise CRRError("SER0030", "marketType must be ALLOCATION|AUCTION and marketTerm MONTHLY|ANNUAL.")
    with call.store.write() as conn:
        markets.create_market(conn, market)
        return market_view(markets.require_market(conn, market.name, call.clock))


def get_one(call: OperatorCall) -> Any:
    with call.store.read() as conn:
        return market_view(markets.require_market(conn, call.path["name"], call.clock))


def open_window(call: OperatorCall) -> Any:
    """Open now: the window starts at the clock (unless already open) and stays open ``duration``."""
    name = call.path["name"]
    duration = parse_duration(call.body.get("duration", "2d"))
    now = call.clock.now()
    with call.store.write() as conn:
        m = markets.require_market(conn, name, call.clock)
        close = now + duration
        if m.status == "OPEN":  # already open: only ever extend
            close = max(m.close_date, close)
        markets.set_window(conn, name, open_date=min(m.open_date, now), close_date=close)
        markets.unpost(conn, name)
        return market_view(markets.require_market(conn, name, call.clock))


def close_window(call: OperatorCall) -> Any:
    name = call.path["name"]
    now = call.clock.now()
    with call.store.write() as conn:
        m = markets.require_market(conn, name, call.clock)
        markets.set_window(conn, name, open_date=min(m.open_date, now), close_date=now)
        return market_view(markets.require_market(conn, name, call.clock))


def set_status(call: OperatorCall) -> Any:
    """Pin a status (PREP|OPEN|CLOSED) regardless of the clock; null returns to the clock."""
    name = call.path["name"]
    status = call.body.get("status")
    if status not in (None, "PREP", "OPEN", "CLOSED"):
        raise CRRError("SER0030", "status must be PREP, OPEN, CLOSED or null.")
    with call.store.write() as conn:
        markets.require_market(conn, name)
        markets.set_window(conn, name, status_override=status)
        return market_view(markets.require_market(conn, name, call.clock))


def clear(call: OperatorCall) -> Any:
    """Run clearing (awards, holdings granted), post the results, and tell the participants."""
    name = call.path["name"]
    with call.store.write() as conn:
        market = markets.require_market(conn, name, call.clock)
        if market.status == "OPEN":
            raise CRRError("SER0030", f"Close the submission window of {name} before clearing it.")
        clearing.clear_market(conn, market, call.clock)
        markets.post_results(conn, name, call.clock.now())
        posted = markets.require_market(conn, name, call.clock)
        messages.market_posted(conn, call.clock, posted)
        return market_view(posted)


def nodes_view(nodes: node_list.NodeList, made: list[node_list.Change] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "market": nodes.market,
        "version": nodes.version,
        "releasedAt": nodes.released_at,
        "retired": [{"node": k, "replacement": v} for k, v in sorted(nodes.retired.items())],
        "islanded": sorted(nodes.islanded),
        "biddable": [n.name for n in nodes.nodes if n.biddable],
    }
    if made is not None:
        out["released"] = [{"node": c.node, "change": c.change, "replacement": c.replacement} for c in made]
    return out


def get_nodes(call: OperatorCall) -> Any:
    """The market's source/sink list at its latest version."""
    with call.store.read() as conn:
        markets.require_market(conn, call.path["name"], call.clock)
        return nodes_view(node_list.current(conn, call.path["name"]))


def release_nodes(call: OperatorCall) -> Any:
    """Release the market's next source/sink list version: ``retire``, ``island`` and ``restore``
    name nodes; a retired one is re-mapped (published in SOURCE_SINK_REPLACEMENT) and every
    participant gets a notice of the release."""
    lists = {k: call.body.get(k) or [] for k in ("retire", "island", "restore")}
    for key, value in lists.items():
        if isinstance(value, str):
            lists[key] = [value]
        elif not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CRRError("SER0030", f"{key} must be a node name or a list of them.")
    now = call.clock.now()
    with call.store.write() as conn:
        market = markets.require_market(conn, call.path["name"], call.clock)
        effective = min((p.start for p in market.periods), default=now)
        nodes, made = node_list.release(
            conn, market.name, now, effective, lists["retire"], lists["island"], lists["restore"]
        )
        messages.publish_from_operator(conn, call.clock, node_list.describe(nodes, made), to=None, sent=now)
        return nodes_view(nodes, made)


def publish_message(call: OperatorCall) -> Any:
    text = call.body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise CRRError("SER0030", "text (the message) is required.")
    to = call.body.get("to")
    recipients = [to] if isinstance(to, str) else list(to or [])
    with call.store.write() as conn:
        messages.publish_from_operator(
            conn, call.clock, text, to=recipients, subject=call.body.get("subject"), sent=call.clock.now()
        )
    return {"published": True, "to": recipients}


ROUTES: tuple[tuple[str, str, Callable[[OperatorCall], Any]], ...] = (
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
    ("GET", "/markets/{name}/nodes", get_nodes),
    ("POST", "/markets/{name}/nodes", release_nodes),
    ("POST", "/messages", publish_message),
)
