"""Repository-level pytest hooks: tell the reader of a test run what it ran against.

Fixtures live in ``tests/conftest.py`` rather than here, on purpose: the scenario runner
(``crrsim scenarios``) runs pytest-bdd from this repository too, and must not inherit crrsim's
own test fixtures (a ``sandbox`` fixture there would shadow nothing but confuse everyone).
"""

from __future__ import annotations

import pytest

from harness import __version__


def pytest_report_header(config: pytest.Config) -> list[str]:
    from harness.contract.catalogue import official_specs_dir, resolve_specs_dir

    official = official_specs_dir()
    where = str(official) if official.is_dir() else f"absent ({official}): agreement tests will skip"
    return [
        f"crrsim {__version__}; contract: {resolve_specs_dir()}",
        f"CAISO's official spec files: {where}",
    ]
