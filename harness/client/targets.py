"""Where a run goes: the three named environments, or an explicit URL.

Names exist so nobody types production's URL by hand (and gets it subtly wrong).
Plain http is refused by default: CRR authenticates callers by their TLS client
certificate, so an http URL can never work against a real environment and usually
means a typo.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

TargetKind = Literal["sandbox", "production", "shared"]

SANDBOX_URL = "https://127.0.0.1:8443/crr"
TARGETS: dict[str, str] = {
    "mapstage": "https://mapstage-api.caiso.com/crr",
    "production": "https://api.caiso.com/crr",
}
# Production is known by its host, not by how a user spelled its URL: ``API.CAISO.COM:443``,
# ``api.caiso.com.`` (the fully qualified form), a trailing slash or ``/crr/`` all reach it.
PRODUCTION_HOSTS = frozenset({"api.caiso.com"})


def resolve_target(name_or_url: str, sandbox_url: str | None = None, *, allow_http: bool = False) -> str:
    """Turn "sandbox" | "mapstage" | "production" | an https URL into a base URL (no trailing slash)."""
    value = (name_or_url or "").strip()
    key = value.lower()
    if key == "sandbox":
        return resolve_target(sandbox_url or SANDBOX_URL, allow_http=allow_http)
    if key in TARGETS:
        return TARGETS[key]
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme == "http" and not allow_http:
        raise ValueError(
            f"Target {value!r} uses plain http; the CRR API needs https because callers are "
            "identified by their TLS client certificate."
        )
    if scheme not in ("https", "http") or not parts.hostname:
        names = ", ".join(["sandbox", *TARGETS])
        raise ValueError(f"Unknown target {value!r}: use one of {names}, or an https:// URL.")
    if parts.query or parts.fragment:
        raise ValueError(f"Target {value!r} must be a base URL without a query or fragment.")
    return value.rstrip("/")


def host_of(name_or_url: str) -> str:
    """The host a target name or URL reaches, lower case, without a port or the root dot;
    "" when the value names no host (a typo the caller's own parsing will refuse)."""
    value = (name_or_url or "").strip()
    if value.lower() in TARGETS:
        value = TARGETS[value.lower()]
    elif "://" not in value:
        value = "https://" + value  # "api.caiso.com:443/crr" typed without a scheme
    try:
        host = urlsplit(value).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


def target_kind(name_or_url: str) -> TargetKind:
    """Which rules a target gets before anything is sent to it: "sandbox" (the embedded one, by
    name), "production" (by name or by host, whatever the spelling: reads only, never load), or
    "shared" (Map-Stage and every other URL, until it proves otherwise)."""
    value = (name_or_url or "").strip().lower()
    if value == "sandbox":
        return "sandbox"
    if value == "production" or host_of(value) in PRODUCTION_HOSTS:
        return "production"
    return "shared"


def describe_target(name_or_url: str, kind: TargetKind) -> str:
    """What a run tested, in words a manager reads next to the verdict (a random-port URL alone
    does not say that nothing real was touched): ``kind`` is the judged kind (a URL that proved
    it is a crrsim sandbox is "sandbox")."""
    value = (name_or_url or "").strip().lower()
    if value == "sandbox":
        return "the embedded sandbox, a local stand-in for CAISO started for this run"
    if kind == "sandbox":
        return "a crrsim sandbox, a local stand-in for CAISO"
    if kind == "production":
        return "CAISO's production API"
    if host_of(value) == host_of(TARGETS["mapstage"]):
        return "Map-Stage, CAISO's Market Sim environment"
    return "a shared environment (not a crrsim sandbox, not Map-Stage)"
