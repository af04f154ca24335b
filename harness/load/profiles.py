"""Load profiles: who does what (a weighted task mix) and how much over time (stages), as data.

A profile is a YAML file a team can copy and change; four ship with crrsim (``load/profiles``):
``steady``, ``ramp`` and ``soak`` are closed models (a number of users, each waiting a think
time between tasks); ``window-close`` is an arrival rate (open model), the shape a bidding
window's last minutes have. The command line scales a profile rather than replacing it:
``--users`` and ``--arrival-rate`` set its peak, ``--run-time`` its total length, and every
stage keeps its proportion.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.contract.yaml12 import load_yaml_file
from harness.load.shipped import shipped_file

TASKS = (
    "app_status",
    "market_status",
    "market_info",
    "portfolio_submit",
    "nomination_submit",
    "load_submission",
    "secondary_offer",
    "offer_response",
    "download",
    "messages",
)
MODELS = ("closed", "arrival")


class ProfileError(ValueError):
    """A profile that cannot run; the message names the file and the field."""


@dataclass(frozen=True)
class Stage:
    duration: float  # seconds
    users: int = 0  # closed model: users during the stage
    spawn_rate: float = 1.0  # closed model: users started per second
    rate: float = 0.0  # arrival model: requests per second (all processes together)


@dataclass(frozen=True)
class Profile:
    name: str
    model: str
    stages: tuple[Stage, ...]
    mix: dict[str, float]
    think_time: tuple[float, float] = (0.5, 2.0)
    pool: int = 100  # arrival model: users available to send the arrivals
    bids: tuple[int, int] = (1, 50)
    points: tuple[int, int] = (2, 5)
    description: str = ""

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.stages)

    @property
    def peak_users(self) -> int:
        return self.pool if self.model == "arrival" else max(s.users for s in self.stages)

    @property
    def peak_rate(self) -> float:
        return max(s.rate for s in self.stages)

    def scaled(
        self,
        users: int | None = None,
        spawn_rate: float | None = None,
        arrival_rate: float | None = None,
        run_time: float | None = None,
    ) -> Profile:
        """The same shape with its peak users or peak rate, its spawn rate and its length changed."""
        stages = list(self.stages)
        if run_time is not None:
            factor = run_time / self.duration
            stages = [replace(s, duration=s.duration * factor) for s in stages]
        pool = self.pool
        if users is not None:
            if self.model == "arrival":
                pool = users
            else:
                peak = max(s.users for s in stages)
                stages = [replace(s, users=max(1, math.ceil(s.users * users / peak))) for s in stages]
        if spawn_rate is not None:
            stages = [replace(s, spawn_rate=spawn_rate) for s in stages]
        if arrival_rate is not None:
            if self.model != "arrival":
                raise ProfileError(
                    f"profile {self.name} is a closed model (users); --arrival-rate needs an "
                    "arrival profile such as window-close"
                )
            peak_rate = max(s.rate for s in stages)
            stages = [replace(s, rate=s.rate * arrival_rate / peak_rate) for s in stages]
        return replace(self, stages=tuple(stages), pool=pool)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        return cls(
            name=data["name"],
            model=data["model"],
            stages=tuple(Stage(**s) for s in data["stages"]),
            mix=dict(data["mix"]),
            think_time=tuple(data["think_time"]),
            pool=data["pool"],
            bids=tuple(data["bids"]),
            points=tuple(data["points"]),
            description=data.get("description", ""),
        )


def profiles_dir() -> Path:
    """``load/profiles`` of a source checkout, or its copy inside an installed wheel."""
    checkout = Path(__file__).resolve().parents[2] / "load" / "profiles"
    return (
        checkout if checkout.is_dir() else Path(__file__).resolve().parents[1] / "_plan" / "load" / "profiles"
    )


def builtin_profiles() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in profiles_dir().glob("*.yaml")))


def load_profile(name_or_path: str) -> Profile:
    """A built-in profile by name, or a profile file of one's own."""
    path = Path(name_or_path)
    if not path.suffix:
        path = profiles_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            raise ProfileError(
                f"no profile named {name_or_path!r}; built in: {', '.join(builtin_profiles())} "
                "(or give a YAML file)"
            )
    path = shipped_file(path, profiles_dir(), "profile", ProfileError)
    data = load_yaml_file(path, ProfileError)
    return parse_profile(data, path.stem, str(path))


def _pair(
    data: dict[str, Any], key: str, default: tuple[Any, Any], where: str, kind: type
) -> tuple[Any, Any]:
    value = data.get(key, list(default))
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) for v in value)
        or value[0] > value[1]
        or value[0] < 0
    ):
        raise ProfileError(f"{where}: {key} must be [least, most], two numbers, least first")
    return kind(value[0]), kind(value[1])


