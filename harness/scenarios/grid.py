"""The structured plan as a week x day grid of results: what a QA lead files after a rehearsal.

Each plan item is one tile: green when every scenario covering it passed, red when one failed,
grey when it is manual (with the reason) or was not run. Tiles link to the item's row in the
"Plan items" table, which names its scenarios and their results.
"""

from __future__ import annotations

from harness.reports import CaseResult, CaseStatus, Section, Tile, anchor
from harness.scenarios.plan import DAYS, Plan, PlanItem

PLAN_ITEMS = "Plan items"
PLAN_ITEMS_KEY = "plan-items"  # stable: the rows' anchors (plan-items-<id>) and the index's choice
_ROW_NAMES = {0: "Before Market Sim"}


def item_status(item: PlanItem, cases: list[CaseResult]) -> str:
    if not cases:
        return "manual" if item.manual else "not run"
    statuses = {c.status for c in cases}
    if statuses & {CaseStatus.FAILED, CaseStatus.ERROR}:
        return CaseStatus.FAILED.value
    return CaseStatus.PASSED.value if statuses <= {CaseStatus.PASSED, CaseStatus.WARNING} else "not run"


def plan_sections(plan: Plan, cases: list[CaseResult]) -> list[Section]:
    """The grid and the table it links to, from the plan and the run's scenario cases (each
    case names its plan items in ``data["plan"]``)."""
    by_item: dict[str, list[CaseResult]] = {}
    for case in cases:
        for plan_id in case.data.get("plan", []):
            by_item.setdefault(plan_id, []).append(case)
    columns = [d for d in DAYS if any(i.day == d for i in plan.items)]
    grid: dict[str, list[list[Tile]]] = {}
    rows: list[dict[str, str]] = []
    counts: dict[str, int] = {}
    for item in sorted(plan.items, key=lambda i: i.order):
        covering = by_item.get(item.id, [])
        status = item_status(item, covering)
        counts[status] = counts.get(status, 0) + 1
        why = f"manual: {item.manual}" if status == "manual" else item.text
        row = grid.setdefault(_ROW_NAMES.get(item.week, f"Week {item.week}"), [[] for _ in columns])
        row[columns.index(item.day)].append(Tile(item.id, status, why, "#" + anchor(PLAN_ITEMS_KEY, item.id)))
        rows.append(
            {
                "item": item.id,
                "result": status,
                "when": "before Market Sim" if item.week == 0 else f"week {item.week} {item.day}",
                "plan item": item.text,
                "scenarios or reason": "; ".join(f"{c.name} ({c.status.value})" for c in covering)
                or (item.manual or "no scenario of this run covers it"),
            }
        )
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return [
        Section(
            "Structured plan, week by day",
            grid_columns=columns,
            grid=grid,
            text=[f"{len(plan.items)} plan items: {summary}. Each tile links to its scenarios below."],
            key="plan-grid",
        ),
        Section(PLAN_ITEMS, rows=rows, key=PLAN_ITEMS_KEY),
    ]
