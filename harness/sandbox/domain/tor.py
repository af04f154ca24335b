"""TOR conversion: conversion windows and their status calendar, conversion requests and
approvals, and the MT_TOR CRRs a posted window grants. The rules behind the tor_conversion
service, on plain values."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from harness.sandbox.domain.load import PACIFIC, month_period
from harness.sandbox.domain.messages import publish
from harness.sandbox.domain.participants import known_participant
from harness.sandbox.domain.windows import scheduled_status
from harness.sandbox.errors import CRRError
from harness.sandbox.timefmt import iso, parse

SERVICE = "tor_conversion"


STATUSES = (
    "NEW",
    "OPEN_FOR_CONVERSION",
    "CLOSED_FOR_CONVERSION",
    "OPEN_FOR_APPROVAL",
    "CLOSED_FOR_APPROVAL",
    "POSTED",
)


PLAN_HOLDERS = ("ECAL", "WCAL", "NCAL")


@dataclass(frozen=True)
class TorWindow:
    name: str
    period: tuple[str, datetime, datetime]
    sub_open: datetime
    sub_close: datetime
    appr_open: datetime
    appr_close: datetime
    status_override: str | None
    posted_at: datetime | None

    def status(self, now: datetime) -> str:
        steps = (
            (self.sub_open, "NEW"),
            (self.sub_close, "OPEN_FOR_CONVERSION"),
            (self.appr_open, "CLOSED_FOR_CONVERSION"),
            (self.appr_close, "OPEN_FOR_APPROVAL"),
        )
        return scheduled_status(now, steps, "CLOSED_FOR_APPROVAL", self.status_override, self.posted_at)

    def to_contract(self, now: datetime, approval_key: str) -> dict[str, Any]:
        name, start, end = self.period
        return {
            "name": self.name,
            "period": {"name": name, "startDate": iso(start), "endDate": iso(end)},
            "conversionSubmissionWindow": {"openDate": iso(self.sub_open), "closeDate": iso(self.sub_close)},
            approval_key: {"openDate": iso(self.appr_open), "closeDate": iso(self.appr_close)},
            "status": self.status(now),
        }


def approval_key(schema: dict[str, Any] | None) -> str:
    """Spelling of the approval-window property: CAISO's file requires ``conversionApprovalWindow``
    but declares ``ConversionApprovalWindow``; follow ``required`` so schema validation passes."""
    if schema and schema.get("type") == "array":
        schema = schema.get("items")
    schema = schema or {}
    for key in ("conversionApprovalWindow", "ConversionApprovalWindow"):
        if key in (schema.get("required") or ()):
            return key
    props = schema.get("properties") or {}
    return (
        "ConversionApprovalWindow"
        if "ConversionApprovalWindow" in props and "conversionApprovalWindow" not in props
        else "conversionApprovalWindow"
    )


def _window(row: sqlite3.Row) -> TorWindow:
    return TorWindow(
        row["name"],
        (row["period"], parse(row["period_start"]), parse(row["period_end"])),
        parse(row["sub_open"]),
        parse(row["sub_close"]),
        parse(row["appr_open"]),
        parse(row["appr_close"]),
        row["status_override"],
        parse(row["posted_at"]) if row["posted_at"] else None,
    )


def save_window(conn: sqlite3.Connection, w: TorWindow) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO tor_windows VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            w.name,
            w.period[0],
            iso(w.period[1]),
            iso(w.period[2]),
            iso(w.sub_open),
            iso(w.sub_close),
            iso(w.appr_open),
            iso(w.appr_close),
            w.status_override,
            iso(w.posted_at) if w.posted_at else None,
        ),
    )


def all_windows(conn: sqlite3.Connection) -> list[TorWindow]:
    return [_window(r) for r in conn.execute("SELECT * FROM tor_windows ORDER BY sub_open, name")]


def require_window(conn: sqlite3.Connection, name: str) -> TorWindow:
    row = conn.execute("SELECT * FROM tor_windows WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise CRRError("TOR0016", name)
    return _window(row)


def window_in(conn: sqlite3.Connection, name: str, now: datetime, status: str, code: str) -> TorWindow:
    """The window, if it is in ``status`` at ``now``; else the CRR error ``code``."""
    w = require_window(conn, name)
    if w.status(now) != status:
        raise CRRError(code, w.name)
    return w


def set_window_status(conn: sqlite3.Connection, name: str, status: str | None) -> None:
    require_window(conn, name)
    if status is not None and status not in STATUSES[:-1]:
        raise CRRError("SER0030", f"status must be one of {', '.join(STATUSES[:-1])} or null.")
    conn.execute("UPDATE tor_windows SET status_override = ? WHERE name = ?", (status, name))


def calendar(conn: sqlite3.Connection, now: datetime) -> list[tuple[str, datetime, str]]:
    """(event key, instant, notice) for every transition of the TOR windows (domain.calendar)."""
    events = []
    for w in all_windows(conn):
        events += [
            (
                f"tor:{w.name}:sub-open",
                w.sub_open,
                f"TOR conversion window {w.name} is open for conversion requests.",
            ),
            (
                f"tor:{w.name}:sub-close",
                w.sub_close,
                f"TOR conversion window {w.name} is closed for conversion requests.",
            ),
            (
                f"tor:{w.name}:appr-open",
                w.appr_open,
                f"TOR conversion window {w.name} is open for MT_TOR approvals.",
            ),
            (
                f"tor:{w.name}:appr-close",
                w.appr_close,
                f"TOR conversion window {w.name} is closed for approvals.",
            ),
        ]
        if w.posted_at is not None:
            events.append((f"tor:{w.name}:posted", w.posted_at, f"MT_TOR CRRs of {w.name} are posted."))
    return events


def path_view(r: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": r["id"],
        "source": r["source"],
        "sink": r["sink"],
        "startDate": r["start_date"],
        "endDate": r["end_date"],
        "maxMw": r["max_milli"] / 1000,
    }


def request_view(r: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r["id"],
        "source": r["source"],
        "sink": r["sink"],
        "startDate": r["start_date"],
        "endDate": r["end_date"],
        "mw": r["mw_milli"] / 1000,
        "transfereeAO": r["transferee"],
        "requestStatus": r["status"],
    }
    if r["message"]:
        out["message"] = r["message"]
    out["modeled"] = r["modeled"]
    return out


def check_request(
    conn: sqlite3.Connection, w: TorWindow, holder: str, n: int, rec: dict[str, Any], used: dict[int, int]
) -> tuple[int | None, str | None]:
    """(path id, None) when valid, else (None, reason)."""
    start, end = parse(str(rec["startDate"])), parse(str(rec["endDate"]))
    milli = round(float(rec["mw"]) * 1000)
    label = f"record {n} ({rec['source']} to {rec['sink']}, {milli / 1000:.3f} MW)"
    if not known_participant(conn, rec["transfereeAO"]):
        return None, f"Transferee {rec['transfereeAO']} in {label} is not a known asset owner."
    if end <= start:
        return None, f"End date is not after start date in {label}."
    candidates = conn.execute(
        "SELECT * FROM tor_paths WHERE window = ? AND holder = ? AND source = ? AND sink = ?",
        (w.name, holder, rec["source"], rec["sink"]),
    ).fetchall()
    if not candidates:
        return None, f"No TOR conversion path of {holder} matches {label}."
    for p in candidates:
        if parse(p["start_date"]) <= start and end <= parse(p["end_date"]):
            left = p["max_milli"] - used.get(p["id"], 0)
            if milli > left:
                return None, f"The path allows {left / 1000:.3f} MW more; {label} asks for more."
            used[p["id"]] = used.get(p["id"], 0) + milli
            return p["id"], None
    return None, f"Dates of {label} fall outside the conversion path's dates."


def approval_view(r: sqlite3.Row) -> dict[str, Any]:
    out: dict[str, Any] = {"conversionApprovalId": r["id"]}
    if r["crr_id"]:
        out["mtTorCrrId"] = r["crr_id"]
    out.update(
        {
            "source": r["source"],
            "sink": r["sink"],
            "tou": r["tou"],
            "hedgeType": r["hedge"],
            "mw": r["mw_milli"] / 1000,
            "approvalStatus": r["status"],
        }
    )
    return out


def settle_request(conn: sqlite3.Connection, request_id: int) -> None:
    """A request is APPROVED when all its records are, DISAPPROVED when any is."""
    statuses = {
        r[0] for r in conn.execute("SELECT status FROM tor_approvals WHERE request_id = ?", (request_id,))
    }
    status = (
        "DISAPPROVED"
        if "DISAPPROVED" in statuses
        else "APPROVED"
        if statuses == {"APPROVED"}
        else "PENDING_APPROVAL"
    )
    conn.execute("UPDATE tor_requests SET status = ? WHERE id = ?", (status, request_id))


def post_window(conn: sqlite3.Connection, name: str, now: datetime) -> list[int]:
    """Post: grant MT_TOR CRRs for approved records, disapprove the rest. Returns the new CRR ids."""
    from harness.sandbox.domain import holdings

    w = require_window(conn, name)
    if w.posted_at is not None:
        raise CRRError("SER0030", f"TOR conversion window {name} is already posted.")
    granted = []
    for r in conn.execute(
        "SELECT a.*, q.start_date, q.end_date, q.holder FROM tor_approvals a JOIN tor_requests q"
        " ON q.id = a.request_id WHERE a.window = ? ORDER BY a.id",
        (name,),
    ).fetchall():
        if r["status"] == "APPROVED" and not r["crr_id"]:
            crr_id = holdings.grant(
                conn,
                r["transferee"],
                r["source"],
                r["sink"],
                r["mw_milli"] / 1000,
                r["hedge"],
                r["tou"],
                w.period[0],
                "MT_TOR",
                name,
                parse(r["start_date"]),
                parse(r["end_date"]),
            )
            conn.execute("UPDATE tor_approvals SET crr_id = ? WHERE id = ?", (crr_id, r["id"]))
            granted.append(crr_id)
        elif r["status"] == "PENDING_APPROVAL":
            conn.execute("UPDATE tor_approvals SET status = 'DISAPPROVED' WHERE id = ?", (r["id"],))
            settle_request(conn, r["request_id"])
    conn.execute(
        "UPDATE tor_windows SET posted_at = ?, status_override = NULL WHERE name = ?", (iso(now), name)
    )
    parties = sorted(
        {
            p
            for row in conn.execute("SELECT holder, transferee FROM tor_requests WHERE window = ?", (name,))
            for p in row
        }
    )
    if parties:
        publish(
            conn,
            now,
            f"MT_TOR conversion results of {name} are posted.",
            to=parties,
            event_key=f"tor:{name}:results",
        )
    return granted


def _pacific(today: date, days: int, hour: int) -> datetime:
    """``hour``:00 Pacific, ``days`` after ``today``."""
    return datetime.combine(today + timedelta(days=days), time(hour), tzinfo=PACIFIC).astimezone(UTC)


def plan_windows(now: datetime) -> list[TorWindow]:
    """Last month's window, posted; next month's open for requests from the day before the plan
    starts (week 1 Monday) until Wednesday 17:00 Pacific, then for MT_TOR approvals Thursday
    09:00 (the deck's "Miscellaneous Monthly process" day) until Friday 17:00 (the deck keeps
    Friday for participant responses)."""
    today = now.astimezone(PACIFIC).date()
    day = timedelta(days=1)
    nxt_year, nxt_month = today.year + (today.month == 12), today.month % 12 + 1
    this = month_period(today.year, today.month)
    nxt = month_period(nxt_year, nxt_month)
    return [
        TorWindow(
            f"TOR_CONVERSION_{this[0]}",
            this,
            now - 40 * day,
            now - 35 * day,
            now - 34 * day,
            now - 30 * day,
            None,
            now - 29 * day,
        ),
        TorWindow(
            f"TOR_CONVERSION_{nxt[0]}",
            nxt,
            now - day,
            _pacific(today, 2, 17),
            _pacific(today, 3, 9),
            _pacific(today, 4, 17),
            None,
            None,
        ),
    ]


PLAN_PATHS = (("MALIN_5_N101", "DLAP_PGAE-APND", 50.0), ("PALOVRDE_ASR-APND", "DLAP_SCE-APND", 30.0))


def seed_plan(conn: sqlite3.Connection, now: datetime) -> None:
    """The plan's TOR conversion windows, paths and holders."""
    for w in plan_windows(now):
        save_window(conn, w)
        conn.execute("DELETE FROM tor_paths WHERE window = ?", (w.name,))
        for holder in PLAN_HOLDERS:
            for source, sink, max_mw in PLAN_PATHS:
                conn.execute(
                    "INSERT INTO tor_paths(window, holder, source, sink, start_date, end_date, max_milli)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (w.name, holder, source, sink, iso(w.period[1]), iso(w.period[2]), round(max_mw * 1000)),
                )


