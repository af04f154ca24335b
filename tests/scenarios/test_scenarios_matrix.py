"""The plan's traceability matrix, tag expressions, plan data and upload files (no server)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli.scenarios import command
from harness.scenarios.features import TagExpressionError, read_scenarios, tag_filter
from harness.scenarios.matrix import build_matrix
from harness.scenarios.plan import PlanError, default_features_dir, load_plan

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "scenarios" / "data"


def test_every_plan_item_is_automated_or_manual_with_a_reason() -> None:
    plan = load_plan()
    matrix = build_matrix(plan, [default_features_dir()])
    assert matrix.problems() == []
    summary = matrix.summary()
    assert summary["MISSING"] == 0
    assert summary["automated"] + summary["manual"] == len(plan.items) == summary["items"]
    for row in matrix.rows:
        assert row.scenarios or (row.item.manual and row.item.manual.strip())


def test_every_structured_day_has_positive_and_negative_scenarios() -> None:
    by_day: dict[tuple[str, str], set[bool]] = {}
    for info in read_scenarios([default_features_dir()]):
        stem = info.feature_file.stem
        if any(track in stem for track in ("allocation", "auction", "misc", "participant")):
            key = (info.feature_file.parent.name, info.feature_file.stem)
            by_day.setdefault(key, set()).add("negative" in info.tags)
    assert len(by_day) >= 6
    for key, kinds in by_day.items():
        assert kinds == {True, False}, f"{key} lacks positive or negative scenarios"


def test_matrix_reports_missing_items_and_unknown_plan_tags(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(
        "items:\n"
        "  - {id: X-1, week: 1, day: monday, text: covered}\n"
        "  - {id: X-2, week: 1, day: monday, text: forgotten}\n"
        "  - {id: X-3, week: 1, day: monday, text: webex, manual: a meeting}\n"
    )
    (tmp_path / "a.feature").write_text(
        "Feature: F\n  @plan:X-1\n  Scenario: s1\n    Given I am the participant\n"
        "  @plan:X-9\n  Scenario: s2\n    Given I am the participant\n"
    )
    matrix = build_matrix(load_plan(tmp_path / "plan.yaml"), [tmp_path])
    statuses = {r.item.id: r.status for r in matrix.rows}
    assert statuses == {"X-1": "automated", "X-2": "MISSING", "X-3": "manual"}
    problems = matrix.problems()
    assert any("X-2" in p for p in problems) and any("@plan:X-9" in p for p in problems)


def test_matrix_command_prints_the_table_and_fails_on_gaps(tmp_path: Path) -> None:
    result = CliRunner().invoke(command, ["--matrix"])
    assert result.exit_code == 0, result.output
    assert "W1-TUE-NOMINATE-T1" in result.output and "0 missing" in result.output
    assert "manual" in result.output and "a meeting; nothing to execute" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 180  # each scenario on a line of its own
    (tmp_path / "plan.yaml").write_text("items:\n  - {id: X-2, week: 1, day: monday, text: forgotten}\n")
    gap = CliRunner().invoke(
        command, ["--matrix", "--plan", str(tmp_path / "plan.yaml"), "--features", str(tmp_path)]
    )
    assert gap.exit_code == 1 and "PROBLEM" in gap.output


def test_bad_plan_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text("items:\n  - {id: X, week: 1, day: someday, text: t}\n")
    with pytest.raises(PlanError, match="someday"):
        load_plan(tmp_path / "plan.yaml")
    result = CliRunner().invoke(command, ["--matrix", "--plan", str(tmp_path / "plan.yaml")])
    assert result.exit_code == 1 and "someday" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("expr", "tags", "expected"),
    [
        ("@week1 and @negative", {"week1", "negative"}, True),
        ("@week1 and not @negative", {"week1", "negative"}, False),
        ("@week2 or (@week1 and @tuesday)", {"week1", "tuesday"}, True),
        ("not @readonly", set(), True),
        ("@plan:W1-TUE-NOMINATE-T1", {"plan:W1-TUE-NOMINATE-T1"}, True),
        ("week1 and not negative", {"week1"}, True),  # the @ may be left out
        ("not @week1", {"week1"}, False),
        ("@week1 or @week2", set(), False),
    ],
)
def test_tag_expressions(expr: str, tags: set[str], expected: bool) -> None:
    assert tag_filter(expr)(tags) is expected


@pytest.mark.parametrize("bad", ["@a and", "(@a or @b", "@a @b", "and @a"])
def test_bad_tag_expressions_are_refused(bad: str) -> None:
    with pytest.raises(TagExpressionError):
        tag_filter(bad)
    result = CliRunner().invoke(command, ["--tags", bad])
    assert result.exit_code == 2 and "tag expression" in result.output


def test_plan_agrees_with_the_sandbox_plan() -> None:
    from harness.sandbox.domain import plan as sandbox_plan

    plan = load_plan()
    assert set(plan.markets.values()) == {pm.name for pm in sandbox_plan.PLAN_MARKETS}
    assert plan.calendar.at(1, "monday", "00:00") == sandbox_plan.SIM_WEEK1_MONDAY


def test_bulk_upload_files_are_what_the_generator_writes() -> None:
    generator = runpy.run_path(str(DATA / "make_bulk.py"))
    for name, make in generator["FILES"].items():
        assert (DATA / name).read_text(encoding="utf-8") == make(), f"{name} differs: run make_bulk.py"
    for name, records in (
        ("nominations_500.csv", 500),
        ("nominations_501.csv", 501),
        ("auction_bids_500.csv", 500),
        ("auction_bids_501.csv", 501),
    ):
        lines = (DATA / name).read_text(encoding="utf-8").splitlines()
        assert len(lines) - 1 == records


@pytest.mark.parametrize("mode", [[], ["--matrix"]])
def test_a_malformed_feature_file_is_named_with_its_line_and_keeps_the_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: list[str]
) -> None:
    """Issue 19 item 17: a gherkin traceback, exit 3, and the previous results wiped, before."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "team.feature").write_text(
        "Feature: our own\n  Scenario: fine\n    Given the sandbox is ready\n  Scenari typo\n    When x\n"
    )
    results = tmp_path / "reports" / "scenarios"
    results.mkdir(parents=True)
    (results / "junit.xml").write_text("<testsuite name='last week'/>")
    result = CliRunner().invoke(
        command, [*mode, "--features", str(tmp_path / "f"), "--results", str(results)]
    )
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'f' / 'team.feature'}:4: Gherkin expected " in result.output, result.output
    assert "a step (Given, When, Then, And, But)" in result.output and "not 'Scenari typo'" in result.output
    assert "Traceback" not in result.output and "INTERNALERROR" not in result.output
    assert (results / "junit.xml").read_text() == "<testsuite name='last week'/>"
    assert not (tmp_path / "reports" / "scenarios.previous").exists()


def test_a_near_miss_scenario_title_gets_a_did_you_mean(tmp_path: Path) -> None:
    """Issue 19 item 20: a title one apostrophe off matched nothing and said only that."""
    import subprocess
    import sys

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "scenarios",
            "--scenario",
            "Uploading a participants nomination file through API",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 4, run.stderr[-2000:]
    assert 'Did you mean "Uploading a participant\'s nomination file through the API"' in run.stderr, (
        run.stderr
    )
