"""pytest glue for Gherkin runs: tags as markers, plan-order, filters, Allure labels, write guard.

Loaded by the step library's plugin (``scenarios.plugin``). What it adds to plain pytest-bdd:

* every tag used by the feature files becomes a registered marker, so ``--strict-markers``
  holds for any team's features; ``@key:value`` tags (``@plan:W1-TUE-NOMINATE-T1``) become
  ``key("value")`` marks, since a marker name cannot hold a colon;
* ``--week/--day/--tags`` selection from the run settings (Cucumber tag expressions);
* scenarios run in calendar order (week, then day) whatever the feature files are called,
  so a report reads like the plan; each one starts from a fresh sandbox (``fresh_start``)
  and sets up what it needs, so ``--shuffle SEED`` runs them in a seeded random order;
* Allure labels epic = week, feature = feature, story = scenario (allure-pytest-bdd);
* scenarios with participant write steps are skipped, saying why, on shared environments
  unless the run opted in with ``--allow-writes``.
"""

from __future__ import annotations

import difflib
import json
import os
import random
import re
import tempfile
from collections.abc import Generator, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import pytest
from pytest_bdd.parser import Feature, Scenario

from harness.client.targets import describe_target, target_kind
from harness.events import CaseFinished, Emit, Runner, RunStarted
from harness.reports.model import CaseResult, CaseStatus
from harness.scenarios import features as feature_files
from harness.scenarios.env import ScenarioEnv, open_env
from harness.scenarios.settings import ScenarioSettings
from harness.scenarios.steplib import STEPS

SETTINGS_KEY = pytest.StashKey[ScenarioSettings]()
WRITES_ATTR = "crr_writes"


def marker_name(tag: str) -> str:
    """The marker a tag becomes: ``plan:W1-X`` -> ``plan``; others unchanged but made safe."""
    name = tag.split(":", 1)[0]
    return re.sub(r"[^\w-]", "_", name) or "tag"


def writes(fn: Any) -> Any:
    """Mark a step function as changing state on the target (needs --allow-writes off-sandbox)."""
    setattr(fn, WRITES_ATTR, True)
    return fn


class RunSettings:
    """The run's settings, handed to pytest as a plugin object (``pytest.main(plugins=[...])``):
    stashed on the config before any other plugin configures, so the plan's hooks and the
    collection module read them from the session itself."""

    def __init__(self, settings: ScenarioSettings) -> None:
        self.settings = settings

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[SETTINGS_KEY] = self.settings


_SESSION: list[ScenarioSettings] = []  # the settings of the pytest session under way (one at a time)


def settings_of(config: pytest.Config) -> ScenarioSettings:
    return config.stash[SETTINGS_KEY]


def session_settings() -> ScenarioSettings:
    """What ``scenarios/collect.py`` collects by: the session's settings (pytest imports the
    collection module after configuring), or the defaults for a bare ``pytest -c`` run."""
    return _SESSION[-1] if _SESSION else ScenarioSettings()


def pytest_configure(config: pytest.Config) -> None:
    settings = config.stash.get(SETTINGS_KEY, None) or ScenarioSettings()
    config.stash[SETTINGS_KEY] = settings
    _SESSION.append(settings)
    names = {"plan"}
    names.update(marker_name(t) for t in feature_files.all_tags(settings.feature_dirs))
    for name in sorted(names):
        config.addinivalue_line("markers", f"{name}: Gherkin tag @{name} (crrsim scenarios)")


# the tags pytest-bdd applies to each scenario's test function (scenario, rule and feature tags),
# as it hands them to pytest_bdd_apply_tag at collection: pytest-bdd's public way to see them
_TAGS: WeakKeyDictionary[Any, set[str]] = WeakKeyDictionary()


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function: Any) -> Any:
    _TAGS.setdefault(function, set()).add(tag)
    if ":" not in tag:
        return None  # pytest-bdd's default: pytest.mark.<tag>
    return getattr(pytest.mark, marker_name(tag))(tag.split(":", 1)[1])(function)


def scenario_tags(item: pytest.Item) -> frozenset[str]:
    """All tags of the scenario behind a collected test (scenario, rule and feature tags)."""
    return frozenset(_TAGS.get(getattr(item, "obj", None), ()))


def _titles(item: pytest.Item) -> tuple[str, str]:
    """(feature, scenario) as written: pytest-bdd documents each scenario's test function with
    ``"<feature>: <scenario>"`` (an outline's title with its placeholders)."""
    doc = getattr(getattr(item, "obj", None), "__doc__", None) or ""
    feature, sep, scenario = doc.partition(": ")
    return (feature, scenario) if sep else ("", "")


