"""The probe against the real sandbox: the happy path through the CLI with every report, the dev
identities with partial or read-only provisioning, and the dev PKI's deliberately bad certificates."""

from __future__ import annotations

import json
import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.contract.naming import SERVICE_NAMES
from harness.pki.identities import identity
from harness.probe import CheckStatus, ProbeSettings, ServiceStatus, run_probe

SANDBOX_TIMEOUT = 20.0  # generous: the whole suite shares two cores with a sandbox process
ALL_SERVICES = set(SERVICE_NAMES)


def settings(dev_pki, sandbox, name: str, participant: str, **kw) -> ProbeSettings:
    files = dev_pki.files(name)
    return ProbeSettings(
        target=sandbox.url,
        participant=participant,
        pfx=files.pfx,
        password=dev_pki.password(),
        ca=dev_pki.ca_cert,
        timeout=kw.pop("timeout", SANDBOX_TIMEOUT),
        **kw,
    )


def probe_cli_args(dev_pki, sandbox, json: Path, junit: Path, html: Path, timeout: float) -> list[str]:
    """`crrsim probe` as ECAL with its dev pfx against the sandbox, writing all three reports."""
    return [
        "probe",
        "--url",
        sandbox.url,
        "--participant",
        "ECAL",
        "--pfx",
        str(dev_pki.files("ecal").pfx),
        "--ca",
        str(dev_pki.ca_cert),
        "--json",
        str(json),
        "--junit",
        str(junit),
        "--html",
        str(html),
        "--timeout",
        str(timeout),
    ]


def assert_no_secrets(password: str, *texts: str) -> None:
    for text in texts:
        assert password not in text
        assert "PRIVATE KEY" not in text


def test_happy_path_cli_writes_valid_reports(dev_pki, sandbox, tmp_path: Path) -> None:
    out = {kind: tmp_path / f"probe.{kind}" for kind in ("json", "xml", "html")}
    args = probe_cli_args(dev_pki, sandbox, out["json"], out["xml"], out["html"], SANDBOX_TIMEOUT)
    result = CliRunner().invoke(cli, args, env={"CRRSIM_PFX_PASSWORD": dev_pki.password()})
    assert result.exit_code == 0, result.output
    assert "VERDICT: CERTIFIED" in result.stdout

    data = json.loads(out["json"].read_text())
    assert data["schema_version"] == "1.3" and data["runner"] == "probe"
    assert data["ok"] is True and data["verdict"] == "CERTIFIED" and data["meta"]["certified"] is True
    services = {c["name"]: c for c in data["cases"] if c["group"] == "services"}
    assert set(services) == ALL_SERVICES
    for name, case in services.items():
        assert case["data"]["outcome"] == "OK", (name, case["message"])
        assert case["data"]["method"] == "GET"
        assert re.fullmatch(r"[0-9a-f-]{36}", case["data"]["caiso_request_id"])
        assert case["data"]["latency_ms"] > 0

    suite = ET.parse(out["xml"]).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == len(data["cases"]) and int(suite.attrib["tests"]) == len(cases)
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert {c.get("classname") for c in cases} >= {
        "probe.local",
        "probe.network",
        "probe.tls",
        "probe.services",
    }

    html = out["html"].read_text()
    assert 'id="verdict"' in html and "Verdict: CERTIFIED" in html
    assert "<svg" in html and "ECAL" in html and "TLSv1." in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the HTML must load nothing"
    assert "<link" not in html and "<script" not in html
    assert_no_secrets(
        dev_pki.password(), result.output, out["json"].read_text(), out["xml"].read_text(), html
    )


