"""Issue 9 item 1: every scenario sets up what it needs, so any selection passes.

Each plan day alone, each README example, each scenario alone and the whole plan in a seeded
shuffled order, all as `crrsim scenarios` processes exactly as a user runs them. The selections
share one sandbox per worker through `--url` (its control plane resets it before every
scenario), so only the first start of a sandbox is paid for.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.scenarios.features import day_of, read_scenarios, week_of
from harness.scenarios.plan import default_features_dir

SCENARIOS = list(read_scenarios([default_features_dir()]))
PLAN_DAYS = sorted(
    {(week_of(s.tags), day_of(s.tags)) for s in SCENARIOS}, key=lambda wd: (wd[0] or 0, str(wd[1]))
)
README_SELECTIONS = [
    ["--tags", "@auction and not @negative"],
    ["--week", "1", "--day", "wednesday"],
    ["--week", "2", "--day", "thursday"],
]


def crrsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=600
    )


def counts(results: Path) -> tuple[int, int, int]:
    root = ET.parse(results / "junit.xml").getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    return (
        int(suite.attrib["tests"]),
        int(suite.attrib["failures"]) + int(suite.attrib["errors"]),
        int(suite.attrib["skipped"]),
    )


@pytest.fixture(scope="module")
def sandboxes(dev_pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two sandboxes, one per worker: runs sharing a sandbox must not overlap (each resets it)."""
    from harness.sandbox.launch import start_sandbox

    running = [
        start_sandbox(dev_pki.directory, tmp_path_factory.mktemp(f"alone{i}") / "crr.db") for i in range(2)
    ]
    try:
        yield [r.url for r in running]
    finally:
        for r in running:
            r.stop()


def run_selection(
    url: str, pki: Path, results: Path, selection: list[str]
) -> tuple[subprocess.CompletedProcess[str], Path]:
    run = crrsim(
        "scenarios", "--url", url, "--pki", str(pki), "--results", str(results), *selection, "--", "-q"
    )
    return run, results


def assert_passed(run: subprocess.CompletedProcess[str], results: Path, what: str) -> int:
    assert run.returncode == 0, f"{what}:\n{run.stdout[-3000:]}{run.stderr[-1500:]}"
    tests, failed, _skipped = counts(results)
    assert tests >= 1 and failed == 0, what
    return tests


@pytest.mark.slow
def test_each_plan_day_and_each_readme_example_passes_alone(sandboxes, dev_pki, tmp_path: Path) -> None:
    selections = [["--week", str(w), *(["--day", d] if d else [])] for w, d in PLAN_DAYS] + README_SELECTIONS
    assert len(PLAN_DAYS) >= 10  # connectivity, five days of week 1, four of week 2

    def one(i: int) -> tuple[list[str], subprocess.CompletedProcess[str], Path]:
        run, results = run_selection(sandboxes[i % 2], dev_pki.directory, tmp_path / f"sel{i}", selections[i])
        return selections[i], run, results

    with ThreadPoolExecutor(max_workers=2) as pool:
        # worker i%2 owns sandbox i%2: submit in pairs so two runs never share one sandbox
        for start in range(0, len(selections), 2):
            for selection, run, results in pool.map(one, range(start, min(start + 2, len(selections)))):
                assert_passed(run, results, " ".join(selection))


@pytest.mark.slow
def test_each_scenario_passes_alone(sandboxes, dev_pki, tmp_path: Path) -> None:
    names = sorted({s.name for s in SCENARIOS})
    assert len(names) >= 60
    ran = 0

    def one(i: int) -> tuple[str, subprocess.CompletedProcess[str], Path]:
        run, results = run_selection(
            sandboxes[i % 2], dev_pki.directory, tmp_path / f"s{i}", ["--scenario", names[i]]
        )
        return names[i], run, results

    with ThreadPoolExecutor(max_workers=2) as pool:
        for start in range(0, len(names), 2):
            for name, run, results in pool.map(one, range(start, min(start + 2, len(names)))):
                ran += assert_passed(run, results, f"--scenario {name!r}")
    assert ran >= 80  # outline rows included


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 20261130])
def test_the_whole_plan_passes_in_a_shuffled_order(sandboxes, dev_pki, tmp_path: Path, seed: int) -> None:
    run, results = run_selection(
        sandboxes[0], dev_pki.directory, tmp_path / "shuffled", ["--shuffle", str(seed)]
    )
    assert f"shuffled with seed {seed}" in run.stderr
    assert assert_passed(run, results, f"--shuffle {seed}") >= 80
    assert f'"shuffle_seed": {seed}' in (results / "run.json").read_text()


def test_an_empty_selection_says_so_and_keeps_the_previous_results(
    sandboxes, dev_pki, tmp_path: Path
) -> None:
    """Issue 9 item 3: each run starts from an empty folder; an empty selection replaces nothing."""
    results = tmp_path / "results"
    first = crrsim(
        "scenarios",
        "--url",
        sandboxes[0],
        "--pki",
        str(dev_pki.directory),
        "--results",
        str(results),
        "--week",
        "1",
        "--day",
        "monday",
    )  # not -q: what a newcomer sees
    assert first.returncode == 0, first.stdout[-2000:]
    # issue 19 item 20: the terminal names each scenario it ran, and the files it names exist
    assert re.search(
        r"^PASSED  Week 1 Monday[^:]*: Uploading a participant's nomination file", first.stdout, re.M
    )
    printed = re.findall(r"generated (?:xml|json) file: (\S+)", first.stdout)
    assert len(printed) == 2 and all(Path(p).is_file() for p in printed), printed
    marker = results / "allure-results" / "left-by-an-earlier-run.json"
    marker.write_text("{}")
    again, _ = run_selection(sandboxes[0], dev_pki.directory, results, ["--week", "1", "--day", "monday"])
    assert again.returncode == 0
    assert not marker.exists()  # a new run starts from an empty results folder
    before = (results / "junit.xml").read_bytes()
    empty, _ = run_selection(sandboxes[0], dev_pki.directory, results, ["--week", "2", "--day", "friday"])
    assert empty.returncode == 4, empty.stdout[-2000:] + empty.stderr[-2000:]
    assert "No scenario matches --week 2 --day friday: nothing ran" in empty.stderr
    assert (results / "junit.xml").read_bytes() == before
    assert not (tmp_path / "results.previous").exists()
