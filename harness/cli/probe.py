"""`crrsim probe`: certify a participant's connectivity to the CRR API.

Thin: settings come from the one config loader (``harness.cli.options``), the work from
``harness.probe``, the files from the shared report handlers. Exit codes (``harness.exitcodes``): 0 certified,
1 not certified, 2 usage error, 3 the target cannot be reached (its name or TCP port; the report
still says which and how to fix it) or a report could not be written.
Passwords come only from $CRRSIM_PFX_PASSWORD or a hidden prompt, never from an option.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import click

from harness.cli.options import (
    config_options,
    flag_given,
    participant_passwords,
    pfx_password,
    report_options,
    require_files,
    use_color,
)
from harness.cli.stream import check_written, run_stream
from harness.config import ConfigError, CrrsimConfig
from harness.config.participants import ParticipantsError, load_participants
from harness.contract import ContractError
from harness.events import Emit
from harness.exitcodes import ExitCode
from harness.pki.devpki import identity_paths
from harness.probe import ProbeResult, ProbeSettings, run_probe
from harness.probe.scorecard import run_scorecard
from harness.reports import RunReport
from harness.reports.handlers import ReportFiles, render_text

SC_ID = re.compile(r"^[A-Za-z0-9._-]{1,10}$")  # the contract's participantName pattern and length


def _dev_identity(cfg: CrrsimConfig) -> tuple[Path | None, Path | None]:
    """Sandbox convenience: the dev PKI identity acting for the participant, if it exists."""
    if not cfg.is_sandbox or cfg.pfx is not None or cfg.cert is not None:
        return cfg.cert, cfg.key
    try:
        name = cfg.dev_identity_name()
    except ConfigError:
        return None, None
    files = identity_paths(cfg.sandbox_pki, name)
    cert, key = files.cert, files.key
    if cert.is_file() and key.is_file():
        click.echo(f"Using the dev PKI identity {name!r} ({cert}).", err=True)
        return cert, key
    return None, None


def settings_from(cfg: CrrsimConfig, participant: str) -> ProbeSettings:
    """The probe's inputs: the shared settings plus the SC ID (the password: env or prompt)."""
    cert, key = _dev_identity(cfg)
    if cfg.pfx is None and cert is None:
        hint = " (or run `crrsim certs init` for the sandbox's dev identities)" if cfg.is_sandbox else ""
        raise click.UsageError(
            f"Give the client certificate with --pfx FILE, or --cert FILE --key FILE{hint}."
        )
    return ProbeSettings.from_config(
        cfg,
        participant,
        cert=cert,
        key=key or cert,  # no --key: the key is inside the certificate file
        password=pfx_password(cfg, required=False),  # none: the probe reports it as a finding
    )


@click.command("probe")
@config_options(
    "env_name",
    "url",
    "participant",
    "pfx",
    "cert",
    "key",
    "ca",
    "timeout",
    "specs",
    "pki",
    reword={
        "participant": "SC ID to probe for, e.g. ECAL (required: here, in crrsim.yaml or $CRRSIM_PARTICIPANT).",
        "timeout": "Seconds to wait for an answer from the CRR API (the checks wait side by side, so the whole "
        "probe ends within it).",
        "specs": "Contract folder to probe by.",
        "pki": "Dev PKI folder of a sandbox: its identities, and its operator, who may prove a --url is a "
        "crrsim sandbox.",
    },
)
@click.option(
    "--participants",
    "participants_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML listing SC IDs with their pfx (or cert/key) files: probe each, one readiness scorecard.",
)
@report_options
def command(
    cfg: CrrsimConfig,
    participants_file: Path | None,
    json_out: Path | None,
    junit: Path | None,
    html: Path | None,
    events_out: Path | None,
) -> None:
    """Check certificate, network, TLS and every CRR service for one participant, or for each
    participant of a file (a readiness scorecard).

    The pfx password is read from $CRRSIM_PFX_PASSWORD, or asked for on a terminal; with
    --participants, from each entry's password_env (default $CRRSIM_PFX_PASSWORD_<SC>).
    """
    if flag_given("cert") != flag_given("key"):
        raise click.UsageError("--cert and --key go together.")
    participant = cfg.participant
    if participants_file is None and participant is None:
        raise click.UsageError("Say which SC ID to probe for: --participant SCID.")
    if participant is not None and not SC_ID.match(participant):
        raise click.UsageError(f"--participant {participant!r} is not an SC ID (letters/digits, at most 10).")
    try:
        cfg.base_url()  # an unusable target first: it is the first thing a reader fixes
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    require_files(cfg, "pfx", "cert", "key", "ca", "specs")  # a file that is not there is a typo: exit 2
    with _sandbox_if_none_runs(cfg) as cfg:
        if participants_file is not None:
            _scorecard(cfg, participants_file, json_out, junit, html, events_out)
        else:
            settings = settings_from(cfg, cfg.participant or "")
            with run_stream(json_out, junit, html, events_out) as (emit, files):
                result = _probe(settings, emit)
            _finish(result.to_report(), files, unreachable=result.unreachable)


