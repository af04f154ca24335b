"""Historical and forecast load: submission windows, the load calendar (Pacific time, NERC
holidays, on/off-peak hours), hourly records, exceedance values and the forecast check.

The rules behind the historical_forecasted_load service, on plain values: connections, windows,
records and instants in, values or a CRRError out."""

from __future__ import annotations

import json
import math
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from harness.sandbox.domain.windows import scheduled_status
from harness.sandbox.errors import CRRError
from harness.sandbox.timefmt import iso, parse

SERVICE = "historical_forecasted_load"


PACIFIC = ZoneInfo("America/Los_Angeles")


MSS_PARTICIPANTS = frozenset({"SCAL"})


EXCEEDANCE_FRACTION = 0.005  # the level exceeded by 0.5% of the hours


FORECAST_TOLERANCE = 0.05


MAX_REPORTED_ERRORS = 100


LOAD_SINKS = ("DLAP_PGAE-APND", "DLAP_SCE-APND", "DLAP_SDGE-APND", "DLAP_VEA-APND")


def nerc_holidays(year: int) -> set[date]:
    """NERC off-peak holidays; a Sunday holiday moves to Monday."""

    def nth_weekday(month: int, weekday: int, n: int) -> date:
        d = date(year, month, 1)
        d += timedelta(days=(weekday - d.weekday()) % 7)
        return d + timedelta(weeks=n - 1)

    def last_monday_may() -> date:
        d = date(year, 5, 31)
        return d - timedelta(days=d.weekday())

    fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 12, 25)]
    days = {d + timedelta(days=1) if d.weekday() == 6 else d for d in fixed}
    days |= {last_monday_may(), nth_weekday(9, 0, 1), nth_weekday(11, 3, 4)}
    return days


def local_date(instant: datetime) -> date:
    """Operating day of an effective date: midnight-UTC values are read as plain dates."""
    instant = instant.astimezone(UTC)
    if (instant.hour, instant.minute, instant.second) == (0, 0, 0):
        return instant.date()
    return instant.astimezone(PACIFIC).date()


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=PACIFIC).astimezone(UTC)


def hours_in_day(day: date) -> int:
    return round((local_midnight(day + timedelta(days=1)) - local_midnight(day)).total_seconds() / 3600)


def tou_of(day: date, hour_ending: int) -> str:
    if day.weekday() == 6 or day in nerc_holidays(day.year):
        return "OFF"
    return "ON" if 7 <= hour_ending <= 22 else "OFF"


def month_period(year: int, month: int) -> tuple[str, datetime, datetime]:
    start = date(year, month, 1)
    end = date(year + (month == 12), month % 12 + 1, 1)
    return f"{year}_M{month:02d}", local_midnight(start), local_midnight(end)


def season_periods(year: int) -> list[tuple[str, datetime, datetime]]:
    out = []
    for q in range(4):
        start = date(year, 3 * q + 1, 1)
        end = date(year + (q == 3), (3 * q + 3) % 12 + 1, 1)
        out.append((f"{year}_S{q + 1:02d}", local_midnight(start), local_midnight(end)))
    return out


def window_status(open_date: datetime, close_date: datetime, override: str | None, now: datetime) -> str:
    return scheduled_status(now, ((open_date, "CLOSED"), (close_date, "OPEN")), "CLOSED", override)


@dataclass(frozen=True)
class Window:
    name: str
    flag: str
    term: str
    open_date: datetime
    close_date: datetime
    periods: tuple[tuple[str, datetime, datetime], ...]
    reference_window: str | None
    status_override: str | None

    def status(self, now: datetime) -> str:
        return window_status(self.open_date, self.close_date, self.status_override, now)

    def period(self, name: str) -> tuple[str, datetime, datetime] | None:
        return next((p for p in self.periods if p[0] == name), None)

    def to_contract(self, now: datetime) -> dict[str, Any]:
        return {
            "name": self.name,
            "histForecastFlag": self.flag,
            "term": self.term,
            "submissionWindow": {"openDate": iso(self.open_date), "closeDate": iso(self.close_date)},
            "periods": [{"name": n, "startDate": iso(s), "endDate": iso(e)} for n, s, e in self.periods],
            "windowStatus": self.status(now),
        }


