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
}


def test_fault_names_and_rates_are_checked() -> None:
    assert FaultInjector.parse(None) is None
    assert FaultInjector.parse("wrong-type,leak", 0.5, 3).names == ("wrong-type", "leak")
    with pytest.raises(FaultError, match="unknown fault nope"):
        FaultInjector.parse("nope")
    with pytest.raises(FaultError, match="between 0 and 1"):
        FaultInjector.parse("slow", 1.5)
    assert set(SEEN_BY) <= set(FAULTS)


@pytest.mark.parametrize("fault", sorted(SEEN_BY))
def test_fuzz_reports_the_fault_by_operation_and_check(dev_pki, tmp_path: Path, fault: str) -> None:
    from harness.client import ClientIdentity, CRRClient
    from harness.client.control import ControlPlane
    from harness.sandbox.launch import start_sandbox

    running = start_sandbox(dev_pki.directory, tmp_path / "faulty.db", faults=fault, fault_rate=1.0, fault_seed=1)
    try:
        operator = dev_pki.identities["operator"]
        with CRRClient(running.url, identity=ClientIdentity.from_pem(operator.cert, operator.key),
                       ca=dev_pki.ca_cert) as client:
            ControlPlane(client).reset()  # markets to list: faults bend real answers
        out = tmp_path / "fuzz.json"
        run = subprocess.run(
            [sys.executable, "-m", "harness", "fuzz", "--url", running.url, "--pki", str(dev_pki.directory),
             "--service", "market_status", "--phases", "examples,coverage,fuzzing", "--max-examples", "3",
             "--rate", "500", "--no-stop-on-5xx", "--json", str(out)],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)
    finally:
        running.stop()
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    findings = json.loads(out.read_text())["findings"]
    checks = {f["where"] for f in findings}
    assert SEEN_BY[fault] in checks, (fault, checks)
    named = next(f for f in findings if f["where"] == SEEN_BY[fault])
    assert named["text"].startswith("GET /marketstatus/v1.0/")
