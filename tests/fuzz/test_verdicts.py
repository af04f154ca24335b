"""Fuzz verdicts a user can trust (issue 18): a server error is a failure of the operation that
answered it, never PASSED; a run that did not cover what it was asked is INCOMPLETE (exit 6)
with what it missed and the flag that covers it; a sandbox started by hand and reached by
``--url`` gets the sandbox's rules only when it proves it is one. Every run is pointed the way a
user points it: a separately started ``crrsim sandbox serve``, reached through ``--url``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.client.control import judge_target, proves_sandbox


def crrsim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=600, cwd=cwd
    )


def _serve(dev_pki, tmp_path: Path, *args: str) -> Iterator[str]:
    """``crrsim sandbox serve --port 0 ...`` as its own process; yields its URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--pki",
            str(dev_pki.directory),
            "--db",
            str(tmp_path / "served.db"),
            *args,
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("CRRSIM_SANDBOX_LISTENING"):
                yield line.split("url=")[1].strip()
                return
        pytest.fail("the sandbox did not start")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def served(dev_pki, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from _serve(dev_pki, tmp_path, *getattr(request, "param", ()))


@pytest.mark.parametrize("served", [("--fault", "server-error", "--fault-rate", "1.0")], indirect=True)
def test_a_server_error_that_stops_a_shared_run_is_its_failure_not_a_pass(
    served: str, shared_pki: Path, tmp_path: Path
) -> None:
    """Shared-environment rules (stop at the first 5xx): the run stops, and the 500 is a failure
    of the operation that answered it, with its reproduction; before, PASSED with findings []."""
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--url",
        served,
        "--pki",
        str(shared_pki),
        "--service",
        "market_status",
        "--rate",
        "50",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["verdict"] == "FAILED" and data["findings"], data["findings"]
    finding = data["findings"][0]
    assert finding["text"].startswith("GET /marketstatus/v1.0/") and "HTTP 500" in finding["text"]
    assert finding["reproduce"].startswith("crrsim fuzz --replay ")
    assert data["sections"][0]["facts"]["stopped early"].startswith("the first server error (HTTP 500")
    assert any("never fuzzed" in gap["what"] for gap in data["gaps"])  # what the stop left out is said too


@pytest.mark.parametrize("served", [("--fault", "maintenance-503", "--fault-rate", "1.0")], indirect=True)
def test_maintenance_is_named_with_its_retry_after(served: str, shared_pki: Path, tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--url",
        served,
        "--pki",
        str(shared_pki),
        "--service",
        "market_status",
        "--rate",
        "50",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-2000:]
    texts = [f["text"] for f in json.loads(out.read_text())["findings"]]
    assert any("HTTP 503 with Retry-After: " in t for t in texts), texts


def test_a_spent_request_budget_is_incomplete_with_the_flag_that_covers_it(
    served: str, dev_pki, tmp_path: Path
) -> None:
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--url",
        served,
        "--pki",
        str(dev_pki.directory),
        "--max-requests",
        "40",
        "--json",
        str(out),
        "--junit",
        str(tmp_path / "fuzz.xml"),
        cwd=tmp_path,
    )
    assert run.returncode == 6, run.stdout[-3000:] + run.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["verdict"] == "INCOMPLETE" and data["ok"] is False and data["findings"] == []
    gaps = data["gaps"]
    assert gaps[0]["what"] == "The run stopped early: the request budget of 40 was spent."
    assert "--max-requests 80" in gaps[0]["cover"]
    never = next(g for g in gaps if "never fuzzed" in g["what"])
    assert never["what"].split(" of ")[1].startswith("69 selected operations")
    assert "NOT COVERED" in run.stdout and "VERDICT: INCOMPLETE" in run.stdout
    junit = (tmp_path / "fuzz.xml").read_text()
    assert 'type="incomplete"' in junit  # a CI server does not show it green


@pytest.mark.parametrize("served", [("--fault", "wrong-type", "--fault-rate", "1.0")], indirect=True)
def test_a_fault_that_could_not_fire_is_not_a_pass(served: str, dev_pki, tmp_path: Path) -> None:
    """A sandbox with no market set up answers every auction call with a refusal, so a fault on
    successful answers never fires: that is INCOMPLETE (which operations, and why), not PASSED."""
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--url",
        served,
        "--pki",
        str(dev_pki.directory),
        "--service",
        "auction",
        "--operation",
        "getPortfolioStatus",
        "--operation",
        "portfolioSubmission",
        "--max-examples",
        "3",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert run.returncode == 6, run.stdout[-3000:] + run.stderr[-2000:]
    gaps = json.loads(out.read_text())["gaps"]
    assert gaps and all("reached business logic" in g["what"] for g in gaps), gaps
    assert any("MKT0001" in g["what"] for g in gaps), gaps


def test_a_sandbox_reached_by_url_proves_itself_and_gets_the_sandbox_rules(
    served: str, dev_pki, shared_pki: Path, tmp_path: Path
) -> None:
    assert proves_sandbox(served, dev_pki.directory)
    assert judge_target(served, served, dev_pki.directory) == "sandbox"
    # the same server, without the operator's certificate to prove it: a shared environment
    assert not proves_sandbox(served, shared_pki)
    assert judge_target(served, served, shared_pki) == "shared"
    # a named environment is never asked, whatever answers
    assert judge_target("mapstage", served, dev_pki.directory) == "shared"
    out = tmp_path / "fuzz.json"
    run = crrsim(
        "fuzz",
        "--url",
        served,
        "--pki",
        str(dev_pki.directory),
        "--service",
        "app_status",
        "--json",
        str(out),
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    facts = json.loads(out.read_text())["sections"][0]["facts"]
    assert facts["writes"] == "allowed (the sandbox)" and facts["request budget"] == "none"  # no 2/s crawl


def test_support_bundles_of_two_runs_never_overwrite_each_other() -> None:
    """Issue 18, item 17: the same failure found by two runs gets two bundles (a later run used to
    overwrite the one an earlier report points at); within a run one failure is one bundle."""
    from harness.fuzz.bundles import failure_id

    first = failure_id("not_a_server_error", "GET /status", "HTTP 500", "run1")
    assert first == failure_id("not_a_server_error", "GET /status", "HTTP 500", "run1")
    assert first != failure_id("not_a_server_error", "GET /status", "HTTP 500", "run2")
