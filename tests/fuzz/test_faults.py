"""Fault injection (issue 11): a sandbox that misbehaves on purpose, and `crrsim fuzz` naming
each fault a fuzzer can see by its operation and check."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.client import CRRClient
from harness.sandbox.web.faults import FAULTS, FaultError, FaultInjector

# fault -> the check that must report it, and what the finding must say
SEEN_BY = {
    "wrong-type": ("response_schema_conformance", ""),
    "missing-field": ("response_schema_conformance", ""),
    "server-error": ("not_a_server_error", "HTTP 500"),
    "undocumented-status": ("status_code_conformance", ""),
    "bad-error-body": ("crr_error_body", ""),
    "html-200": ("crr_no_html_success", ""),
    "leak": ("crr_no_foreign_data", ""),
    "maintenance-503": ("not_a_server_error", "HTTP 503 with Retry-After: 30"),
    "reset": ("transport", ""),
    "slow": ("max_response_time", ""),
}
RATES = {"reset": 0.2, "slow": 0.3}  # some answers only: a run of nothing but resets cannot run (below)


def test_fault_names_and_rates_are_checked() -> None:
    assert FaultInjector.parse(None) is None
    assert FaultInjector.parse("wrong-type,leak", 0.5, 3).names == ("wrong-type", "leak")
    with pytest.raises(FaultError, match="unknown fault nope"):
        FaultInjector.parse("nope")
    with pytest.raises(FaultError, match="between 0 and 1"):
        FaultInjector.parse("slow", 1.5)
    # every fault is either caught by a named check (the table) or, contract-valid, a note
    assert set(SEEN_BY) | {"large-ids"} == set(FAULTS)


def _fuzz_faulty(
    dev_pki,
    tmp_path: Path,
    fault: str,
    *extra: str,
    rate: float = 1.0,
    service: str = "market_status",
    as_ecal: Callable[[CRRClient], None] | None = None,
) -> tuple[subprocess.CompletedProcess, dict]:
    """`crrsim fuzz` on ``service`` of a sandbox answering calls (all, by default) with ``fault``;
    ``as_ecal`` acts on the sandbox with ECAL's certificate before the run and after it."""
    from harness.client import ClientIdentity
    from harness.client.control import ControlPlane
    from harness.sandbox.launch import start_sandbox

    running = start_sandbox(
        dev_pki.directory, tmp_path / "faulty.db", faults=fault, fault_rate=rate, fault_seed=1
    )
    try:
        operator = dev_pki.identities["operator"]
        with CRRClient(
            running.url, identity=ClientIdentity.from_pem(operator.cert, operator.key), ca=dev_pki.ca_cert
        ) as client:
            ControlPlane(client).reset()  # markets to list: faults bend real answers
        ecal = dev_pki.identities["ecal"]
        with CRRClient(
            running.url, identity=ClientIdentity.from_pem(ecal.cert, ecal.key), ca=dev_pki.ca_cert
        ) as me:
            if as_ecal is not None:
                as_ecal(me)
            out = tmp_path / "fuzz.json"
            run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "harness",
                    "fuzz",
                    "--url",
                    running.url,
                    "--pki",
                    str(dev_pki.directory),
                    "--service",
                    service,
                    "--phases",
                    "examples,coverage,fuzzing",
                    "--max-examples",
                    "3",
                    "--json",
                    str(out),
                    *extra,
                ],
                capture_output=True,
                text=True,
                timeout=600,
                cwd=tmp_path,
            )
            if as_ecal is not None:
                as_ecal(me)
    finally:
        running.stop()
    return run, (json.loads(out.read_text()) if out.is_file() else {})


@pytest.mark.parametrize("fault", sorted(SEEN_BY))
def test_fuzz_reports_the_fault_by_operation_and_check(dev_pki, tmp_path: Path, fault: str) -> None:
    """`crrsim sandbox serve --fault X` reached by --url, as a user runs it, and the fuzz with its
    default checks, stop rules and response-time limit: every fault is a named failure."""
    run, data = _fuzz_faulty(dev_pki, tmp_path, fault, rate=RATES.get(fault, 1.0))
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    findings = data["findings"]
    checks = {f["where"] for f in findings}
    check, says = SEEN_BY[fault]
    assert check in checks, (fault, checks)
    named = [f for f in findings if f["where"] == check]
    assert all(f["text"].startswith("GET /marketstatus/v1.0/") for f in named), named
    assert any(says in f["text"] for f in named), named


