"""Fixtures for the CLI config tests: a clean working folder with no CRRSIM_* settings leaking in."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from harness.cli import cli


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working directory (where ./crrsim.yaml is looked for), CRRSIM_* cleared."""
    for name in list(os.environ):
        if name.startswith("CRRSIM_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def crrsim(workdir: Path) -> Callable[..., Result]:
    """``crrsim("specs", "list", env={...})`` through click's CliRunner in ``workdir``."""

    def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), env=env)

    return invoke
