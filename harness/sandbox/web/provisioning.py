"""Who may call the sandbox: certificate CN -> SC IDs, access (rw|ro), services, role.

The default comes from ``harness.pki.identities.DEV_IDENTITIES`` (the same table the dev PKI
issues certificates from, so the two cannot drift). ``--provisioning FILE`` replaces it with
a YAML mapping, e.g.::

    ecal:      {sc_ids: [ECAL], access: rw}
    partner-x: {sc_ids: [XCAL, ZCAL], access: ro, services: [market_status, market_data]}
    operator:  {role: operator}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.sandbox.services.request import Caller

OPERATOR = "operator"


class ProvisioningError(ValueError):
    """A provisioning file that cannot be used (message says which entry and why)."""


def default_provisioning() -> dict[str, Caller]:
    from harness.pki.identities import DEV_IDENTITIES

    return {
        i.name: Caller(
            name=i.name,
            sc_ids=frozenset(i.sc_ids),
            access=i.access,
            services=frozenset(i.services),
            operator=i.role == OPERATOR,
        )
        for i in DEV_IDENTITIES
    }


def _caller(name: str, entry: Any) -> Caller:
    if entry is None:
        entry = {}
    if not isinstance(entry, dict):
        raise ProvisioningError(f"{name}: expected a mapping with sc_ids/access/services/role")
    unknown = set(entry) - {"sc_ids", "access", "services", "role"}
    if unknown:
        raise ProvisioningError(f"{name}: unknown keys {sorted(unknown)}")
    access = entry.get("access", "rw")
    if access not in ("rw", "ro"):
        raise ProvisioningError(f"{name}: access must be rw or ro, not {access!r}")
    role = entry.get("role", "participant")
    if role not in ("participant", OPERATOR):
        raise ProvisioningError(f"{name}: role must be participant or operator, not {role!r}")
    sc_ids, services = entry.get("sc_ids") or [], entry.get("services") or []
    if not isinstance(sc_ids, list) or not isinstance(services, list):
        raise ProvisioningError(f"{name}: sc_ids and services must be lists")
    return Caller(
        name=str(name),
        sc_ids=frozenset(str(s) for s in sc_ids),
        access=access,
        services=frozenset(str(s) for s in services),
        operator=role == OPERATOR,
    )


def load_provisioning(path: str | Path | None = None) -> dict[str, Caller]:
    """The provisioning table: the file's if given, else the dev identities'."""
    if path is None:
        return default_provisioning()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProvisioningError(f"cannot read provisioning file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ProvisioningError(f"{path}: expected a mapping of certificate CN -> entry")
    return {str(name): _caller(str(name), entry) for name, entry in data.items()}
