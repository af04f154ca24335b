"""`crrsim client-check`: rehearse a participant's own B2B client against a judging sandbox.

Thin: the one config plus the command's options become ``CheckSettings``; ``harness.clientcheck``
runs the check. Prints where to point the client (and one machine-readable line starting
``CRRSIM_CLIENT_CHECK_READY``), waits until Ctrl+C, ``--duration`` or ``--until-idle``, then
writes the scorecard. Exit codes: 0 every expectation PASS, 1 any FAIL, 6 none failed but some
were NOT EXERCISED (the scorecard names them and how to cover them), 2 usage, 3 could not run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.cli.options import CannotRun, config_options, parse_duration, pfx_password, report_options
from harness.cli.stream import check_written, run_stream
from harness.config import CrrsimConfig

READY_PREFIX = "CRRSIM_CLIENT_CHECK_READY"


@click.command("client-check")
@config_options(
    "participant",
    "pfx",
    "pki",
    "specs",
    "port",
    reword={
        "participant": "SC ID your client acts for (default ECAL).",
        "pfx": "Your own client certificate (PKCS#12); its password from $CRRSIM_PFX_PASSWORD. "
        "Default: the dev identity acting for --participant.",
        "port": "Port of the judging sandbox (default: a free one; the URL says which).",
    },
)
@click.option(
    "--script",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The schedule, rules and flow (YAML; default: clientcheck/typical-day.yaml).",
)
@click.option(
    "--day", default=None, help="Plan day for the sandbox clock, e.g. week1.thursday (default: the script's)."
)
@click.option("--duration", default=None, help="Stop watching after this long (30s, 5m).")
@click.option(
    "--until-idle", default=None, help="Stop once the client was silent this long after its first call (30s)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("reports/client-check"),
    show_default=True,
    help="Folder for the scorecard (scorecard.html/.json/.xml), what the sandbox saw and the script used.",
)
@report_options
def command(
    cfg: CrrsimConfig,
    script: Path | None,
    day: str | None,
    duration: str | None,
    until_idle: str | None,
    out: Path,
    json_out: Path | None,
    junit: Path | None,
    html: Path | None,
    events_out: Path | None,
) -> None:
    """Rehearse your own B2B client: run its usual Market Sim flow against the judging sandbox,
    which misbehaves the way CAISO sometimes does, and get a scorecard of what it did."""
    import dataclasses

    from harness.client.control import plan_day_time
    from harness.clientcheck import CheckError, CheckSettings, Rehearsal, run
    from harness.config.clientscript import ScriptError, load_script

    try:
        chosen = load_script(script)
        if day is not None:
            plan_day_time(day)
            chosen = dataclasses.replace(chosen, day=day)
    except (ScriptError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    settings = CheckSettings(
        cfg=cfg,
        script=chosen,
        participant=(cfg.participant or "ECAL").upper(),
        run_dir=out,
        pfx=cfg.pfx,
        pfx_password=pfx_password(cfg, required=True) if cfg.pfx else None,
        duration=parse_duration(duration, "--duration"),
        until_idle=parse_duration(until_idle, "--until-idle"),
        port=cfg.sandbox_port if cfg.sources.get("sandbox_port") else 0,
    )
    json_out = json_out or out / "scorecard.json"
    junit = junit or out / "scorecard.xml"
    html = html or out / "scorecard.html"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CannotRun(f"Cannot write {out}: {exc.strerror or exc}") from None

    def ready(rehearsal: Rehearsal) -> None:
        for text in rehearsal.instructions():
            click.echo(text)
        stop = "Ctrl+C when your client is done"
        if settings.until_idle:
            stop = f"it stops {settings.until_idle:g} s after your client's last call (or Ctrl+C)"
        elif settings.duration:
            stop = f"it stops after {settings.duration:g} s (or Ctrl+C)"
        click.echo(f"Run your client's flow now; {stop}.")
        click.echo(f"{READY_PREFIX} url={rehearsal.url} ca={rehearsal.ca}")
        sys.stdout.flush()

    with run_stream(json_out, junit, html, events_out) as (emit, files):
        try:
            outcome = run(settings, emit, on_ready=ready)
        except CheckError as exc:
            raise CannotRun(str(exc)) from None
    report = outcome.report
    click.echo(f"{report.verdict}: {report.sections[1].text[0]}")
    check_written(files)
    sys.exit(report.exit_code())
