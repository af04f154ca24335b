"""TOR CRR conversion: TOR holders ask to convert TOR capacity into MT_TOR CRRs for a transferee.

Business rules the sandbox applies:

* A conversion window moves NEW -> OPEN_FOR_CONVERSION -> CLOSED_FOR_CONVERSION ->
  OPEN_FOR_APPROVAL -> CLOSED_FOR_APPROVAL on the simulated clock, and to POSTED when the
  operator posts it; the operator may also pin a status. "Active" windows are those not posted.
* Each TOR holder has conversion paths (source, sink, dates, max MW) per window. A request is
  valid when it follows one of the holder's paths, stays inside its dates, keeps the MW
  requested on that path within its max, and names a known transferee. An upload with any
  invalid request answers ERROR with one message per bad record; every record is kept (bad
  ones with status ERROR and their message) so the holder can see and correct them.
  Requests are accepted only while the window is OPEN_FOR_CONVERSION (TOR0023).
* Each valid request gives its transferee one approval record per TOU (OBL). The transferee
  approves or disapproves them while the window is OPEN_FOR_APPROVAL (TOR0024); an upload
  that names another owner's or an unknown record changes nothing and answers ERROR.
* Posting grants an MT_TOR CRR for every approved record; records still pending are
  disapproved. Holder and transferee get a private notice.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

from harness.sandbox.domain import tor
from harness.sandbox.domain.storable import refuse_unstorable
from harness.sandbox.domain.tor import (
    all_windows,
    approval_key,
    approval_view,
    path_view,
    request_view,
    require_window,
    window_in,
)
from harness.sandbox.services.request import Operations, Reply, SandboxRequest, listing
from harness.sandbox.timefmt import iso

SERVICE = "tor_conversion"
operations = Operations(SERVICE)


def _list(req: SandboxRequest, posted: bool) -> Reply:
    key = approval_key(req.operation.responses.get("200"))
    return listing(
        req,
        all_windows,
        lambda w, now: (w.status(now) == "POSTED") == posted,
        lambda w, now: w.to_contract(now, key),
    )


@operations.handler("getNewConversionWindowForRequest")
async def active_windows(req: SandboxRequest) -> Reply:
    return _list(req, posted=False)


@operations.handler("getNewConversionWindowForApproval")
async def posted_windows(req: SandboxRequest) -> Reply:
    return _list(req, posted=True)


@operations.handler("getTorConversionWindowStatus")
async def window_status(req: SandboxRequest) -> Reply:
    req.participant()
    with req.store.read() as conn:
        w = require_window(conn, req.params["torConversionWindow"])
    return Reply(body=w.to_contract(req.clock.now(), approval_key(req.operation.responses.get("200"))))


def _own_rows(req: SandboxRequest, kind: tor.OwnRows, view: Callable[[sqlite3.Row], dict[str, Any]]) -> Reply:
    """The caller's rows of one kind in the named window."""
    sc = req.participant()
    with req.store.read() as conn:
        w = require_window(conn, req.params["torConversionWindow"])
        body = [view(r) for r in tor.own_rows(conn, kind, w, sc)]
    return Reply(body=body)


@operations.handler("getTorConversionWindowPaths")
async def paths(req: SandboxRequest) -> Reply:
    return _own_rows(req, "paths", path_view)


@operations.handler("getTorConversionRequestList")
async def request_list(req: SandboxRequest) -> Reply:
    return _own_rows(req, "requests", request_view)


def _upload(status: str, now: datetime, errors: list[str]) -> Reply:
    return Reply(body={"status": status, "timestamp": iso(now), "errorMessages": json.dumps(errors)})


@operations.handler("postTorConversionRequest")
async def create_requests(req: SandboxRequest) -> Reply:
    holder = req.participant(req.body["torHolder"])
    now = req.clock.now()
    with req.store.write() as conn:
        w = window_in(conn, req.body["torConversionWindow"], now, "OPEN_FOR_CONVERSION", "TOR0023")
        refuse_unstorable(req.body["conversionRequests"], "Record", {"mw": 1000}, ("startDate", "endDate"))
        errors = tor.submit_requests(conn, w, holder, req.body["conversionRequests"])
    return _upload("ERROR" if errors else "VALID", now, errors)


@operations.handler("getMtTorCRRList")
async def approval_list(req: SandboxRequest) -> Reply:
    return _own_rows(req, "approvals", approval_view)


@operations.handler("postTorConversionApproval")
async def approve(req: SandboxRequest) -> Reply:
    owner = req.participant(req.body["assetOwner"])
    now = req.clock.now()
    with req.store.write() as conn:
        w = window_in(conn, req.body["torConversionWindow"], now, "OPEN_FOR_APPROVAL", "TOR0024")
        errors = tor.approve(conn, w, owner, req.body["conversionApprovalRecords"])
    return _upload("ERROR" if errors else "VALID", now, errors)
