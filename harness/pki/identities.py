"""The development identities crrsim issues certificates for, and what each may do.

This table is the single source for both the dev PKI (who gets a certificate) and the
sandbox's default provisioning (what each certificate may do), so the two cannot drift.
The certificate's subject CN is the identity name; the sandbox looks callers up by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Access = Literal["rw", "ro"]
Role = Literal["participant", "operator"]


@dataclass(frozen=True)
class DevIdentity:
    name: str  # certificate CN and file stem, e.g. "ecal"
    sc_ids: tuple[str, ...]  # scheduling coordinators this identity may act for
    role: Role = "participant"
    access: Access = "rw"
    # services this identity is provisioned for; empty means all ten
    services: tuple[str, ...] = field(default_factory=tuple)
    description: str = ""


DEV_IDENTITIES: tuple[DevIdentity, ...] = (
    DevIdentity("ecal", ("ECAL",), description="East California SC, full read/write"),
    DevIdentity("wcal", ("WCAL",), description="West California SC, full read/write"),
    DevIdentity("ncal", ("NCAL", "SCAL"), description="one certificate acting for two SC IDs"),
    DevIdentity("ecal-readonly", ("ECAL",), access="ro", description="ECAL provisioned read-only"),
    DevIdentity(
        "ycal-partial",
        ("YCAL",),
        services=("app_status", "market_status", "auction", "messages"),
        description="YCAL provisioned for only some services",
    ),
    DevIdentity("operator", (), role="operator", description="Market Sim operator: the control plane"),
)

# Deliberately broken client certificates for negative tests (all claim to be ECAL).
BAD_CLIENT_CERTS: tuple[str, ...] = (
    "expired",  # notAfter in the past
    "not-yet-valid",  # notBefore in the future
    "unknown-ca",  # issued by a CA the server does not trust
    "no-client-auth",  # extendedKeyUsage lacks clientAuth
)


def identity(name: str) -> DevIdentity:
    for ident in DEV_IDENTITIES:
        if ident.name == name:
            return ident
    raise KeyError(f"no dev identity {name!r}")


def dev_identity_for(sc_id: str) -> DevIdentity:
    """The dev identity that stands for ``sc_id`` wherever crrsim needs one certificate for an SC
    ID (probe, scenarios, main job, config): a participant identity acting for it, read/write
    before read-only, fully provisioned before partly. The one rule; LookupError when none."""
    wanted = sc_id.strip().upper()
    candidates = [i for i in DEV_IDENTITIES if i.role == "participant" and wanted in i.sc_ids]
    if not candidates:
        raise LookupError(f"no dev identity acts for {wanted}")
    return min(candidates, key=lambda i: (i.access != "rw", bool(i.services)))


def acts_for_dev_identity(sc_id: str) -> bool:
    """Whether any dev identity acts for ``sc_id`` (the sandbox's known participants)."""
    return any(sc_id in i.sc_ids for i in DEV_IDENTITIES)
