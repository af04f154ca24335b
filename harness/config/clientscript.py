"""The client check's script: its fault schedule, its rules' limits and the day's flow, as data.

One YAML (``clientcheck/typical-day.yaml`` ships with crrsim; ``crrsim client-check --script``
takes one's own) read by both sides of the check: the judging sandbox takes the schedule (which
fault on which call), the judge takes the limits and the flow. It lives here, below both, so
the two read one model and cannot disagree on a name or a default.

The record the judging sandbox writes per request (``Seen``) is here for the same reason: it
is the one format between the sandbox that watches and the judge that reads.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TypeAlias

import yaml

from harness.client.control import plan_day_time
from harness.contract.yaml12 import load_yaml_file

Kind: TypeAlias = Literal["read", "write"]
KINDS: tuple[Kind, ...] = ("read", "write")
# fault name -> when it acts: "before" the operation runs (nothing is done), "after" it ran
FAULT_TIMING: dict[str, Literal["before", "after"]] = {
    "retry-after": "before",
    "server-error": "before",
    "reset-after-commit": "after",
    "slow": "after",
    "unknown-field": "after",
    "large-ids": "after",
    "new-header": "after",
}
DRIFT_FAULTS = ("unknown-field", "large-ids", "new-header")


class ScriptError(ValueError):
    """A script that cannot be used; the message names the file and the entry."""


def kind_of(method: str) -> Kind:
    """The schedule's kind of a call: reads are GETs, everything else writes."""
    return "read" if method.upper() in ("GET", "HEAD") else "write"


@dataclass(frozen=True)
class PlannedFault:
    fault: str
    kinds: tuple[Kind, ...]
    operations: tuple[str, ...] = ()  # operationIds it waits for; empty: any call of its kinds

    def fits(self, kind: Kind, operation_id: str) -> bool:
        return kind in self.kinds and (not self.operations or operation_id in self.operations)


@dataclass(frozen=True)
class Schedule:
    seed: int = 7
    first: dict[str, int] = field(default_factory=lambda: {"read": 3, "write": 1})
    every: int = 2
    retry_after_s: int = 2
    slow_s: float = 3.0
    faults: tuple[PlannedFault, ...] = ()


@dataclass(frozen=True)
class Limits:
    min_tls: str = "TLSv1.2"
    max_new_connection_share: float = 0.5
    polls_per_minute: int = 12
    max_concurrency: int = 4
    max_resends_after_4xx: int = 0
    retry_after_tolerance_s: float = 0.2
    min_backoff_s: float = 0.5
    max_retries_after_500: int = 3
    min_timeout_s: float = 2.0
    immediate_resend_s: float = 1.0


@dataclass(frozen=True)
class FlowStep:
    step: str
    service: str
    operation: str


@dataclass(frozen=True)
class ClientScript:
    day: str = "week1.wednesday"
    schedule: Schedule = field(default_factory=Schedule)
    limits: Limits = field(default_factory=Limits)
    flow: tuple[FlowStep, ...] = ()
    source: str = ""  # the file it came from

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_yaml(self) -> str:
        """The script as a file ``parse_script`` reads back the same: what the judging sandbox
        is started with and what is kept beside the scorecard (an override such as --day in it)."""
        data = {k: v for k, v in self.to_dict().items() if k != "source"}
        return f"# the script this check ran with (from {self.source or 'code'})\n" + yaml.safe_dump(
            json.loads(json.dumps(data)), sort_keys=False
        )


@dataclass
class Seen:
    """One request as the judging sandbox saw it, and what it answered (a line of NDJSON)."""

    t0: float  # epoch seconds: the request's head arrived
    t1: float  # the answer was sent, the connection cut, or the client gone
    conn: int  # the TLS connection's number (1, 2, ...) in the order they sent a request
    tls: str  # "TLSv1.3"
    sni: str | None  # the server name the client asked for (None: it sent none)
    cert_cn: str | None
    cert_sha256: str | None
    method: str
    path: str
    query: dict[str, str]
    request_id: str | None  # the caiso-request-id header as sent
    content_type: str | None
    accept: str | None
    body_sha256: str | None  # of the raw body, when one was sent
    records_sha256: str | None  # of a JSON body without its portfolioName: "the same records"
    participant: str | None  # participantName, from the query or the body
    portfolio: str | None  # portfolioName, from the query or the body
    market: str | None  # marketName
    service: str | None  # None: no contract operation at this path
    operation: str | None
    kind: Kind
    inflight: int  # requests in flight on the sandbox when this one arrived, itself included
    status: int | None  # None: no answer (the connection was cut)
    error_code: str | None
    error: str | None  # the first error's description
    fault: str | None = None
    client_gone_after: float | None = None  # slow: the client closed the connection this late
    headers_added: list[str] = field(default_factory=list)

    @property
    def identity(self) -> tuple[str, str, tuple[tuple[str, str], ...], str | None]:
        """What makes two requests "the same request": method, path, query and body."""
        return (self.method, self.path, tuple(sorted(self.query.items())), self.body_sha256)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Seen:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def scripts_dir() -> Path:
    """``clientcheck/`` of a source checkout, or its copy inside an installed wheel."""
    checkout = Path(__file__).resolve().parents[2] / "clientcheck"
    return checkout if checkout.is_dir() else Path(__file__).resolve().parents[1] / "_plan" / "clientcheck"


