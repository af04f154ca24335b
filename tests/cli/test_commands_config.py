"""Each command really acts on the settings of crrsim.yaml / CRRSIM_* (real sandbox, real files)."""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from harness.cli.marketsim import settings_from as marketsim_settings
from harness.cli.options import config_from_flags
from harness.contract.catalogue import default_specs_dir
from harness.pki import DevPKI
from harness.sandbox.launch import RunningSandbox
from harness.scenarios.settings import ScenarioSettings

Invoke = Callable[..., Result]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_control_commands_reach_the_sandbox_named_in_crrsim_yaml(
    crrsim: Invoke, workdir: Path, sandbox: RunningSandbox, dev_pki: DevPKI
) -> None:
    (workdir / "crrsim.yaml").write_text(f"sandbox:\n  port: {sandbox.port}\n  pki: {dev_pki.directory}\n")
    result = crrsim("sandbox", "markets")
    assert result.exit_code == 0, result.output
    assert result.output.lstrip().startswith(("[", "{"))
    closed = free_port()
    moved = crrsim("sandbox", "markets", env={"CRRSIM_SANDBOX_PORT": str(closed)})  # env beats the file
    assert moved.exit_code == 3 and f"cannot reach https://127.0.0.1:{closed}/crr" in moved.output


def test_sandbox_serve_listens_and_stores_where_crrsim_yaml_says(
    crrsim: Invoke, workdir: Path, dev_pki: DevPKI
) -> None:
    shutil.copytree(dev_pki.directory, workdir / "pki")
    port = free_port()
    (workdir / "crrsim.yaml").write_text(f"sandbox:\n  port: {port}\n  pki: pki\n  db: state/crr.db\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRRSIM_")}
    log = (workdir / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "sandbox", "serve"],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None and time.monotonic() < deadline, (workdir / "serve.log").read_text()
            time.sleep(0.2)
        clock = crrsim("sandbox", "clock")  # the control command reads the same file: same port and PKI
        assert clock.exit_code == 0, clock.output
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
    output = (workdir / "serve.log").read_text()
    assert (
        f"https://127.0.0.1:{port}/crr; state in {workdir / 'state' / 'crr.db'}; Ctrl+C stops it." in output
    )
    assert (workdir / "state" / "crr.db").is_file()


def test_sandbox_serve_on_a_free_port_names_its_url_and_stops_cleanly_on_ctrl_c(
    workdir: Path, dev_pki: DevPKI
) -> None:
    """`--port 0` used to announce https://127.0.0.1:0/crr; Ctrl+C must end it with exit 0."""
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
            str(workdir / "crr.db"),
        ],
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("CRRSIM_SANDBOX_LISTENING"):
                break
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert lines[0].startswith("crrsim sandbox on a free port (URL below); state in "), lines
    assert re.match(
        r"CRRSIM_SANDBOX_LISTENING port=(\d+) url=https://127\.0\.0\.1:\1/crr$", lines[-1].strip()
    ), lines
    assert proc.returncode == 0 and "Traceback" not in rest, rest


def test_certs_init_uses_the_configured_pki_folder(crrsim: Invoke, workdir: Path, dev_pki: DevPKI) -> None:
    shutil.copytree(dev_pki.directory, workdir / "team-pki")
    shutil.copytree(dev_pki.directory, workdir / "env-pki")
    (workdir / "crrsim.yaml").write_text("sandbox:\n  pki: team-pki\n")
    result = crrsim("certs", "init")
    assert result.exit_code == 0, result.output
    assert f"Dev PKI in {workdir / 'team-pki'}" in result.output and "nothing changed" in result.output
    by_env = crrsim("certs", "init", env={"CRRSIM_SANDBOX_PKI": str(workdir / "env-pki")})
    assert by_env.exit_code == 0 and f"Dev PKI in {workdir / 'env-pki'}" in by_env.output
    assert not (workdir / "certs").exists()  # the default folder was never touched