def parse_profile(data: Any, name: str, where: str) -> Profile:
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: a profile is a mapping (model, stages, mix, ...)")
    model = data.get("model", "closed")
    if model not in MODELS:
        raise ProfileError(f"{where}: model must be one of {', '.join(MODELS)}, not {model!r}")
    raw_stages = data.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise ProfileError(f"{where}: stages must be a list of at least one stage")
    stages = []
    for n, raw in enumerate(raw_stages, start=1):
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("duration"), int | float)
            or raw["duration"] <= 0
        ):
            raise ProfileError(f"{where}: stage {n} needs a duration in seconds above 0")
        unknown = set(raw) - {"duration", "users", "spawn_rate", "rate"}
        if unknown:
            raise ProfileError(f"{where}: stage {n} has unknown keys {', '.join(sorted(unknown))}")
        if model == "closed" and not (isinstance(raw.get("users"), int) and raw["users"] >= 1):
            raise ProfileError(f"{where}: stage {n} of a closed profile needs users (1 or more)")
        if model == "arrival" and not (isinstance(raw.get("rate"), int | float) and raw["rate"] > 0):
            raise ProfileError(
                f"{where}: stage {n} of an arrival profile needs a rate above 0 (requests per second)"
            )
        stages.append(
            Stage(
                float(raw["duration"]),
                int(raw.get("users", 0)),
                float(raw.get("spawn_rate", 1.0)),
                float(raw.get("rate", 0.0)),
            )
        )
    mix = data.get("mix")
    if not isinstance(mix, dict) or not mix:
        raise ProfileError(f"{where}: mix must map tasks to weights ({', '.join(TASKS)})")
    unknown_tasks = [t for t in mix if t not in TASKS]
    if unknown_tasks:
        raise ProfileError(
            f"{where}: unknown tasks in mix: {', '.join(unknown_tasks)}; known: {', '.join(TASKS)}"
        )
    if not all(isinstance(w, int | float) and w >= 0 for w in mix.values()) or not sum(mix.values()):
        raise ProfileError(f"{where}: mix weights must be numbers, 0 or more, not all 0")
    portfolio = data.get("portfolio") or {}
    bids = _pair(portfolio, "bids", (1, 50), where, int)
    points = _pair(portfolio, "points", (2, 5), where, int)
    if bids[1] > 500 or bids[0] < 1:
        raise ProfileError(f"{where}: portfolio bids must lie between 1 and 500 (CAISO's limit per upload)")
    if points[0] < 2 or points[1] > 20:
        raise ProfileError(f"{where}: portfolio points must lie between 2 and 20 (a bid curve's limits)")
    pool = data.get("pool", 100)
    if not isinstance(pool, int) or pool < 1:
        raise ProfileError(f"{where}: pool must be a whole number of users, 1 or more")
    return Profile(
        name=name,
        model=model,
        stages=tuple(stages),
        mix={k: float(v) for k, v in mix.items()},
        think_time=_pair(data, "think_time", (0.5, 2.0), where, float),
        pool=pool,
        bids=bids,
        points=points,
        description=str(data.get("description", "")),
    )


@dataclass
class ArrivalSchedule:
    """When each arrival of an arrival profile is due, in seconds from the start: the stages'
    rates integrated, arrival k due when k arrivals have accrued. A process of ``processes``
    takes every ``processes``-th arrival from its ``index``, so together they keep the rate."""

    stages: tuple[Stage, ...]
    index: int = 0
    processes: int = 1
    _next: int = field(default=0, init=False)

    def due(self, k: int) -> float | None:
        """Seconds from the start when global arrival ``k`` (0-based) is due; None past the end."""
        start = 0.0
        accrued = 0.0
        for stage in self.stages:
            in_stage = stage.rate * stage.duration
            if k + 1 <= accrued + in_stage:
                return start + (k + 1 - accrued) / stage.rate
            accrued += in_stage
            start += stage.duration
        return None

    def next_due(self) -> float | None:
        """This process's next arrival time; None when the schedule is over."""
        k = self._next * self.processes + self.index
        self._next += 1
        return self.due(k)

    def expected(self, until: float) -> float:
        """Arrivals due (all processes) in the first ``until`` seconds."""
        total = 0.0
        start = 0.0
        for stage in self.stages:
            if until <= start:
                break
            total += stage.rate * (min(until, start + stage.duration) - start)
            start += stage.duration
        return total
