"""The shared options: every command loads the same settings the same way (flags > env > file)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import Result

from harness.cli.options import config_from_flags, config_options, pfx_password, render_config
from harness.config import load_config

Invoke = Callable[..., Result]

# every command that takes settings, as typed on the command line
COMMANDS = [
    ("probe",),
    ("sandbox", "serve"),
    ("sandbox", "clock"),
    ("sandbox", "open", "M"),
    ("scenarios",),
    ("marketsim",),
    ("certs", "init"),
    ("specs", "list"),
    ("specs", "check"),
    ("report",),
]
YAML = "timeout: 20\nparticipant: WCAL\nreports-dir: out\nsandbox:\n  port: 9443\n  pki: pki\n"


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_sees_the_same_file_and_env_settings(
    crrsim: Invoke, workdir: Path, command: tuple[str, ...]
) -> None:
    (workdir / "crrsim.yaml").write_text(YAML)
    result = crrsim(*command, "--show-config", env={"CRRSIM_RETRIES": "1", "CRRSIM_TIMEOUT": "25"})
    assert result.exit_code == 0, result.output
    expected = load_config(env={"CRRSIM_RETRIES": "1", "CRRSIM_TIMEOUT": "25"}, cwd=workdir)
    assert result.output.strip() == render_config(expected)
    yaml = f"(file:{workdir / 'crrsim.yaml'})"
    assert f"sandbox_port: 9443  {yaml}" in result.output
    assert f"sandbox_pki:  {workdir / 'pki'}  {yaml}" in result.output
    assert f"reports_dir:  {workdir / 'out'}  {yaml}" in result.output
    assert "timeout:      25.0  (env:CRRSIM_TIMEOUT)" in result.output  # env beats the file
    assert "retries:      1  (env:CRRSIM_RETRIES)" in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_the_same_defaults(crrsim: Invoke, workdir: Path, command: tuple[str, ...]) -> None:
    result = crrsim(*command, "--show-config")
    assert result.exit_code == 0, result.output
    assert f"sandbox_db:   {workdir / 'reports' / 'sandbox.db'}  (default)" in result.output
    assert f"sandbox_pki:  {workdir / 'certs' / 'dev'}  (default)" in result.output
    assert (
        "sandbox_port: 8443  (default)" in result.output
        and "target:       sandbox  (default)" in result.output
    )


@pytest.mark.parametrize(
    ("command", "flags", "line"),
    [
        (("sandbox", "serve"), ["--port", "9555", "--host", "127.0.0.2"], "sandbox_port: 9555  (override)"),
        (("sandbox", "serve"), ["--db", "s/state.db"], "sandbox_db:   {cwd}/s/state.db  (override)"),
        (("sandbox", "clock"), ["--pki", "elsewhere"], "sandbox_pki:  {cwd}/elsewhere  (override)"),
        (("certs", "init"), ["--dir", "mine"], "sandbox_pki:  {cwd}/mine  (override)"),
        (
            ("scenarios",),
            ["--env", "mapstage", "--participant", "NCAL"],
            "target:       mapstage  (override)",
        ),
        (
            ("marketsim",),
            ["--url", "https://127.0.0.1:9/crr"],
            "target:       https://127.0.0.1:9/crr  (override)",
        ),
        (("specs", "list"), ["--specs", "contract"], "specs:        {cwd}/contract  (override)"),
    ],
)
def test_flags_beat_env_and_file(
    crrsim: Invoke, workdir: Path, command: tuple[str, ...], flags: list[str], line: str
) -> None:
    (workdir / "crrsim.yaml").write_text(
        "target: production\nsandbox:\n  port: 9443\n  pki: pki\n  db: f.db\n"
    )
    env = {"CRRSIM_SANDBOX_PORT": "9000", "CRRSIM_SPECS": "env-specs", "CRRSIM_SANDBOX_PKI": "env-pki"}
    result = crrsim(*command, *flags, "--show-config", env=env)
    assert result.exit_code == 0, result.output
    assert line.format(cwd=workdir) in result.output


def test_an_explicit_config_file_and_crrsim_config(crrsim: Invoke, workdir: Path) -> None:
    (workdir / "crrsim.yaml").write_text("sandbox:\n  port: 9443\n")
    other = workdir / "conf" / "team.yaml"
    other.parent.mkdir()
    other.write_text("sandbox:\n  port: 9444\n  db: state.db\n")
    by_flag = crrsim("sandbox", "serve", "--config", str(other), "--show-config")
    by_env = crrsim("sandbox", "serve", "--show-config", env={"CRRSIM_CONFIG": str(other)})
    for result in (by_flag, by_env):
        assert result.exit_code == 0, result.output
        assert "sandbox_port: 9444" in result.output
        assert f"sandbox_db:   {other.parent / 'state.db'}" in result.output  # relative to the file


@pytest.mark.parametrize(
    ("command", "text", "message"),
    [
        (("sandbox", "serve"), "sandbox:\n  port: 70000\n", "is not a TCP port"),
        (("marketsim",), "taget: mapstage\n", "unknown setting 'taget'"),
        (("certs", "init"), "pfx_password: hunter2\n", "must not be stored in files"),
        (("specs", "list"), "timeout: soon\n", "must be a number"),
    ],
)
def test_bad_settings_are_usage_errors_in_every_command(
    crrsim: Invoke, workdir: Path, command: tuple[str, ...], text: str, message: str
) -> None:
    (workdir / "crrsim.yaml").write_text(text)
    result = crrsim(*command)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert "hunter2" not in result.output


@pytest.mark.parametrize(
    ("command", "flags", "message"),
    [
        (("probe",), ["--env", "sandbox", "--url", "https://127.0.0.1:1/crr"], "either --env or --url"),
        (("marketsim",), ["--env", "mapstage", "--url", "https://127.0.0.1:1/crr"], "either --env or --url"),
        (("scenarios",), ["--pfx", "a.pfx", "--cert", "a.pem"], "either --pfx or --cert/--key"),
        (("marketsim",), ["--env", "ftp://nowhere"], "Unknown target"),
        (("sandbox", "serve"), ["--pfx-password", "x"], "No such option"),
    ],
)
def test_conflicting_or_bad_flags(
    crrsim: Invoke, command: tuple[str, ...], flags: list[str], message: str
) -> None:
    result = crrsim(*command, *flags)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_the_helper_without_a_command_line(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / "crrsim.yaml").write_text("participant: WCAL\ntimeout: 5\n")
    monkeypatch.setenv("CRRSIM_PARTICIPANT", "NCAL")
    cfg = config_from_flags({"timeout": 9.0, "participant": None, "pki": Path("p")})
    assert (cfg.participant, cfg.timeout, cfg.sandbox_pki) == ("NCAL", 9.0, workdir / "p")
    assert cfg.source_of("timeout") == "override" and cfg.source_of("participant") == "env:CRRSIM_PARTICIPANT"
    with pytest.raises(click.UsageError, match="does not exist"):
        config_from_flags({}, workdir / "missing.yaml")
    with pytest.raises(ValueError, match="not shared options: colour"):
        config_options("timeout", "colour")


def test_the_pfx_password_comes_only_from_the_environment_without_a_terminal(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO())  # no terminal, even under `pytest -s`
    (workdir / "crrsim.yaml").write_text("pfx: me.pfx\n")
    cfg = config_from_flags({})
    assert pfx_password(cfg, required=False) is None  # pytest's stdin is no terminal: nobody to ask
    with pytest.raises(click.UsageError, match="Set CRRSIM_PFX_PASSWORD to the password of me.pfx"):
        pfx_password(cfg, required=True)
    monkeypatch.setenv("CRRSIM_PFX_PASSWORD", "from-env")
    assert pfx_password(config_from_flags({}), required=True) == "from-env"
    assert "from-env" not in render_config(config_from_flags({}))


def test_sandbox_group_options_go_to_serve() -> None:
    """`crrsim sandbox --port N` (the issue's spelling) is `crrsim sandbox serve --port N`."""
    from click.testing import CliRunner

    from harness.cli import cli

    result = CliRunner().invoke(cli, ["sandbox", "--port", "9999", "--db", "x.db", "--show-config"])
    assert result.exit_code == 0, result.output
    assert "sandbox_port: 9999  (override)" in result.output
    assert "x.db" in result.output
