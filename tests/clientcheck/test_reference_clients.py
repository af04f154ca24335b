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
from harness.sandbox.launch import start_sandbox

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


def test_ctrl_c_ends_the_watch_and_still_writes_the_scorecard(dev_pki: DevPKI, tmp_path: Path) -> None:
    import signal
    import ssl
    import uuid

    import httpx

    out = tmp_path / "check"
    proc, url = start_check(out, dev_pki)  # no stop rule: only Ctrl+C ends it
    files = dev_pki.files_for("ECAL")
    ctx = ssl.create_default_context(cafile=str(dev_pki.ca_cert))
    ctx.load_cert_chain(str(files.cert), str(files.key))
    with httpx.Client(verify=ctx, timeout=10) as client:
        for _ in range(4):
            client.get(f"{url}/status", headers={"caiso-request-id": str(uuid.uuid4())})
    proc.send_signal(signal.SIGINT)
    code, printed, err = finish(proc)
    card = json.loads((out / "scorecard.json").read_text())
    assert card["meta"]["stopped"] == "stopped with Ctrl+C"
    # four reads of /status: the fault on read 3 fired, the flow was never run: not PASSED
    assert code == 1 and card["verdict"] == "FAILED", printed + err
    outcomes = {c["data"]["key"]: c["data"]["outcome"] for c in card["cases"]}
    assert outcomes["transport.reuse"] == "PASS" and outcomes["flow.1.portfolioCreation"] == "NOT EXERCISED"
    assert "INCOMPLETE" not in printed and "FAILED" in printed


def test_the_judging_sandbox_on_its_own_records_what_it_saw(dev_pki: DevPKI, tmp_path: Path) -> None:
    """`crrsim sandbox serve --judge SCRIPT --observe FILE`, started apart from any check."""
    import ssl
    import uuid

    import httpx

    from harness.clientcheck.run import read_seen

    seen_file = tmp_path / "seen.ndjson"
    running = start_sandbox(
        dev_pki.directory, tmp_path / "s.db", judge=REPO / "clientcheck/typical-day.yaml", observe=seen_file
    )
    try:
        files = dev_pki.files_for("ECAL")
        ctx = ssl.create_default_context(cafile=str(dev_pki.ca_cert))
        ctx.load_cert_chain(str(files.cert), str(files.key))
        with httpx.Client(verify=ctx, timeout=10) as client:
            answers = [
                client.get(
                    running.url.replace("127.0.0.1", "localhost") + "/status",
                    headers={"caiso-request-id": str(uuid.uuid4())},
                )
                for _ in range(3)
            ]
    finally:
        running.stop()
    seen = read_seen(seen_file)
    assert [s.operation for s in seen] == ["get-status"] * 3 and {s.sni for s in seen} == {"localhost"}
    third = seen[2]
    assert third.fault is not None  # the schedule's first read fault is due on read 3
    assert answers[2].status_code in (200, 500, 503) and (third.status or 0) == answers[2].status_code


def test_a_sandbox_answering_500_by_itself_is_never_blamed_on_the_client(
    dev_pki: DevPKI, tmp_path: Path
) -> None:
    """`sandbox serve --judge ... --fault server-error --fault-rate 1`, started apart: every refusal
    becomes a 500 the schedule did not plan. The check says the sandbox failed, and cannot pass."""
    import ssl
    import uuid

    import httpx

    from harness.clientcheck.rules import Context, judge
    from harness.clientcheck.run import read_seen
    from harness.config.clientscript import load_script

    seen_file = tmp_path / "seen.ndjson"
    running = start_sandbox(
        dev_pki.directory,
        tmp_path / "s.db",
        judge=REPO / "clientcheck/typical-day.yaml",
        observe=seen_file,
        faults="server-error",
        fault_rate=1.0,
    )
    try:
        files = dev_pki.files_for("ECAL")
        ctx = ssl.create_default_context(cafile=str(dev_pki.ca_cert))
        ctx.load_cert_chain(str(files.cert), str(files.key))
        url = running.url.replace("127.0.0.1", "localhost")
        with httpx.Client(verify=ctx, timeout=10) as client:  # no marketName: a 400, turned into a 500
            got = client.get(
                f"{url}/marketstatus/v1.0/marketStatus",
                params={"participantName": "ECAL"},
                headers={"caiso-request-id": str(uuid.uuid4())},
            )
    finally:
        running.stop()
    assert got.status_code == 500
    script = load_script()
    verdicts = judge(read_seen(seen_file), Context(script, frozenset({"ECAL"}), None, "localhost"))
    errors = [v for v in verdicts if v.outcome == "ERROR"]
    assert [v.key for v in errors] == ["sandbox.own-errors"] and "not your client's doing" in errors[
        0
    ].summary
    assert not any(v.outcome == "FAIL" and v.key.startswith("fault.server-error") for v in verdicts)
