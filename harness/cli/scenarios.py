"""`crrsim scenarios`: run the structured Market Sim plan (Gherkin) against a CRR environment.

Thin: shared options, env and crrsim.yaml become a ``CrrsimConfig`` (``harness.cli.options``),
that plus the plan options a ``ScenarioSettings``; ``harness.scenarios.runner`` runs pytest-bdd.
``--matrix`` and ``--steps`` print the traceability matrix and the step library instead.
Exit codes: pytest's (0 all passed, 1 failures, 5 nothing selected), 2 for usage errors.
"""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.options import config_options, require_files
from harness.config import CrrsimConfig
from harness.scenarios.matrix import build_matrix
from harness.scenarios.plan import DAYS, PlanError, load_plan
from harness.scenarios.settings import ScenarioSettings
from harness.scenarios.tagexpr import TagExpressionError, parse


def _markets(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        alias, sep, name = value.partition("=")
        if not sep or not alias.strip() or not name.strip():
            raise click.UsageError(f"--market takes ALIAS=NAME (e.g. 'monthly auction=AUC_MN_2025_M03'), got {value!r}")
        out[alias.strip()] = name.strip()
    return out


@click.command(context_settings={"ignore_unknown_options": True})
@config_options("env_name", "participant", "pfx", "cert", "key", "ca", "pki", "specs", reword={
    "participant": "SC ID the scenarios act for (default ECAL).",
    "pki": "Sandbox dev PKI folder (made if missing) for an embedded or --url sandbox.",
})
@click.option("--url", help="an already running sandbox's base URL (its control plane plays the CRR team)")
@click.option("--week", "weeks", type=int, multiple=True, help="only this plan week (0 = connectivity); repeatable")
@click.option("--day", "days", type=click.Choice(DAYS, case_sensitive=False), multiple=True, help="only this day; repeatable")
@click.option("--tags", help="Cucumber tag expression, e.g. '@week1 and not @negative'")
@click.option("--features", "features", type=click.Path(exists=True, path_type=Path), multiple=True,
              help="feature folder or file to run with the step library (default: the plan's features/)")
@click.option("--allow-writes", is_flag=True, help="let scenarios submit data on a shared environment")
@click.option("--market", "markets", multiple=True, help="map a plan market alias to this environment: ALIAS=NAME")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder for junit.xml, cucumber.json and allure-results [default: <reports_dir>/scenarios]")
@click.option("--wait-timeout", type=float, default=900.0, show_default=True,
              help="seconds to wait for the CRR team on Map-Stage")
@click.option("--plan", "plan_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="plan file (default: features/plan.yaml)")
@click.option("--matrix", is_flag=True, help="print the plan's traceability matrix and exit (1 if it has gaps)")
@click.option("--steps", is_flag=True, help="list every step of the library with its docstring and exit")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def command(cfg: CrrsimConfig, url: str | None, weeks: tuple[int, ...], days: tuple[str, ...], tags: str | None,
            features: tuple[Path, ...], allow_writes: bool, markets: tuple[str, ...], results: Path | None,
            wait_timeout: float, plan_file: Path | None, matrix: bool, steps: bool,
            pytest_args: tuple[str, ...]) -> None:
    """Run the structured Market Sim plan as Gherkin scenarios (pytest-bdd).

    Extra pytest options go after '--', e.g. `crrsim scenarios --day tuesday -- -x -q`.
    """
    results = results or cfg.reports_dir / "scenarios"
    settings = ScenarioSettings.from_config(
        cfg, url=url, results_dir=results, allow_writes=allow_writes, markets=_markets(markets),
        weeks=list(weeks), days=[d.lower() for d in days], tags=tags, wait_timeout_s=wait_timeout,
    )
    if features:
        settings.features = [str(p.resolve()) for p in features]
    if plan_file:
        settings.plan_file = str(plan_file.resolve())
    if tags:
        try:
            parse(tags)
        except TagExpressionError as exc:
            raise click.UsageError(str(exc)) from None
    try:
        if matrix:
            table = build_matrix(load_plan(Path(settings.plan_file)), settings.feature_dirs)
            click.echo(table.format_table())
            raise SystemExit(1 if table.problems() else 0)
        if steps:
            from harness.scenarios.stepdocs import collect_steps, format_steps

            click.echo(format_steps(collect_steps()))
            return
    except PlanError as exc:
        raise click.ClickException(str(exc)) from None
    if not settings.is_sandbox and not (settings.pfx or settings.cert):
        raise click.UsageError("outside the sandbox give your certificate: --pfx FILE (or --cert and --key)")
    require_files(cfg, "pfx", "cert", "key", "ca", "specs")
    from harness.scenarios.runner import RunnerError, run

    try:
        code = run(settings, results, pytest_args)
    except RunnerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Results in {results}/ (junit.xml, cucumber.json, allure-results); "
               f"HTML: crrsim report --results {results}", err=True)
    raise SystemExit(code)