# -- what the service's operations do, on plain values ----------------------------------------

OwnRows = Literal["paths", "requests", "approvals"]
# the caller's rows, per kind: (table, the column naming whose they are)
OWN_ROWS = {
    "paths": ("tor_paths", "holder"),
    "requests": ("tor_requests", "holder"),
    "approvals": ("tor_approvals", "transferee"),
}


def own_rows(conn: sqlite3.Connection, kind: OwnRows, window: TorWindow, sc: str) -> list[sqlite3.Row]:
    """``sc``'s rows of one kind in ``window`` (a holder's paths and requests, a transferee's approvals)."""
    table, owner_column = OWN_ROWS[kind]
    return conn.execute(
        f"SELECT * FROM {table} WHERE window = ? AND {owner_column} = ? ORDER BY id", (window.name, sc)
    ).fetchall()


def submit_requests(
    conn: sqlite3.Connection, window: TorWindow, holder: str, records: list[dict[str, Any]]
) -> list[str]:
    """Every conversion request is stored, a bad one as ERROR with its sentence (returned); a
    good one waits for its transferee's approval of an ON and an OFF MT_TOR CRR. The MW asked
    of a path across the holder's requests may not exceed it (``check_request``)."""
    used = {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT path_id, SUM(mw_milli) FROM tor_requests WHERE window = ? AND holder = ? AND status != 'ERROR'"
            " AND path_id IS NOT NULL GROUP BY path_id",
            (window.name, holder),
        )
    }
    errors: list[str] = []
    for n, rec in enumerate(records, start=1):
        path_id, problem = check_request(conn, window, holder, n, rec, used)
        status = "ERROR" if problem else "PENDING_APPROVAL"
        if problem:
            errors.append(problem)
        cur = conn.execute(
            "INSERT INTO tor_requests(window, holder, source, sink, start_date, end_date, mw_milli, transferee,"
            " modeled, status, message, path_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                window.name,
                holder,
                rec["source"],
                rec["sink"],
                iso(parse(str(rec["startDate"]))),
                iso(parse(str(rec["endDate"]))),
                round(float(rec["mw"]) * 1000),
                rec["transfereeAO"],
                rec["modeled"],
                status,
                problem,
                path_id,
            ),
        )
        if not problem:
            for tou in ("ON", "OFF"):
                conn.execute(
                    "INSERT INTO tor_approvals(request_id, window, transferee, source, sink, tou, hedge,"
                    " mw_milli, status) VALUES (?,?,?,?,?,?,?,?,?)",
                    (
                        cur.lastrowid,
                        window.name,
                        rec["transfereeAO"],
                        rec["source"],
                        rec["sink"],
                        tou,
                        "OBL",
                        round(float(rec["mw"]) * 1000),
                        "PENDING_APPROVAL",
                    ),
                )
    return errors