def test_a_target_that_stops_answering_stops_the_run_after_three_timeouts(dev_pki, tmp_path: Path) -> None:
    """Every answer 1.5 s late, 0.3 s allowed: three timeouts in a row end the run, said in the report."""
    run, data = _fuzz_faulty(dev_pki, tmp_path, "slow", "--timeout", "0.3")
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    stopped = data["sections"][0]["facts"]["stopped early"]
    assert stopped.startswith("3 calls in a row got no answer within 0.3 s"), stopped
    assert {f["where"] for f in data["findings"]} == {"transport"}
    assert data["meta"]["calls"] <= 6, data["meta"]


def test_a_target_resetting_every_call_cannot_be_fuzzed(dev_pki, tmp_path: Path) -> None:
    run, data = _fuzz_faulty(dev_pki, tmp_path, "reset")
    assert run.returncode == 3, run.stdout[-2000:] + run.stderr[-2000:]
    assert "failed (protocol)" in run.stderr and "Traceback" not in run.stderr
    assert (
        data["verdict"] == "COULD NOT RUN" and "failed (protocol)" in data["findings"][0]["text"]
    )  # a report


def test_ids_above_2_31_within_the_contract_are_not_a_finding(dev_pki, tmp_path: Path) -> None:
    """``large-ids`` is for a participant's own client (an int32 id overflows there); the contract
    allows ids up to 9999999999, so a fuzzer must pass the same answers without a finding."""
    seen: list[int] = []

    def offer_and_read(me: CRRClient) -> None:
        if not seen:
            me.post(
                "/secondarymarket/v1.0/publicSmBuyOfferCreation",
                params={"participantName": "ECAL"},
                json=[
                    {
                        "assetOwner": "ECAL",
                        "source": "TH_NP15_GEN-APND",
                        "sink": "DLAP_PGAE-APND",
                        "tou": "ON",
                        "hedgeType": "OBL",
                        "crrType": "AUC",
                        "startDate": "2026-03-01T08:00:00Z",
                        "endDate": "2026-04-01T07:00:00Z",
                        "mw": 1.5,
                        "price": 2.25,
                        "contactInfo": {"name": "Pat", "phone": "916-555-0142", "email": "pat@ecal.example"},
                    }
                ],
            ).raise_for_error()
        listed = (
            me.get(
                "/secondarymarket/v1.0/mySmOffersByStatus",
                params={"participantName": "ECAL", "OfferStatusType": "POSTED"},
            )
            .raise_for_error()
            .json()
        )
        seen.append(listed[0]["requestId"])

    run, data = _fuzz_faulty(
        dev_pki,
        tmp_path,
        "large-ids",
        "--operation",
        "getMySmOffersByStatus",
        service="secondary_market",
        as_ecal=offer_and_read,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert data["findings"] == [] and data["counts"]["passed"] == 1, data["findings"]
    assert seen[-1] > 2**31 - 1, seen  # the fault was on: the offer's id came back above 2^31
    notes = next(s["text"] for s in data["sections"] if s["title"] == "Notes for participants' own clients")
    assert any("ids above 2^31-1 seen in [].requestId" in note and "32-bit" in note for note in notes), notes


def test_large_ids_reach_every_id_of_the_answer_nested_ones_too() -> None:
    """The fault exists for ``bids[].bidId`` and ``offers[].crrId``, where a real client's Integer
    fields are: every integer id, at any depth, moves above 2^31-1, and they stay distinct."""
    from harness.sandbox.web.faults import enlarge_ids

    body: dict[str, Any] = {
        "portfolioId": 5,
        "bids": [{"bidId": 1, "mw": 3}, {"bidId": 2}],
        "offers": [{"crrId": 77}],
        "name": "x",
        "flag": True,
    }
    assert enlarge_ids(body)
    assert body["portfolioId"] == 2**31 + 5 and [b["bidId"] for b in body["bids"]] == [2**31 + 1, 2**31 + 2]
    assert body["offers"][0]["crrId"] == 2**31 + 77 and body["bids"][0]["mw"] == 3 and body["flag"] is True
    assert all(
        v <= 9_999_999_999 for v in (body["portfolioId"], body["offers"][0]["crrId"])
    )  # the contract's limit
    assert not enlarge_ids({"name": "no ids"})
