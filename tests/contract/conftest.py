"""Contract-area fixtures: our catalogue and CAISO's, each loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.contract import Catalogue, load_catalogue


@pytest.fixture(scope="session")
def ours() -> Catalogue:
    return load_catalogue(Path(__file__).resolve().parents[2] / "harness" / "contract" / "specs")


@pytest.fixture(scope="session")
def caiso(official_specs: Path) -> Catalogue:
    return load_catalogue(official_specs)


@pytest.fixture(autouse=True)
def _private_validation_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the validated-digest cache out of the developer's home directory."""
    monkeypatch.setenv("CRRSIM_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "crrsim-cache"))


MINIMAL_SPEC = """\
openapi: 3.0.0
info:
  title: Minimal test contract
  version: "{version}"
paths:
  /status:
    get:
      operationId: getStatus
      parameters:
        - in: header
          name: caiso-request-id
          required: true
          schema: {{type: string, format: uuid}}
      responses:
        '200':
          description: fine
          content:
            application/json:
              schema:
                type: object
                properties:
                  status: {{type: string, maxLength: 2048}}
"""


def write_spec(folder: Path, name: str, text: str | None = None, version: str = "1.0.0") -> Path:
    """Write a contract file (the minimal valid one unless ``text`` is given)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text if text is not None else MINIMAL_SPEC.format(version=version), encoding="utf-8")
    return path
