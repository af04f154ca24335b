"""``crrsim specs list`` / ``crrsim specs check`` through click and through the real entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import cli
from harness.contract import SERVICE_NAMES
from tests.contract.conftest import MINIMAL_SPEC, write_spec


def _run(*args: str, env: dict[str, str] | None = None):  # noqa: ANN202 - click Result
    return CliRunner().invoke(cli, ["specs", *args], env=env, catch_exceptions=False)


def test_list_shows_every_service_of_our_contract() -> None:
    result = _run("list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("SERVICE"))
    assert lines[header].split() == ["SERVICE", "VERSION", "OPERATIONS", "FILE"]
    rows = {line.split()[0]: line.split() for line in lines[header + 1 : header + 11]}
    assert sorted(rows) == sorted(SERVICE_NAMES)
    assert rows["auction"][1:] == ["1.2.1", "8", "caiso_crr_auction_v1.2.1.yaml"]
    assert "10 services, 69 operations" in result.output
    assert "operationId 'get-status' is not an identifier" in result.output.split("warning(s):")[1]


def test_list_reports_missing_services_and_honours_env(tmp_path: Path) -> None:
    write_spec(tmp_path, "caiso_crr_messages_v1.2.1.yaml", version="1.2.1")
    result = _run("list", env={"CRRSIM_SPECS": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert "caiso_crr_messages_v1.2.1.yaml" in result.output
    assert "no contract file for service auction" in result.output


def test_check_passes_on_our_contract() -> None:
    result = _run("check")
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("are valid OpenAPI 3.0")


@pytest.mark.parametrize("command", ["list", "check"])
def test_broken_file_is_a_clean_error(tmp_path: Path, command: str) -> None:
    write_spec(
        tmp_path,
        "caiso_crr_auction_v1.0.0.yaml",
        MINIMAL_SPEC.format(version="1").replace("in: header", "in: body"),
    )
    result = CliRunner().invoke(cli, ["specs", command, "--specs", str(tmp_path)])
    assert result.exit_code == 1
    assert "Error: caiso_crr_auction_v1.0.0.yaml: not a valid OpenAPI 3.0 document" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.official_specs
def test_check_against_caiso_reports_only_known_deviations(official_specs: Path) -> None:
    result = _run("check", "--against", str(official_specs))
    assert result.exit_code == 0, result.output
    assert "known deviation: nomination POST /nomination/v1.0/portfolioSubmission" in result.output
    assert "differs:" not in result.output


def test_check_against_a_different_contract_fails(tmp_path: Path) -> None:
    ours = tmp_path / "ours"
    theirs = tmp_path / "theirs"
    write_spec(ours, "caiso_crr_messages_v1.0.0.yaml")
    write_spec(
        theirs, "caiso_crr_messages_v1.0.0.yaml", MINIMAL_SPEC.format(version="1.0.0").replace("2048", "64")
    )
    result = CliRunner().invoke(cli, ["specs", "check", "--specs", str(ours), "--against", str(theirs)])
    assert result.exit_code == 1
    # each side is named after its folder (issue 9 item 10), not "ours"/"CAISO" whatever was given
    assert (
        "differs: messages GET /status response 200.properties.status.maxLength: ours 2048, theirs 64"
        in result.output
    )


@pytest.mark.official_specs
@pytest.mark.parametrize("readme_order", [True, False])
def test_check_names_each_side_and_passes_known_deviations_both_ways(
    official_specs: Path, readme_order: bool
) -> None:
    """Issue 9 item 10: the README runs `--specs CAISO --against ours`; both orders pass with the
    two known deviations reported as such, and every label names the folder it belongs to."""
    from harness.contract.catalogue import default_specs_dir

    first, second = (
        (official_specs, default_specs_dir()) if readme_order else (default_specs_dir(), official_specs)
    )
    result = _run("check", "--specs", str(first), "--against", str(second))
    assert result.exit_code == 0, result.output
    known = [line for line in result.output.splitlines() if line.startswith("known deviation:")]
    assert any("portfolioSubmission requestBody.required" in line for line in known), result.output
    assert any("onversionApprovalWindow" in line for line in known), result.output
    assert "differs:" not in result.output
    official_label = official_specs.resolve().name
    nomination = next(line for line in known if "portfolioSubmission requestBody.required" in line)
    caiso_part = nomination.split(f"{official_label} ")[1]
    crrsim_part = nomination.split("crrsim ")[1]
    assert caiso_part.startswith("['market', ") and crrsim_part.startswith("['marketName', ")
    assert f"comparing {'caiso' if readme_order else 'crrsim'}" in result.output.replace(
        official_label, "caiso"
    )


def test_real_entry_point_lists_specs(tmp_path: Path) -> None:
    env = {**os.environ, "CRRSIM_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "harness", "specs", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "69 operations" in done.stdout
