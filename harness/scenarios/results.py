"""Scenario results (Cucumber JSON from pytest-bdd, or JUnit XML) -> the shared RunReport.

``crrsim report`` renders that RunReport with the common handlers; Cucumber JSON is preferred
because it keeps the Gherkin: feature, scenario, tags and the failing step.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import xml.etree.ElementTree as ET
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


def _scenario_case(feature: dict[str, Any], element: dict[str, Any]) -> CaseResult:
    steps = element.get("steps", [])
    statuses = [s.get("result", {}).get("status", "skipped") for s in steps]
    failing = next((s for s in steps if s.get("result", {}).get("status") == "failed"), None)
    if failing is not None:
        status = CaseStatus.FAILED
    elif steps and all(st == "passed" for st in statuses):
        status = CaseStatus.PASSED
    else:
        status = CaseStatus.SKIPPED
    message = ""
    details = ""
    if failing is not None:  # the run's one-sentence failure (harness.scenarios.pytest_plugin)
        details = str(failing.get("result", {}).get("error_message", ""))
        message = details or f"{failing.get('keyword', '').strip()} {failing.get('name', '')} failed"
        details = "" if details == message else details
    tags = [t.get("name", "") for t in element.get("tags", [])]
    plan_items = _plan_items(tags)
    request_id = _REQUEST_ID.search(f"{message} {details}")
    duration = sum(s.get("result", {}).get("duration", 0) or 0 for s in steps) / NS_PER_S
    return CaseResult(
        group=feature.get("name", "features"),
        name=element.get("name", "?"),
        status=status,
        duration_s=duration,
        message=message,
        details=details[-4000:],
        data={
            "tags": tags,
            "plan": plan_items,
            "caiso_request_id": request_id.group(1) if request_id else "",
            "uri": feature.get("uri", ""),
            "id": element.get("id", ""),
            "steps": [
                f"{s.get('keyword', '').strip()} {s.get('name', '')}: {st}"
                for s, st in zip(steps, statuses, strict=True)
            ],
        },
    )


def _plan_items(tags: list[str]) -> list[str]:
    return sorted({t.split(":", 1)[1] for t in tags if t.lstrip("@").startswith("plan:")})


def with_outcomes(cases: list[CaseResult], outcomes: list[dict[str, Any]]) -> list[CaseResult]:
    """The cases with pytest's own outcome of each scenario (recorded by the scenario plugin in
    run.json): a scenario that skipped inside a step is SKIPPED with its reason, however Cucumber
    JSON recorded its steps, and one skipped before its first step (absent from Cucumber JSON)
    is a SKIPPED case of its own, so the counts are pytest's."""
    by_key = {(c.data.get("uri"), c.data.get("id")): c for c in cases}
    out = list(cases)
    for outcome in outcomes:
        case = by_key.get((outcome.get("uri"), outcome.get("id")))
        if case is not None and outcome.get("file"):
            case.data["file"] = str(outcome["file"])
        if outcome.get("outcome") != "skipped":
            continue
        if case is not None:
            case.status, case.message = CaseStatus.SKIPPED, str(outcome.get("reason") or case.message)
            continue
        tags = list(outcome.get("tags") or [])
        out.append(
            CaseResult(
                group=str(outcome.get("feature") or outcome.get("uri") or "features"),
                name=str(outcome.get("scenario") or outcome.get("id") or "?"),
                status=CaseStatus.SKIPPED,
                message=str(outcome.get("reason") or ""),
                data={
                    "tags": tags,
                    "plan": _plan_items(tags),
                    "uri": outcome.get("uri", ""),
                    "file": str(outcome.get("file") or ""),
                    "id": outcome.get("id", ""),
                    "caiso_request_id": "",
                    "steps": [],
                },
            )
        )
    return out


def from_cucumber(path: Path) -> list[CaseResult]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [_scenario_case(f, e) for f in data for e in f.get("elements", [])]


def from_junit(path: Path) -> list[CaseResult]:
    root = ET.parse(path).getroot()
    cases = []
    for tc in root.iter("testcase"):
        status, message, details = CaseStatus.PASSED, "", ""
        for child, st in (
            ("failure", CaseStatus.FAILED),
            ("error", CaseStatus.ERROR),
            ("skipped", CaseStatus.SKIPPED),
        ):
            node = tc.find(child)
            if node is not None:
                status, message, details = st, node.get("message", ""), (node.text or "")[-4000:]
                break
        cases.append(
            CaseResult(
                group=tc.get("classname", ""),
                name=tc.get("name", "?"),
                status=status,
                duration_s=float(tc.get("time", 0) or 0),
                message=message,
                details=details,
            )
        )
    return cases


def _skips_from_junit(cases: list[CaseResult], junit_cases: list[CaseResult]) -> None:
    """Cucumber JSON records a scenario skipped inside a step as passed steps up to the skip;
    JUnit knows it was skipped (test names are pytest-bdd's ``test_<scenario name>``)."""
    from pytest_bdd.scenario import make_python_name

    skipped = {c.name.split("[", 1)[0]: c.message for c in junit_cases if c.status is CaseStatus.SKIPPED}
    for case in cases:
        name = f"test_{make_python_name(case.name)}"
        if case.status is CaseStatus.PASSED and name in skipped:
            case.status, case.message = CaseStatus.SKIPPED, skipped[name]


def load_results(folder: Path, target: str = "") -> RunReport:
    folder = Path(folder)
    cucumber, junit = folder / "cucumber.json", folder / "junit.xml"
    if cucumber.is_file() and cucumber.stat().st_size:
        cases, source = from_cucumber(cucumber), cucumber
        if junit.is_file():
            _skips_from_junit(cases, from_junit(junit))
    elif junit.is_file():
        cases, source = from_junit(junit), junit
    else:
        raise ResultsError(f"no cucumber.json or junit.xml in {folder}; run 'crrsim scenarios' first")
    run = _run_facts(folder)
    if isinstance(run.get("outcomes"), list):
        cases = with_outcomes(cases, run["outcomes"])
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
    found = [c for c in candidates if (c / "cucumber.json").is_file() or (c / "junit.xml").is_file()]
    if not found:
        looked = " or ".join(str(c) for c in candidates)
        raise ResultsError(
            f"no scenario results in {looked}: run 'crrsim scenarios' or 'crrsim marketsim' first, "
            "or point --results at the folder that holds cucumber.json"
        )
    return max(found, key=lambda c: max(p.stat().st_mtime for p in c.iterdir()))
