"""`crrsim client-check` as a participant runs it: the command started on its own, a reference
client (a process of its own, httpx over mTLS) running its Market Sim day at the URL it printed,
the check stopping when the client went idle. The scorecard must tell the three apart exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.pki import DevPKI

REPO = Path(__file__).resolve().parents[2]
READY = "CRRSIM_CLIENT_CHECK_READY"

# every expectation of the shipped script, and what each reference client must get
KEYS = (
    "transport.tls",
    "transport.sni",
    "transport.certificate",
    "transport.reuse",
    "requests.request-id",
    "requests.content-type",
    "requests.accept",
    "requests.participant",
    "requests.contract",
    "etiquette.polling",
    "etiquette.concurrency",
    "etiquette.no-4xx-retry",
    "fault.retry-after.read",
    "fault.retry-after.write",
    "fault.server-error.read",
    "fault.server-error.write",
    "fault.reset-after-commit.write",
    "fault.slow.read",
    "drift.unknown-field.read",
    "drift.large-ids.read",
    "drift.new-header.read",
    "flow.1.portfolioCreation",
    "flow.2.portfolioSubmission",
    "flow.3.getPortfolio",
    "flow.4.getMarketStatus",
    "flow.5.getPublicMarketData",
)
FAILS = {
    "good": set(),
    "strict": {"drift.unknown-field.read", "drift.large-ids.read"},
    "naive": {
        "transport.reuse",
        "requests.request-id",
        "requests.accept",
        "requests.participant",
        "requests.contract",  # its portfolio name as participantName is longer than an SC ID may be
        "etiquette.polling",
        "etiquette.no-4xx-retry",
        "fault.retry-after.read",
        "fault.retry-after.write",
        "fault.server-error.read",
        "fault.server-error.write",
        "fault.reset-after-commit.write",
        "fault.slow.read",
        "flow.2.portfolioSubmission",
    },
}


def start_check(
    out: Path, pki: DevPKI, *extra: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """`crrsim client-check` in its own process; (the process, the URL it printed)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "client-check",
            "--pki",
            str(pki.directory),
            "--out",
            str(out),
            *extra,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    printed = []
    while time.monotonic() < deadline:
        text = proc.stdout.readline()
        if not text:
            break
        printed.append(text)
        if text.startswith(READY):
            return proc, text.split("url=", 1)[1].split()[0]
    proc.kill()
    raise AssertionError(
        "client-check never said it was ready:\n"
        + "".join(printed)
        + (proc.stderr.read() if proc.stderr else "")
    )


def run_reference(
    kind: str, url: str, pki: DevPKI, cert: Path | None = None, key: Path | None = None
) -> None:
    files = pki.files_for("ECAL")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.clientcheck.refclients",
            kind,
            url,
            str(pki.ca_cert),
            str(cert or files.cert),
            str(key or files.key),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["good", "naive", "strict"])
def test_the_scorecard_tells_the_reference_clients_apart(kind: str, dev_pki: DevPKI, tmp_path: Path) -> None:
    out = tmp_path / "check"
    proc, url = start_check(out, dev_pki, "--until-idle", "4")
    assert url.startswith("https://localhost:")  # a name: the client sends SNI as CAISO needs
    run_reference(kind, url, dev_pki)
    code, printed, err = finish(proc)
    card = json.loads((out / "scorecard.json").read_text())
    outcomes = {c["data"]["key"]: c["data"]["outcome"] for c in card["cases"]}
    assert tuple(outcomes) == KEYS, err
    failed = {k for k, v in outcomes.items() if v == "FAIL"}
    assert failed == FAILS[kind], {
        k: c["message"] for c in card["cases"] if (k := c["data"]["key"]) in failed ^ FAILS[kind]
    }
    assert "NOT EXERCISED" not in outcomes.values()  # the schedule reached every fault in a day
    assert code == (0 if kind == "good" else 1), printed + err
    assert card["verdict"] == ("PASSED" if kind == "good" else "FAILED")
    # every failure carries its evidence (a request id, a time) and a fix in plain words
    for case in card["cases"]:
        if case["data"]["outcome"] == "FAIL":
            assert case["data"]["fix"] and case["data"]["evidence"], case
            assert any(" -> HTTP " in e or "connection cut" in e for e in case["data"]["evidence"]), case
    assert (out / "scorecard.html").read_text().count("<html") == 1
    assert "<testsuite" in (out / "scorecard.xml").read_text()
    seen = [json.loads(t) for t in (out / "seen.ndjson").read_text().splitlines()]
    assert any("t0" in s for s in seen) and (out / "script.yaml").is_file()
