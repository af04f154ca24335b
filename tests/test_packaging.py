"""Issue 9 item 15: a plain, non-editable install runs the plan from any folder.

The wheel is built from this checkout and installed into a fresh venv that sees the current
environment's packages (``--system-site-packages`` of the test interpreter's venv would not
carry them; the venv is made with the test venv's site-packages on a .pth instead), so no
package index is needed. Then `crrsim scenarios --steps`, `crrsim scenarios` and
`crrsim marketsim` run from an empty folder with no source tree in reach.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_package_list_matches_the_harness_tree() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "harness").rglob("__init__.py")}
    data = {
        ".".join(p.relative_to(ROOT).parts)
        for p in (ROOT / "harness").rglob("*")
        if p.is_dir()
        and p.name != "__pycache__"
        and not any(p.glob("*.py"))
        and any(f.is_file() for f in p.iterdir())
    }
    assert {p for p in listed if not p.startswith("harness._plan")} == found | data


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = tmp_path_factory.mktemp("wheel")
    # built from a copy: setuptools builds in-tree (build/, *.egg-info), so two test workers building
    # from the checkout at once collide, and the checkout would collect build/ leftovers
    source = tmp_path_factory.mktemp("source") / "crrsim"
    top_level = {".git", ".venv", "build", "reports", "certs", "bench", "crrsim.egg-info", ".hypothesis"}

    def generated(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n.endswith("_cache") or n == "__pycache__"}
        return skip | (top_level & set(names) if Path(folder) == ROOT else set())

    shutil.copytree(ROOT, source, ignore=generated)
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-v",
            "-w",
            str(wheels),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    # issue 19 item 20: a newcomer's first install printed ~60 lines of setuptools warnings
    said = built.stdout + built.stderr
    assert "BuildBackendWarning" not in said and "SetuptoolsDeprecationWarning" not in said, said[-3000:]
    env_dir = tmp_path_factory.mktemp("venv")
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    # the dependencies come from the test environment (no index needed), crrsim itself from the wheel
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    Path(purelib, "test-deps.pth").write_text("\n".join(deps) + "\n")
    wheel = next(wheels.glob("crrsim-*.whl"))
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", purelib, str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return python


def run_installed(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRRSIM_") and k != "PYTHONPATH"}
    return subprocess.run(
        [str(python), "-m", "harness", *args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env
    )


def test_the_installed_package_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = run_installed(installed, tmp_path, "--version")
    assert where.returncode == 0, where.stderr
    located = subprocess.run(
        [str(installed), "-c", "import harness, scenarios; print(harness.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert located.returncode != 0 or str(ROOT) not in located.stdout  # `scenarios` is not importable as is
    found = subprocess.run(
        [str(installed), "-c", "import harness; print(harness.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in found


def test_steps_and_the_whole_plan_run_from_any_folder(installed: Path, tmp_path: Path, dev_pki) -> None:
    steps = run_installed(installed, tmp_path, "scenarios", "--steps")
    assert steps.returncode == 0, steps.stderr[-2000:]
    assert len(re.findall(r"^\[(given|when|then)\] ", steps.stdout, re.M)) >= 50
    assert re.search(r"^\d+ steps$", steps.stdout, re.M)
    plan = run_installed(
        installed,
        tmp_path,
        "scenarios",
        "--pki",
        str(dev_pki.directory),
        "--week",
        "1",
        "--day",
        "wednesday",
        "--",
        "-q",
    )
    assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-2000:]
    assert (tmp_path / "reports" / "scenarios" / "junit.xml").is_file()
    assert "_plan/scenarios/collect.py" in plan.stdout + plan.stderr or " passed" in plan.stdout


def test_marketsim_runs_from_any_folder(installed: Path, tmp_path: Path, dev_pki) -> None:
    # the load from the wheel has its own test below, and the fuzz needs only the contract the probe reads too
    job = run_installed(
        installed,
        tmp_path,
        "marketsim",
        "--pki",
        str(dev_pki.directory),
        "--skip",
        "fuzz,load",
        "--",
        "-q",
        "-k",
        "connectivity",
    )
    assert job.returncode == 0, job.stdout[-3000:] + job.stderr[-2000:]
    index = (tmp_path / "reports" / "index.html").read_text()
    assert "Structured plan, week by day" in index  # the wheel carries the plan file too
    assert (tmp_path / "reports" / "marketsim" / "scenarios.html").is_file()


def test_a_teams_own_features_still_run_with_the_installed_steps(
    installed: Path, tmp_path: Path, dev_pki
) -> None:
    folder = tmp_path / "ours"
    folder.mkdir()
    (folder / "mine.feature").write_text(
        "@week1 @monday\nFeature: Our own\n  Scenario: The clock moves\n"
        "    Given the Market Sim plan is set up\n    And it is Monday 10:00 of week 1\n"
        '    Then the market "ALLOC_MN_2026_M03_T1" has status "OPEN"\n'
    )
    run = run_installed(
        installed,
        tmp_path,
        "scenarios",
        "--pki",
        str(dev_pki.directory),
        "--features",
        str(folder),
        "--",
        "-q",
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 passed" in run.stdout


def test_load_runs_from_any_folder(installed: Path, tmp_path: Path, dev_pki) -> None:
    """The wheel carries the locustfile, the profiles and the default SLOs (harness/_plan/load)."""
    (tmp_path / "loose.yaml").write_text("slos:\n  - {name: anything, operation: '*', error_rate: 0.5}\n")
    run = run_installed(
        installed,
        tmp_path,
        "load",
        "--pki",
        str(dev_pki.directory),
        "--profile",
        "window-close",
        "--arrival-rate",
        "5",
        "--users",
        "5",
        "--run-time",
        "4s",
        "--slo",
        "loose.yaml",
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert list(tmp_path.glob("reports/load/*/results.json")) and list(
        tmp_path.glob("reports/load/*/locust.html")
    )
