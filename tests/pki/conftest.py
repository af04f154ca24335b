"""Fixtures for the PKI tests: the shared session dev PKI comes from tests/conftest.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.pki import DevPKI


@pytest.fixture
def pki_copy(dev_pki: DevPKI, tmp_path: Path) -> Path:
    """A byte-identical copy of the session PKI that a test may damage (copying is far
    cheaper than generating a fresh one)."""
    target = tmp_path / "pki"
    shutil.copytree(dev_pki.directory, target)
    return target
