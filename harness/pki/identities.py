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
