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


def test_steps_are_listed_as_people_write_them() -> None:
    """Issue 19 item 20: --steps printed raw regexes; a feature file's author needs the wording."""
    from harness.scenarios.stepdocs import as_written

    assert (
        as_written(r"it is (?P<day>Monday|Tuesday) (?P<hhmm>\d\d:\d\d) of week (?P<week>\d+)")
        == "it is {day: Monday|Tuesday} {hhmm} of week {week}"
    )
    assert (
        as_written(
            r"the request is refused(?: with HTTP (?P<status>\d{3}))?(?: (?:and|with) error \"(?P<code>[A-Z0-9]+)\")?"
        )
        == 'the request is refused[ with HTTP {status}][ (and | with) error "{code}"]'
    )
    assert as_written(r"the participant is (?P<neg>not )?certified") == "the participant is [not ]certified"
    assert (
        as_written(r"(?:I|participant \"(?P<sc>[^\"]+)\") holds? a CRR")
        == '(I | participant "{sc}") hold(s) a CRR'
    )
    assert (
        as_written('I work in the market "{market}"') == 'I work in the market "{market}"'
    )  # parse style as is
    listing = CliRunner().invoke(command, ["--steps"]).output
    assert "(?P<" not in listing and "(?:" not in listing and "[^" not in listing
