"""The structured Market Sim plan as data (``features/plan.yaml``): items, markets, calendar.

The plan file is the contract between the CPG deck and the feature files: every item must be
covered by a scenario tagged ``@plan:<id>`` or say why it is manual. Market aliases and the
calendar live here too so one file describes the whole plan and a team rehearsing it on other
dates or markets changes data, not steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

DAYS: tuple[str, ...] = ("connectivity", "monday", "tuesday", "wednesday", "thursday", "friday")
WEEKDAYS: tuple[str, ...] = DAYS[1:]


class PlanError(ValueError):
    """The plan file is missing or malformed; the message names the file and the entry."""


def plan_root() -> Path:
    """The folder holding ``features/`` and the step library ``scenarios/``: the source
    checkout's root, or ``harness/_plan`` inside an installed wheel (pyproject maps them there)."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "scenarios" / "plugin.py").is_file():
        return checkout
    return Path(__file__).resolve().parents[1] / "_plan"


def default_features_dir() -> Path:
    return plan_root() / "features"


def default_plan_file() -> Path:
    return default_features_dir() / "plan.yaml"


@dataclass(frozen=True)
class PlanItem:
    id: str
    week: int  # 0 = the connectivity phase before Market Sim
    day: str
    text: str
    manual: str | None = None  # reason the item is not automated

    @property
    def order(self) -> tuple[int, int]:
        return (self.week, DAYS.index(self.day))


@dataclass(frozen=True)
class PlanCalendar:
    week1_monday: date
    timezone: str = "America/Los_Angeles"

    def at(self, week: int, day: str, hhmm: str) -> datetime:
        """The instant "<day> <hh:mm> of week <n>" in the plan's market time zone."""
        day = day.lower()
        if day not in WEEKDAYS:
            raise PlanError(f"{day!r} is not a plan day (use one of {', '.join(WEEKDAYS)})")
        if week < 1:
            raise PlanError(f"week {week} is not a Market Sim week (weeks start at 1)")
        hour, minute = (int(x) for x in hhmm.split(":"))
        local_day = self.week1_monday + timedelta(days=7 * (week - 1) + WEEKDAYS.index(day))
        return datetime.combine(local_day, time(hour, minute), tzinfo=ZoneInfo(self.timezone))


@dataclass(frozen=True)
class Plan:
    items: tuple[PlanItem, ...]
    markets: dict[str, str] = field(default_factory=dict)  # alias -> market name
    calendar: PlanCalendar = field(default_factory=lambda: PlanCalendar(date(2026, 2, 2)))
    path: Path | None = None
    nomination_cap_calc: str = "NOMCAP_{market}"

    def item(self, item_id: str) -> PlanItem | None:
        return next((i for i in self.items if i.id == item_id), None)


def _item(raw: Any, where: str) -> PlanItem:
    if not isinstance(raw, dict):
        raise PlanError(f"{where}: each item must be a mapping with id, week, day and text")
    missing = [k for k in ("id", "week", "day", "text") if k not in raw]
    if missing:
        raise PlanError(f"{where}: item {raw.get('id', '?')} lacks {', '.join(missing)}")
    day = str(raw["day"]).lower()
    if day not in DAYS:
        raise PlanError(f"{where}: item {raw['id']} has day {day!r}; use one of {', '.join(DAYS)}")
    manual = raw.get("manual")
    if manual is not None and not str(manual).strip():
        raise PlanError(f"{where}: item {raw['id']} is manual without a reason")
    return PlanItem(str(raw["id"]), int(raw["week"]), day, str(raw["text"]), str(manual) if manual else None)


def load_plan(path: Path | None = None) -> Plan:
    path = Path(path) if path else default_plan_file()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise PlanError(f"cannot read the plan file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise PlanError(f"the plan file {path} is not valid YAML: {exc}") from None
    items = tuple(_item(raw, f"{path} item {n + 1}") for n, raw in enumerate(data.get("items") or []))
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise PlanError(f"{path}: plan item {item.id} appears twice")
        seen.add(item.id)
    cal = data.get("calendar") or {}
    calendar = PlanCalendar(
        date.fromisoformat(str(cal.get("week1_monday", "2026-02-02"))),
        str(cal.get("timezone", "America/Los_Angeles")),
    )
    markets = {str(k): str(v) for k, v in (data.get("markets") or {}).items()}
    return Plan(
        items=items,
        markets=markets,
        calendar=calendar,
        path=path,
        nomination_cap_calc=str(data.get("nomination_cap_calc", "NOMCAP_{market}")),
    )


class RunnerError(RuntimeError):
    """The step library cannot be found (e.g. crrsim installed without its source tree)."""


def step_library_root() -> Path:
    root = plan_root()
    if not (root / "scenarios" / "plugin.py").is_file():
        raise RunnerError(f"the step library (scenarios/) is missing from {root}: reinstall crrsim")
    return root
