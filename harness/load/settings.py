"""What one load run needs: the one config (target, identity, CA, contract) plus its own choices,
and the participants whose certificates the virtual users present."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.client.targets import TargetKind
from harness.config import CrrsimConfig
from harness.config.participants import Participant

SHARED_RATE = 20.0  # requests per second off the sandbox unless --max-rps says otherwise
RATE_CEILING = 200.0  # the most --max-rps allows on a shared environment (Map-Stage is not ours)


@dataclass
class LoadSettings:
    cfg: CrrsimConfig = field(default_factory=CrrsimConfig)
    profile: str = "steady"
    users: int | None = None
    spawn_rate: float | None = None
    arrival_rate: float | None = None
    run_time: float | None = None
    slo: Path | None = None
    processes: int = 1
    master: bool = False
    worker: bool = False
    master_host: str | None = None
    expect_workers: int = 1
    ui: bool = False
    allow_load: bool = False
    allow_trades: bool = (
        False  # accept offers off the sandbox: a trade moves CRR holdings and cannot be undone
    )
    abort_on_fail: bool = False  # stop as soon as a latency or error SLO is breached by enough samples
    max_rps: float | None = None  # None: unlimited on the sandbox, SHARED_RATE elsewhere
    participants: list[Participant] = field(default_factory=list)
    raw_dir: Path | None = None  # keep every raw latency too (to check the histograms against)
    kind: TargetKind | None = None  # the judged kind (``CrrsimConfig.judged_kind``); None: not judged

    @property
    def target_kind(self) -> TargetKind:
        """sandbox (embedded, or a URL that proved it is one) | production (by host, whatever the
        spelling) | shared (Map-Stage or any other URL)."""
        return self.kind or self.cfg.target_kind
