"""Control-plane operations for the load, load-migration and TOR-conversion windows.

These windows belong to their service modules (not to ``markets``), so the operator steers them
here: pin a status regardless of the clock (``null`` follows the clock again) and post
results. Same conventions as ``control``: operator certificate only, JSON in and out,
CRRServiceException bodies on error. Wiring: the app calls ``add_ext_routes(app, sandbox)``
right after ``add_control_routes`` (routes live under the same ``/simctl/v1`` prefix).

    POST /simctl/v1/loadWindows/{name}/status           {"status": "OPEN" | "CLOSED" | null}
    POST /simctl/v1/loadMigrationMarkets/{name}/status  {"status": "PREP" | "OPEN" | "CLOSED" | null}
    POST /simctl/v1/loadMigrationMarkets/{name}/post
    POST /simctl/v1/torWindows/{name}/status            {"status": "NEW" | "OPEN_FOR_CONVERSION" | ... | null}
    POST /simctl/v1/torWindows/{name}/post
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from harness.sandbox.errors import CRRError
from harness.sandbox.services import historical_forecasted_load as hfl
from harness.sandbox.services import load_migration as lm
from harness.sandbox.services import tor_conversion as tor

if TYPE_CHECKING:
    from harness.sandbox.app import Sandbox


def _status(body: dict[str, Any], allowed: tuple[str, ...]) -> str | None:
    status = body.get("status")
    if status is not None and status not in allowed:
        raise CRRError("SER0030", f"status must be one of {', '.join(allowed)} or null.")
    return status


async def load_window_status(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    name = request.match_info["name"]
    with sb.store.write() as conn:
        hfl.set_window_status(conn, name, _status(body, ("OPEN", "CLOSED")))
        return hfl.require_window(conn, name).to_contract(sb.clock.now())


async def lm_market_status(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    name = request.match_info["name"]
    with sb.store.write() as conn:
        lm.set_market_status(conn, name, _status(body, ("PREP", "OPEN", "CLOSED")))
        return lm.require_market(conn, name).to_contract(sb.clock.now())


async def lm_post(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    name = request.match_info["name"]
    with sb.store.write() as conn:
        lm.post_market(conn, name, sb.clock.now())
        return lm.require_market(conn, name).to_contract(sb.clock.now())


async def tor_window_status(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    name = request.match_info["name"]
    with sb.store.write() as conn:
        tor.set_window_status(conn, name, _status(body, tor.STATUSES[:-1]))
        return tor.require_window(conn, name).to_contract(sb.clock.now(), "conversionApprovalWindow")


async def tor_post(sb: Sandbox, request: web.Request, body: dict[str, Any]) -> Any:
    name = request.match_info["name"]
    with sb.store.write() as conn:
        granted = tor.post_window(conn, name, sb.clock.now())
        window = tor.require_window(conn, name).to_contract(sb.clock.now(), "conversionApprovalWindow")
    return {**window, "mtTorCrrIds": granted}


ROUTES = (
    ("POST", "/loadWindows/{name}/status", load_window_status),
    ("POST", "/loadMigrationMarkets/{name}/status", lm_market_status),
    ("POST", "/loadMigrationMarkets/{name}/post", lm_post),
    ("POST", "/torWindows/{name}/status", tor_window_status),
    ("POST", "/torWindows/{name}/post", tor_post),
)


def add_ext_routes(app: web.Application, sb: Sandbox) -> None:
    from harness.sandbox.control import PREFIX, _wrap

    for method, path, fn in ROUTES:
        app.router.add_route(method, PREFIX + path, _wrap(sb, fn))
