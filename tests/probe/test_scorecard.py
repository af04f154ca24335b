"""`crrsim probe --participants FILE`: one readiness scorecard across participants, against the
real sandbox, with a pfx (password from its variable), PEM files and a partly provisioned identity."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from click.testing import CliRunner

from harness.cli import cli


def _participants_file(dev_pki, tmp_path: Path) -> Path:
    clients = dev_pki.directory / "clients"
    path = tmp_path / "participants.yaml"
    path.write_text(
        "participants:\n"
        f"  - {{sc: ECAL, pfx: {clients / 'ecal.pfx'}, password_env: ECAL_PFX_PASSWORD}}\n"
        f"  - {{sc: WCAL, cert: {clients / 'wcal.pem'}, key: {clients / 'wcal.key'}}}\n"
        f"  - {{sc: YCAL, cert: {clients / 'ycal-partial.pem'}, key: {clients / 'ycal-partial.key'}}}\n",
        encoding="utf-8",
    )
    return path


def test_scorecard_across_participants(dev_pki, sandbox, tmp_path: Path) -> None:
    out = {kind: tmp_path / f"scorecard.{kind}" for kind in ("json", "xml", "html")}
    args = [
        "probe",
        "--url",
        sandbox.url,
        "--ca",
        str(dev_pki.ca_cert),
        "--timeout",
        "20",
        "--participants",
        str(_participants_file(dev_pki, tmp_path)),
        "--json",
        str(out["json"]),
        "--junit",
        str(out["xml"]),
        "--html",
        str(out["html"]),
    ]
    result = CliRunner().invoke(
        cli, args, env={"ECAL_PFX_PASSWORD": dev_pki.password(), "CRRSIM_PFX_PASSWORD": None}
    )
    assert result.exit_code == 1, result.output  # YCAL is only partly provisioned
    assert "NOT READY: 2 of 3 participants certified" in result.stdout

    data = json.loads(out["json"].read_text())
    assert data["runner"] == "probe-scorecard" and data["ok"] is False
    assert data["meta"]["certified"] == ["ECAL", "WCAL"]
    rows = {r["SC ID"]: r for r in data["sections"][0]["rows"]}
    assert rows["ECAL"]["Verdict"] == rows["WCAL"]["Verdict"] == "CERTIFIED"
    assert rows["ECAL"]["Services OK"] == "10 of 10"
    assert rows["YCAL"]["Verdict"] == "NOT CERTIFIED" and rows["YCAL"]["First thing to fix"]
    services = data["sections"][1]["rows"]
    assert len(services) == 10 and all(r["ECAL"].startswith("OK") for r in services)
    assert any(r["YCAL"].startswith("NOT_PROVISIONED") for r in services)
    assert all(f["where"].startswith("YCAL / ") for f in data["findings"]) and data["findings"]

    suites = {s.get("name") for s in ET.parse(out["xml"]).getroot().iter("testsuite")}
    cases = ET.parse(out["xml"]).getroot().findall(".//testcase")
    assert {c.get("classname").split(".")[-1] for c in cases} == {"ECAL", "WCAL", "YCAL"}, suites
    html = out["html"].read_text()
    assert "Market Sim readiness scorecard" in html and "Services by participant" in html
    for text in (result.output, out["json"].read_text(), out["xml"].read_text(), html):
        assert dev_pki.password() not in text and "PRIVATE KEY" not in text


def test_scorecard_refuses_a_password_in_the_file_and_mixed_options(dev_pki, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        f"participants:\n  - {{sc: ECAL, pfx: {dev_pki.directory / 'clients' / 'ecal.pfx'}, "
        "password: hunter2}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(cli, ["probe", "--url", "https://127.0.0.1:1/crr", "--participants", str(path)])
    assert result.exit_code == 2 and "holds a password" in result.output
    result = runner.invoke(
        cli,
        ["probe", "--url", "https://127.0.0.1:1/crr", "--participants", str(path), "--participant", "ECAL"],
    )
    assert result.exit_code == 2 and "leave out --participant" in result.output
    ok = tmp_path / "ok.yaml"
    ok.write_text(
        f"participants:\n  - {{sc: ECAL, pfx: {dev_pki.directory / 'clients' / 'ecal.pfx'}}}\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        cli,
        ["probe", "--url", "https://127.0.0.1:1/crr", "--participants", str(ok)],
        env={"CRRSIM_PFX_PASSWORD_ECAL": None},
    )
    assert result.exit_code == 2 and "Set CRRSIM_PFX_PASSWORD_ECAL" in result.output
    assert "Traceback" not in result.output
