"""The pytest plugin that makes the step library available (``-p scenarios.plugin``).

pytest-bdd finds step definitions as fixtures; registering the step modules as plugins makes
them global, so feature files anywhere (ours or a team's own folder) can use every step.
"""

from __future__ import annotations

import pytest

from harness.scenarios.env import ScenarioEnv
from scenarios.context import ScenarioContext

pytest_plugins = [
    "harness.scenarios.pytest_plugin",
    "scenarios.steps.common",
    "scenarios.steps.team",
    "scenarios.steps.markets",
    "scenarios.steps.portfolios",
    "scenarios.steps.downloads",
    "scenarios.steps.holdings",
    "scenarios.steps.messages",
    "scenarios.steps.load",
    "scenarios.steps.load_migration",
    "scenarios.steps.secondary_market",
    "scenarios.steps.tor",
    "scenarios.steps.connectivity",
]

STEP_MODULES = tuple(p for p in pytest_plugins if p.startswith("scenarios.steps."))


@pytest.fixture
def ctx(crr_env: ScenarioEnv) -> ScenarioContext:
    """What one scenario remembers between its steps (who I am, my market, the last answer)."""
    return ScenarioContext(crr_env)
