"""Run the Gherkin plan: build the pytest command line for a ``ScenarioSettings`` and run it.

pytest runs in-process with the step library's own ini (``scenarios/pytest.ini``: allure-pytest
-bdd instead of allure-pytest), its results written as JUnit XML, Cucumber JSON and Allure
results under one folder, which ``crrsim report`` turns into the shared HTML report.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.scenarios.plan import repo_root
from harness.scenarios.settings import SETTINGS_ENV, ScenarioSettings

JUNIT = "junit.xml"
CUCUMBER = "cucumber.json"
ALLURE = "allure-results"


class RunnerError(RuntimeError):
    """The step library cannot be found (e.g. crrsim installed without its source tree)."""


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


def step_library_root() -> Path:
    root = repo_root()
    if not (root / "scenarios" / "plugin.py").is_file():
        raise RunnerError(f"the step library (scenarios/) is not next to the harness package in {root}")
    return root


def rootdir_for(features: Sequence[Path]) -> Path:
    """A rootdir holding the step library and every feature folder: allure-pytest-bdd names
    results by the feature file's path relative to it (and fails for files outside it)."""
    paths = [str(step_library_root()), *(str(Path(f).resolve()) for f in features)]
    return Path(os.path.commonpath(paths))


def pytest_args(outputs: RunOutputs, extra: Sequence[str] = (), features: Sequence[Path] = ()) -> list[str]:
    root = step_library_root()
    return [
        "-c", str(root / "scenarios" / "pytest.ini"),
        "--rootdir", str(rootdir_for(features)),
        str(root / "scenarios" / "collect.py"),
        f"--junitxml={outputs.junit}",
        f"--cucumberjson={outputs.cucumber}",
        f"--alluredir={outputs.allure}",
        "-o", "junit_family=xunit2",
        "-p", "no:cacheprovider",
        *extra,
    ]


def run(settings: ScenarioSettings, results_dir: Path, extra: Sequence[str] = ()) -> int:
    """Run pytest in this process; returns pytest's exit code."""
    import pytest

    outputs = RunOutputs(Path(results_dir))
    outputs.results_dir.mkdir(parents=True, exist_ok=True)
    root = str(step_library_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    previous = os.environ.get(SETTINGS_ENV)
    settings.export()
    try:
        return int(pytest.main(pytest_args(outputs, extra, settings.feature_dirs)))
    finally:
        if previous is None:
            os.environ.pop(SETTINGS_ENV, None)
        else:
            os.environ[SETTINGS_ENV] = previous
