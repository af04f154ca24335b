"""The traceability matrix: every plan item -> the scenarios covering it, or why it is manual.

An item with neither is a gap in the plan's automation and makes ``problems()`` non-empty
(the test suite and ``crrsim scenarios --matrix`` fail on it). So does a ``@plan:`` tag naming
an item the plan does not have: a typo would otherwise look like coverage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.scenarios.features import ScenarioInfo, read_scenarios
from harness.scenarios.plan import Plan, PlanItem


@dataclass
class MatrixRow:
    item: PlanItem
    scenarios: list[ScenarioInfo] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.scenarios:
            return "automated"
        return "manual" if self.item.manual else "MISSING"


@dataclass
class Matrix:
    rows: list[MatrixRow]
    unknown_tags: dict[str, list[ScenarioInfo]]  # plan id not in the plan -> scenarios using it

    def problems(self) -> list[str]:
        out = [
            f"plan item {r.item.id} ({r.item.text}) has no scenario tagged @plan:{r.item.id} and is not marked manual"
            for r in self.rows
            if r.status == "MISSING"
        ]
        for plan_id, infos in sorted(self.unknown_tags.items()):
            names = "; ".join(i.label for i in infos)
            out.append(f"@plan:{plan_id} is not an item of the plan (used by {names})")
        return out

    def summary(self) -> dict[str, int]:
        out = {"items": len(self.rows), "automated": 0, "manual": 0, "MISSING": 0}
        for row in self.rows:
            out[row.status] += 1
        out["scenarios"] = len({(s.feature_file, s.name) for r in self.rows for s in r.scenarios})
        return out

    def format_table(self) -> str:
        headers = ("item", "week", "day", "status", "plan text", "covered by / reason")
        lines = []
        for row in self.rows:
            cover = (
                ", ".join(f"{s.feature_file.parent.name}/{s.feature_file.name}: {s.name}" for s in row.scenarios)
                if row.scenarios
                else (row.item.manual or "-")
            )
            week = "T-2w" if row.item.week == 0 else str(row.item.week)
            lines.append((row.item.id, week, row.item.day, row.status, row.item.text, cover))
        widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
                  for i, h in enumerate(headers[:-1])]
        def fmt(cols: tuple[str, ...]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cols[:-1], widths, strict=True)) + "  " + cols[-1]
        out = [fmt(headers), fmt(tuple("-" * w for w in widths) + ("-" * 20,))]
        out.extend(fmt(line) for line in lines)
        s = self.summary()
        out.append("")
        out.append(
            f"{s['items']} plan items: {s['automated']} automated by {s['scenarios']} scenarios, "
            f"{s['manual']} manual, {s['MISSING']} missing"
        )
        out.extend(f"PROBLEM: {p}" for p in self.problems())
        return "\n".join(out)


def build_matrix(plan: Plan, feature_dirs: Iterable[Path]) -> Matrix:
    rows = {item.id: MatrixRow(item) for item in plan.items}
    unknown: dict[str, list[ScenarioInfo]] = {}
    for info in read_scenarios(feature_dirs):
        for plan_id in info.plan_ids:
            if plan_id in rows:
                rows[plan_id].scenarios.append(info)
            else:
                unknown.setdefault(plan_id, []).append(info)
    ordered = sorted(rows.values(), key=lambda r: (r.item.order, plan.items.index(r.item)))
    return Matrix(ordered, unknown)
