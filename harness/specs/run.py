"""The specs tools as runs: each emits its start and its report, as every runner does, so
``crrsim specs lint|diff|history`` show progress and write ``--events`` like the others."""

from __future__ import annotations

import time
from pathlib import Path

from harness.events import Emit, RunFinished, Runner, RunStarted, ignore
from harness.reports.model import RunReport
from harness.specs.diff import DiffResult, diff_paths, diff_report
from harness.specs.history import VersionAudit, audit_paths, history_report
from harness.specs.lint import LintResult, lint_paths, lint_report


class NoContractFiles(ValueError):
    """Nothing to work on: the paths hold no YAML contract file (a usage error, never a pass)."""


def _where(paths: list[Path]) -> str:
    return ", ".join(str(p) for p in paths)


def run_lint(paths: list[Path], emit: Emit = ignore) -> tuple[LintResult, RunReport]:
    clock = time.monotonic()
    result = lint_paths(paths, emit)
    if not result.files:
        raise NoContractFiles(f"no YAML contract files in {_where(paths)}")
    report = lint_report(result, ", ".join(str(p) for p in paths))
    emit(RunFinished(report=report, seconds=time.monotonic() - clock))
    return result, report


def run_diff(old: Path, new: Path, emit: Emit = ignore) -> tuple[dict[str, DiffResult], RunReport]:
    clock = time.monotonic()
    emit(RunStarted(runner=Runner.SPECS, title="specs diff", target=f"{old} -> {new}"))
    results = diff_paths(old, new)
    if not results:
        raise NoContractFiles(f"no contract files in {old} and {new}")
    report = diff_report(results, f"{old} -> {new}")
    emit(RunFinished(report=report, seconds=time.monotonic() - clock))
    return results, report


def run_history(paths: list[Path], emit: Emit = ignore) -> tuple[dict[str, list[VersionAudit]], RunReport]:
    clock = time.monotonic()
    emit(RunStarted(runner=Runner.SPECS, title="specs history", target=", ".join(str(p) for p in paths)))
    audits = audit_paths(paths)
    if not audits:
        raise NoContractFiles(f"no YAML contract files in {_where(paths)}")
    report = history_report(audits, ", ".join(str(p) for p in paths))
    emit(RunFinished(report=report, seconds=time.monotonic() - clock))
    return audits, report
