"""``harness.clientcheck.run`` with real clients over real mTLS: an old TLS client is let in and
judged, a participant's own pfx is provisioned for their SC ID (and its password never written),
a check nobody called is never PASSED, and every stop rule ends the watch."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from harness.clientcheck import CheckSettings, Rehearsal, run
from harness.config import CrrsimConfig
from harness.config.clientscript import load_script, parse_script
from harness.exitcodes import ExitCode
from harness.pki import DevPKI
from harness.pki.issue import issue_client_cert, make_ca, write_pfx

QUIET = parse_script({"day": "week1.wednesday"})  # no faults, no flow: only the per-request rules


def settings(pki: DevPKI, tmp: Path, **kw: object) -> CheckSettings:
    base: dict[str, object] = {
        "cfg": CrrsimConfig(sandbox_pki=pki.directory),
        "script": QUIET,
        "run_dir": tmp / "check",
        "until_idle": 1.0,
    }
    return CheckSettings(**{**base, **kw})  # type: ignore[arg-type]


def context(pki: DevPKI, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    files = pki.files_for("ECAL")
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    ctx.load_cert_chain(str(cert or files.cert), str(key or files.key))
    return ctx


def get_status(url: str, ctx: ssl.SSLContext, n: int = 1) -> None:
    with httpx.Client(verify=ctx, timeout=10) as client:
        for _ in range(n):
            assert (
                client.get(f"{url}/status", headers={"caiso-request-id": str(uuid.uuid4())}).status_code
                == 200
            )


def outcomes(report_cases: list) -> dict[str, str]:
    return {c.data["key"]: c.data["outcome"] for c in report_cases}


def test_an_old_tls_client_is_let_in_and_judged(dev_pki: DevPKI, tmp_path: Path) -> None:
    def old_client(r: Rehearsal) -> None:
        ctx = context(dev_pki)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        port = int(r.url.split(":")[2].split("/")[0])
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            tls = ctx.wrap_socket(raw, server_hostname="localhost")
        except ssl.SSLError as exc:  # this machine's OpenSSL refuses TLS 1.1 itself
            pytest.skip(f"the local OpenSSL cannot speak TLS 1.1 at all: {exc}")
        with tls:
            request = f"GET /crr/status HTTP/1.1\r\nHost: localhost\r\ncaiso-request-id: {uuid.uuid4()}\r\nConnection: close\r\n\r\n"
            tls.sendall(request.encode())
            assert tls.recv(100).startswith(b"HTTP/1.1 200")

    outcome = run(settings(dev_pki, tmp_path), on_ready=old_client)
    got = outcomes(outcome.report.cases)
    assert got["transport.tls"] == "FAIL"
    assert "TLSv1.1" in next(c.details for c in outcome.report.cases if c.data["key"] == "transport.tls")
    assert got["transport.sni"] == "PASS" and got["transport.certificate"] == "PASS"
    assert outcome.report.verdict == "FAILED"


def test_a_client_by_ip_address_sends_no_sni_and_is_told(dev_pki: DevPKI, tmp_path: Path) -> None:
    def by_ip(r: Rehearsal) -> None:
        get_status(r.url.replace("localhost", "127.0.0.1"), context(dev_pki), n=4)

    got = outcomes(run(settings(dev_pki, tmp_path), on_ready=by_ip).report.cases)
    assert got["transport.sni"] == "FAIL"
    assert got["transport.reuse"] == "PASS" and got["requests.request-id"] == "PASS"


def test_a_participants_own_pfx_is_provisioned_and_its_password_kept_secret(
    dev_pki: DevPKI, tmp_path: Path
) -> None:
    ca = make_ca(common_name="Participant's own CA")
    leaf = issue_client_cert(ca=ca, name="ecal-b2b-prod", sc_ids=["ECAL"])
    secret = "pfx-" + uuid.uuid4().hex
    pfx = write_pfx(
        tmp_path / "CaisoECALapi.pfx", key=leaf.key, cert=leaf.cert, ca_certs=[ca.cert], password=secret
    )
    own = tmp_path / "own"
    own.mkdir()
    from harness.pki.issue import write_pair

    cert, key = write_pair(own / "ecal", leaf)

    def with_own_then_dev(r: Rehearsal) -> None:
        get_status(r.url, context(dev_pki, cert, key), n=2)  # the pfx it was started with
        get_status(r.url, context(dev_pki), n=2)  # then the dev certificate: not what was expected

    check = settings(dev_pki, tmp_path, pfx=pfx, pfx_password=secret)
    outcome = run(check, on_ready=with_own_then_dev)
    got = outcomes(outcome.report.cases)
    assert got["transport.certificate"] == "FAIL"
    evidence = next(c for c in outcome.report.cases if c.data["key"] == "transport.certificate").details
    assert "CN=ecal" in evidence and "ecal-b2b-prod" not in evidence.split("Likely fix")[0]
    assert got["requests.participant"] == "NOT EXERCISED"  # /status names no participant
    # the password is in no file the check wrote
    for path in check.run_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in json.dumps(outcome.report.to_dict(), default=str)


def test_nobody_called_is_never_passed(dev_pki: DevPKI, tmp_path: Path) -> None:
    shipped = load_script()
    outcome = run(settings(dev_pki, tmp_path, script=shipped, until_idle=None, duration=1.5))
    report = outcome.report
    assert outcome.seen == []
    assert report.verdict == "INCOMPLETE" and report.exit_code() == ExitCode.INCOMPLETE
    assert {c.data["outcome"] for c in report.cases} == {"NOT EXERCISED"}
    assert any("flow" in g.cover or "--script" in g.cover for g in report.gaps)
    assert "--duration 1.5 s passed" in report.meta["stopped"]


def test_a_stop_from_outside_ends_the_watch_and_judges_what_was_seen(dev_pki: DevPKI, tmp_path: Path) -> None:
    stop = threading.Event()

    def then_stop(r: Rehearsal) -> None:
        get_status(r.url, context(dev_pki), n=5)
        stop.set()

    started = time.monotonic()
    outcome = run(settings(dev_pki, tmp_path, until_idle=None), on_ready=then_stop, stop=stop)
    assert time.monotonic() - started < 60
    assert len(outcome.seen) == 5 and outcome.report.meta["stopped"] == "stopped"
    got = outcomes(outcome.report.cases)
    assert got["transport.reuse"] == "PASS" and got["requests.request-id"] == "PASS"
