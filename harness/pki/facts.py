"""How crrsim writes a certificate fact and where it reads a certificate's password: each
spelled once, so the probe, `crrsim certs inspect`, the client and the reports agree."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes

PFX_PASSWORD_ENV = "CRRSIM_PFX_PASSWORD"  # the pfx password of the run's own certificate
KEY_PASSWORD_ENV = "CRRSIM_KEY_PASSWORD"  # the password of an encrypted PEM key


def participant_password_env(sc: str) -> str:
    """Where a participants file's entry without ``password_env`` has its pfx password."""
    return f"{PFX_PASSWORD_ENV}_{sc}"


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 over the DER certificate as colon-separated upper-case hex: the form certificate
    tools and CAISO's onboarding show, so a participant can compare it at a glance."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()
