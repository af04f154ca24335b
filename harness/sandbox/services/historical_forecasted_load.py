"""CRR Historical and Forecasted Load: submission windows, hourly load uploads, exceedance values.

Business rules the sandbox applies (ours, modelled on how CAISO's load metric works):

* A window is OPEN between its open and close dates on the simulated clock (the operator may
  pin OPEN/CLOSED); the closed lists hold every window that is not open.
* Hours are Pacific prevailing time: a day has 23, 24 or 25 hour-endings around DST changes,
  and each hour is ON peak (HE07-HE22, Monday-Saturday, not a NERC holiday) or OFF peak.
* Only FINAL_LOAD counts for the load metric; GROSS_LOAD/GROSS_GENERATION are for Metered
  Subsystem operators (the sandbox treats SCAL as one), else LHFV0026 per record.
* Exceedance per sink and TOU: the maximum hourly MW and the level exceeded by 0.5% of the
  hours. Historical windows compute it from the participant's own upload; forecast windows
  use the linked historical upload for the same period, else the values seeded by the plan.
* A forecast above the exceedance by more than 5% is stored with status ERROR and one
  message per sink and TOU (worst hour) so the participant can fix it and resubmit; a
  resubmission replaces the previous upload for that window, period and participant.
"""

from __future__ import annotations

import json

from harness.sandbox.domain.load import (
    Window,
    all_windows,
    forecast_violations,
    limits_for,
    require_window,
    save_submission,
    status_obj,
    submission,
    validate_records,
    window_and_period,
)
from harness.sandbox.errors import CRRError, raise_all
from harness.sandbox.services.request import Operations, Reply, SandboxRequest, listing

SERVICE = "historical_forecasted_load"
operations = Operations(SERVICE)


def _window_list(req: SandboxRequest, flag: str, want_open: bool) -> Reply:
    return listing(
        req,
        all_windows,
        lambda w, now: w.flag == flag and (w.status(now) == "OPEN") == want_open,
        Window.to_contract,
    )


@operations.handler("getOpenHistoricalLoadSubmissionWindowList")
async def open_hist(req: SandboxRequest) -> Reply:
    return _window_list(req, "H", True)


@operations.handler("getOpenForecastLoadSubmissionWindowList")
async def open_forecast(req: SandboxRequest) -> Reply:
    return _window_list(req, "F", True)


@operations.handler("getClosedHistLoadSubmissionWindowList")
async def closed_hist(req: SandboxRequest) -> Reply:
    return _window_list(req, "H", False)


@operations.handler("getClosedForecastLoadSubmissionWindowList")
async def closed_forecast(req: SandboxRequest) -> Reply:
    return _window_list(req, "F", False)


@operations.handler("getLoadSubmissionWindowStatus")
async def window_status_handler(req: SandboxRequest) -> Reply:
    req.participant()
    with req.store.read() as conn:
        window = require_window(conn, req.params["loadSubmissionWindowName"])
    return Reply(body=window.to_contract(req.clock.now()))


@operations.handler("postLoadSubmission")
async def post_load(req: SandboxRequest) -> Reply:
    body = req.body
    owner = req.participant(body["assetOwner"])
    now = req.clock.now()
    with req.store.write() as conn:
        window = window_and_period(conn, body["loadSubmissionWindowName"], body["periodName"])
        if body["histForecastFlag"] != window.flag:
            kind = "historical" if window.flag == "H" else "forecast"
            raise CRRError(
                "SER0030", f"Window {window.name} accepts {kind} load only (histForecastFlag {window.flag})."
            )
        if window.status(now) != "OPEN":
            raise CRRError("LHFV0033", window.name, body["periodName"])
        period = window.period(body["periodName"])
        assert period is not None  # window_and_period refused an unknown period (LHFV0026)
        records, errors = validate_records(window, period, owner, body["hourlyLoad"])
        raise_all(errors)
        status, error_messages = "VALID", None
        if window.flag == "F":
            limits, _ = limits_for(conn, window, body["periodName"], owner)
            violations = forecast_violations(records, limits, owner)
            if violations:
                status, error_messages = "ERROR", json.dumps(violations)
        row = save_submission(
            conn, window.name, body["periodName"], owner, status, now, error_messages, records
        )
    return Reply(body=status_obj(row))


@operations.handler("getLoadData")
async def get_load_data(req: SandboxRequest) -> Reply:
    owner = req.participant()
    name, period = req.params["loadSubmissionWindowName"], req.params["periodName"]
    with req.store.read() as conn:
        window = window_and_period(conn, name, period)
        row = submission(conn, name, period, owner)
    if row is None:
        return Reply(body=[])
    hourly = [
        {
            "sinkName": s,
            "effectiveDate": e,
            "hourEnding": he,
            "dataType": dt,
            "mw": milli / 1000,
            "timeOfUse": tou,
        }
        for s, e, he, dt, milli, tou in json.loads(row["records"])
    ]
    return Reply(
        body=[
            {
                "histForecastFlag": window.flag,
                "assetOwner": owner,
                "loadSubmissionWindowName": name,
                "periodName": period,
                "hourlyLoad": hourly,
                "loadSubmissionStatus": status_obj(row),
            }
        ]
    )


@operations.handler("getLoadExceedanceValues")
async def get_exceedance(req: SandboxRequest) -> Reply:
    owner = req.participant()
    name, period = req.params["loadSubmissionWindowName"], req.params["periodName"]
    with req.store.read() as conn:
        window = window_and_period(conn, name, period)
        limits, when = limits_for(conn, window, period, owner)
    if not limits:
        return Reply(body=[])
    items = [
        {"sinkName": sink, "maxMW": mx / 1000, "exceedance": ex / 1000, "timeOfUse": tou}
        for (sink, tou), (mx, ex) in sorted(limits.items())
    ]
    return Reply(body=[{"loadExceedance": items, "lastCalculation": when}])
