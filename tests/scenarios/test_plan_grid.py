"""The plan as a week x day grid: an item's tile is red when any of its scenarios failed, green
when all passed, grey when it is manual (with the reason) or no scenario of the run covered it;
each tile links to the item's row, which names the scenarios; failures carry a reproduction."""

from __future__ import annotations

import re

from harness.reports import CaseResult, CaseStatus, RunReport, anchor
from harness.reports.handlers import render_html
from harness.scenarios.grid import plan_sections
from harness.scenarios.plan import load_plan


def _case(name: str, status: CaseStatus, *plan: str) -> CaseResult:
    return CaseResult(group="feature", name=name, status=status, data={"plan": list(plan)})


def test_tiles_take_the_worst_result_of_their_scenarios() -> None:
    plan = load_plan()
    cases = [
        _case("bids pass", CaseStatus.PASSED, "W1-WED-BUY-BIDS"),
        _case("bids fail", CaseStatus.FAILED, "W1-WED-BUY-BIDS"),
        _case("portfolios", CaseStatus.PASSED, "W1-WED-PORTFOLIOS"),
        _case("credit skipped", CaseStatus.SKIPPED, "W1-WED-CREDIT"),
    ]
    grid, items = plan_sections(plan, cases)
    tiles = {t.label: t for row in grid.grid.values() for cell in row for t in cell}
    assert len(tiles) == len(plan.items)
    assert tiles["W1-WED-BUY-BIDS"].status == "failed" and tiles["W1-WED-PORTFOLIOS"].status == "passed"
    assert tiles["W1-WED-CREDIT"].status == "not run" and tiles["W1-TUE-LOAD"].status == "not run"
    assert tiles["W1-MON-PLAN"].status == "manual" and "kickoff" in tiles["W1-MON-PLAN"].title
    wednesday = grid.grid_columns.index("wednesday")
    assert "W1-WED-BUY-BIDS" in [t.label for t in grid.grid["Week 1"][wednesday]]
    assert [t.label for t in grid.grid["Before Market Sim"][grid.grid_columns.index("connectivity")]] == [
        "CONN-CERTIFY",
        "CONN-SERVICES",
        "CONN-BAD-CERTS",
    ]
    row = next(r for r in items.rows if r["item"] == "W1-WED-BUY-BIDS")
    assert row["result"] == "failed" and "bids fail (failed)" in row["scenarios or reason"]
    assert tiles["W1-WED-BUY-BIDS"].link == "#" + anchor(items.key, "W1-WED-BUY-BIDS")


def test_the_grid_renders_and_every_tile_link_lands_on_a_row() -> None:
    grid, items = plan_sections(load_plan(), [_case("bids fail", CaseStatus.FAILED, "W1-WED-BUY-BIDS")])
    report = RunReport(
        runner="scenarios", title="t", target="u", verdict="FAILED", ok=False, sections=[grid, items]
    )
    page = render_html(report)
    ids = set(re.findall(r'id="([^"]+)"', page))
    links = re.findall(r'class="tile tone-(\w+)" href="#([^"]+)"', page)
    assert links and all(target in ids for _tone, target in links)
    tones = dict((target, tone) for tone, target in links)
    assert tones[anchor("Plan items", "W1-WED-BUY-BIDS")] == "bad"
    assert tones[anchor("Plan items", "W1-MON-PLAN")] == "grey"
