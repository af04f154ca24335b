"""The step library listing (`crrsim scenarios --steps`)."""

from __future__ import annotations

from click.testing import CliRunner

from harness.cli.scenarios import command
from harness.scenarios.stepdocs import collect_steps


def test_every_step_is_documented_and_unique() -> None:
    steps = collect_steps()
    assert len(steps) > 40
    assert all(s.doc.strip() for s in steps), [s.pattern for s in steps if not s.doc.strip()]
    patterns = [(s.types, s.pattern) for s in steps]
    assert len(patterns) == len(set(patterns))
    modules = {s.module for s in steps}
    assert {"common", "portfolios", "load", "downloads", "team", "connectivity"} <= modules


def test_steps_command_lists_patterns_with_docstrings() -> None:
    result = CliRunner().invoke(command, ["--steps"])
    assert result.exit_code == 0, result.output
    assert "== portfolios ==" in result.output
    assert "I create the" in result.output and "steps" in result.output.splitlines()[-1]
