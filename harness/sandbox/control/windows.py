"""Control-plane operations for the load, load-migration and TOR-conversion windows.

These windows belong to their service modules (not to ``markets``), so the operator steers them
here: pin a status regardless of the clock (``null`` follows the clock again) and post
results. Same conventions as the rest of the control plane (``harness.sandbox.control``).

    POST /simctl/v1/loadWindows/{name}/status           {"status": "OPEN" | "CLOSED" | null}
    POST /simctl/v1/loadMigrationMarkets/{name}/status  {"status": "PREP" | "OPEN" | "CLOSED" | null}
    POST /simctl/v1/loadMigrationMarkets/{name}/post
    POST /simctl/v1/torWindows/{name}/status            {"status": "NEW" | "OPEN_FOR_CONVERSION" | ... | null}
    POST /simctl/v1/torWindows/{name}/post
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.sandbox.domain import load as hfl
from harness.sandbox.domain import load_migration as lm
from harness.sandbox.domain import tor
from harness.sandbox.errors import CRRError

if TYPE_CHECKING:
    from harness.sandbox.control import OperatorCall


def _status(body: dict[str, Any], allowed: tuple[str, ...]) -> str | None:
    status = body.get("status")
    if status is not None and status not in allowed:
        raise CRRError("SER0030", f"status must be one of {', '.join(allowed)} or null.")
    return status


def load_window_status(call: OperatorCall) -> Any:
    name = call.path["name"]
    with call.store.write() as conn:
        hfl.set_window_status(conn, name, _status(call.body, ("OPEN", "CLOSED")))
        return hfl.require_window(conn, name).to_contract(call.clock.now())


def lm_market_status(call: OperatorCall) -> Any:
    name = call.path["name"]
    with call.store.write() as conn:
        lm.set_market_status(conn, name, _status(call.body, ("PREP", "OPEN", "CLOSED")))
        return lm.require_market(conn, name).to_contract(call.clock.now())


def lm_post(call: OperatorCall) -> Any:
    name = call.path["name"]
    with call.store.write() as conn:
        lm.post_market(conn, name, call.clock.now())
        return lm.require_market(conn, name).to_contract(call.clock.now())


def tor_window_status(call: OperatorCall) -> Any:
    name = call.path["name"]
    with call.store.write() as conn:
        tor.set_window_status(conn, name, _status(call.body, tor.STATUSES[:-1]))
        return tor.require_window(conn, name).to_contract(call.clock.now(), "conversionApprovalWindow")


def tor_post(call: OperatorCall) -> Any:
    name = call.path["name"]
    with call.store.write() as conn:
        granted = tor.post_window(conn, name, call.clock.now())
        window = tor.require_window(conn, name).to_contract(call.clock.now(), "conversionApprovalWindow")
    return {**window, "mtTorCrrIds": granted}


ROUTES = (
    ("POST", "/loadWindows/{name}/status", load_window_status),
    ("POST", "/loadMigrationMarkets/{name}/status", lm_market_status),
    ("POST", "/loadMigrationMarkets/{name}/post", lm_post),
    ("POST", "/torWindows/{name}/status", tor_window_status),
    ("POST", "/torWindows/{name}/post", tor_post),
)
