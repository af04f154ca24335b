"""Who plays the CRR team in a scenario: the sandbox's control plane, or the real team.

In the sandbox the steps "the CRR team opens/closes/runs ..." are performed through the
operator's control plane, so a run needs nobody else. Against Map-Stage CAISO's staff do that
work on their own schedule: the same steps become waits on the market's status (polled
through the participant's own Market Status API) with a clear timeout, and steps that only the
operator can perform (setting the calendar, sending a specific message) say so and skip.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import pytest

from harness.client import CRRClient
from harness.client.control import ControlPlane

MARKET_STATUS_PATH = "/marketstatus/v1.0/marketStatus"


class CRRTeam(Protocol):
    def fresh_start(self) -> bool: ...
    def setup_plan(self, base: datetime | None = None) -> None: ...
    def set_time(self, when: datetime) -> None: ...
    def open_window(self, market: str) -> None: ...
    def close_window(self, market: str) -> None: ...
    def run_and_post(self, market: str) -> None: ...
    def publish(self, text: str, to: str | None = None) -> None: ...
    def release_nodes(self, market: str, retire: list[str], island: list[str]) -> None: ...


def status_of(body: Any) -> str:
    """The marketStatus answer is a bare enum string in CAISO's files; tolerate an object too."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        return str(body.get("marketStatus") or body.get("status") or "")
    return ""


class SandboxTeam:
    """The CRR team's actions, done for real through the sandbox's control plane."""

    def __init__(self, control: ControlPlane) -> None:
        self.control = control
        self._plan_base: datetime | None = None  # the plan's base once set up in this scenario

    def fresh_start(self) -> bool:
        """Before every scenario: an empty sandbox with the plan set up, so each scenario
        passes alone, in any selection and any order (it sets up what it needs itself)."""
        self.control.reset()
        self._plan_base = None
        return True

    def setup_plan(self, base: datetime | None = None) -> None:
        # fresh_start already set the default plan up; only another base needs a new set-up
        if base is not None and base != self._plan_base:
            self.control.reset(base)
            self._plan_base = base

    def set_time(self, when: datetime) -> None:
        self.control.set_clock(when)

    def open_window(self, market: str) -> None:
        self.control.open_window(market)

    def close_window(self, market: str) -> None:
        self.control.close_window(market)

    def run_and_post(self, market: str) -> None:
        """Close if still open, then clear and post -- unless the results are already posted."""
        info = self.control.market(market)
        if info.get("posted"):
            return
        if info.get("status") == "OPEN":
            self.control.close_window(market)
        self.control.run_clearing(market)

    def publish(self, text: str, to: str | None = None) -> None:
        self.control.publish_message(text, to=to)

    def release_nodes(self, market: str, retire: list[str], island: list[str]) -> None:
        self.control.release_nodes(market, retire=retire, island=island)


class WaitingTeam:
    """Map-Stage (or any shared environment): wait for CAISO's CRR team to act."""

    def __init__(
        self,
        client: CRRClient,
        participant: str,
        timeout_s: float,
        interval_s: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.participant = participant
        self.timeout_s = timeout_s
        self.interval_s = interval_s
        self.sleep = sleep

    def status(self, market: str) -> str:
        response = self.client.get(
            MARKET_STATUS_PATH, params={"marketName": market, "participantName": self.participant}
        )
        response.raise_for_error()
        return status_of(response.json())

    def wait_for(self, market: str, wanted: tuple[str, ...], action: str) -> None:
        started = time.monotonic()
        deadline = started + self.timeout_s
        last = ""
        while True:
            last = self.status(market)
            if last in wanted:
                return
            # a wait of up to --wait-timeout is said as it goes (stderr: pytest's own output may be
            # captured in a log), so minutes of silence never look like a hang
            print(
                f"crrsim: waiting for the CRR team to {action} {market}: status {last or 'unknown'}, "
                f"{time.monotonic() - started:.0f} of {self.timeout_s:.0f} s (--wait-timeout)",
                file=sys.stderr,
                flush=True,
            )
            if time.monotonic() >= deadline:
                pytest.fail(
                    f"waited {self.timeout_s:.0f} s for the CRR team to {action} {market}, "
                    f"but its status is still {last or 'unknown'} (expected {' or '.join(wanted)}); "
                    "raise --wait-timeout or ask the CRR team about the schedule",
                    pytrace=False,
                )
            self.sleep(self.interval_s)

    def fresh_start(self) -> bool:
        """A shared environment is never reset: scenarios there take it as they find it."""
        return False

    def setup_plan(self, base: datetime | None = None) -> None:
        """The CRR team set the markets up before Market Sim; nothing to wait for."""

    def set_time(self, when: datetime) -> None:
        """Map-Stage runs on the real calendar: the step documents intent only."""

    def open_window(self, market: str) -> None:
        self.wait_for(market, ("OPEN",), "open the submission window of")

    def close_window(self, market: str) -> None:
        self.wait_for(market, ("CLOSED", "POSTED"), "close the submission window of")

    def run_and_post(self, market: str) -> None:
        self.wait_for(market, ("POSTED",), "run and post the results of")

    def publish(self, text: str, to: str | None = None) -> None:
        pytest.skip("only the sandbox can publish a scripted message; this scenario runs against the sandbox")

    def release_nodes(self, market: str, retire: list[str], island: list[str]) -> None:
        pytest.skip(
            "only the sandbox can release a source and sink list version on cue; on Map-Stage CAISO "
            "releases them on its own schedule (read them with the SOURCE_SINK download)"
        )
