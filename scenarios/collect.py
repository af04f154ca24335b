"""Entry point pytest collects: every scenario of the run's feature folders becomes a test.

The folders come from the run settings (``crrsim scenarios --features DIR``), so a team's own
feature files run with this step library without any Python of their own.
"""

from pytest_bdd import scenarios

from harness.scenarios.settings import ScenarioSettings

for _folder in ScenarioSettings.from_env().feature_dirs:
    scenarios(str(_folder.resolve()))
