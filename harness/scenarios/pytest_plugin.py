"""pytest glue for Gherkin runs: tags as markers, plan-order, filters, Allure labels, write guard.

Loaded by the step library's plugin (``scenarios.plugin``). What it adds to plain pytest-bdd:

* every tag used by the feature files becomes a registered marker, so ``--strict-markers``
  holds for any team's features; ``@key:value`` tags (``@plan:W1-TUE-NOMINATE-T1``) become
  ``key("value")`` marks, since a marker name cannot hold a colon;
* ``--week/--day/--tags`` selection from the run settings (Cucumber tag expressions);
* scenarios run in calendar order (week, then day) whatever the feature files are called,
  because later days of the plan build on the state earlier days leave in the sandbox;
* Allure labels epic = week, feature = feature, story = scenario (allure-pytest-bdd);
* scenarios with participant write steps are skipped, saying why, on shared environments
  unless the run opted in with ``--allow-writes``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from pytest_bdd.parser import Feature, Scenario
from pytest_bdd.scenario import scenario_wrapper_template_registry
from pytest_bdd.steps import step_function_context_registry

from harness.scenarios import features as feature_files
from harness.scenarios import tagexpr
from harness.scenarios.env import ScenarioEnv, open_env
from harness.scenarios.settings import ScenarioSettings

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


def settings_of(config: pytest.Config) -> ScenarioSettings:
    return config.stash[SETTINGS_KEY]


def pytest_configure(config: pytest.Config) -> None:
    settings = ScenarioSettings.from_env()
    config.stash[SETTINGS_KEY] = settings
    names = {"plan"}
    names.update(marker_name(t) for t in feature_files.all_tags(settings.feature_dirs))
    for name in sorted(names):
        config.addinivalue_line("markers", f"{name}: Gherkin tag @{name} (crrsim scenarios)")


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function: Any) -> Any:
    if ":" not in tag:
        return None  # pytest-bdd's default: pytest.mark.<tag>
    return getattr(pytest.mark, marker_name(tag))(tag.split(":", 1)[1])(function)


def scenario_tags(item: pytest.Item) -> frozenset[str]:
    """All tags of the scenario behind a collected test (scenario, rule and feature tags)."""
    template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))  # type: ignore[arg-type]
    if template is None:
        return frozenset()
    rule_tags = template.rule.tags if template.rule is not None else set()
    return frozenset(template.tags | template.feature.tags | rule_tags)


def _sort_key(item: pytest.Item, tags: frozenset[str]) -> tuple[Any, ...]:
    template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))  # type: ignore[arg-type]
    where = (template.feature.filename, template.line_number) if template else ("", 0)
    return (*feature_files.plan_order(tags), *where)


def select(items: Iterable[pytest.Item], settings: ScenarioSettings) -> tuple[list[pytest.Item], list[pytest.Item]]:
    keep, drop = [], []
    predicate = tagexpr.parse(settings.tags) if settings.tags else None
    days = {d.lower() for d in settings.days}
    for item in items:
        tags = scenario_tags(item)
        ok = (
            (not settings.weeks or feature_files.week_of(tags) in settings.weeks)
            and (not days or feature_files.day_of(tags) in days)
            and (predicate is None or predicate(tags))
        )
        (keep if ok else drop).append(item)
    keep.sort(key=lambda it: _sort_key(it, scenario_tags(it)))
    return keep, drop


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = select(items, settings_of(config))
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep


def _step_functions(scenario: Scenario) -> Iterator[Any]:
    contexts = list(step_function_context_registry.values())
    for step in scenario.steps:
        for context in contexts:
            if context.type in (None, step.type) and context.parser.is_matching(step.name):
                yield step, context.step_func
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
    try:
        import allure
    except ImportError:  # pragma: no cover - allure is a dependency; labels are optional
        allure = None
    if allure is not None:
        allure.dynamic.epic(epic_of(feature))
        allure.dynamic.feature(feature.name)
        allure.dynamic.story(scenario.name)
    settings = settings_of(request.config)
    if not settings.writes_allowed:
        step = writing_step(scenario)
        if step:
            pytest.skip(
                f"this scenario changes data on {settings.target} ({step!r}); "
                "re-run with --allow-writes to let it submit"
            )


@pytest.fixture(scope="session")
def crr_env(pytestconfig: pytest.Config) -> Iterator[ScenarioEnv]:
    """The target, identities, markets and CRR team of this run (starts a sandbox if needed)."""
    env = open_env(settings_of(pytestconfig))
    try:
        yield env
    finally:
        env.close()
