"""One time budget shared by every step, so ``--timeout`` bounds the whole probe."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

MIN_STEP_S = 0.05  # never hand a step a zero/negative timeout: that means "no timeout" to some APIs


@dataclass
class Deadline:
    seconds: float
    start: float = field(default_factory=time.monotonic)

    def remaining(self) -> float:
        return max(MIN_STEP_S, self.seconds - (time.monotonic() - self.start))
