"""The traceability matrix: every plan item -> the scenarios covering it, or why it is manual.

An item with neither is a gap in the plan's automation and makes ``problems()`` non-empty
(the test suite and ``crrsim scenarios --matrix`` fail on it). So does a ``@plan:`` tag naming
an item the plan does not have: a typo would otherwise look like coverage.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.scenarios.features import ScenarioInfo, read_scenarios
from harness.scenarios.plan import Plan, PlanItem

TEXT_WIDTH = 44  # columns of plan text per line in --matrix
COVER_WIDTH = 72  # columns per covering scenario line


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
        """One row per plan item; the plan text wraps in its column and each covering scenario
        gets a line of its own (a row with five scenarios was one line of 711 characters)."""
        headers = ("item", "week", "day", "status", "plan text", "covered by / reason")
        rows = []
        for row in self.rows:
            covers = (
                [f"{s.feature_file.parent.name}/{s.feature_file.name}: {s.name}" for s in row.scenarios]
                if row.scenarios
                else [row.item.manual or "-"]
            )
            week = "T-2w" if row.item.week == 0 else str(row.item.week)
            text = textwrap.wrap(row.item.text, TEXT_WIDTH) or [""]
            cover = [piece for c in covers for piece in textwrap.wrap(c, COVER_WIDTH, subsequent_indent="  ")]
            rows.append(((row.item.id, week, row.item.day, row.status), text, cover))
        widths = [
            max(len(h), *(len(fixed[i]) for fixed, _, _ in rows)) if rows else len(h)
            for i, h in enumerate(headers[:4])
        ]
        widths.append(min(TEXT_WIDTH, max([len(headers[4]), *(len(t) for _, text, _ in rows for t in text)])))

        def fmt(cols: tuple[str, ...]) -> str:
            return (
                "  ".join(c.ljust(w) for c, w in zip(cols[:-1], widths, strict=True)) + "  " + cols[-1]
            ).rstrip()

        out = [fmt(headers), fmt(tuple("-" * w for w in widths) + ("-" * 20,))]
        for fixed, text, cover in rows:
            for n in range(max(len(text), len(cover))):
                first = fixed if n == 0 else ("",) * 4
                out.append(
                    fmt((*first, text[n] if n < len(text) else "", cover[n] if n < len(cover) else ""))
                )
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
