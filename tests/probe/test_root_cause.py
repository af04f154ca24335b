"""Issue 9 item 5: one root cause, said once at the top with its fix, instead of nine identical rows."""

from __future__ import annotations

import json
import socket

from click.testing import CliRunner

from harness.cli import cli
from harness.probe import CheckStatus, ProbeSettings, run_probe
from tests.probe.probe_servers import FAST_TIMEOUT, PFX_PASSWORD, ProbePKI, server_context, tls_server


def _sandbox_probe(dev_pki, url: str, identity: str, participant: str):
    files = dev_pki.files(identity)
    return run_probe(
        ProbeSettings(
            target=url,
            participant=participant,
            cert=files.cert,
            key=files.key,
            ca=dev_pki.ca_cert,
            timeout=20,
        )
    )


def test_certificate_acting_for_another_sc_is_one_finding_naming_subject_and_participant(
    dev_pki, sandbox
) -> None:
    result = _sandbox_probe(dev_pki, sandbox.url, "wcal", "ECAL")
    problems = result.problems()
    assert len(problems) == 1, problems
    assert "O=WCAL" in problems[0] and "ECAL" in problems[0] and "--participant" in problems[0]
    report = result.to_report()
    [finding] = report.fix_first()
    assert "--participant WCAL" in finding.fix
    assert finding.request_id


def test_root_cause_comes_first_in_the_terminal_and_every_report(dev_pki, sandbox, tmp_path) -> None:
    files = dev_pki.files("wcal")
    out = {k: tmp_path / f"p.{k}" for k in ("json", "html")}
    result = CliRunner().invoke(
        cli,
        [
            "probe",
            "--url",
            sandbox.url,
            "--participant",
            "ECAL",
            "--cert",
            str(files.cert),
            "--key",
            str(files.key),
            "--ca",
            str(dev_pki.ca_cert),
            "--json",
            str(out["json"]),
            "--html",
            str(out["html"]),
            "--timeout",
            "20",
        ],
    )
    assert result.exit_code == 1, result.output
    text = result.stdout
    assert text.index("WHAT TO FIX") < text.index("SERVICES")
    assert text.count("Likely fix") == 1  # the advice once, not once per service
    assert "is not entitled" not in text  # nine copies of the server's sentence are gone
    data = json.loads(out["json"].read_text())
    assert len(data["findings"]) == 1 and "O=WCAL" in data["findings"][0]["text"]
    html = out["html"].read_text()
    assert html.index("What to fix") < html.index("All checks")


def test_404_everywhere_is_a_wrong_base_path(dev_pki, sandbox) -> None:
    wrong = sandbox.url.removesuffix("/crr") + "/api/crr"
    result = _sandbox_probe(dev_pki, wrong, "ecal", "ECAL")
    assert not result.certified
    [problem] = result.problems()
    assert "404" in problem and "base URL" in problem
    assert "/crr" in result.what_to_fix()[0][2]


def test_a_non_tls_port_gets_a_fix(serve, probe_pki: ProbePKI) -> None:
    def ssh_like(conn: socket.socket) -> None:  # speaks first, and not TLS
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n" * 4)
        conn.recv(4096)

    server = serve(ssh_like)
    result = run_probe(
        ProbeSettings(
            target=server.url,
            participant="ECAL",
            pfx=probe_pki.client.pfx,
            password=PFX_PASSWORD,
            ca=probe_pki.ca,
            timeout=FAST_TIMEOUT,
        )
    )
    check = result.check("tls.handshake")
    assert check.status is CheckStatus.FAIL
    assert check.fix, check.diagnosis


def test_ca_judges_the_server_and_the_issuer_is_its_own_check(dev_pki, serve, probe_pki: ProbePKI) -> None:
    """The probe PKI's client certificate comes from a CA other than --ca's: no warning about it."""
    ctx = server_context(probe_pki.server_cert, probe_pki.server_key, probe_pki.ca)
    server = serve(tls_server(ctx, lambda _: ("200 OK", "application/json", b"{}")))
    files = dev_pki.files("ecal")  # issued by the dev CA, while --ca is the probe test CA
    result = run_probe(
        ProbeSettings(
            target=server.url,
            participant="ECAL",
            cert=files.cert,
            key=files.key,
            ca=probe_pki.ca,
            timeout=FAST_TIMEOUT,
        )
    )
    issuer = result.check("local.issuer")
    assert issuer.status is CheckStatus.PASS and "issued by" in issuer.diagnosis
    assert result.check("local.chain") is None
    assert result.check("tls.handshake").status is CheckStatus.PASS  # --ca verified the server
