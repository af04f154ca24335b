"""Scenario results (the run's own record, ``run.json``) -> the shared RunReport.

The scenario plugin records each scenario from pytest's and pytest-bdd's hooks as it runs: its
outcome, steps, tags and one-sentence failure. ``crrsim scenarios``, the main job and
``crrsim report`` build the report from that record alone; the Cucumber JSON, JUnit XML and
Allure results beside it are for other tools and are never parsed back.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness.reports import CaseResult, CaseStatus, Gap, RunReport, Section
from harness.scenarios.grid import plan_sections
from harness.scenarios.plan import PlanError, default_features_dir, load_plan

NS_PER_S = 1_000_000_000
_REQUEST_ID = re.compile(r"caiso-request-id ([0-9a-fA-F-]{36})")


class ResultsError(ValueError):
    """No readable results in the folder; the message says what was looked for."""


_STATUS = {"passed": CaseStatus.PASSED, "failed": CaseStatus.FAILED, "skipped": CaseStatus.SKIPPED}


def _plan_items(tags: list[str]) -> list[str]:
    return sorted({t.split(":", 1)[1] for t in tags if t.lstrip("@").startswith("plan:")})


def scenario_case(outcome: dict[str, Any]) -> CaseResult:
    """One scenario as the scenario plugin recorded it (pytest's outcome, pytest-bdd's steps, the
    one-sentence failure): a case of the report."""
    status = _STATUS.get(str(outcome.get("outcome")), CaseStatus.ERROR)
    if status is CaseStatus.FAILED and outcome.get("when") == "setup":
        status = CaseStatus.ERROR  # it could not start: not a finding about the target
    message = (
        str(outcome.get("reason") or "")
        if status is CaseStatus.SKIPPED
        else str(outcome.get("message") or "")
    )
    details = str(outcome.get("details") or "")
    tags = [str(t) for t in outcome.get("tags") or []]
    request_id = _REQUEST_ID.search(f"{message} {details}")
    return CaseResult(
        group=str(outcome.get("feature") or outcome.get("uri") or "features"),
        name=str(outcome.get("scenario") or outcome.get("id") or "?"),
        status=status,
        duration_s=float(outcome.get("duration_s") or 0.0),
        message=message,
        details=details,
        data={
            "tags": tags,
            "plan": _plan_items(tags),
            "caiso_request_id": request_id.group(1) if request_id else "",
            "uri": outcome.get("uri", ""),
            "file": str(outcome.get("file") or ""),
            "id": outcome.get("id", ""),
            "steps": [str(step) for step in outcome.get("steps") or []],
        },
    )


def load_results(folder: Path, target: str = "") -> RunReport:
    """The report of a results folder, from the run's own record (``run.json``, written by the
    scenario plugin from pytest's and pytest-bdd's hooks)."""
    folder = Path(folder)
    source = folder / "run.json"
    if not source.is_file():
        raise ResultsError(
            f"no run.json in {folder} (results of a crrsim scenarios run); run 'crrsim scenarios' first"
        )
    run = _run_facts(folder)
    outcomes = run.get("outcomes")
    cases = [scenario_case(o) for o in outcomes if isinstance(o, dict)] if isinstance(outcomes, list) else []
    started = _when(run.get("started_at")) or datetime.fromtimestamp(source.stat().st_mtime, UTC)
    finished = _when(run.get("finished_at")) or started + timedelta(seconds=sum(c.duration_s for c in cases))
    report = RunReport(
        runner="scenarios",
        title="Market Sim scenarios",
        target=target or str(run.get("target") or "") or "not recorded (results from an older crrsim)",
        verdict="",
        ok=False,
        cases=cases,
        started_at=started,
        finished_at=finished,
        gaps=skip_gaps(cases),
        tested=str(run.get("tested") or ""),
    ).judge_by_cases()
    counts = report.counts()
    facts = {"source": str(source), **{k: str(v) for k, v in counts.items()}}
    if run.get("shuffle_seed") is not None:
        facts["order"] = f"shuffled, seed {run['shuffle_seed']}"
    report.sections.append(Section("Results", facts=facts))
    # the plan grid when the run covered plan items: a team's own features (no plan ids) would
    # get a page of grey "not run" tiles that say nothing about what ran
    if any(c.data.get("plan") for c in cases):
        with contextlib.suppress(PlanError):  # results read without the plan file still render
            report.sections += plan_sections(load_plan(), cases)
    for case in cases:  # what to fix first (RunReport.fix_first) shows it beside each failure
        case.data["reproduce"] = reproduce(case)
    return report


def reproduce(case: CaseResult) -> str:
    """The command that runs this one scenario again; a team's own feature file (outside the
    plan's features/) is named with --features, or the command would not find the scenario."""
    command = f"crrsim scenarios --scenario {shlex.quote(case.name)}"
    file = str(case.data.get("file") or "")
    if file and not Path(file).resolve().is_relative_to(default_features_dir().resolve()):
        command += f" --features {shlex.quote(file)}"
    return command


def skip_gaps(cases: list[CaseResult]) -> list[Gap]:
    """Skipped scenarios, grouped by why, as what the run did not cover (a run that skipped
    scenarios and failed none is INCOMPLETE); none ran at all is a gap of its own."""
    if not cases:
        return [Gap("No scenario ran.", "--week, --day, --tags or --features that select scenarios")]
    by_reason: dict[str, list[str]] = {}
    for case in cases:
        if case.status is CaseStatus.SKIPPED:
            by_reason.setdefault(_reason_kind(case.message), []).append(case.name)
    gaps = []
    for reason, names in by_reason.items():
        shown = "; ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        cover = (
            "--allow-writes (it lets them submit data on this environment)" if "change data" in reason else ""
        )
        gaps.append(
            Gap(f"{len(names)} scenario{'s' if len(names) != 1 else ''} skipped ({reason}): {shown}", cover)
        )
    return gaps


def _reason_kind(message: str) -> str:
    """A skip reason without the scenario's own step, so scenarios skipped alike group together."""
    if "--allow-writes" in message:
        return "they change data on this environment"
    return message.strip() or "no reason given"


def _run_facts(folder: Path) -> dict[str, Any]:
    """What the run recorded about itself (``run.json``, written by the scenario plugin)."""
    try:
        data = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _when(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def find_results(*candidates: Path) -> Path:
    """The folder among ``candidates`` holding the newest scenario results (``crrsim scenarios``
    writes <reports>/scenarios, ``crrsim marketsim`` <reports>/marketsim/scenarios)."""
    found = [c for c in candidates if (c / "run.json").is_file()]
    if not found:
        looked = " or ".join(str(c) for c in candidates)
        raise ResultsError(
            f"no scenario results in {looked}: run 'crrsim scenarios' or 'crrsim marketsim' first, "
            "or point --results at the folder that holds run.json"
        )
    return max(found, key=lambda c: max(p.stat().st_mtime for p in c.iterdir()))
