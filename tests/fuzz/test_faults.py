"""Fault injection (issue 11): a sandbox that misbehaves on purpose, and `crrsim fuzz` naming
each fault a fuzzer can see by its operation and check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.sandbox.web.faults import FAULTS, FaultError, FaultInjector

# fault -> the check that must report it
SEEN_BY = {
    "wrong-type": "response_schema_conformance",
    "missing-field": "response_schema_conformance",
    "server-error": "not_a_server_error",
    "undocumented-status": "status_code_conformance",
    "bad-error-body": "crr_error_body",
    "html-200": "crr_no_html_success",
    "leak": "crr_no_foreign_data",
    "maintenance-503": "not_a_server_error",
    "reset": "transport",
}


def test_fault_names_and_rates_are_checked() -> None:
    assert FaultInjector.parse(None) is None
    assert FaultInjector.parse("wrong-type,leak", 0.5, 3).names == ("wrong-type", "leak")
    with pytest.raises(FaultError, match="unknown fault nope"):
        FaultInjector.parse("nope")
    with pytest.raises(FaultError, match="between 0 and 1"):
        FaultInjector.parse("slow", 1.5)
    assert set(SEEN_BY) <= set(FAULTS)


def _fuzz_faulty(dev_pki, tmp_path: Path, fault: str, *extra: str,
                 rate: float = 1.0) -> tuple[subprocess.CompletedProcess, dict]:
    """`crrsim fuzz` on market_status of a sandbox answering calls (all, by default) with ``fault``."""
    from harness.client import ClientIdentity, CRRClient
    from harness.client.control import ControlPlane
    from harness.sandbox.launch import start_sandbox

    running = start_sandbox(dev_pki.directory, tmp_path / "faulty.db", faults=fault, fault_rate=rate, fault_seed=1)
    try:
        operator = dev_pki.identities["operator"]
        with CRRClient(running.url, identity=ClientIdentity.from_pem(operator.cert, operator.key),
                       ca=dev_pki.ca_cert) as client:
            ControlPlane(client).reset()  # markets to list: faults bend real answers
        out = tmp_path / "fuzz.json"
        run = subprocess.run(
            [sys.executable, "-m", "harness", "fuzz", "--url", running.url, "--pki", str(dev_pki.directory),
             "--service", "market_status", "--phases", "examples,coverage,fuzzing", "--max-examples", "3",
             "--rate", "500", "--no-stop-on-5xx", "--json", str(out), *extra],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    finally:
        running.stop()
    return run, (json.loads(out.read_text()) if out.is_file() else {})


@pytest.mark.parametrize("fault", sorted(SEEN_BY))
def test_fuzz_reports_the_fault_by_operation_and_check(dev_pki, tmp_path: Path, fault: str) -> None:
    # a target resetting every connection cannot be fuzzed at all (exit 3, tested below); half of them
    run, data = _fuzz_faulty(dev_pki, tmp_path, fault, rate=0.5 if fault == "reset" else 1.0)
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    findings = data["findings"]
    checks = {f["where"] for f in findings}
    assert SEEN_BY[fault] in checks, (fault, checks)
    named = next(f for f in findings if f["where"] == SEEN_BY[fault])
    assert named["text"].startswith("GET /marketstatus/v1.0/")


def test_a_target_that_stops_answering_stops_the_run_after_three_timeouts(dev_pki, tmp_path: Path) -> None:
    """Every answer 1.5 s late, 0.3 s allowed: three timeouts in a row end the run, said in the report."""
    run, data = _fuzz_faulty(dev_pki, tmp_path, "slow", "--timeout", "0.3")
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    stopped = data["sections"][0]["facts"]["stopped early"]
    assert stopped.startswith("3 calls in a row got no answer within 0.3 s"), stopped
    assert {f["where"] for f in data["findings"]} == {"transport"}
    assert data["meta"]["calls"] <= 6, data["meta"]


def test_a_target_resetting_every_call_cannot_be_fuzzed(dev_pki, tmp_path: Path) -> None:
    run, _ = _fuzz_faulty(dev_pki, tmp_path, "reset")
    assert run.returncode == 3, run.stdout[-2000:] + run.stderr[-2000:]
    assert "failed (protocol)" in run.stderr and "Traceback" not in run.stderr
