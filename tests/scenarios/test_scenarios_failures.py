"""Issue 9 items 2 and 3: a failing step is one plain sentence everywhere, reports put failures
first, outline rows are named by their values, and `crrsim report` knows the run it reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.scenarios.features import read_scenarios
from harness.scenarios.plan import default_features_dir

FAILING_FEATURE = """\
@week1 @wednesday
Feature: Deliberately failing checks
  Background:
    Given the Market Sim plan is set up
    And it is Wednesday 10:00 of week 1
    And I am the participant
    And I work in the monthly auction market

  @plan:W1-WED-BUY-BIDS
  Scenario: A refused upload expected to succeed
    When I create the auction portfolio "bad curve" with one buy bid using the curve "twenty-one points"
    Then the request succeeds

  @plan:W1-WED-PORTFOLIOS
  Scenario: A status that does not hold
    When I create the auction portfolio "March X" from the file "auction_buy_bids.csv"
    Then the auction portfolio "March X" has status "SUBMITTED"

  @plan:W1-WED-PORTFOLIOS
  Scenario: A misspelt step
    When I create the auction portfolio "March typo" from the file "auction_buy_bids.csv"
    Then the request succeded

  @plan:W1-WED-PORTFOLIOS
  Scenario: A passing one stays below the failures
    When I create the auction portfolio "March ok" from the file "auction_buy_bids.csv"
    Then the request succeeds
"""
TRACEBACK_MARKS = ("Traceback", 'File "', "def ", "E   ", "site-packages")


def crrsim(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CRRSIM_SCENARIO_TRACEBACKS"}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=600, env=env
    )


@pytest.fixture(scope="module")
def url(dev_pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from harness.sandbox.launch import start_sandbox

    running = start_sandbox(dev_pki.directory, tmp_path_factory.mktemp("fail") / "crr.db")
    try:
        yield running.url
    finally:
        running.stop()


@pytest.fixture(scope="module")
def failed_run(
    url: str, dev_pki, tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[str], Path]:
    folder = tmp_path_factory.mktemp("features")
    (folder / "failing.feature").write_text(FAILING_FEATURE)
    results = tmp_path_factory.mktemp("out") / "results"
    run = crrsim(
        "scenarios",
        "--url",
        url,
        "--pki",
        str(dev_pki.directory),
        "--features",
        str(folder),
        "--results",
        str(results),
    )
    return run, results


def test_the_terminal_says_one_sentence_per_failure(failed_run) -> None:
    run, _ = failed_run
    assert run.returncode == 1, run.stdout[-3000:]
    out = run.stdout
    assert (
        'Step "Then the request succeeds" failed: expected success, but auction.portfolioCreation '
        "answered HTTP 400 (caiso-request-id "
    ) in out
    assert "SER0030" in out
    assert (
        'Step "Then the auction portfolio "March X" has status "SUBMITTED"" failed: auction portfolio '
        "'March X' is VALID, expected SUBMITTED; the last call: auction.getPortfolioStatus answered HTTP 200 "
        "(caiso-request-id "
    ) in out
    # issue 19 item 20: a misspelt step says the closest step and where the list is
    assert (
        'Step "Then the request succeded" matches no step of the library. The closest step is '
        '"Then the request succeeds". `crrsim scenarios --steps` lists every step as it is written.'
    ) in out
    for mark in TRACEBACK_MARKS:
        assert mark not in out, mark
    assert tempfile.gettempdir() + "/" not in out.split("generated")[0]  # no temp paths in the failures


def test_every_results_file_carries_the_sentence_and_no_traceback(failed_run) -> None:
    _, results = failed_run
    texts = {p.name: p.read_text() for p in (results / "junit.xml", results / "cucumber.json")}
    texts.update({p.name: p.read_text() for p in (results / "allure-results").glob("*-result.json")})
    assert any(
        "failed: expected success, but auction.portfolioCreation answered HTTP 400" in t
        for t in texts.values()
    )
    for name, text in texts.items():
        for mark in ("Traceback", 'File \\"', 'File "', "site-packages"):
            assert mark not in text, (name, mark)


def test_the_html_report_puts_what_to_fix_first_with_plan_item_and_request_id(
    failed_run, tmp_path: Path
) -> None:
    _, results = failed_run
    out = tmp_path / "report.html"
    done = CliRunner().invoke(cli, ["report", "--results", str(results), "--out", str(out)])
    assert done.exit_code == 1, done.output
    html = out.read_text()
    fix, detail = html.index('id="what-to-fix"'), html.index('id="all-checks"')
    assert fix < detail
    block = html[fix : html.index("</table>", fix)]  # the what-to-fix table alone
    assert "W1-WED-BUY-BIDS" in block and "W1-WED-PORTFOLIOS" in block
    assert "crrsim scenarios --scenario" in block  # each failure with the command that shows it again
    assert (
        "failing.feature" in block.split("crrsim scenarios --scenario", 1)[1]
    )  # --features: a team's own file
    assert (
        'class="tile tone-bad" href="#plan-items-w1-wed-buy-bids"' in html
    )  # its tile on the plan grid is red
    assert "caiso-request-id" in block and "A passing one stays below" not in block
    assert "Traceback" not in html


def test_report_shows_the_real_target_and_duration(failed_run) -> None:
    _, results = failed_run
    run = json.loads((results / "run.json").read_text())
    assert run["target"].startswith("https://127.0.0.1:") and run["finished_at"] >= run["started_at"]
    done = CliRunner().invoke(cli, ["report", "--results", str(results)])
    assert run["target"] in done.output and "unknown" not in done.output
    html = (results / "report.html").read_text()
    assert f'Target <span class="mono">{run["target"]}</span>' in html and "0.0 s" not in html


def test_report_finds_the_main_jobs_results_or_says_where_to_look(
    tmp_path: Path, monkeypatch, failed_run
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = CliRunner().invoke(cli, ["report"])
    assert missing.exit_code == 2
    text = " ".join(missing.output.split())
    assert (
        f"{tmp_path / 'reports' / 'scenarios'} or {tmp_path / 'reports' / 'marketsim' / 'scenarios'}" in text
    )
    assert "point --results at" in text
    _, results = failed_run
    import shutil

    shutil.copytree(
        results, tmp_path / "reports" / "marketsim" / "scenarios"
    )  # where `crrsim marketsim` writes
    found = CliRunner().invoke(cli, ["report"])
    assert found.exit_code == 1, found.output  # that run had failures
    assert str(tmp_path / "reports" / "marketsim" / "scenarios" / "report.html") in " ".join(
        found.output.split()
    )


def test_outline_rows_carry_their_example_values_in_their_names() -> None:
    outlines = [s for s in read_scenarios([default_features_dir()]) if "<" in s.name]
    assert len(outlines) >= 7  # every Scenario Outline names a placeholder in its title
    features = default_features_dir()
    for path in features.rglob("*.feature"):
        lines = path.read_text().splitlines()
        for line in lines:
            if line.strip().startswith("Scenario Outline:"):
                assert "<" in line, f"{path.name}: {line.strip()} (its rows would share one name)"
