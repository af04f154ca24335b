"""`crrsim marketsim`: the main job — sandbox, connectivity for each participant, the structured plan.

Thin: shared options, env and crrsim.yaml become a ``CrrsimConfig`` (``harness.cli.options``),
that plus the job's own options a ``MarketSimSettings``.
Exit codes (``harness.exitcodes``): 0 everything passed, 1 something failed (the reports say
what), 2 usage errors, 3 could not run (e.g. the sandbox did not start, reports not writable).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from harness.cli.options import CannotRun, config_options, pfx_password, require_files
from harness.config import CrrsimConfig
from harness.marketsim import MarketSimSettings, run_marketsim
from harness.marketsim.job import PARTS


@click.command("marketsim")
@config_options("env_name", "url", "pfx", "cert", "key", "ca", "pki", "specs", "timeout", reword={
    "env_name": "Where to run the rehearsal: sandbox, mapstage, production or an https URL.",
    "timeout": "Bound for each probe, in seconds.",
    "pki": "Sandbox dev PKI folder (made on first run).",
})
@click.option("--participant", "participants", multiple=True,
              help="SC ID to certify and act for; repeatable (default: config's participant; "
                   "sandbox: ECAL and WCAL).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for marketsim.html/.json/.xml and the scenario results "
                   "[default: <reports_dir>/marketsim].")
@click.option("--no-scenarios", is_flag=True, help="Leave out the structured plan (same as --skip scenarios).")
@click.option("--skip", default="", metavar="PARTS", help="Leave out parts: scenarios, fuzz, load (comma-separated).")
@click.option("--only", default="", metavar="PARTS", help="Run only these parts (the probe always runs).")
@click.option("--allow-writes", is_flag=True, help="Let scenarios submit data on a shared environment.")
@click.option("--allow-load", is_flag=True, help="Send the load burst to a shared environment (never production).")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def command(cfg: CrrsimConfig, participants: tuple[str, ...], out: Path | None, no_scenarios: bool, skip: str,
            only: str, allow_writes: bool, allow_load: bool, pytest_args: tuple[str, ...]) -> None:
    """Rehearse the Market Sim: connectivity for each participant, then the structured plan.

    With no options it runs everything against the embedded sandbox. Extra pytest options for
    the scenario phase go after '--', e.g. `crrsim marketsim -- -k auction`.
    """
    skipped = _parts(skip, "--skip") | ({"scenarios"} if no_scenarios else set())
    if only:
        skipped |= set(PARTS) - {"probe"} - _parts(only, "--only")
    if allow_load and cfg.target_name == "production":
        raise click.UsageError("--allow-load never applies to production: the job sends no load there")
    settings = settings_from(cfg, participants, out, scenario_args=list(pytest_args), allow_writes=allow_writes,
                             allow_load=allow_load, skip=tuple(sorted(skipped)))
    try:
        outcome = run_marketsim(settings, say=lambda line: click.echo(f"crrsim: {line}", err=True))
    except (OSError, ValueError, RuntimeError) as exc:
        raise CannotRun(str(exc)) from exc
    from harness.reports.handlers import render_text

    click.echo(render_text(outcome.report, color=sys.stdout.isatty() and not os.environ.get("CRRSIM_NO_COLOR")))
    click.echo("")
    for kind, path in outcome.files.items():
        click.echo(f"{kind:>5}: {path}")
    click.echo(f"verdict: {outcome.report.verdict}")
    sys.exit(0 if outcome.ok else 1)


def _parts(value: str, flag: str) -> set[str]:
    chosen = {p.strip() for p in value.split(",") if p.strip()}
    unknown = chosen - set(PARTS)
    if unknown:
        raise click.UsageError(f"{flag} takes {', '.join(PARTS)} (comma-separated), not {', '.join(sorted(unknown))}")
    return chosen


def settings_from(cfg: CrrsimConfig, participants: tuple[str, ...] = (), out: Path | None = None,
                  **job: object) -> MarketSimSettings:
    """The job's settings, refusing up front what cannot work (a plain sentence, exit 2)."""
    if not cfg.is_sandbox and not (cfg.pfx or cfg.cert):
        raise click.UsageError("A real environment needs your certificate: --pfx FILE or --cert FILE --key FILE.")
    if not cfg.is_sandbox and not (participants or cfg.participant):
        raise click.UsageError("Say which SC ID your certificate acts for: --participant SCID.")
    require_files(cfg, "pfx", "cert", "key", "ca", "specs")
    password = pfx_password(cfg, required=True) if not cfg.is_sandbox else None
    return MarketSimSettings.from_config(cfg, participants=list(participants), out=out, password=password, **job)
