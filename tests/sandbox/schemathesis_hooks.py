"""schemathesis hooks for the sandbox proof, loaded by ``st run`` through ``SCHEMATHESIS_HOOKS``.

Two jobs, both inside the ``st`` process (so they never leak into the pytest process):

* ``before_call``: the examples and coverage phases reuse one ``caiso-request-id`` for many
  calls; a real client sends a fresh one each time, so every well-formed id is replaced by a
  fresh uuid4. Deliberately malformed or missing ids (negative cases) are left alone.
* ``before_call`` (stateful phase, positive cases of ``portfolioCreation``): the bid or
  nomination records are replaced by one valid record and the portfolio gets a fresh name, so
  the link chain create -> read -> submit -> retract -> delete runs on a portfolio the sandbox
  accepted. Random records almost never satisfy the bid-curve and holdings rules, and the
  fuzzing and coverage phases keep sending those; only the stateful phase needs a live resource.
* ``after_call``: appends one JSON line per call (phase, mode, operationId, status, and the
  name fields that identify a resource) to the file named by ``CRRSIM_ST_CALLS``. The test
  reads it to prove that the stateful phase reached successful lifecycles: a proof that only
  ever sees business refusals proves nothing about the happy path.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from typing import Any

import schemathesis

CALLS_ENV = "CRRSIM_ST_CALLS"
REQUEST_ID = "caiso-request-id"
# the sandbox's own acceptance rule for the header (harness.sandbox.web.responses.UUID_TEXT)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
KEY_FIELDS = ("participantName", "marketName", "portfolioName")
_lock = threading.Lock()


VALID_RECORDS: dict[str, dict[str, list[dict[str, Any]]]] = {
    "/auction/": {
        "newBids": [
            {
                "assetOwner": "ECAL",
                "source": "TH_NP15_GEN-APND",
                "sink": "DLAP_PGAE-APND",
                "hedgeType": "OBL",
                "tou": "ON",
                "period": "2026_M03",
                "crrType": "AUC",
                "bidCurve": [{"mw": 0, "price": 1.5}, {"mw": 1, "price": 1.5}],
            }
        ],
        "newOffers": [],
    },
    "/nomination/": {
        "newNominations": [
            {
                "assetOwner": "ECAL",
                "source": "TH_NP15_GEN-APND",
                "sink": "DLAP_PGAE-APND",
                "hedgeType": "OBL",
                "tou": "ON",
                "period": "2026_M03",
                "crrType": "LSE",
                "mw": 1,
            }
        ],
    },
}


def _is_stateful_positive(case: schemathesis.Case) -> bool:
    meta = case.meta
    return bool(meta and meta.phase.name.value == "stateful" and meta.generation.mode.value == "positive")


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    headers = case.headers
    if headers and _UUID.match(str(headers.get(REQUEST_ID, ""))):
        headers[REQUEST_ID] = str(uuid.uuid4())
    if (
        case.operation.definition.raw.get("operationId") == "portfolioCreation"
        and isinstance(case.body, dict)
        and _is_stateful_positive(case)
    ):
        for marker, records in VALID_RECORDS.items():
            if marker in case.operation.path:
                case.body.update(json.loads(json.dumps(records)))
                case.body["portfolioName"] = f"st {uuid.uuid4().hex[:12]}"


def _keys(case: schemathesis.Case) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for source in (case.query or {}, case.body if isinstance(case.body, dict) else {}):
        for name in KEY_FIELDS:
            if name in source and not isinstance(source[name], (dict, list)):
                found[name] = source[name]
    return found


@schemathesis.hook
def after_call(
    context: schemathesis.HookContext, case: schemathesis.Case, response: schemathesis.Response
) -> None:
    path = os.environ.get(CALLS_ENV)
    if not path:
        return
    meta = case.meta
    record = {
        "op": case.operation.definition.raw.get("operationId"),
        "phase": meta.phase.name.value if meta else None,
        "mode": meta.generation.mode.value if meta else None,
        "status": response.status_code,
        **_keys(case),
    }
    if response.status_code >= 400:
        try:
            record["error"] = response.json()["errorList"][0]["errorCode"]
        except Exception:  # noqa: BLE001 - diagnostics only: not every refusal has our error shape
            record["error"] = None
    line = json.dumps(record, default=str) + "\n"
    with _lock, open(path, "a", encoding="utf-8") as out:
        out.write(line)
