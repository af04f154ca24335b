"""Where a run goes: the three named environments, or an explicit URL.

Names exist so nobody types production's URL by hand (and gets it subtly wrong).
Plain http is refused by default: CRR authenticates callers by their TLS client
certificate, so an http URL can never work against a real environment and usually
means a typo.
"""

from __future__ import annotations

from urllib.parse import urlsplit

SANDBOX_URL = "https://127.0.0.1:8443/crr"
TARGETS: dict[str, str] = {
    "mapstage": "https://mapstage-api.caiso.com/crr",
    "production": "https://api.caiso.com/crr",
}


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