def approve(
    conn: sqlite3.Connection, window: TorWindow, owner: str, records: list[dict[str, Any]]
) -> list[str]:
    """A transferee approves or rejects its MT_TOR CRRs, all or none: each record names one of
    its approvals in the window, with that approval's path and TOU. Each change settles its
    request (``settle_request``). Returns the records' problems ([] when applied)."""
    errors, changes = [], []
    for n, rec in enumerate(records, start=1):
        row = conn.execute(
            "SELECT * FROM tor_approvals WHERE id = ? AND window = ?",
            (int(rec["conversionApprovalId"]), window.name),
        ).fetchone()
        if row is None or row["transferee"] != owner:
            errors.append(
                f"Record {n}: no MT_TOR approval {rec['conversionApprovalId']} for {owner} in {window.name}."
            )
        elif (rec["source"], rec["sink"], rec["tou"]) != (row["source"], row["sink"], row["tou"]):
            errors.append(f"Record {n}: source, sink or TOU differ from approval {row['id']}.")
        else:
            changes.append((rec["approvalStatus"], row["id"], row["request_id"]))
    if not errors:
        for status, approval_id, request_id in changes:
            conn.execute("UPDATE tor_approvals SET status = ? WHERE id = ?", (status, approval_id))
            settle_request(conn, request_id)
    return errors