def test_sandbox_default_uses_the_dev_identity(dev_pki, sandbox) -> None:
    env = {"CRRSIM_SANDBOX_PKI": str(dev_pki.directory), "CRRSIM_SANDBOX_PORT": str(sandbox.port)}
    result = CliRunner().invoke(
        cli, ["probe", "--env", "sandbox", "--participant", "ECAL", "--timeout", "20"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "dev PKI identity 'ecal'" in result.stderr


def test_with_no_sandbox_running_the_probe_starts_an_embedded_one(dev_pki, tmp_path: Path) -> None:
    """A first `crrsim probe --participant ECAL` used to fail on a port nobody had opened; like
    every other runner, it now starts a fresh sandbox (and says so) when none is listening."""
    with socket.socket() as s:  # a loopback port where nothing listens
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    env = {"CRRSIM_SANDBOX_PKI": str(dev_pki.directory), "CRRSIM_SANDBOX_PORT": str(free)}
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        result = runner.invoke(
            cli, ["probe", "--participant", "ECAL", "--timeout", "20", "--json", "p.json"], env=env
        )
        data = json.loads(Path("p.json").read_text())
    assert result.exit_code == 0, result.output
    assert f"No sandbox is listening at 127.0.0.1:{free}: probing a fresh embedded one" in result.stderr
    assert data["verdict"] == "CERTIFIED" and f":{free}/" not in data["target"], data["target"]


def test_partially_provisioned_identity(dev_pki, sandbox) -> None:
    result = run_probe(settings(dev_pki, sandbox, "ycal-partial", "YCAL"))
    provisioned = set(identity("ycal-partial").services)
    assert not result.certified and result.exit_code == 1
    for svc in result.services:
        expected = ServiceStatus.OK if svc.service in provisioned else ServiceStatus.NOT_PROVISIONED
        assert svc.status is expected, (svc.service, svc.diagnosis)
        if expected is ServiceStatus.NOT_PROVISIONED:
            assert svc.error_code == "SEC0002" and svc.http_status == 403 and svc.request_id
    assert all(c.status is not CheckStatus.FAIL for c in result.checks)


def test_read_only_identity_passes_and_says_writes_are_untested(dev_pki, sandbox) -> None:
    result = run_probe(settings(dev_pki, sandbox, "ecal-readonly", "ECAL"))
    assert result.certified, result.problems()
    assert any("cannot tell whether this certificate may also write" in n for n in result.notes)
    report = result.to_report()
    assert any("read-only provisioning passes the probe" in line for s in report.sections for line in s.text)


def test_certificate_acting_for_another_sc_id_is_denied(dev_pki, sandbox) -> None:
    result = run_probe(settings(dev_pki, sandbox, "ecal", "WCAL"))
    denied = [s for s in result.services if s.status is ServiceStatus.ACCESS_DENIED]
    assert denied and all(s.error_code == "SEC0001" for s in denied)
    assert result.service("app_status").ok  # /status acts for nobody


@pytest.mark.parametrize(
    ("bad", "check_id", "phrase"),
    [
        ("expired", "local.validity", "expired"),
        ("not-yet-valid", "local.validity", "not valid yet"),
        ("no-client-auth", "local.client_auth", "not allowed for client authentication"),
        ("unknown-ca", "local.issuer", "crrsim untrusted CA"),
    ],
)
def test_dev_bad_certificates(dev_pki, sandbox, bad: str, check_id: str, phrase: str) -> None:
    result = run_probe(settings(dev_pki, sandbox, bad, "ECAL", timeout=5.0))
    assert not result.certified
    assert phrase in result.check(check_id).diagnosis
    refused = result.check("tls.client_cert") or result.check("tls.handshake")
    assert refused.status is CheckStatus.FAIL
    assert {s.status for s in result.services} == {ServiceStatus.TLS_FAILURE}


def test_wrong_password_never_reaches_any_output(dev_pki, sandbox, tmp_path: Path) -> None:
    wrong = "Wr0ng-Passw0rd-Marker"
    paths = [tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "r.html"]
    args = probe_cli_args(dev_pki, sandbox, paths[0], paths[1], paths[2], timeout=5)
    result = CliRunner().invoke(cli, args, env={"CRRSIM_PFX_PASSWORD": wrong})
    assert result.exit_code == 1
    assert "wrong password" in result.stdout
    assert_no_secrets(wrong, result.output, *(p.read_text() for p in paths))
    assert_no_secrets(dev_pki.password(), result.output, *(p.read_text() for p in paths))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "sandbox", "--url", "https://127.0.0.1:1/crr"], "either --env or --url"),
        (["--url", "https://127.0.0.1:1/crr", "--cert", "x.pem"], "--cert and --key go together"),
        (["--url", "https://127.0.0.1:1/crr", "--participant", "NOT A SCID"], "not an SC ID"),
        (["--url", "ftp://127.0.0.1/crr"], "Unknown target"),
        (["--url", "https://127.0.0.1:1/crr", "--password", "x"], "No such option"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    if "--participant" not in args:
        args = [*args, "--participant", "ECAL"]
    if "--cert" not in args:
        args = [*args, "--pfx", str(tmp_path / "missing.pfx")]
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):  # no stray crrsim.yaml from the cwd
        result = runner.invoke(cli, ["probe", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