@contextlib.contextmanager
def _sandbox_if_none_runs(cfg: CrrsimConfig) -> Iterator[CrrsimConfig]:
    """The sandbox target is the one running at the configured port (`crrsim sandbox serve`);
    when nothing listens there, a fresh embedded one, as every other runner starts, so a first
    `crrsim probe --participant ECAL` certifies instead of failing on a port nobody opened."""
    if not cfg.is_sandbox or _listening(cfg.sandbox_host, cfg.sandbox_port):
        yield cfg
        return
    from harness.sandbox.launch import embedded

    click.echo(
        f"No sandbox is listening at {cfg.sandbox_host}:{cfg.sandbox_port}: probing a fresh embedded "
        "one (`crrsim sandbox serve` starts one that stays; the probe then uses it).",
        err=True,
    )
    with embedded(cfg.sandbox_pki, cfg.specs, prefix="probe") as (url, _pki):
        port = urlsplit(url).port
        assert port is not None
        yield dataclasses.replace(cfg, sandbox_port=port)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _probe(settings: ProbeSettings, emit: Emit) -> ProbeResult:
    """Run the probe; what the settings cannot be used for is a usage error (exit 2)."""
    try:
        return run_probe(settings, emit)
    except ValueError as exc:  # unusable target URL
        raise click.UsageError(str(exc)) from None
    except ContractError as exc:
        raise click.UsageError(f"The contract folder cannot be used: {exc}") from None


def _finish(report: RunReport, files: ReportFiles, unreachable: bool = False) -> NoReturn:
    """Print the report (its files are written); exit 0 certified, 3 when the target could not
    be reached at all (what every command answers then), else 1."""
    click.echo(render_text(report, color=use_color()), nl=False)
    check_written(files)
    sys.exit(ExitCode.OK if report.ok else ExitCode.CANNOT_RUN if unreachable else ExitCode.PROBLEM)


def _scorecard(
    cfg: CrrsimConfig,
    path: Path,
    json_out: Path | None,
    junit: Path | None,
    html: Path | None,
    events_out: Path | None,
) -> None:
    """Probe every participant of the file in turn; exit 0 only when all are certified."""
    if any(flag_given(name) for name in ("participant", "pfx", "cert", "key")):
        raise click.UsageError(
            "--participants names each SC ID's certificate: leave out --participant, --pfx, --cert and --key."
        )
    try:
        participants = load_participants(path)
    except ParticipantsError as exc:
        raise click.UsageError(str(exc)) from None
    passwords = participant_passwords(participants)
    settings = [
        ProbeSettings.from_config(
            cfg, p.sc, password=passwords.get(p.sc), pfx=p.pfx, cert=p.cert, key=p.key or p.cert
        )
        for p in participants
    ]
    with run_stream(json_out, junit, html, events_out) as (emit, files):
        try:
            report, results = run_scorecard(settings, emit)
        except ValueError as exc:  # unusable target URL
            raise click.UsageError(str(exc)) from None
        except ContractError as exc:
            raise click.UsageError(f"The contract folder cannot be used: {exc}") from None
    _finish(report, files, unreachable=all(r.unreachable for r in results))
