"""`crrsim marketsim`: the main job — sandbox, connectivity for each participant, the structured
plan, a short fuzz, a load burst — with live progress and one report (``reports/index.html``).

Thin: shared options, env and crrsim.yaml become a ``CrrsimConfig`` (``harness.cli.options``),
that plus the job's own options a ``MarketSimSettings``.
Exit codes (``harness.exitcodes``): 0 everything passed, 1 something failed (the reports say
what), 2 usage errors, 3 could not run (e.g. the sandbox did not start, reports not writable).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from harness.cli.options import (
    CannotRun,
    config_options,
    events_option,
    pfx_password,
    refuse_on_production,
    require_files,
    require_reachable,
    use_color,
)
from harness.cli.stream import run_stream
from harness.config import CrrsimConfig
from harness.marketsim import MarketSimOutcome, MarketSimSettings, run_marketsim
from harness.marketsim.job import PARTS
from harness.reports import in_words


@click.command("marketsim")
@config_options(
    "env_name",
    "url",
    "pfx",
    "cert",
    "key",
    "ca",
    "pki",
    "specs",
    "timeout",
    reword={
        "env_name": "Where to run the rehearsal: sandbox, mapstage, production or an https URL.",
        "timeout": "Seconds to wait for an answer from the CRR API (the probe's checks wait side by side, so each "
        "probe ends within it).",
        "pki": "Sandbox dev PKI folder (made on first run).",
    },
)
@click.option(
    "--participant",
    "participants",
    multiple=True,
    help="SC ID to certify and act for; repeatable (default: config's participant; sandbox: ECAL and WCAL).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for index.html, marketsim.json/.xml, and each part's own reports under marketsim/ "
    "[default: <reports_dir>].",
)
@click.option(
    "--no-scenarios", is_flag=True, help="Leave out the structured plan (same as --skip scenarios)."
)
@click.option(
    "--skip", default="", metavar="PARTS", help="Leave out parts: scenarios, fuzz, load (comma-separated)."
)
@click.option("--only", default="", metavar="PARTS", help="Run only these parts (the probe always runs).")
@click.option("--allow-writes", is_flag=True, help="Let scenarios submit data on a shared environment.")
@click.option(
    "--allow-load", is_flag=True, help="Send the load burst to a shared environment (never production)."
)
@click.option(
    "--wait-timeout",
    type=click.FloatRange(min=1),
    default=900.0,
    show_default=True,
    help="Seconds a plan step waits for the CRR team off the sandbox (progress is shown as it waits).",
)
@click.option(
    "--slo",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="SLO file (YAML) gating the load burst (default: load/slo/default.yaml).",
)
@events_option
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def command(
    cfg: CrrsimConfig,
    participants: tuple[str, ...],
    out: Path | None,
    no_scenarios: bool,
    skip: str,
    only: str,
    allow_writes: bool,
    allow_load: bool,
    wait_timeout: float,
    slo: Path | None,
    events_out: Path | None,
    pytest_args: tuple[str, ...],
) -> None:
    """Rehearse the Market Sim: connectivity for each participant, the structured plan, a short
    fuzz of every service and a window-close load burst, then one report (index.html).

    With no options it runs everything against the embedded sandbox. Extra pytest options for
    the scenario phase go after '--', e.g. `crrsim marketsim -- -k auction`.
    """
    skipped = _parts(skip, "--skip") | ({"scenarios"} if no_scenarios else set())
    if "probe" in skipped:
        raise click.UsageError(
            "--skip probe: the probe always runs (every rehearsal starts by certifying "
            "connectivity); use --only probe to run it alone"
        )
    if only:
        wanted = _parts(only, "--only")
        if wanted & skipped:
            raise click.UsageError(
                f"--only and --skip both name {', '.join(sorted(wanted & skipped))}: say one of them"
            )
        skipped |= set(PARTS) - {"probe"} - wanted
    refuse_on_production(cfg, {"--allow-writes": allow_writes, "--allow-load": allow_load})
    settings = settings_from(
        cfg,
        participants,
        out,
        scenario_args=list(pytest_args),
        allow_writes=allow_writes,
        allow_load=allow_load,
        skip=tuple(sorted(skipped)),
        slo=slo,
        wait_timeout_s=wait_timeout,
    )
    if not cfg.is_sandbox and "://" not in cfg.target:  # a named environment, once every usage error is said
        require_reachable(cfg.base_url())
    signal.signal(signal.SIGTERM, _interrupt)  # a killed rehearsal still writes what it ran (INCOMPLETE)
    try:
        # the job writes its own report files (reports/index.html and the parts' beside it)
        with run_stream(events_out=events_out) as (emit, _files):
            outcome = run_marketsim(settings, emit)
    except (OSError, ValueError, RuntimeError) as exc:
        raise CannotRun(str(exc)) from exc
    summary(outcome, color=use_color())
    sys.exit(outcome.report.exit_code())


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def summary(outcome: MarketSimOutcome, *, color: bool) -> None:
    """Part, verdict, counts, time; the notes; what to fix first; the files; the verdict."""
    from rich.console import Console
    from rich.table import Table

    report = outcome.report
    table = Table(title="Market Sim rehearsal", title_justify="left", show_edge=False)
    for heading in ("part", "verdict", "counts", "figures", "time"):
        table.add_column(heading, justify="right" if heading == "time" else "left")
    for part in outcome.parts:
        tint = "green" if part.report.ok else "yellow" if part.report.incomplete else "red"
        verdict = part.report.verdict if not color else f"[{tint}]{part.report.verdict}[/]"
        table.add_row(
            part.name, verdict, in_words(part.report.counts()), part.headline, f"{part.seconds:.1f} s"
        )
    console = Console(no_color=not color, highlight=False, soft_wrap=True, width=None if color else 120)
    console.print(table)
    for note in report.sections[0].text:
        click.echo(f"  - {note}")
    findings = report.fix_first()
    if findings:
        click.echo(f"\nWhat to fix first ({len(findings)}):")
        for f in findings[:10]:
            click.echo(
                f"  - [{f.where}] {f.text}" + (f"\n      reproduce: {f.reproduce}" if f.reproduce else "")
            )
        if len(findings) > 10:
            click.echo(f"  ... and {len(findings) - 10} more in the report")
    if report.gaps:
        click.echo(f"\nNot covered ({len(report.gaps)}):")
        for gap in report.gaps[:10]:
            click.echo(f"  - {gap.what}" + (f"\n      to cover it: {gap.cover}" if gap.cover else ""))
        if len(report.gaps) > 10:
            click.echo(f"  ... and {len(report.gaps) - 10} more in the report")
    click.echo("")
    for kind, path in outcome.files.items():
        click.echo(f"{kind:>5}: {path}")
    click.echo(f"verdict: {report.verdict} ({report.duration_s:.1f} s)")


def _parts(value: str, flag: str) -> set[str]:
    chosen = {p.strip() for p in value.split(",") if p.strip()}
    unknown = chosen - set(PARTS)
    if unknown:
        raise click.UsageError(
            f"{flag} takes {', '.join(PARTS)} (comma-separated), not {', '.join(sorted(unknown))}"
        )
    return chosen


def settings_from(
    cfg: CrrsimConfig, participants: tuple[str, ...] = (), out: Path | None = None, **job: object
) -> MarketSimSettings:
    """The job's settings, refusing up front what cannot work (a plain sentence, exit 2; an
    unreachable target exit 3)."""
    require_files(cfg, "pfx", "cert", "key", "ca", "specs")
    by_url = not cfg.is_sandbox and "://" in cfg.target
    if by_url:  # judged_kind asks a URL whether it is a sandbox: it must answer at all first
        require_reachable(cfg.base_url())
    kind = cfg.judged_kind()
    real = (
        not cfg.is_sandbox and kind != "sandbox"
    )  # a sandbox of one's own at --url uses the dev PKI's identities
    if real and not (cfg.pfx or cfg.cert):
        raise click.UsageError(
            "A real environment needs your certificate: --pfx FILE or --cert FILE --key FILE."
        )
    if real and not (participants or cfg.participant):
        raise click.UsageError("Say which SC ID your certificate acts for: --participant SCID.")
    slo = job.get("slo")
    if isinstance(slo, Path):  # a broken SLO file is said now, not after the plan and the fuzz have run
        from harness.load.slo import SLOError, load_slos

        try:
            load_slos(slo)
        except SLOError as exc:
            raise click.UsageError(str(exc)) from None
    password = pfx_password(cfg, required=True) if real else None
    settings = MarketSimSettings.from_config(
        cfg, participants=list(participants), out=out, password=password, **job
    )
    settings.kind = kind
    return settings
