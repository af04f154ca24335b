"""SLOs as data, gated like k6 thresholds: per request name or pattern, latency percentiles,
maximum, error rate, minimum throughput and a minimum sample count, judged on the merged exact
histograms. A breach names the SLO, the measured value and the limit."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.contract.yaml12 import load_yaml_file
from harness.load.hdr import Recording, Tally
from harness.load.shipped import shipped_file

# SLO file key -> (what it limits, how to read it from a tally, whether the limit is a ceiling)
LIMITS: dict[str, tuple[str, str, bool]] = {
    "p50_ms": ("p50 latency", "ms", True),
    "p95_ms": ("p95 latency", "ms", True),
    "p99_ms": ("p99 latency", "ms", True),
    "max_ms": ("max latency", "ms", True),
    "error_rate": ("error rate", "", True),
    "min_rps": ("throughput", "req/s", False),
}


class SLOError(ValueError):
    """An SLO file that cannot be judged; the message names the file and the entry."""


@dataclass(frozen=True)
class SLO:
    name: str
    operation: str  # a request name or a pattern: "auction.portfolioCreation", "auction.*", "*"
    limits: dict[str, float]
    min_samples: int = 1

    def wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "operation": self.operation,
            "limits": self.limits,
            "min_samples": self.min_samples,
        }


@dataclass
class Verdict:
    slo: SLO
    ok: bool
    samples: int
    measured: dict[str, float] = field(default_factory=dict)
    breaches: list[str] = field(default_factory=list)  # one sentence per failed limit

    @property
    def message(self) -> str:
        if self.breaches:
            return "; ".join(self.breaches)
        return f"{_samples(self.samples)}; {'; '.join(self.sentences())}"

    def sentences(self) -> list[str]:
        """Each limit as a reader says it: "p95 latency 2,078 ms, limit 2,000 ms"."""
        return [
            f"{LIMITS[k][0]} {_fmt(k, v)}, limit {_fmt(k, self.slo.limits[k])}"
            for k, v in self.measured.items()
        ]


def _samples(count: int) -> str:
    return f"{count:,} sample{'' if count == 1 else 's'}"


def _fmt(key: str, value: float) -> str:
    """A figure with its unit, thousands grouped; whole milliseconds from 10 ms up."""
    if key == "error_rate":
        return f"{value:.2%}"
    if LIMITS[key][1] == "req/s":
        return f"{value:,.1f} req/s"
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


def slo_dir() -> Path:
    """``load/slo`` of a source checkout, or its copy inside an installed wheel."""
    checkout = Path(__file__).resolve().parents[2] / "load" / "slo"
    return checkout if checkout.is_dir() else Path(__file__).resolve().parents[1] / "_plan" / "load" / "slo"


def default_slo_file() -> Path:
    return slo_dir() / "default.yaml"


def load_slos(path: Path) -> list[SLO]:
    path = shipped_file(Path(path), slo_dir(), "SLO", SLOError)
    data = load_yaml_file(path, SLOError)
    return parse_slos(data, str(path))


def parse_slos(data: Any, where: str) -> list[SLO]:
    entries = data.get("slos") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise SLOError(f"{where}: expected 'slos:', a list of SLOs")
    out = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise SLOError(f"{where}: SLO {n} is not a mapping")
        unknown = set(entry) - {"name", "operation", "min_samples", *LIMITS}
        if unknown:
            raise SLOError(
                f"{where}: SLO {n} has unknown keys {', '.join(sorted(unknown))}; limits are "
                f"{', '.join(LIMITS)}"
            )
        limits = {k: entry[k] for k in LIMITS if k in entry}
        if not limits:
            raise SLOError(f"{where}: SLO {n} sets no limit ({', '.join(LIMITS)})")
        bad = [k for k, v in limits.items() if not isinstance(v, int | float) or isinstance(v, bool) or v < 0]
        if bad:
            raise SLOError(f"{where}: SLO {n}: {', '.join(bad)} must be numbers, 0 or more")
        min_samples = entry.get("min_samples", 1)
        if not isinstance(min_samples, int) or min_samples < 1:
            raise SLOError(f"{where}: SLO {n}: min_samples must be a whole number, 1 or more")
        operation = str(entry.get("operation", "*"))
        out.append(
            SLO(
                str(entry.get("name") or operation),
                operation,
                {k: float(v) for k, v in limits.items()},
                min_samples,
            )
        )
    return out


def measure(tally: Tally, key: str, duration_s: float) -> float:
    if key == "error_rate":
        return tally.errors / tally.count if tally.count else 0.0
    if key == "min_rps":
        return tally.count / duration_s if duration_s > 0 else 0.0
    if key == "max_ms":
        return tally.max_ms()
    return tally.percentile_ms(float(key[1:3]))


def evaluate(slos: list[SLO], recording: Recording, duration_s: float, final: bool = True) -> list[Verdict]:
    """Each SLO judged on the merged histograms of the request names it covers. ``final`` False
    (a run still going, for --abort-on-fail): only ceilings already crossed by enough samples
    count; too few samples or too little throughput so far are not breaches yet."""
    verdicts = []
    for slo in slos:
        tally = Tally()
        for name, op in recording.ops.items():
            if fnmatch.fnmatchcase(name, slo.operation):
                tally.merge(op)
        verdict = Verdict(slo, ok=True, samples=tally.count)
        if tally.count < slo.min_samples and final:
            verdict.ok = False
            verdict.breaches.append(
                f"{_samples(tally.count)} of {slo.operation}, "
                f"fewer than the {slo.min_samples:,} needed to judge it"
            )
        for key, limit in slo.limits.items():
            value = measure(tally, key, duration_s)
            verdict.measured[key] = value
            ceiling = LIMITS[key][2]
            if not ceiling and not final:
                continue
            if tally.count >= slo.min_samples and (value > limit if ceiling else value < limit):
                verdict.ok = False
                verdict.breaches.append(
                    f"{LIMITS[key][0]} {_fmt(key, value)}, {'above' if ceiling else 'below'} "
                    f"the limit of {_fmt(key, limit)}"
                )
        verdicts.append(verdict)
    return verdicts