def scenario_name(item: pytest.Item) -> str:
    """The scenario's title as written in its feature file (an outline's, placeholders and all)."""
    return _titles(item)[1]


def _sort_key(item: pytest.Item, tags: frozenset[str], position: int) -> tuple[Any, ...]:
    """The plan's order (week, day), then the order pytest collected them in (file, line)."""
    return (*feature_files.plan_order(tags), position)


def select(
    items: Iterable[pytest.Item], settings: ScenarioSettings
) -> tuple[list[pytest.Item], list[pytest.Item]]:
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    predicate = feature_files.tag_filter(settings.tags) if settings.tags else None
    days = {d.lower() for d in settings.days}
    names = set(settings.names)
    for item in items:
        tags = scenario_tags(item)
        ok = (
            (not settings.weeks or feature_files.week_of(tags) in settings.weeks)
            and (not days or feature_files.day_of(tags) in days)
            and (predicate is None or predicate(tags))
            and (not names or scenario_name(item) in names)
        )
        (keep if ok else drop).append(item)
    position = {id(item): n for n, item in enumerate(keep)}
    keep.sort(key=lambda it: _sort_key(it, scenario_tags(it), position[id(it)]))
    return keep, drop


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    settings = settings_of(config)
    keep, drop = select(items, settings)
    if drop:
        config.hook.pytest_deselected(items=drop)
    if settings.shuffle_seed is not None:
        # every scenario starts from a fresh sandbox and sets up what it needs, so any order
        # must pass; a seeded shuffle proves it and the seed reproduces a failing order
        random.Random(settings.shuffle_seed).shuffle(keep)
    items[:] = keep


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = settings_of(config)
    if settings.shuffle_seed is None:
        return ["scenario order: plan order (week, day, feature)"]
    return [
        f"scenario order: shuffled with seed {settings.shuffle_seed} "
        f"(repeat this order with --shuffle {settings.shuffle_seed})"
    ]


def _step_functions(scenario: Scenario) -> Iterator[Any]:
    for step in scenario.steps:
        for known in STEPS:
            if known.type == step.type and known.parser.is_matching(step.name):
                yield step, known.func
                break


def writing_step(scenario: Scenario) -> str | None:
    for step, fn in _step_functions(scenario):
        if getattr(fn, WRITES_ATTR, False):
            return f"{step.keyword} {step.name}"
    return None


def epic_of(feature: Feature) -> str:
    week = feature_files.week_of(feature.tags)
    return "Connectivity" if not week else f"Week {week}"


@pytest.hookimpl(trylast=True)
def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Feature, scenario: Scenario) -> None:
    import allure  # a dependency (allure-pytest-bdd); imported here, only Gherkin runs need it

    allure.dynamic.epic(epic_of(feature))
    allure.dynamic.feature(feature.name)
    allure.dynamic.story(scenario.name)
    settings = settings_of(request.config)
    request.node.stash[SCENARIO_KEY] = {
        "uri": feature.rel_filename,
        "file": str(Path(feature.filename).resolve()),
        "feature": feature.name,
        "scenario": scenario.name,
        "tags": sorted(scenario.tags),
    }
    request.getfixturevalue("crr_env").fresh_start()
    if not settings.writes_allowed:
        step = writing_step(scenario)
        if step:
            pytest.skip(
                f"this scenario changes data on {settings.target} ({step!r}); "
                "re-run with --allow-writes to let it submit"
            )


# -- failures as one plain sentence ------------------------------------------------------
FAILURE_KEY = pytest.StashKey[str]()
TRACEBACKS_ENV = "CRRSIM_SCENARIO_TRACEBACKS"  # step-library authors: keep Python's tracebacks
_TEMP_PATH = re.compile(re.escape(tempfile.gettempdir().rstrip("/")) + r"/[^\s'\"),]+")


def plain(text: str) -> str:
    """One line, temp paths reduced to their file name (they mean nothing to a reader)."""
    text = _TEMP_PATH.sub(lambda m: os.path.basename(m.group()), text)
    return " ".join(text.split())


