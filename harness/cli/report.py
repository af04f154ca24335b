"""`crrsim report`: scenario results (Cucumber JSON / JUnit XML) as one offline HTML page.

Rendering is the shared ``harness.reports`` HTML handler; this command only reads the results.
"""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.options import config_options
from harness.config import CrrsimConfig
from harness.reports.handlers import write_html
from harness.scenarios.results import ResultsError, load_results


@click.command()
@config_options()
@click.option("--results", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="folder holding cucumber.json and/or junit.xml [default: <reports_dir>/scenarios]")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML file to write (default: RESULTS/report.html)")
@click.option("--target", default="", help="environment name shown in the report")
def command(cfg: CrrsimConfig, results: Path | None, out: Path | None, target: str) -> None:
    """Turn scenario results into a self-contained HTML report (no network needed to view it)."""
    results = results or cfg.reports_dir / "scenarios"  # where `crrsim scenarios` writes them
    try:
        report = load_results(results, target)
    except (ResultsError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    path = write_html(report, out or results / "report.html")
    counts = report.counts()
    click.echo(f"{report.verdict}: {counts['passed']} passed, {counts['failed']} failed, "
               f"{counts['skipped']} skipped -> {path}")
    raise SystemExit(0 if report.ok else 1)
