"""Issue 19 items 15 and 16: the HTML report as a reader's browser lays it out.

A long failure sentence used to sit in a no-wrap span and push the caiso-request-id column off
the page; a team's own scenario was reproduced without the --features that finds it; SLO rows
left an empty request-id cell.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from harness.reports import CaseResult, CaseStatus, Finding, RunReport
from harness.reports.handlers.html import write_html
from harness.scenarios.plan import default_features_dir
from harness.scenarios.results import reproduce

LAYOUT = """(() => {
  const ids = [...document.querySelectorAll('table.fixlist td.mono')].filter(td => /[0-9a-f]{8}-/.test(td.textContent));
  return {width: window.innerWidth, scroll: document.documentElement.scrollWidth,
          idRight: ids.map(td => td.getBoundingClientRect().right),
          emptyIdCells: [...document.querySelectorAll('table.fixlist td.mono')].filter(td => !td.textContent.trim()).length};
})()"""


def test_a_long_failure_wraps_and_keeps_its_request_id_on_the_page(tmp_path: Path) -> None:
    from tests.marketsim.cdp import find_or_install_chromium, render

    chromium, why = find_or_install_chromium()
    if chromium is None:
        pytest.skip(why)
    rid = str(uuid.uuid4())
    sentence = (
        "The step 'Then the portfolio is VALID' found INVALID with errorMessage "
        + "newBids[3]: " * 60
        + "the bid curve's price may not increase with MW"
    )
    report = RunReport(
        runner="scenarios",
        title="Market Sim scenarios",
        target="https://127.0.0.1:8443/crr",
        verdict="FAILED",
        ok=False,
        tested="a crrsim sandbox, a local stand-in for CAISO",
        findings=[
            Finding(
                text=sentence,
                where="week1.tuesday",
                request_id=rid,
                reproduce="crrsim scenarios --scenario 'A long one' --features "
                "/home/team/features/our_own.feature",
            ),
            Finding(
                text="SLO 'every call' breached: p95 latency 2,078 ms, above the limit of 2,000 ms",
                where="every call",
            ),
        ],
        cases=[CaseResult(group="week1", name="A long one", status=CaseStatus.FAILED, message=sentence)],
    )
    page = render(chromium, write_html(report, tmp_path / "r.html"), LAYOUT)
    layout = page.evaluated
    assert layout["scroll"] <= layout["width"], layout  # nothing pushed sideways off the page
    assert layout["idRight"] and all(right <= layout["width"] for right in layout["idRight"]), layout
    assert layout["emptyIdCells"] == 0, layout  # the SLO row spans the id column instead


def test_a_teams_own_scenario_is_reproduced_with_its_features(tmp_path: Path) -> None:
    own = CaseResult(
        group="ours",
        name="A long one",
        status=CaseStatus.FAILED,
        data={"file": str(tmp_path / "team" / "our_own.feature")},
    )
    assert (
        reproduce(own)
        == f"crrsim scenarios --scenario 'A long one' --features {tmp_path}/team/our_own.feature"
    )
    plan = CaseResult(
        group="week1",
        name="Submit",
        status=CaseStatus.FAILED,
        data={"file": str(default_features_dir() / "week1" / "tuesday.feature")},
    )
    assert reproduce(plan) == "crrsim scenarios --scenario Submit"  # the plan's own need no --features


PRINTED = """(() => {
  const rules = [...document.styleSheets].flatMap(s => [...s.cssRules]).filter(r => r.media && r.media.mediaText === 'print')
    .flatMap(r => [...r.cssRules]).map(r => r.cssText);
  const tile = document.querySelector('a.tile');
  return {rules, title: tile.getAttribute('data-title')};
})()"""


def test_plan_tiles_print_their_titles(tmp_path: Path) -> None:
    """Issue 19 item 15: a printed report showed tile ids alone (the title is a hover text)."""
    from harness.reports import Section, Tile
    from tests.marketsim.cdp import find_or_install_chromium, render

    chromium, why = find_or_install_chromium()
    if chromium is None:
        pytest.skip(why)
    grid = Section(
        "Structured plan, week by day",
        grid_columns=["monday"],
        grid={"Week 1": [[Tile("W1-MON-PLAN", "passed", "Market Sim plan", "#x")]]},
    )
    report = RunReport(runner="scenarios", title="t", target="u", verdict="PASSED", ok=True, sections=[grid])
    page = render(chromium, write_html(report, tmp_path / "r.html"), PRINTED).evaluated
    assert page["title"] == "Market Sim plan"
    assert any("a.tile::after" in rule and "attr(data-title)" in rule for rule in page["rules"]), page[
        "rules"
    ]