def failure_sentence(step: Any, exc: BaseException, ctx: Any = None) -> str:
    """What a failing step tells every reader: the step, what was expected, what came back
    (HTTP status, error codes, caiso-request-id of the last call when the message lacks it)."""
    if isinstance(exc, AssertionError | pytest.fail.Exception):
        what = str(getattr(exc, "msg", None) or exc).split("\nassert ", 1)[0] or "the check did not hold"
    else:
        what = f"it could not run ({type(exc).__name__}: {exc})"
    response = getattr(ctx, "response", None)
    if response is not None and response.request_id and response.request_id not in what:
        what += f"; the last call: {ctx.describe()}"
    return plain(f'Step "{step.keyword} {step.name}" failed: {what}')


_SAID = pytest.StashKey[list[tuple[str, str]]]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Each scenario that ran, its result and its title, under pytest's progress dots: a
    newcomer sees what ran, not only '......'."""
    said = config.stash.get(_SAID, [])
    if not said or config.get_verbosity() < 0:
        return
    terminalreporter.write_sep("-", "scenarios")
    for word, title in said:
        terminalreporter.write_line(
            f"{word:8}{title}", **{{"FAILED": "red", "SKIPPED": "yellow"}.get(word, "green"): True}
        )


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_step_func_lookup_error(
    request: pytest.FixtureRequest, feature: Feature, scenario: Scenario, step: Any, exception: BaseException
) -> None:
    """A step no definition matches (a typo, most often): say so, the closest step the library
    has, and where the whole list is, instead of pytest-bdd's StepDefinitionNotFoundError."""
    _step_done(request, step, "failed")
    if os.environ.get(TRACEBACKS_ENV):
        return
    from harness.scenarios.stepdocs import as_written

    written = sorted(
        {
            as_written(known.parser.name)
            for known in STEPS
            if known.func.__module__.startswith("scenarios.steps.") and known.type == step.type
        }
    )
    close = difflib.get_close_matches(step.name, written, n=1, cutoff=0.5)
    hint = f' The closest step is "{step.keyword} {close[0]}".' if close else ""
    sentence = plain(
        f'Step "{step.keyword} {step.name}" matches no step of the library.{hint} '
        "`crrsim scenarios --steps` lists every step as it is written."
    )
    request.node.stash[FAILURE_KEY] = sentence
    exception.args = (sentence,)


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_step_error(
    request: pytest.FixtureRequest,
    feature: Feature,
    scenario: Scenario,
    step: Any,
    step_func: Any,
    step_func_args: dict[str, Any],
    exception: BaseException,
) -> None:
    _step_done(request, step, "failed")
    if os.environ.get(TRACEBACKS_ENV):
        return
    ctx = step_func_args.get("ctx")
    sentence = failure_sentence(step, exception, ctx)
    request.node.stash[FAILURE_KEY] = sentence
    # Allure and Cucumber read the exception itself: give them the sentence and no traceback
    exception.args = (sentence,)
    if hasattr(exception, "msg"):
        exception.msg = sentence
    exception.__traceback__ = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    scenario = item.stash.get(SCENARIO_KEY, None)
    if scenario is not None and (report.when == "call" or (report.when == "setup" and not report.passed)):
        word = "FAILED" if report.failed else "SKIPPED" if report.skipped else "PASSED"
        item.config.stash.setdefault(_SAID, []).append(
            (word, f"{scenario['feature']}: {scenario['scenario']}")
        )
    if report.failed and not os.environ.get(TRACEBACKS_ENV):
        sentence = item.stash.get(FAILURE_KEY, None)
        if sentence is None and call.excinfo is not None:  # set-up or tear-down, outside any step
            exc = call.excinfo.value
            sentence = plain(
                f"The scenario could not {'start' if report.when == 'setup' else 'finish'}: "
                f"{getattr(exc, 'msg', None) or exc}"
            )
        if sentence:
            report.longrepr = sentence
    _record_outcome(item, report)


@pytest.hookimpl(trylast=True)
def pytest_bdd_after_step(
    request: pytest.FixtureRequest,
    feature: Feature,
    scenario: Scenario,
    step: Any,
    step_func: Any,
    step_func_args: Any,
) -> None:
    _step_done(request, step, "passed")


def _step_done(request: pytest.FixtureRequest, step: Any, status: str) -> None:
    """Each step with its status, as it happens: the scenario's record in run.json lists them."""
    request.node.stash.setdefault(STEPS_KEY, []).append(f"{step.keyword} {step.name}: {status}")


# -- what the run was, for the reports ----------------------------------------------------
RUN_FILE = "run.json"
_RUN_KEY = pytest.StashKey[dict[str, Any]]()
SCENARIO_KEY = pytest.StashKey[dict[str, Any]]()
STEPS_KEY = pytest.StashKey[list[str]]()


