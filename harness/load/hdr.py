"""Exact latency recording: HDR histograms per request name and per time interval, encoded to
strings so locust workers can ship them to the master (``report_to_master``/``worker_report``)
and merged there without losing precision. Shared by the locustfile (which records) and the
runner (which judges), so both read the same numbers.

Latencies are microseconds, 1 us to 1 h at 3 significant digits: a p99 from a merged histogram
is within 0.1% of the p99 of the raw values it was recorded from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
DIGITS = 3


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


def record(hist: HdrHistogram, seconds: float) -> None:
    hist.record_value(min(HIGHEST_US, max(LOWEST_US, round(seconds * 1_000_000))))


LATE_S = 0.1  # an arrival sent later than this after its intended time waited for a free user


@dataclass
class Tally:
    """One request name's (or one interval's) latencies and counts."""

    hist: HdrHistogram = field(default_factory=new_histogram)
    count: int = 0
    errors: int = 0
    arrivals: int = 0  # arrival model: requests that were due in this interval
    late: int = 0  # of those, sent more than LATE_S after their intended time (no user was free)
    users: int = 0  # users running at the interval's last report (the largest seen)
    examples: list[str] = field(default_factory=list)  # a few error messages, for the report

    def add_sample(self, seconds: float, error: str | None = None) -> None:
        record(self.hist, seconds)
        self.count += 1
        if error is not None:
            self.errors += 1
            if len(self.examples) < 3 and error not in self.examples:
                self.examples.append(error)

    def merge(self, other: Tally) -> None:
        self.hist.add(other.hist)
        self.count += other.count
        self.errors += other.errors
        self.arrivals += other.arrivals
        self.late += other.late
        self.users = max(self.users, other.users)
        self.examples += [e for e in other.examples if e not in self.examples][: 3 - len(self.examples)]

    def percentile_ms(self, pct: float) -> float:
        return self.hist.get_value_at_percentile(pct) / 1000 if self.count else 0.0

    def max_ms(self) -> float:
        return self.hist.get_max_value() / 1000 if self.count else 0.0

    def to_wire(self) -> dict[str, Any]:
        return {
            "hist": self.hist.encode().decode("ascii"),
            "count": self.count,
            "errors": self.errors,
            "arrivals": self.arrivals,
            "late": self.late,
            "users": self.users,
            "examples": self.examples,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Tally:
        hist = HdrHistogram.decode(data["hist"].encode("ascii")) if data.get("count") else new_histogram()
        return cls(
            hist=hist,
            count=int(data["count"]),
            errors=int(data["errors"]),
            arrivals=int(data.get("arrivals", 0)),
            late=int(data.get("late", 0)),
            users=int(data.get("users", 0)),
            examples=list(data.get("examples", [])),
        )


@dataclass
class Recording:
    """What one process (or, merged, the whole run) recorded: per request name, per interval."""

    ops: dict[str, Tally] = field(default_factory=dict)
    buckets: dict[int, Tally] = field(default_factory=dict)  # interval index -> all requests in it
    writes: list[dict[str, Any]] = field(default_factory=list)  # acknowledged writes, for the integrity check

    def op(self, name: str) -> Tally:
        """The tally of request ``name``, made on first use only: ``setdefault(name, Tally())``
        built (and threw away) two HDR histograms of ~184 KB on every request, a third of the
        generator's CPU per request."""
        tally = self.ops.get(name)
        if tally is None:
            tally = self.ops[name] = Tally()
        return tally

    def bucket(self, index: int) -> Tally:
        """The tally of interval ``index``, made on first use only (see ``op``)."""
        tally = self.buckets.get(index)
        if tally is None:
            tally = self.buckets[index] = Tally()
        return tally

    def add(self, name: str, bucket: int, seconds: float, error: str | None = None) -> None:
        self.op(name).add_sample(seconds, error)
        self.bucket(bucket).add_sample(seconds, error)

    def merge(self, other: Recording) -> None:
        for name, tally in other.ops.items():
            self.op(name).merge(tally)
        for index, tally in other.buckets.items():
            self.bucket(index).merge(tally)
        self.writes += other.writes

    def to_wire(self) -> dict[str, Any]:
        """A snapshot: a worker clears its recording right after handing this to locust, before
        locust sends it, so nothing in it may share a list with the recording (the writes once
        did, and every worker's acknowledged writes reached the master empty: 0 of 0 read back)."""
        return {
            "ops": {k: v.to_wire() for k, v in self.ops.items()},
            "buckets": {str(k): v.to_wire() for k, v in self.buckets.items()},
            "writes": [dict(w) for w in self.writes],
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Recording:
        return cls(
            ops={k: Tally.from_wire(v) for k, v in data.get("ops", {}).items()},
            buckets={int(k): Tally.from_wire(v) for k, v in data.get("buckets", {}).items()},
            writes=list(data.get("writes", [])),
        )

    def total(self) -> Tally:
        out = Tally()
        for tally in self.ops.values():
            out.merge(tally)
        return out