DEFAULT_SCRIPT = "typical-day.yaml"


def load_script(path: Path | None = None) -> ClientScript:
    """The script at ``path``, or the one crrsim ships."""
    path = path or scripts_dir() / DEFAULT_SCRIPT
    if not path.is_file():
        raise ScriptError(
            f"{path}: no such file. The script crrsim ships is {scripts_dir() / DEFAULT_SCRIPT}; "
            f"to change it, copy it: cp {scripts_dir() / DEFAULT_SCRIPT} my-day.yaml"
        )
    data = load_yaml_file(path, ScriptError)
    return parse_script(data, str(path))


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ScriptError(f"{where}: expected a mapping")
    return value


def _known(data: dict[str, Any], cls: type, where: str) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ScriptError(f"{where}: unknown keys {unknown}; known: {sorted(names)}")
    return data


def _number(value: Any, where: str, kind: type, least: float = 0) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < least:
        raise ScriptError(f"{where}: expected a number of at least {least:g}, got {value!r}")
    if kind is int and value != int(value):
        raise ScriptError(f"{where}: expected a whole number, got {value!r}")
    return kind(value)


def parse_script(data: Any, source: str = "<script>") -> ClientScript:
    top = _known(_mapping(data, source), ClientScript, source)
    day = str(top.get("day", ClientScript.day))
    try:
        plan_day_time(day)
    except ValueError as exc:
        raise ScriptError(f"{source}: {exc}") from None
    return ClientScript(
        day=day,
        schedule=_schedule(_mapping(top.get("schedule"), f"{source}: schedule"), f"{source}: schedule"),
        limits=_limits(_mapping(top.get("limits"), f"{source}: limits"), f"{source}: limits"),
        flow=_flow(top.get("flow") or [], f"{source}: flow"),
        source=source,
    )


def _schedule(data: dict[str, Any], where: str) -> Schedule:
    _known(data, Schedule, where)
    default = Schedule()
    first = _mapping(data.get("first"), f"{where}.first") or default.first
    if set(first) - set(KINDS):
        raise ScriptError(f"{where}.first: kinds are {', '.join(KINDS)}")
    faults = []
    for i, entry in enumerate(data.get("faults") or []):
        at = f"{where}.faults[{i}]"
        entry = _mapping(entry, at)
        if set(entry) - {"fault", "kinds", "operations"}:
            raise ScriptError(f"{at}: unknown keys; known: fault, kinds, operations")
        name = entry.get("fault")
        if name not in FAULT_TIMING:
            raise ScriptError(f"{at}: fault must be one of {', '.join(FAULT_TIMING)}, got {name!r}")
        kinds = tuple(entry.get("kinds") or KINDS)
        if not set(kinds) <= set(KINDS):
            raise ScriptError(f"{at}: kinds are {', '.join(KINDS)}")
        if name in DRIFT_FAULTS + ("slow",) and "write" in kinds:
            raise ScriptError(f"{at}: {name} changes an answer a read gets; give kinds: [read]")
        faults.append(PlannedFault(name, kinds, tuple(str(o) for o in entry.get("operations") or ())))
    return Schedule(
        seed=_number(data.get("seed", default.seed), f"{where}.seed", int),
        first={k: _number(v, f"{where}.first.{k}", int, 1) for k, v in first.items()},
        every=_number(data.get("every", default.every), f"{where}.every", int, 1),
        retry_after_s=_number(
            data.get("retry_after_s", default.retry_after_s), f"{where}.retry_after_s", int, 1
        ),
        slow_s=_number(data.get("slow_s", default.slow_s), f"{where}.slow_s", float, 0.1),
        faults=tuple(faults),
    )


def _limits(data: dict[str, Any], where: str) -> Limits:
    _known(data, Limits, where)
    values: dict[str, Any] = {}
    for f in fields(Limits):
        if f.name not in data:
            continue
        if f.name == "min_tls":
            if data[f.name] not in ("TLSv1.2", "TLSv1.3"):
                raise ScriptError(f"{where}.min_tls: TLSv1.2 or TLSv1.3")
            values[f.name] = data[f.name]
        else:
            kind = int if isinstance(getattr(Limits, f.name, 0), int) else float
            values[f.name] = _number(data[f.name], f"{where}.{f.name}", kind)
    return Limits(**values)


def _flow(data: Any, where: str) -> tuple[FlowStep, ...]:
    if not isinstance(data, list):
        raise ScriptError(f"{where}: expected a list of steps")
    steps = []
    for i, entry in enumerate(data):
        entry = _known(_mapping(entry, f"{where}[{i}]"), FlowStep, f"{where}[{i}]")
        if not all(isinstance(entry.get(k), str) for k in ("step", "service", "operation")):
            raise ScriptError(f"{where}[{i}]: each step needs step, service and operation")
        steps.append(FlowStep(entry["step"], entry["service"], entry["operation"]))
    return tuple(steps)
