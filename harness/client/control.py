"""Typed wrapper for the sandbox's Market Sim control plane (``/simctl/v1``, operator cert only).

The control plane lives at the server root, not under the CRR base path (``/crr``), so that
no CRR contract path can ever collide with it; this wrapper addresses it through the client's
``origin`` and reuses the client's TLS identity, timeouts and request ids.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from harness.client.client import CRRClient
from harness.client.errors import CRRTransportError
from harness.client.targets import TARGETS, TargetKind, target_kind
from harness.client.tls import ClientIdentity
from harness.pki import DevPKI, dev_identity_files
from harness.pki.devpki import dev_ca

PREFIX = "/simctl/v1"
PLAN_WEEK1_MONDAY = date(2026, 2, 2)  # features/plan.yaml's calendar
PLAN_TIMEZONE = "America/Los_Angeles"
PLAN_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def plan_day_time(day: str) -> str:
    """``week1.wednesday`` -> that day of the plan at 10:00 Pacific, as UTC ISO 8601."""
    week, _, weekday = day.partition(".")
    if week not in ("week1", "week2") or weekday not in PLAN_DAYS:
        raise ValueError(f"a plan day is week1|week2 . monday..friday, not {day!r}")
    on = PLAN_WEEK1_MONDAY + timedelta(days=7 * (int(week[-1]) - 1) + PLAN_DAYS.index(weekday))
    local = datetime.combine(on, time(10, 0), tzinfo=ZoneInfo(PLAN_TIMEZONE))
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


PLAN_WEDNESDAY = plan_day_time("week1.wednesday")  # every monthly window OPEN


def _iso(value: datetime | str) -> str:
    return value.isoformat() if isinstance(value, datetime) else value


class ControlPlane:
    def __init__(self, client: CRRClient) -> None:
        self.client = client

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One control call; raises ``CRRServiceException`` with the sandbox's error on failure."""
        response = self.client.request(method, f"{self.client.origin}{PREFIX}{path}", json=body)
        response.raise_for_error()
        return response.json()

    def fresh_plan_week(self) -> None:
        """The runners' common starting point: the plan set up again, the clock where every
        monthly window is open."""
        self.reset()
        self.set_clock(PLAN_WEDNESDAY)

    def setup_plan(self, base: datetime | str | None = None) -> dict[str, Any]:
        return self.call("POST", "/setupPlan", {"base": _iso(base)} if base else {})

    def reset(self, base: datetime | str | None = None) -> dict[str, Any]:
        """Empty the sandbox and set the plan up again (what each scenario starts from)."""
        return self.call("POST", "/reset", {"base": _iso(base)} if base else {})

    def clock(self) -> dict[str, Any]:
        """``{"now": ISO, "simulated": bool, "running": bool}``."""
        return self.call("GET", "/clock")

    def set_clock(self, when: datetime | str, running: bool = False) -> dict[str, Any]:
        return self.call("POST", "/clock", {"set": _iso(when), "running": running})

    def advance(
        self, days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0
    ) -> dict[str, Any]:
        total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
        return self.call("POST", "/clock", {"advance": total})

    def advance_by(self, duration: str) -> dict[str, Any]:
        """``advance_by("1d")``, ``"2h30m"``, ``"90s"``."""
        return self.call("POST", "/clock", {"advance": duration})

    def reset_clock(self) -> dict[str, Any]:
        return self.call("POST", "/clock", {"reset": True})

    def markets(self, market_type: str | None = None) -> list[dict[str, Any]]:
        path = "/markets" + (f"?type={market_type}" if market_type else "")
        return self.call("GET", path)

    def market(self, name: str) -> dict[str, Any]:
        return self.call("GET", f"/markets/{quote(name)}")

    def create_market(self, **definition: Any) -> dict[str, Any]:
        """Fields: name, marketType, marketTerm, periods (["2026_M04"] or objects), tous, openDate,
        closeDate, dataPublishDate, tier."""
        return self.call("POST", "/markets", definition)

    def open_window(self, market: str, duration: str = "2d") -> dict[str, Any]:
        return self.call("POST", f"/markets/{quote(market)}/open", {"duration": duration})

    def close_window(self, market: str) -> dict[str, Any]:
        return self.call("POST", f"/markets/{quote(market)}/close", {})

    def set_status(self, market: str, status: str | None) -> dict[str, Any]:
        return self.call("POST", f"/markets/{quote(market)}/status", {"status": status})

    def run_clearing(self, market: str) -> dict[str, Any]:
        return self.call("POST", f"/markets/{quote(market)}/clear", {})

    def node_list(self, market: str) -> dict[str, Any]:
        """The market's source/sink list: version, retired nodes and their replacements, islanded."""
        return self.call("GET", f"/markets/{quote(market)}/nodes")

    def release_nodes(
        self,
        market: str,
        retire: list[str] | None = None,
        island: list[str] | None = None,
        restore: list[str] | None = None,
    ) -> dict[str, Any]:
        """Release the market's next source/sink list version with these changes."""
        body = {"retire": retire or [], "island": island or [], "restore": restore or []}
        return self.call("POST", f"/markets/{quote(market)}/nodes", body)

    def publish_message(
        self, text: str, to: list[str] | str | None = None, subject: str | None = None
    ) -> dict[str, Any]:
        return self.call("POST", "/messages", {"text": text, "to": to, "subject": subject})


def fresh_plan_week(url: str, pki: DevPKI) -> None:
    """``ControlPlane.fresh_plan_week`` on the sandbox at ``url``, as the operator of ``pki``:
    where a fresh embedded sandbox and each part of the main job start."""
    operator = pki.identities["operator"]
    with CRRClient(
        url, identity=ClientIdentity.from_pem(operator.cert, operator.key), ca=pki.ca_cert
    ) as client:
        ControlPlane(client).fresh_plan_week()


def proves_sandbox(url: str, pki_dir: Path, ca: Path | None = None, timeout: float = 5.0) -> bool:
    """Whether the target at ``url`` is a crrsim sandbox: it answers its control plane's clock to
    the operator certificate of the dev PKI in ``pki_dir`` (trusting that PKI's CA unless ``ca``
    says otherwise). A shared environment never holds our dev operator, so nothing it could
    answer proves it; production is never asked at all."""
    if target_kind(url) == "production":
        return False
    operator = dev_identity_files(pki_dir, "operator")
    trust = ca or dev_ca(pki_dir)
    if operator is None or not trust.is_file():
        return False
    try:
        with CRRClient(
            url,
            identity=ClientIdentity.from_pem(operator.cert, operator.key),
            ca=trust,
            retries=0,
            timeout=timeout,
        ) as client:
            answer = client.request("GET", f"{client.origin}{PREFIX}/clock")
            body = answer.json() if answer.status == 200 else None
    except (CRRTransportError, ValueError, OSError):
        return False
    return isinstance(body, dict) and "now" in body and "simulated" in body


def judge_target(target: str, url: str, pki_dir: Path, ca: Path | None = None) -> TargetKind:
    """The rules a run gets: ``target_kind`` of what the user named, except that a URL which
    proves it is a crrsim sandbox (``proves_sandbox``) gets the sandbox's rules."""
    kind = target_kind(target)
    if kind == "shared" and target.strip().lower() not in TARGETS and proves_sandbox(url, pki_dir, ca):
        return "sandbox"
    return kind
