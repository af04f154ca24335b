"""What the main job tells whoever watches it, as events: a part started, moved on, finished.

The job only emits events; how they look is the caller's choice. ``LineProgress`` writes one
plain line per event (CI logs, pipes); the CLI draws rich's live bars on a terminal from the
same events (``harness.cli.marketsim``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Progress(Protocol):
    def started(self, part: str, total: float | None = None, unit: str = "") -> None:
        """A part began; ``total`` units of work (participants, scenarios, operations, seconds)."""

    def advanced(self, part: str, completed: float, figures: str = "") -> None:
        """``completed`` units done so far; ``figures`` the live counts in words."""

    def finished(self, part: str, verdict: str, figures: str, seconds: float, ok: bool) -> None:
        """The part's verdict (``ok``: it passed), its counts in words and its wall time."""

    def say(self, text: str) -> None:
        """Anything else worth a line (the sandbox started, a part was left out)."""


class LineProgress:
    """One line per event; the live counts of a long part at most every ``every`` seconds."""

    def __init__(self, write: Callable[[str], None] = print, every: float = 5.0) -> None:
        self.write, self.every = write, every
        self._totals: dict[str, tuple[float | None, str]] = {}
        self._last: dict[str, float] = {}

    def started(self, part: str, total: float | None = None, unit: str = "") -> None:
        self._totals[part] = (total, unit)
        self._last[part] = time.monotonic()
        self.write(f"{part}: started" + (f" ({total:g} {unit})" if total else ""))

    def advanced(self, part: str, completed: float, figures: str = "") -> None:
        now = time.monotonic()
        if now - self._last.get(part, 0.0) < self.every:
            return
        self._last[part] = now
        total, unit = self._totals.get(part, (None, ""))
        done = f"{completed:g} of {total:g} {unit}" if total else f"{completed:g} {unit}".strip()
        self.write(f"{part}: {done}" + (f"; {figures}" if figures else ""))

    def finished(self, part: str, verdict: str, figures: str, seconds: float, ok: bool) -> None:
        self.write(f"{part}: {verdict} ({figures}; {seconds:.1f} s)")

    def say(self, text: str) -> None:
        self.write(text)
