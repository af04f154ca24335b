"""Was this machine busy while the load ran? The share of one core a process got when it asked
for a whole one, sampled during the run by crrsim's own (otherwise idle) process.

A sandbox on this machine shares its cores with the load generator and with whatever else runs
here (a build, another test session, a browser). When those leave no core free, the sandbox's
answers wait for CPU and a latency SLO measures the machine, not the server. The sample: spin
for 20 ms and compare the CPU time this thread got with the wall time; a quiet machine, or one
with a core to spare, gives about 100%; four busy processes on two cores give about 40%.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

SAMPLE_S = 0.02  # one sample: 20 ms of spinning, taken about once a second (2% of one core)
BUSY_SHARE = 0.6  # below this median share of a core, the machine was too busy to judge latency


def core_share(sample_s: float = SAMPLE_S) -> float:
    """The share of one core this thread got while it wanted all of it for ``sample_s``."""
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    while time.perf_counter() - wall0 < sample_s:
        pass
    return min(1.0, (time.thread_time() - cpu0) / (time.perf_counter() - wall0))


@dataclass
class CoreShares:
    """The samples of one run; ``median`` is what the report states and judges by."""

    samples: list[float] = field(default_factory=list)

    def sample(self) -> None:
        self.samples.append(core_share())

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def busy(self) -> bool:
        return self.median is not None and self.median < BUSY_SHARE

    def explains(self, key: str, measured: float, limit: float) -> bool:
        """Whether the missing CPU alone can account for a breach: a latency that would be within
        its limit had the machine given a whole core (measured x share), or a throughput that
        would have reached its floor (measured / share). An error rate is never the machine's."""
        share = self.median
        if share is None or share <= 0:
            return False
        if key.endswith("_ms"):
            return measured * share <= limit
        if key == "min_rps":
            return measured / share >= limit
        return False

    def words(self) -> str:
        share = self.median
        if share is None:
            return "not measured"
        return (
            f"{share:.0%} of a core (median of {len(self.samples)} samples taken during the run; a quiet machine, "
            "or one with a core to spare, gives about 100%)"
        )