def _window(row: sqlite3.Row) -> Window:
    return Window(
        name=row["name"],
        flag=row["flag"],
        term=row["term"],
        open_date=parse(row["open_date"]),
        close_date=parse(row["close_date"]),
        periods=tuple((n, parse(s), parse(e)) for n, s, e in json.loads(row["periods"])),
        reference_window=row["reference_window"],
        status_override=row["status_override"],
    )


def save_window(conn: sqlite3.Connection, w: Window) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO hfl_windows(name, flag, term, open_date, close_date, periods,"
        " reference_window, status_override) VALUES (?,?,?,?,?,?,?,?)",
        (
            w.name,
            w.flag,
            w.term,
            iso(w.open_date),
            iso(w.close_date),
            json.dumps([[n, iso(s), iso(e)] for n, s, e in w.periods]),
            w.reference_window,
            w.status_override,
        ),
    )


def get_window(conn: sqlite3.Connection, name: str) -> Window | None:
    row = conn.execute("SELECT * FROM hfl_windows WHERE name = ?", (name,)).fetchone()
    return None if row is None else _window(row)


def require_window(conn: sqlite3.Connection, name: str) -> Window:
    window = get_window(conn, name)
    if window is None:
        raise CRRError("LHFV0030", name)
    return window


def all_windows(conn: sqlite3.Connection) -> list[Window]:
    return [_window(r) for r in conn.execute("SELECT * FROM hfl_windows ORDER BY open_date, name")]


def set_window_status(conn: sqlite3.Connection, name: str, status: str | None) -> None:
    """Operator pin (OPEN/CLOSED) or None to follow the clock again."""
    require_window(conn, name)
    conn.execute("UPDATE hfl_windows SET status_override = ? WHERE name = ?", (status, name))


def calendar(conn: sqlite3.Connection, now: datetime) -> list[tuple[str, datetime, str]]:
    """(event key, instant, notice) for every transition of the load windows (domain.calendar)."""
    kinds = {"H": "historical", "F": "forecast"}
    events = []
    for w in all_windows(conn):
        kind = kinds[w.flag]
        events.append(
            (f"hfl:{w.name}:opened", w.open_date, f"The {kind} load submission window {w.name} is open.")
        )
        events.append(
            (f"hfl:{w.name}:closed", w.close_date, f"The {kind} load submission window {w.name} is closed.")
        )
    return events


Records = list[list[Any]]  # [sink, effectiveISO, he, dataType, mw_milli, tou]


def hourly_net_load(records: Records) -> dict[tuple[str, str], list[int]]:
    """MW (milli) per sink and TOU per hour: FINAL_LOAD, else gross load minus gross generation."""
    per_hour: dict[tuple[str, str, int], dict[str, int]] = defaultdict(dict)
    tou_of_key: dict[tuple[str, str, int], str] = {}
    for sink, eff, he, data_type, milli, tou in records:
        key = (sink, eff, he)
        per_hour[key][data_type] = milli
        tou_of_key[key] = tou
    series: dict[tuple[str, str], list[int]] = defaultdict(list)
    for key, values in per_hour.items():
        if "FINAL_LOAD" in values:
            net = values["FINAL_LOAD"]
        else:
            net = max(0, values.get("GROSS_LOAD", 0) - values.get("GROSS_GENERATION", 0))
        series[(key[0], tou_of_key[key])].append(net)
    return series


def exceedance(values: list[int]) -> tuple[int, int]:
    """(max, level exceeded by EXCEEDANCE_FRACTION of the hours), nearest rank."""
    ordered = sorted(values, reverse=True)
    rank = min(len(ordered) - 1, math.floor(EXCEEDANCE_FRACTION * len(ordered)))
    return ordered[0], ordered[rank]


def exceedance_of_records(records: Records) -> dict[tuple[str, str], tuple[int, int]]:
    return {key: exceedance(vals) for key, vals in hourly_net_load(records).items() if vals}


def submission(conn: sqlite3.Connection, window: str, period: str, owner: str) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT * FROM hfl_submissions WHERE window = ? AND period = ? AND owner = ?", (window, period, owner)
    ).fetchone()


