"""Small certificate facts shared by the dev PKI (is this file still right?) and the inspector
(explain it to a person), so both judge a certificate the same way."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from harness.pki.issue import PrivateKey

_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(cert: x509.Certificate, key: PrivateKey) -> bool:
    """Compare the public halves; works for any key type without signing anything."""
    return cert.public_key().public_bytes(*_SPKI) == key.public_key().public_bytes(*_SPKI)


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> str | None:
    """None when ``issuer`` signed ``cert`` (names match and the signature verifies), else why not."""
    try:
        cert.verify_directly_issued_by(issuer)
    except ValueError:
        return (
            f"issuer name {cert.issuer.rfc4514_string()!r} is not the CA's subject "
            f"{issuer.subject.rfc4514_string()!r}"
        )
    except InvalidSignature:
        return "issuer name matches, but the signature does not verify with this CA's key"
    except TypeError:
        return "this CA's key type cannot have signed the certificate"
    return None


def chain_problem(
    cert: x509.Certificate,
    trusted: Sequence[x509.Certificate],
    intermediates: Sequence[x509.Certificate] = (),
    *,
    max_depth: int = 5,
) -> str | None:
    """None when ``cert`` leads to one of ``trusted`` (directly, or through the given
    intermediates), else the reason from the closest attempt. A cert that is itself in
    ``trusted`` counts as trusted, so inspecting the CA against itself passes."""
    # A self-signed cert bundled in the file cannot make the chain trusted, so skip it.
    steps = [i for i in intermediates if i.subject != i.issuer]
    current: x509.Certificate | None = cert
    first_reason: str | None = None
    for _ in range(max_depth):
        assert current is not None
        if any(current == anchor for anchor in trusted):
            return None
        reasons = [issued_by(current, anchor) for anchor in trusted]
        if any(reason is None for reason in reasons):
            return None
        if first_reason is None:
            first_reason = reasons[0] if len(reasons) == 1 else "not issued by any certificate in the CA file"
        current = next((i for i in steps if i != current and issued_by(current, i) is None), None)
        if current is None:
            return first_reason
    return "chain is longer than the allowed depth"


def utc_now() -> datetime:
    return datetime.now(UTC)


def is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def extended_key_usages(cert: x509.Certificate) -> tuple[x509.ObjectIdentifier, ...] | None:
    """The EKU OIDs, or None when the extension is absent (which TLS reads as 'any purpose')."""
    try:
        return tuple(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return None


def subject_alt_names(cert: x509.Certificate) -> tuple[x509.GeneralName, ...]:
    try:
        return tuple(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        return ()