def test_specs_list_and_check_use_the_configured_contract(crrsim: Invoke, workdir: Path) -> None:
    shutil.copytree(default_specs_dir(), workdir / "contract")
    (workdir / "crrsim.yaml").write_text("specs: contract\n")
    listed = crrsim("specs", "list")
    assert listed.exit_code == 0, listed.output
    assert f"contract folder: {workdir / 'contract'}" in listed.output
    (workdir / "one").mkdir()  # env beats the file: a folder holding only the auction contract
    shutil.copy(next(default_specs_dir().glob("caiso_crr_auction_*.yaml")), workdir / "one")
    checked = crrsim("specs", "check", env={"CRRSIM_SPECS": str(workdir / "one")})
    assert checked.exit_code == 0, checked.output
    assert f"1 contract files in {workdir / 'one'}" in checked.output
    assert "no contract file for service market_data" in checked.output


def test_scenarios_take_target_certificate_and_folders_from_config(crrsim: Invoke, workdir: Path) -> None:
    (workdir / "crrsim.yaml").write_text(
        "target: mapstage\nparticipant: wcal\nreports_dir: out\nsandbox:\n  pki: pki\n"
    )
    refused = crrsim("scenarios")
    assert refused.exit_code == 2 and "outside the sandbox give your certificate" in refused.output
    missing = crrsim("scenarios", env={"CRRSIM_PFX": "mine.pfx"})
    assert (
        missing.exit_code == 2
        and f"pfx {workdir / 'mine.pfx'} does not exist (env:CRRSIM_PFX)" in missing.output
    )

    cfg = config_from_flags({}, None)
    settings = ScenarioSettings.from_config(cfg, results_dir=cfg.reports_dir / "scenarios", tags="@week1")
    assert (settings.target, settings.participant, settings.pki_dir) == (
        "mapstage",
        "WCAL",
        workdir / "pki",
    )
    assert settings.tags == "@week1" and settings.work_dir is None and not settings.is_sandbox
    sandbox = ScenarioSettings.from_config(
        config_from_flags({"env_name": "SANDBOX"}), results_dir=workdir / "r"
    )
    assert sandbox.is_sandbox and sandbox.work_dir == workdir / "r" / "sandbox"


def test_marketsim_takes_target_participant_and_folders_from_config(
    crrsim: Invoke, workdir: Path, dev_pki: DevPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO())  # no terminal: the password must come from the env
    pfx = dev_pki.identities["wcal"].pfx
    (workdir / "crrsim.yaml").write_text(
        f"target: mapstage\nparticipant: WCAL\npfx: {pfx}\ntimeout: 12\nreports_dir: out\n"
        "sandbox:\n  pki: pki\n"
    )
    no_password = crrsim("marketsim")
    assert (
        no_password.exit_code == 2
        and f"Set CRRSIM_PFX_PASSWORD to the password of {pfx.name}" in no_password.output
    )
    monkeypatch.setenv("CRRSIM_PFX_PASSWORD", dev_pki.password())
    settings = marketsim_settings(config_from_flags({}), scenarios=False)
    assert (settings.target, settings.participants, settings.timeout) == ("mapstage", ["WCAL"], 12.0)
    assert settings.pfx == pfx and settings.password == dev_pki.password()
    assert (
        settings.out == workdir / "out"
        and settings.details == workdir / "out" / "marketsim"
        and settings.pki_dir == workdir / "pki"
    )

    monkeypatch.delenv("CRRSIM_PFX_PASSWORD")
    (workdir / "crrsim.yaml").write_text("specs: nowhere\n")
    bad_specs = crrsim("marketsim")
    assert bad_specs.exit_code == 2 and f"specs {workdir / 'nowhere'} does not exist" in bad_specs.output


def test_report_reads_results_under_the_configured_reports_dir(crrsim: Invoke, workdir: Path) -> None:
    result = crrsim("report", env={"CRRSIM_REPORTS_DIR": "team-reports"})
    # no results where it looked is a usage error (exit-code table), naming where it looked
    assert result.exit_code == 2 and str(workdir / "team-reports" / "scenarios") in result.output


def test_probe_takes_its_participant_from_config(crrsim: Invoke, workdir: Path) -> None:
    (workdir / "crrsim.yaml").write_text("participant: NOT A SCID\n")
    result = crrsim("probe", "--url", "https://127.0.0.1:1/crr", "--pfx", "x.pfx")
    assert result.exit_code == 2 and "'NOT A SCID' is not an SC ID" in result.output
    (workdir / "crrsim.yaml").write_text("timeout: 3\n")
    missing = crrsim("probe", "--url", "https://127.0.0.1:1/crr", "--pfx", "x.pfx")
    assert missing.exit_code == 2 and "--participant SCID" in missing.output
