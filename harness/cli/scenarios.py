"""`crrsim scenarios`: run the structured Market Sim plan (Gherkin) against a CRR environment.

Thin: shared options, env and crrsim.yaml become a ``CrrsimConfig`` (``harness.cli.options``),
that plus the plan options a ``ScenarioSettings``; ``harness.scenarios.runner`` runs pytest-bdd.
``--matrix`` and ``--steps`` print the traceability matrix and the step library instead.
Exit codes (``harness.exitcodes``): 0 all passed, 1 failures, 2 usage errors, 3 could not run,
4 the selection matched nothing (the previous results are kept), 6 incomplete (no failure, but
scenarios were skipped: the report says which and why).
"""

from __future__ import annotations

import random
from pathlib import Path

import click

from harness.cli.options import (
    CannotRun,
    CheckFailed,
    config_options,
    events_option,
    refuse_on_production,
    require_files,
    require_reachable,
)
from harness.cli.stream import run_stream
from harness.config import CrrsimConfig
from harness.exitcodes import ExitCode, from_pytest
from harness.scenarios.features import FeatureFileError, TagExpressionError, tag_filter
from harness.scenarios.matrix import build_matrix
from harness.scenarios.plan import DAYS, PlanError, RunnerError, load_plan
from harness.scenarios.settings import ScenarioSettings


