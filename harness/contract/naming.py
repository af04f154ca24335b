"""CAISO's contract file naming: ``caiso_crr_<service>_v<MAJOR>.<MINOR>.<MINI>[_openapi].yaml``.

Both spellings are in the wild (the deck shows ``..._v1.0.0_openapi.yaml``, the developer
site ``..._v1.2.1.yaml``); we accept both so users can drop downloaded files in unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# The ten CRR B2B services, as spelled in CAISO's file names.
SERVICE_NAMES: tuple[str, ...] = (
    "app_status",
    "auction",
    "historical_forecasted_load",
    "load_migration",
    "market_data",
    "market_status",
    "messages",
    "nomination",
    "secondary_market",
    "tor_conversion",
)

_NAME = re.compile(
    r"^caiso_crr_(?P<service>[a-z0-9_]+?)_v(?P<major>\d+)\.(?P<minor>\d+)\.(?P<mini>\d+)(?:_openapi)?\.ya?ml$"
)


@dataclass(frozen=True, order=True)
class SpecVersion:
    major: int
    minor: int
    mini: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.mini}"


@dataclass(frozen=True)
class SpecFileName:
    service: str
    version: SpecVersion
    path: Path


def parse_spec_filename(path: Path) -> SpecFileName | None:
    """Return the service and version a file name declares, or None if it is not a CRR contract."""
    m = _NAME.match(path.name)
    if not m:
        return None
    version = SpecVersion(int(m["major"]), int(m["minor"]), int(m["mini"]))
    return SpecFileName(service=m["service"], version=version, path=path)
