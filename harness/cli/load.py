"""`crrsim load`: the staging window's load and performance tests, on locust.

Thin: the one config plus the run's options become a ``LoadSettings``; ``harness.load`` runs
locust as a subprocess and judges the run. The default target is a fresh embedded sandbox with
the dev PKI's participants (ECAL, WCAL, NCAL), each virtual user presenting its own certificate.
Exit codes (``harness.exitcodes``): 0 passed, 1 the integrity check found lost writes, 2 usage
error, 3 could not run, 5 an SLO was breached.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from harness.cli.options import (
    CannotRun,
    config_options,
    parse_duration,
    participant_passwords,
    refuse_on_production,
    report_options,
    require_files,
    require_reachable,
    use_color,
)
from harness.cli.stream import check_written, run_stream
from harness.config import CrrsimConfig
from harness.config.participants import Participant, ParticipantsError, dev_participants, load_participants
from harness.exitcodes import ExitCode
from harness.load.settings import RATE_CEILING, SHARED_RATE, LoadSettings
from harness.pki.devpki import clients_dir, dev_ca
from harness.sandbox.launch import embedded


def _participants(
    settings: LoadSettings, participants_file: Path | None, pki_dir: Path
) -> tuple[list[Participant], dict[str, str]]:
    """Who the virtual users are, and the pfx passwords (asked once) as variables for locust."""

    if participants_file is not None:
        found = load_participants(participants_file)
    elif (
        settings.target_kind == "sandbox"
        or dev_ca(pki_dir).is_file()
        and settings.cfg.cert is None
        and settings.cfg.pfx is None
    ):
        found = dev_participants(pki_dir)
    else:
        cfg = settings.cfg
        found = [Participant.from_config(cfg, cfg.participant or "ECAL")]
    from harness.load.runner import password_variables

    return password_variables(found, participant_passwords(found))


UI_URL = "http://127.0.0.1:8089"  # locust's default web port, bound to loopback (locust_command)


@click.command("load")
@config_options(
    "env_name",
    "url",
    "participant",
    "pfx",
    "cert",
    "key",
    "ca",
    "pki",
    "specs",
    reword={
        "participant": "SC ID of the virtual users when one certificate is given (default ECAL).",
    },
)
@click.option(
    "--participants",
    "participants_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="YAML listing SC IDs with their pfx (or cert/key) files; passwords from password_env or a prompt.",
)
@click.option(
    "--profile",
    default="steady",
    show_default=True,
    help="steady, ramp, window-close, soak, or a YAML profile file of one's own.",
)
@click.option(
    "--users",
    type=click.IntRange(min=1),
    default=None,
    help="Peak users (closed profiles) or the arrival pool (window-close).",
)
@click.option("--spawn-rate", type=click.FloatRange(min=0.1), default=None, help="Users started per second.")
@click.option(
    "--arrival-rate",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Peak arrivals per second of an arrival profile (window-close).",
)
@click.option(
    "--run-time",
    default=None,
    help="Total length, e.g. 90s, 5m, 1h (the profile's stages keep their proportions).",
)
@click.option(
    "--slo",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SLO file (YAML); a breach exits 5 (default: load/slo/default.yaml, a copyable example).",
)
@click.option(
    "--abort-on-fail",
    is_flag=True,
    help="Stop the run as soon as a latency or error-rate SLO is breached (with enough samples).",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1, max=64),
    default=1,
    show_default=True,
    help="locust worker processes on this machine.",
)
@click.option("--master", is_flag=True, help="Be the master of workers on other machines (--expect-workers).")
@click.option("--expect-workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--worker", is_flag=True, help="Be a worker of the master at --master-host.")
@click.option("--master-host", default=None, help="Where the master runs (with --worker).")
@click.option("--ui", is_flag=True, help=f"locust's web UI instead of headless ({UI_URL}).")
@click.option(
    "--allow-load", is_flag=True, help="Load a shared environment such as Map-Stage (never production)."
)
@click.option(
    "--allow-trades",
    is_flag=True,
    help="Off the sandbox, let the users accept offers: trades that move CRR holdings and cannot be undone.",
)
@click.option(
    "--max-rps",
    type=click.FloatRange(min=0.1),
    default=None,
    help=f"Request rate cap off the sandbox (default {SHARED_RATE:g}/s, at most {RATE_CEILING:g}/s).",
)
@click.option(
    "--raw-latencies",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    hidden=True,
    help="Also keep every raw latency in this folder (to check the histograms against).",
)
@report_options
def command(
    cfg: CrrsimConfig,
    participants_file: Path | None,
    profile: str,
    users: int | None,
    spawn_rate: float | None,
    arrival_rate: float | None,
    run_time: str | None,
    slo: Path | None,
    abort_on_fail: bool,
    processes: int,
    master: bool,
    expect_workers: int,
    worker: bool,
    master_host: str | None,
    ui: bool,
    allow_load: bool,
    allow_trades: bool,
    max_rps: float | None,
    raw_latencies: Path | None,
    json_out: Path | None,
    junit: Path | None,
    html: Path | None,
    events_out: Path | None,
) -> None:
    """Load and performance test with locust: participant-like users over mTLS, SLO gates."""
    from harness.load.profiles import ProfileError, load_profile
    from harness.load.slo import SLOError, load_slos

    require_files(cfg, "pfx", "cert", "key", "ca", "specs")
    from harness.load.shipped import shipped_file
    from harness.load.slo import default_slo_file, slo_dir

    try:  # "load/slo/default.yaml" as the README writes it is the shipped file after a pip install too
        slo = default_slo_file() if slo is None else shipped_file(slo, slo_dir(), "SLO", SLOError)
    except SLOError as exc:
        raise click.UsageError(str(exc)) from None
    settings = LoadSettings(
        cfg=cfg,
        profile=profile,
        users=users,
        spawn_rate=spawn_rate,
        arrival_rate=arrival_rate,
        run_time=parse_duration(run_time, "--run-time"),
        slo=slo,
        processes=processes,
        master=master,
        worker=worker,
        master_host=master_host,
        expect_workers=expect_workers,
        ui=ui,
        allow_load=allow_load,
        allow_trades=allow_trades,
        max_rps=max_rps,
        raw_dir=raw_latencies,
        abort_on_fail=abort_on_fail,
    )
    refuse_on_production(cfg, never="crrsim load never loads production")
    by_url = not cfg.is_sandbox and "://" in cfg.target
    if by_url and not worker:  # judged_kind asks a URL whether it is a sandbox: it must answer at all first
        require_reachable(cfg.base_url())
    settings.kind = cfg.judged_kind()
    if settings.target_kind == "shared":
        if not allow_load:
            raise click.UsageError(
                f"{cfg.target_name} is a shared environment: add --allow-load to load it "
                f"(capped at {SHARED_RATE:g} requests/s, --max-rps up to {RATE_CEILING:g})"
            )
        if max_rps is not None and max_rps > RATE_CEILING:
            raise click.UsageError(
                f"--max-rps {max_rps:g} is above the ceiling of {RATE_CEILING:g} for a shared environment"
            )
        settings.max_rps = max_rps or SHARED_RATE
    if worker and not master_host:
        raise click.UsageError("--worker needs --master-host")
    try:
        load_profile(profile).scaled(users, spawn_rate, arrival_rate, settings.run_time)
        if slo is not None:
            load_slos(slo)
        participants, secrets = _participants(settings, participants_file, cfg.sandbox_pki)
        clients = clients_dir(cfg.sandbox_pki).resolve()
        dev_pki = all(p.cert is not None and p.cert.resolve().parent == clients for p in participants)
        if dev_pki and cfg.ca is None:  # a sandbox addressed by --url: its server certificate is the dev CA's
            settings.cfg = _with_ca(cfg, dev_ca(cfg.sandbox_pki))
    except (ProfileError, SLOError, ParticipantsError) as exc:
        raise click.UsageError(str(exc)) from None
    from harness.load.run import run
    from harness.load.runner import LoadRunError, run_worker
    from harness.reports.handlers import ReportFiles, render_text

    if not cfg.is_sandbox and not by_url and not worker:  # a named environment: after every usage error
        require_reachable(cfg.base_url())
    run_dir = cfg.reports_dir / "load" / time.strftime("%Y%m%dT%H%M%S")
    if worker:  # it sends and reports; the master judges and prints the results
        click.echo(
            f"crrsim load: worker of the master at {master_host}, sending to {cfg.target_name}; the master "
            f"prints the results (this worker's locust log: {run_dir / 'locust.log'})",
            err=True,
        )
        code = run_worker(settings, cfg.base_url(), run_dir, participants, secrets)
        click.echo(
            f"crrsim load: worker done ({'its master ended the run' if code == 0 else f'locust exit {code}'})",
            err=True,
        )
        sys.exit(ExitCode.OK if code == 0 else ExitCode.CANNOT_RUN)
    if settings.target_kind == "shared":
        from harness.load.cleanup import notice

        click.echo(notice(cfg.target_name, allow_trades), err=True)
    if ui:  # locust logs at WARNING here, so its own "Starting web interface" line never shows
        click.echo(
            f"locust's web UI: {UI_URL} (the run starts by itself; the UI closes 10 s after it ends)",
            err=True,
        )
    with run_stream(json_out, junit, html, events_out, live=not ui) as (emit, files):
        try:
            if cfg.is_sandbox:
                with embedded(cfg.sandbox_pki, cfg.specs, prefix="load") as (url, pki):
                    settings.cfg = _with_ca(cfg, pki.ca_cert)
                    outcome = run(
                        settings, url, run_dir, participants, secrets, read_back_ca=pki.ca_cert, emit=emit
                    )
            else:
                # a sandbox addressed by --url: the dev identities can read every write back
                ca = settings.cfg.ca_path() if dev_pki else None
                outcome = run(
                    settings, cfg.base_url(), run_dir, participants, secrets, read_back_ca=ca, emit=emit
                )
        except LoadRunError as exc:
            raise CannotRun(str(exc)) from None
        except (OSError, RuntimeError) as exc:
            raise CannotRun(str(exc)) from None
    click.echo(render_text(outcome.report, color=use_color()), nl=False)  # its RUN section: the run's figures
    ReportFiles(run_dir / "load.json", run_dir / "load.xml", run_dir / "load.html").write(outcome.report)
    check_written(files)
    click.echo(f"Reports in {run_dir} (locust's own: locust.html, locust_stats.csv)", err=True)
    if outcome.integrity:
        sys.exit(ExitCode.PROBLEM)
    sys.exit(ExitCode.SLO_BREACHED if outcome.slo_breached else outcome.report.exit_code())


def _with_ca(cfg: CrrsimConfig, ca: Path) -> CrrsimConfig:
    import dataclasses

    return dataclasses.replace(cfg, ca=ca)
