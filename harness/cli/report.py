"""`crrsim report`: scenario results (Cucumber JSON / JUnit XML) as one offline HTML page.

Rendering is the shared ``harness.reports`` HTML handler; this command only reads the results.
"""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.options import CannotRun, config_options
from harness.config import CrrsimConfig
from harness.reports.handlers import write_html
from harness.scenarios.results import ResultsError, find_results, load_results


@click.command()
@config_options()
@click.option(
    "--results",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="a results folder of crrsim scenarios (its run.json) [default: the newest of "
    "<reports_dir>/scenarios and <reports_dir>/marketsim/scenarios]",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file to write (default: RESULTS/report.html)",
)
@click.option("--target", default="", help="environment name shown in the report [default: the run's own]")
def command(cfg: CrrsimConfig, results: Path | None, out: Path | None, target: str) -> None:
    """Turn scenario results into a self-contained HTML report (no network needed to view it).

    Exit codes: 0 every scenario passed, 1 some failed, 2 no results where it looked,
    3 the report could not be written.
    """
    try:
        # where `crrsim scenarios` and `crrsim marketsim` write them; the newest wins
        results = results or find_results(
            cfg.reports_dir / "scenarios", cfg.reports_dir / "marketsim" / "scenarios"
        )
        report = load_results(results, target)
    except (ResultsError, ValueError, OSError) as exc:
        raise click.UsageError(str(exc)) from None
    try:
        path = write_html(report, out or results / "report.html")
    except OSError as exc:
        raise CannotRun(f"Cannot write the report: {exc.strerror or exc}") from None
    counts = report.counts()
    click.echo(
        f"{report.verdict}: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['skipped']} skipped ({report.target}, {report.duration_s:.1f} s) -> {path}"
    )
    raise SystemExit(report.exit_code())
