"""Entry point pytest collects: every scenario of the run's feature folders becomes a test.

The folders come from the run settings (``crrsim scenarios --features DIR``), so a team's own
feature files run with this step library without any Python of their own.
"""

from pytest_bdd import scenarios

from harness.scenarios.pytest_plugin import session_settings

for _folder in session_settings().feature_dirs:
    scenarios(str(_folder.resolve()))
