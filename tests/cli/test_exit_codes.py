"""Issue 9 item 13: one exit-code table, documented in the README and kept by every command.

0 ok; 1 the check found a problem; 2 usage or configuration error; 3 could not run;
4 the selection matched nothing. Each command is driven into each code it can reach.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import cli
from harness.exitcodes import MEANING, ExitCode, from_pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def test_the_readme_documents_the_table() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| (\d) \| ([^|]+) \|", readme, re.M))
    assert {int(k) for k in rows} == {int(code) for code in ExitCode}, rows
    for code, meaning in MEANING.items():
        words = set(re.findall(r"[a-z]{4,}", meaning.lower()))
        assert words & set(re.findall(r"[a-z]{4,}", rows[str(int(code))].lower())), (
            code,
            rows[str(int(code))],
        )


def test_pytest_codes_map_onto_the_table() -> None:
    assert [from_pytest(c) for c in range(6)] == [
        ExitCode.OK,
        ExitCode.PROBLEM,
        ExitCode.CANNOT_RUN,
        ExitCode.CANNOT_RUN,
        ExitCode.USAGE,
        ExitCode.NOTHING_SELECTED,
    ]


def test_probe_codes(dev_pki, sandbox, tmp_path: Path) -> None:
    ecal, wcal = dev_pki.files("ecal"), dev_pki.files("wcal")
    base = [
        "probe",
        "--url",
        sandbox.url,
        "--participant",
        "ECAL",
        "--ca",
        str(dev_pki.ca_cert),
        "--timeout",
        "20",
    ]
    assert run(*base, "--cert", str(ecal.cert), "--key", str(ecal.key)).exit_code == 0
    assert run(*base, "--cert", str(wcal.cert), "--key", str(wcal.key)).exit_code == 1
    assert run(*base, "--cert", str(ecal.cert)).exit_code == 2  # --cert without --key
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = run(
        *base, "--cert", str(ecal.cert), "--key", str(ecal.key), "--json", str(blocker / "r.json")
    )
    assert unwritable.exit_code == 3 and "Cannot write" in unwritable.output


def test_specs_codes(tmp_path: Path) -> None:
    assert run("specs", "check").exit_code == 0
    (tmp_path / "caiso_crr_auction_v1.0.0.yaml").write_text("openapi: 3.0.0\ninfo: {}\n")
    assert run("specs", "check", "--specs", str(tmp_path)).exit_code == 1
    missing = run("specs", "list", "--specs", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_certs_codes(dev_pki, tmp_path: Path) -> None:
    ok = dev_pki.identities["ecal"]
    assert (
        run("certs", "inspect", str(ok.cert), "--ca", str(dev_pki.ca_cert), "--key", str(ok.key)).exit_code
        == 0
    )
    assert run("certs", "inspect", str(dev_pki.bad["expired"].cert)).exit_code == 1
    assert run("certs", "inspect", str(ok.pfx)).exit_code == 2  # a pfx, no password, no terminal
    blocker = tmp_path / "f"
    blocker.write_text("")
    assert run("certs", "init", "--dir", str(blocker / "pki")).exit_code == 3


def test_report_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run("report").exit_code == 2  # no results where it looked
    results = tmp_path / "r"
    results.mkdir()
    # the run's own record (run.json), as the scenario plugin writes it
    (results / "run.json").write_text(
        json.dumps({"outcomes": [{"feature": "c", "scenario": "t", "outcome": "passed"}]})
    )
    assert run("report", "--results", str(results)).exit_code == 0
    blocker = tmp_path / "f"
    blocker.write_text("")
    assert run("report", "--results", str(results), "--out", str(blocker / "x.html")).exit_code == 3
    (results / "run.json").write_text(
        json.dumps({"outcomes": [{"feature": "c", "scenario": "t", "outcome": "failed", "message": "m"}]})
    )
    assert run("report", "--results", str(results)).exit_code == 1


def test_scenarios_usage_and_empty_selection_codes(dev_pki, tmp_path: Path) -> None:
    assert run("scenarios", "--tags", "@a and and").exit_code == 2
    empty = run("scenarios", "--pki", str(dev_pki.directory), "--results", str(tmp_path / "r"), "--week", "7")
    assert empty.exit_code == 4, empty.output


def test_marketsim_cannot_run_where_it_cannot_write(dev_pki, tmp_path: Path) -> None:
    blocker = tmp_path / "f"
    blocker.write_text("")
    done = run("marketsim", "--pki", str(dev_pki.directory), "--out", str(blocker / "out"))
    assert done.exit_code == 3, done.output
    assert run("marketsim", "--env", "mapstage").exit_code == 2  # a real environment needs a certificate


def test_sandbox_port_in_use_cannot_run(dev_pki, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        # its own database: the default one in the working directory may be any crrsim's
        db = str(tmp_path / "sandbox.db")
        done = run("sandbox", "serve", "--port", str(port), "--pki", str(dev_pki.directory), "--db", db)
    assert done.exit_code == 3 and "could not start" in done.output