def _record_outcome(item: pytest.Item, report: pytest.TestReport) -> None:
    """Each scenario as pytest and pytest-bdd's hooks saw it, into run.json: its outcome, its
    steps with their statuses, its one-sentence failure, its time. The reports are built from
    this record alone (``scenarios.results``); Cucumber JSON and JUnit XML are written for other
    tools, never read back (Cucumber JSON records a step that skipped as passed, and a scenario
    skipped before its first step not at all)."""
    run = item.config.stash.get(_RUN_KEY, None)
    scenario = item.stash.get(SCENARIO_KEY, None)
    if (
        run is None
        or scenario is None
        or not (report.when == "call" or (report.when == "setup" and not report.passed))
    ):
        return
    reason = message = details = ""
    if report.skipped and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
    elif report.failed:  # the one-sentence failure (or, with tracebacks kept, the traceback's last line)
        text = report.longreprtext.strip()
        message = text.splitlines()[-1] if text else "the scenario failed"
        details = "" if text == message else text[-4000:]
    run.setdefault("outcomes", []).append(
        {
            **scenario,
            "id": item.name,
            "outcome": report.outcome,
            "when": report.when,
            "reason": reason,
            "message": message,
            "details": details,
            "duration_s": round(report.duration, 4) if report.when == "call" else 0.0,
            "steps": item.stash.get(STEPS_KEY, []).copy(),
        }
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    settings = settings_of(session.config)
    session.config.stash[_RUN_KEY] = {
        "target": settings.url or settings.target,
        "started_at": datetime.now(UTC).isoformat(),
        "shuffle_seed": settings.shuffle_seed,
        "selection": {
            "weeks": settings.weeks,
            "days": settings.days,
            "tags": settings.tags,
            "features": [str(f) for f in settings.features],
        },
    }


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION:
        _SESSION.pop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """``run.json`` beside the results: the real target and the run's times, so ``crrsim report``
    can say what was tested and for how long."""
    settings = settings_of(session.config)
    run = session.config.stash.get(_RUN_KEY, None)
    if not settings.results_dir or run is None:
        return
    run.update(finished_at=datetime.now(UTC).isoformat(), exit_status=int(exitstatus))
    folder = settings.results_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RUN_FILE).write_text(json.dumps(run, indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def crr_env(pytestconfig: pytest.Config) -> Iterator[ScenarioEnv]:
    """The target, identities, markets and CRR team of this run (starts a sandbox if needed)."""
    env = open_env(settings_of(pytestconfig))
    run = pytestconfig.stash.get(_RUN_KEY, None)
    if run is not None:
        run["target"] = env.base_url  # the embedded sandbox's real URL, not just "sandbox"
        settings = settings_of(pytestconfig)
        named = "sandbox" if settings.is_sandbox and not settings.url else (settings.url or settings.target)
        run["tested"] = describe_target(
            named, "sandbox" if settings.is_sandbox else target_kind(settings.target)
        )
    try:
        yield env
    finally:
        env.close()


class EventsPlugin:
    """The plan's run as events (``harness.events``), from pytest's own hooks: the scenarios
    selected, then each one's outcome as it is known. Passed to ``pytest.main(plugins=[...])``
    by the runner; the main job and ``crrsim scenarios`` watch the same stream."""

    def __init__(self, emit: Emit, target: str = "") -> None:
        self.emit, self.target = emit, target
        self.total = self.done = 0
        self.names: dict[str, tuple[str, str]] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)
        for item in session.items:
            feature, scenario = _titles(item)
            self.names[item.nodeid] = (feature or item.nodeid.split("::")[0], scenario or item.name)
        self.emit(
            RunStarted(
                runner=Runner.SCENARIOS,
                title="structured plan",
                target=self.target,
                total=self.total,
                unit="scenarios",
            )
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not (report.when == "call" or (report.when == "setup" and report.outcome != "passed")):
            return
        self.done += 1
        status = {"passed": CaseStatus.PASSED, "skipped": CaseStatus.SKIPPED}.get(
            report.outcome, CaseStatus.ERROR if report.when == "setup" else CaseStatus.FAILED
        )
        group, name = self.names.get(report.nodeid, ("", report.nodeid))
        message = (
            report.longreprtext.strip().splitlines()[-1] if report.failed and report.longreprtext else ""
        )
        case = CaseResult(
            group=group, name=name, status=status, duration_s=round(report.duration, 3), message=message
        )
        self.emit(CaseFinished(case=case, completed=self.done))