def save_submission(
    conn: sqlite3.Connection,
    window: str,
    period: str,
    owner: str,
    status: str,
    now: datetime,
    error_messages: str | None,
    records: Any,
) -> sqlite3.Row:
    """``owner``'s one submission for a window's period, replaced by each new one."""
    conn.execute(
        "INSERT INTO hfl_submissions(window, period, owner, status, submitted_at, error_messages, records)"
        " VALUES (?,?,?,?,?,?,?) ON CONFLICT(window, period, owner) DO UPDATE SET status = excluded.status,"
        " submitted_at = excluded.submitted_at, error_messages = excluded.error_messages,"
        " records = excluded.records",
        (window, period, owner, status, iso(now), error_messages, json.dumps(records)),
    )
    row = submission(conn, window, period, owner)
    assert row is not None  # written just above, in the same transaction
    return row


def limits_for(
    conn: sqlite3.Connection, window: Window, period: str, owner: str
) -> tuple[dict[tuple[str, str], tuple[int, int]], str | None]:
    """Exceedance values (per sink, TOU) that apply to ``owner`` in a window's period, and when computed."""
    if window.flag == "H":
        row = submission(conn, window.name, period, owner)
        if row is None:
            return {}, None
        return exceedance_of_records(json.loads(row["records"])), row["submitted_at"]
    if window.reference_window:
        ref = get_window(conn, window.reference_window)
        if ref is not None:
            index = [p[0] for p in window.periods].index(period)
            if index < len(ref.periods):
                found, when = limits_for(conn, ref, ref.periods[index][0], owner)
                if found:
                    return found, when
    rows = conn.execute(
        "SELECT * FROM hfl_reference WHERE owner = ? AND period = ? ORDER BY sink, tou", (owner, period)
    ).fetchall()
    limits = {(r["sink"], r["tou"]): (r["max_milli"], r["exceedance_milli"]) for r in rows}
    return limits, (max(r["calculated_at"] for r in rows) if rows else None)


def forecast_violations(
    records: Records, limits: dict[tuple[str, str], tuple[int, int]], owner: str
) -> list[str]:
    """One sentence per sink and TOU whose worst forecast hour is above exceedance plus tolerance."""
    worst: dict[tuple[str, str], tuple[int, str, int]] = {}
    per_hour: defaultdict[tuple[str, str, int, str], dict[str, int]] = defaultdict(dict)
    for sink, eff, he, data_type, milli, tou in records:
        per_hour[(sink, eff, he, tou)][data_type] = milli
    for (sink, eff, he, tou), values in per_hour.items():
        net = values.get(
            "FINAL_LOAD", max(0, values.get("GROSS_LOAD", 0) - values.get("GROSS_GENERATION", 0))
        )
        if (sink, tou) in limits and net > worst.get((sink, tou), (-1, "", 0))[0]:
            worst[(sink, tou)] = (net, eff, he)
    messages = []
    for (sink, tou), (net, eff, he) in sorted(worst.items()):
        limit = limits[(sink, tou)][1]
        if net > limit * (1 + FORECAST_TOLERANCE):
            day = local_date(parse(eff)).strftime("%m/%d/%Y")
            messages.append(
                f"{owner} forecast for {sink} ({tou} peak) reaches {net / 1000:.3f} MW on {day} hour ending {he}, "
                f"more than 5 percent above its exceedance value of {limit / 1000:.3f} MW."
            )
    return messages


def validate_records(
    window: Window, period: tuple[str, datetime, datetime], owner: str, hourly: list[dict[str, Any]]
) -> tuple[Records, list[CRRError]]:
    """Normalised records and the per-record errors (record numbers are 1-based)."""
    from harness.sandbox.domain import network

    errors: list[CRRError] = []
    records: Records = []
    seen: set[tuple[str, str, int, str]] = set()
    first_day, last_day = local_date(period[1]), local_date(period[2]) - timedelta(days=1)
    for n, rec in enumerate(hourly, start=1):
        sink, data_type, he = rec["sinkName"], rec["dataType"], int(rec["hourEnding"])
        eff = parse(str(rec["effectiveDate"]))
        day = local_date(eff)
        node = network.node(sink)
        if data_type != "FINAL_LOAD" and owner not in MSS_PARTICIPANTS:
            errors.append(CRRError("LHFV0026", n))
        if node is None or node.type != "LAP":
            errors.append(
                CRRError("SER0030", f"Record {n}: {sink} is not a load sink in the CRR network model.")
            )
        if not first_day <= day <= last_day:
            errors.append(
                CRRError("SER0030", f"Record {n}: effective date {iso(eff)} is outside period {period[0]}.")
            )
        elif he > hours_in_day(day):
            errors.append(
                CRRError("SER0030", f"Record {n}: {day.isoformat()} has only {hours_in_day(day)} hours.")
            )
        key = (sink, day.isoformat(), he, data_type)
        if key in seen:
            errors.append(
                CRRError(
                    "SER0030", f"Record {n} repeats {sink} {day.isoformat()} hour ending {he} {data_type}."
                )
            )
        seen.add(key)
        mw = rec["mw"]
        records.append(
            [sink, iso(local_midnight(day)), he, data_type, round(float(mw) * 1000), tou_of(day, he)]
        )
    return records, errors


