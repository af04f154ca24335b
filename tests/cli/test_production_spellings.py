"""Production is recognised by its host, however its URL is spelled (issue 18, item 1), and gets
production's rules in every command: reads only, no load. Nothing leaves the machine: every
socket connect is refused by the test, so a command that tried to reach production would fail
with that instead of the sentence checked here."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from harness.client.targets import host_of, target_kind
from harness.config import load_config
from harness.contract import load_catalogue
from harness.fuzz.safety import select_operations
from harness.fuzz.settings import FuzzSettings

SPELLINGS = (
    "production",
    "PRODUCTION",
    "https://api.caiso.com/crr",
    "https://API.CAISO.COM:443/crr",
    "https://api.caiso.com/crr/",
    "https://api.caiso.com/",
    "https://api.caiso.com.:443/crr",
    "https://someone@Api.Caiso.Com/crr",
)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every attempt to open a connection is recorded and refused."""
    tried: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        tried.append(address)
        raise OSError("this test allows no connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return tried


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_is_production(spelling: str) -> None:
    assert target_kind(spelling) == "production"


@pytest.mark.parametrize(
    "other",
    [
        "mapstage",
        "https://mapstage-api.caiso.com/crr",
        "https://api.caiso.com.evil/crr",
        "https://notapi.caiso.com/crr",
        "https://127.0.0.1:8443/crr",
    ],
)
def test_other_hosts_are_not_production(other: str) -> None:
    assert target_kind(other) == "shared" and host_of(other) != "api.caiso.com"


def _args(spelling: str) -> list[str]:
    return ["--env", spelling] if "://" not in spelling else ["--url", spelling]


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize(
    ("command", "flags"),
    [
        (("fuzz",), ["--allow-writes"]),
        (("load",), ["--allow-load"]),
        (("load",), []),
        (("scenarios",), ["--allow-writes"]),
        (("marketsim",), ["--allow-load"]),
        (("marketsim",), ["--allow-writes"]),
    ],
)
def test_no_command_writes_to_or_loads_production(
    crrsim: Callable[..., Result],
    offline: list[object],
    workdir: Path,
    spelling: str,
    command: tuple[str, ...],
    flags: list[str],
) -> None:
    (workdir / "ecal.pfx").write_bytes(b"not read: the command stops first")
    result = crrsim(
        *command,
        *_args(spelling),
        "--participant",
        "ECAL",
        "--pfx",
        "ecal.pfx",
        *flags,
        env={"CRRSIM_PFX_PASSWORD": "unused"},
    )
    assert result.exit_code == 2, result.output
    assert "production" in result.output, result.output
    assert offline == [], offline  # refused before anything was sent


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_a_fuzz_of_production_selects_read_operations_only(
    offline: list[object], workdir: Path, spelling: str
) -> None:
    cfg = load_config(None, overrides={"target": spelling})
    settings = FuzzSettings.from_config(cfg)
    catalogue = load_catalogue(None)
    chosen = select_operations(catalogue, settings)
    writes = {op.operation_id for s in catalogue for op in s.operations if op.writes}
    picked = {op for ops in chosen.allowed.values() for op in ops}
    assert settings.target_kind == "production" and picked and not picked & writes
    assert settings.rate == 2.0 and settings.max_requests == 2000 and settings.stop_on_5xx
    assert chosen.writes_note.startswith("none: production")
    assert offline == []
