"""Run the Gherkin plan: build the pytest command line for a ``ScenarioSettings`` and run it.

pytest runs in-process with the step library's own ini (``scenarios/pytest.ini``: allure-pytest
-bdd instead of allure-pytest), its results written as JUnit XML, Cucumber JSON and Allure
results under one folder, which ``crrsim report`` turns into the shared HTML report.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from harness.events import Emit, RunFinished, ignore
from harness.reports.model import RunReport
from harness.scenarios.features import check_feature_files
from harness.scenarios.plan import step_library_root
from harness.scenarios.results import ResultsError, load_results
from harness.scenarios.settings import ScenarioSettings

JUNIT = "junit.xml"
CUCUMBER = "cucumber.json"
ALLURE = "allure-results"


@dataclass(frozen=True)
class RunOutputs:
    results_dir: Path

    @property
    def junit(self) -> Path:
        return self.results_dir / JUNIT

    @property
    def cucumber(self) -> Path:
        return self.results_dir / CUCUMBER

    @property
    def allure(self) -> Path:
        return self.results_dir / ALLURE


def rootdir_for(features: Sequence[Path]) -> Path:
    """A rootdir holding the step library and every feature folder: allure-pytest-bdd names
    results by the feature file's path relative to it (and fails for files outside it)."""
    paths = [str(step_library_root()), *(str(Path(f).resolve()) for f in features)]
    return Path(os.path.commonpath(paths))


def pytest_args(outputs: RunOutputs, extra: Sequence[str] = (), features: Sequence[Path] = ()) -> list[str]:
    root = step_library_root()
    return [
        "-c",
        str(root / "scenarios" / "pytest.ini"),
        "--rootdir",
        str(rootdir_for(features)),
        str(root / "scenarios" / "collect.py"),
        f"--junitxml={outputs.junit}",
        f"--cucumberjson={outputs.cucumber}",
        f"--alluredir={outputs.allure}",
        "-o",
        "junit_family=xunit2",
        "-p",
        "no:cacheprovider",
        *extra,
    ]


@dataclass
class PlanRun:
    """pytest's exit code, the run's report (None when nothing was selected or the results
    cannot be read) and how many scenarios were selected."""

    code: int
    report: RunReport | None
    selected: int


def run(
    settings: ScenarioSettings, results_dir: Path, extra: Sequence[str] = (), emit: Emit = ignore
) -> PlanRun:
    """Run pytest in this process, its progress as events to ``emit`` (from pytest's hooks),
    then the report read from the results.

    The previous results move to a sibling ``.previous`` folder while the run writes into
    ``results_dir`` itself, so every run's folder holds that run alone (Allure would otherwise
    keep adding to earlier runs' files) and the paths pytest prints stay valid; a selection that
    matches nothing puts the previous results back (pytest's exit code 5), and a feature file
    Gherkin cannot parse (FeatureFileError) is refused before anything is touched.
    """
    import pytest

    from harness.scenarios.pytest_plugin import EventsPlugin, RunSettings

    clock = time.monotonic()
    check_feature_files(Path(d) for d in settings.feature_dirs)  # FeatureFileError before anything is touched
    results_dir = Path(results_dir)
    # the previous run's results step aside (and come back if nothing is selected), so this run
    # writes where its files stay: the paths pytest prints are the ones the user opens
    kept = results_dir.with_name(results_dir.name + ".previous")
    shutil.rmtree(kept, ignore_errors=True)
    if results_dir.exists():
        results_dir.rename(kept)
    results_dir.mkdir(parents=True)
    outputs = RunOutputs(results_dir)
    root = str(step_library_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    run_settings = replace(settings, results_dir=results_dir)
    events = EventsPlugin(emit, settings.url or settings.target)
    plugins = [RunSettings(run_settings), events]
    code = int(pytest.main(pytest_args(outputs, extra, run_settings.feature_dirs), plugins=plugins))
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        shutil.rmtree(results_dir, ignore_errors=True)
        if kept.exists():
            kept.rename(results_dir)
        return PlanRun(code, None, 0)
    shutil.rmtree(kept, ignore_errors=True)
    try:
        report: RunReport | None = load_results(results_dir, target=settings.url or "")
    except (ResultsError, ValueError, OSError):
        report = None  # pytest could not write its results (it said why); there is nothing to judge
    if report is not None:
        emit(RunFinished(report=report, seconds=time.monotonic() - clock))
    return PlanRun(code, report, events.total)


def describe_selection(settings: ScenarioSettings, extra: Sequence[str] = ()) -> str:
    """The run's selection in the words of the command line, for 'nothing matched' sentences."""
    parts = [f"--week {w}" for w in settings.weeks] + [f"--day {d}" for d in settings.days]
    if settings.tags:
        parts.append(f"--tags {settings.tags!r}")
    parts += [f"--scenario {name!r}" for name in settings.names]
    if settings.features != ScenarioSettings().features:
        parts += [f"--features {f}" for f in settings.features]
    selecting = [
        f"{flag} {value!r}" for flag, value in zip(extra, extra[1:], strict=False) if flag in ("-k", "-m")
    ]
    if selecting:
        parts.append("-- " + " ".join(selecting))
    return " ".join(parts) or "the whole plan"