def window_and_period(conn: sqlite3.Connection, name: str, period: str) -> Window:
    window = require_window(conn, name)
    if window.period(period) is None:
        raise CRRError("LHFV0031", period)
    return window


def status_obj(row: sqlite3.Row) -> dict[str, Any]:
    out = {"status": row["status"], "submissionTime": row["submitted_at"]}
    if row["error_messages"]:
        out["errorMessages"] = row["error_messages"]
    return out


PLAN_PARTICIPANTS = ("ECAL", "WCAL", "NCAL", "SCAL", "YCAL")


def plan_windows(now: datetime) -> list[Window]:
    """Open windows for next month, closed ones for this month, and a future annual pair."""
    today = now.astimezone(PACIFIC).date()
    nxt = date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    day = timedelta(days=1)
    hist_next = f"HIST_LOAD_{nxt.year}_M{nxt.month:02d}"
    hist_this = f"HIST_LOAD_{today.year}_M{today.month:02d}"
    annual = today.year + 1
    return [
        Window(
            hist_next,
            "H",
            "MONTHLY",
            now - day,
            now + 7 * day,
            (month_period(nxt.year - 1, nxt.month),),
            None,
            None,
        ),
        Window(
            f"FCST_LOAD_{nxt.year}_M{nxt.month:02d}",
            "F",
            "MONTHLY",
            now - day,
            now + 7 * day,
            (month_period(nxt.year, nxt.month),),
            hist_next,
            None,
        ),
        Window(
            hist_this,
            "H",
            "MONTHLY",
            now - 40 * day,
            now - 20 * day,
            (month_period(today.year - 1, today.month),),
            None,
            None,
        ),
        Window(
            f"FCST_LOAD_{today.year}_M{today.month:02d}",
            "F",
            "MONTHLY",
            now - 40 * day,
            now - 20 * day,
            (month_period(today.year, today.month),),
            hist_this,
            None,
        ),
        Window(
            f"HIST_LOAD_{annual}_ANNUAL",
            "H",
            "ANNUAL",
            now + 30 * day,
            now + 45 * day,
            tuple(season_periods(annual - 1)),
            None,
            None,
        ),
        Window(
            f"FCST_LOAD_{annual}_ANNUAL",
            "F",
            "ANNUAL",
            now + 30 * day,
            now + 45 * day,
            tuple(season_periods(annual)),
            f"HIST_LOAD_{annual}_ANNUAL",
            None,
        ),
    ]


def seed_reference(conn: sqlite3.Connection, windows: list[Window], now: datetime) -> None:
    """Exceedance values the forecast check falls back to (a stand-in for the CEC-adjusted load)."""
    for w in windows:
        if w.flag != "F":
            continue
        for p_index, (period, _, _) in enumerate(w.periods):
            for o_index, owner in enumerate(PLAN_PARTICIPANTS):
                for s_index, sink in enumerate(LOAD_SINKS):
                    base = 400_000 + 50_000 * s_index + 25_000 * o_index + 10_000 * p_index
                    for tou, factor in (("ON", 1.0), ("OFF", 0.8)):
                        ex = int(base * factor)
                        conn.execute(
                            "INSERT OR REPLACE INTO hfl_reference VALUES (?,?,?,?,?,?,?)",
                            (owner, period, sink, tou, int(ex * 1.1), ex, iso(now)),
                        )


def seed_plan(conn: sqlite3.Connection, now: datetime) -> None:
    """The plan's load submission windows and reference exceedance values."""
    windows = plan_windows(now)
    for w in windows:
        save_window(conn, w)
    seed_reference(conn, windows, now)
