"""One fuzz run's state: what its stateful checks and hooks share, on an object built per run.

Nothing here is a module global: ``run_fuzz`` builds a ``FuzzRun`` from its settings and hands
it to schemathesis through the project config (``[checks.<name>] run = ...``, the keyword
arguments schemathesis gives a check class when it builds one per engine run). The global
``before_call``/``after_call`` hooks (schemathesis has no per-schema ``before_call``) find it the
same way, through the case's own schema. Two runs in one process share nothing.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from harness.client import CRRClient
from harness.contract.wire import REQUEST_ID_HEADER, is_request_id
from harness.fuzz.bodies import Break, confine, make_valid
from harness.fuzz.compare import Comparison
from harness.fuzz.live import LiveValues

ORACLE_CALLS_PER_OPERATION = (
    3  # the second-identity oracle re-sends at most this many calls of each operation
)
READBACKS_PER_OPERATION = 5  # read-backs and owner checks per operation
UNBROKEN_PER_RULE = 5  # re-sends without the break, per rule, that show a refusal was about it


class BudgetSpent(Exception):
    """The run's request budget is spent: the case is not sent."""


@dataclass
class FuzzRun:
    """The run's limits, oracles and tallies. Check objects and hooks read and update it; the
    runner reads the figures back for the report."""

    # limits: a request budget, a stop at the first server error, the engine stream to stop
    budget: int | None = None
    stop_on_5xx: bool = False
    sent: int = 0
    stopped: str = ""
    stop_after_scenario: str = ""
    timeouts_in_row: int = 0
    stream: Any = None
    # the live values that make big bodies valid (harness.fuzz.live); the run's own portfolio
    # names when writes are confined to them (a shared environment)
    live: LiveValues | None = None
    confined: tuple[str, ...] = ()
    # case id -> the one business rule its upload breaks on purpose (harness.fuzz.bodies); the
    # check pops each entry. rule -> [refused for it, refused without it too, accepted]
    broken: dict[str, Break] = field(default_factory=dict)
    broken_tally: dict[str, list[int]] = field(default_factory=dict)
    # the second identity's client (another participant's certificate) and the operations that
    # act for an SC ID, for the isolation oracle
    oracle: CRRClient | None = None
    oracle_labels: frozenset[str] = frozenset()
    oracle_sent: Counter[str] = field(default_factory=Counter)
    # the participant's own client for the read-back and owner oracles: per creation label the
    # path of the service's portfolio read and the creation's record lists; the submit/retract labels
    own: CRRClient | None = None
    readback_gets: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    owner_labels: frozenset[str] = frozenset()
    readback_sent: Counter[str] = field(default_factory=Counter)
    # differential mode (harness.fuzz.compare): the reference every read is sent to again
    comparison: Comparison | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def stop(self, reason: str) -> None:
        """End the run at the engine's next step; the first reason is the one the report gives."""
        if not self.stopped:
            self.stopped = reason
        if self.stream is not None:
            self.stream.stop()

    def take_turn(self, sent: Counter[str], label: str, limit: int) -> bool:
        """Whether an oracle may re-send a call of ``label`` once more; counts it when it may."""
        with self.lock:
            if sent[label] >= limit:
                return False
            sent[label] += 1
            return True

    def before_call(self, case: Any) -> None:
        """The budget; live values bound and big bodies made valid (one rule broken on purpose in
        some); writes confined to the run's names; a fresh caiso-request-id for every call whose
        id is well formed (the examples and coverage phases reuse one), malformed ones left alone."""
        if self.budget is not None:
            with self.lock:
                if self.sent >= self.budget:
                    self.stop(f"the request budget of {self.budget} was spent")
                    raise BudgetSpent(f"request budget of {self.budget} spent")
                self.sent += 1
        if self.live is not None:
            self.live.bind(case)
            broken = make_valid(case, self.live)
            if broken is not None:
                self.broken[str(case.id)] = broken
        if self.confined:
            confine(case, self.confined)
        headers = case.headers
        if headers is None:
            return
        for name in list(headers):
            if (
                name.lower() == REQUEST_ID_HEADER
                and isinstance(headers[name], str)
                and is_request_id(headers[name])
            ):
                headers[name] = str(uuid.uuid4())

    def after_call(self, case: Any, response: Any) -> None:
        if self.comparison is not None and case.method.upper() == "GET":
            self.comparison.compare(case, response)
        if self.stop_on_5xx and response.status_code >= 500 and not self.stop_after_scenario:
            # not now: the engine would drop the scenario under way, and with it the very check
            # results that make this server error a failure; the runner stops once it is recorded
            self.stop_after_scenario = f"the first server error (HTTP {response.status_code} from {case.operation.label}) stopped the run"


RUN_KEY = "run"  # the keyword every stateful check takes, and where the hooks find the run


def run_of(case: Any, names: tuple[str, ...]) -> FuzzRun | None:
    """The run a case belongs to, through its schema's own config (None outside a crrsim run)."""
    configured = case.operation.schema.config.checks.custom_kwargs
    for name in names:
        run = configured.get(name, {}).get(RUN_KEY)
        if isinstance(run, FuzzRun):
            return run
    return None


def config_for(run: FuzzRun, names: tuple[str, ...]) -> dict[str, dict[str, FuzzRun]]:
    """The ``checks`` table of a schemathesis project config that hands ``run`` to each check."""
    return {name: {RUN_KEY: run} for name in names}