def _markets(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for value in values:
        alias, sep, name = value.partition("=")
        if not sep or not alias.strip() or not name.strip():
            raise click.UsageError(
                f"--market takes ALIAS=NAME (e.g. 'monthly auction=AUC_MN_2025_M03'), got {value!r}"
            )
        out[alias.strip()] = name.strip()
    return out


def _did_you_mean(settings: ScenarioSettings) -> str:
    """' Did you mean "X"?' for each --scenario title no feature file has, when one is close."""
    import difflib

    from harness.scenarios.features import read_scenarios

    titles = sorted({info.name for info in read_scenarios(settings.feature_dirs)})
    hints = [
        f' Did you mean "{close[0]}" for "{name}"?'
        for name in settings.names
        if name not in titles
        for close in [difflib.get_close_matches(name, titles, n=1, cutoff=0.6)]
        if close
    ]
    return "".join(hints)


def _sandbox_or_target(cfg: CrrsimConfig, url: str) -> tuple[CrrsimConfig, str | None]:
    """``--url`` names a running sandbox whose control plane plays the CRR team, but only a
    target that proves it is one (it answers the control plane to the operator certificate of
    ``--pki``) is driven that way. Any other URL is the run's target with a shared
    environment's rules (production's, by its host), and no reset is ever sent to it."""
    from dataclasses import replace

    from harness.client.control import judge_target
    from harness.client.targets import resolve_target, target_kind

    try:
        base = resolve_target(url)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if target_kind(base) != "production":  # production is never contacted before its rules are applied
        require_reachable(base)
    if judge_target(url, base, cfg.sandbox_pki, cfg.ca) == "sandbox":
        return cfg, base
    click.echo(
        f"{base} did not answer as a crrsim sandbox (its control plane, to the operator certificate of "
        f"{cfg.sandbox_pki}): running against it as a shared environment, the CRR team's steps waited for.",
        err=True,
    )
    return replace(cfg, target=base), None


@click.command(context_settings={"ignore_unknown_options": True})
@config_options(
    "env_name",
    "participant",
    "pfx",
    "cert",
    "key",
    "ca",
    "pki",
    "specs",
    reword={
        "participant": "SC ID the scenarios act for (default ECAL).",
        "pki": "Sandbox dev PKI folder (made if missing) for an embedded or --url sandbox.",
    },
)
@click.option("--url", help="an already running sandbox's base URL (its control plane plays the CRR team)")
@click.option(
    "--week", "weeks", type=int, multiple=True, help="only this plan week (0 = connectivity); repeatable"
)
@click.option(
    "--day",
    "days",
    type=click.Choice(DAYS, case_sensitive=False),
    multiple=True,
    help="only this day; repeatable",
)
@click.option("--tags", help="Cucumber tag expression, e.g. '@week1 and not @negative'")
@click.option(
    "--scenario",
    "names",
    multiple=True,
    help="only the scenario with this exact title (as in its feature file); repeatable",
)
@click.option(
    "--features",
    "features",
    type=click.Path(exists=True, path_type=Path),
    multiple=True,
    help="feature folder or file to run with the step library (default: the plan's features/)",
)
@click.option("--allow-writes", is_flag=True, help="let scenarios submit data on a shared environment")
@click.option(
    "--market", "markets", multiple=True, help="map a plan market alias to this environment: ALIAS=NAME"
)
@click.option(
    "--results",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="folder for junit.xml, cucumber.json and allure-results [default: <reports_dir>/scenarios]",
)
@click.option(
    "--wait-timeout",
    type=float,
    default=900.0,
    show_default=True,
    help="seconds to wait for the CRR team on Map-Stage",
)
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="plan file (default: features/plan.yaml)",
)
@click.option(
    "--shuffle",
    "shuffle",
    type=int,
    is_flag=False,
    flag_value=-1,
    default=None,
    metavar="[SEED]",
    help="run the selected scenarios in a random order (seeded; the seed is printed to repeat it)",
)
@click.option(
    "--matrix", is_flag=True, help="print the plan's traceability matrix and exit (1 if it has gaps)"
)
@click.option("--steps", is_flag=True, help="list every step of the library with its docstring and exit")
@events_option
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def command(
    cfg: CrrsimConfig,
    url: str | None,
    weeks: tuple[int, ...],
    days: tuple[str, ...],
    tags: str | None,
    names: tuple[str, ...],
    features: tuple[Path, ...],
    allow_writes: bool,
    markets: tuple[str, ...],
    results: Path | None,
    wait_timeout: float,
    shuffle: int | None,
    plan_file: Path | None,
    matrix: bool,
    steps: bool,
    events_out: Path | None,
    pytest_args: tuple[str, ...],
) -> None:
    """Run the structured Market Sim plan as Gherkin scenarios (pytest-bdd).

    Extra pytest options go after '--', e.g. `crrsim scenarios --day tuesday -- -x -q`.
    """
    results = results or cfg.reports_dir / "scenarios"
    require_files(cfg, "pfx", "cert", "key", "ca", "specs")  # a typo in a path first: exit 2
    if url is not None:
        cfg, url = _sandbox_or_target(cfg, url)
    refuse_on_production(cfg, {"--allow-writes": allow_writes})
    settings = ScenarioSettings.from_config(
        cfg,
        url=url,
        results_dir=results,
        allow_writes=allow_writes,
        markets=_markets(markets),
        weeks=list(weeks),
        days=[d.lower() for d in days],
        tags=tags,
        names=list(names),
        wait_timeout_s=wait_timeout,
        shuffle_seed=random.randrange(1, 10**6) if shuffle == -1 else shuffle,
    )
    if features:
        settings.features = [p.resolve() for p in features]
    if plan_file:
        settings.plan_file = plan_file.resolve()
    if tags:
        try:
            tag_filter(tags)
        except TagExpressionError as exc:
            raise click.UsageError(str(exc)) from None
    try:
        if matrix:
            table = build_matrix(load_plan(settings.plan_file), settings.feature_dirs)
            click.echo(table.format_table())
            raise SystemExit(1 if table.problems() else 0)
        if steps:
            from harness.scenarios.stepdocs import collect_steps, format_steps

            click.echo(format_steps(collect_steps()))
            return
    except PlanError as exc:  # --matrix judges the plan file: a problem in it is a finding
        raise CheckFailed(str(exc)) from None
    except FeatureFileError as exc:
        raise click.UsageError(str(exc)) from None
    if not settings.is_sandbox and not (settings.pfx or settings.cert):
        raise click.UsageError("outside the sandbox give your certificate: --pfx FILE (or --cert and --key)")
    if not cfg.is_sandbox:  # after every usage error, before anything runs or any result is touched
        require_reachable(cfg.base_url())
    from harness.scenarios.runner import describe_selection, run

    if settings.shuffle_seed is not None:
        click.echo(
            f"Scenario order shuffled with seed {settings.shuffle_seed} "
            f"(repeat it with --shuffle {settings.shuffle_seed}).",
            err=True,
        )
    # the page QA files (the plan's week-by-day grid, what to fix first) is written after every
    # run; `crrsim report` still renders any results folder again
    page = results / "report.html"
    try:
        with run_stream(html=page, events_out=events_out, quiet_files=True) as (emit, files):
            plan = run(settings, results, pytest_args, emit)
        code = from_pytest(plan.code)
    except RunnerError as exc:
        raise CannotRun(str(exc)) from None
    except FeatureFileError as exc:
        raise click.UsageError(f"{exc}. Nothing ran; the previous results in {results} are kept.") from None
    if code is ExitCode.NOTHING_SELECTED:
        click.echo(
            f"No scenario matches {describe_selection(settings, pytest_args)}: nothing ran, and the "
            f"previous results in {results} are kept.{_did_you_mean(settings)} See the plan with "
            "`crrsim scenarios --matrix`.",
            err=True,
        )
        raise SystemExit(code)
    report = plan.report
    html = (
        str(page)
        if report is not None and not files.failed
        else f"not written ({files.failed[0][1] if files.failed else 'no results to read'}); "
        f"`crrsim report --results {results}` tries again"
    )
    click.echo(f"Results in {results}/ (junit.xml, cucumber.json, allure-results); HTML: {html}", err=True)
    if code is ExitCode.OK and report is not None and report.incomplete:
        # pytest passes a run whose scenarios skipped; crrsim does not call that PASSED
        for gap in report.gaps:
            click.echo(
                f"Not covered: {gap.what}" + (f" (to cover it: {gap.cover})" if gap.cover else ""), err=True
            )
        click.echo(f"VERDICT: {report.verdict}", err=True)
        code = report.exit_code()
    raise SystemExit(code)
