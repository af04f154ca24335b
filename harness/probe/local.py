"""Step 1: is the participant's own certificate usable, before anything touches the network?

Most failed connectivity tests are local (wrong password, expired or mismatched files, a
certificate issued for server use only); catching them here gives a precise diagnosis instead
of an opaque TLS alert later.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from harness.pki.checks import chain_problem, extended_key_usages, key_matches
from harness.pki.issue import PrivateKey
from harness.pki.loading import (
    CertificateLoadError,
    PfxPasswordError,
    load_certificate_file,
    load_key_file,
    load_pfx,
)
from harness.probe.model import Check, CheckStatus, ProbeSettings, make_check

EXPIRY_WARNING_DAYS = 30
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256


class IdentityError(Exception):
    """The certificate material cannot be loaded; ``check`` holds the diagnosis."""

    def __init__(self, check: Check) -> None:
        super().__init__(check.diagnosis)
        self.check = check


@dataclass
class Material:
    """The loaded client certificate, its key and any extra chain certificates."""

    cert: x509.Certificate
    key: PrivateKey
    chain: list[x509.Certificate] = field(default_factory=list)
    source: str = ""  # file name(s) the material came from, for messages
    key_file: Path | None = None  # the file holding the key (pfx or PEM key), for the mode check


def _load_fail(diagnosis: str, fix: str, reason: str) -> IdentityError:
    return IdentityError(
        make_check("local.load", "Certificate loads", CheckStatus.FAIL, diagnosis, fix, reason=reason)
    )


def load_material(settings: ProbeSettings) -> Material:
    """Load the identity with the PKI's loaders, turning their errors into a diagnosis."""
    password = settings.password
    try:
        if settings.pfx is not None:
            key, cert, chain = load_pfx(settings.pfx, password)
            if key is None:
                raise CertificateLoadError(f"{settings.pfx} holds no private key")
            return Material(cert, key, list(chain), settings.pfx.name, settings.pfx)
        if settings.cert is not None and settings.key is not None:
            loaded = load_certificate_file(settings.cert, password)
            key = load_key_file(settings.key, password)
            source = f"{settings.cert.name} + {settings.key.name}"
            return Material(loaded.cert, key, list(loaded.chain), source, settings.key)
    except PfxPasswordError as exc:
        if password:
            raise _load_fail(
                f"wrong password: {exc}",
                "check CRRSIM_PFX_PASSWORD: it must be the password the file was exported with",
                "wrong_password",
            ) from None
        raise _load_fail(
            str(exc), "set CRRSIM_PFX_PASSWORD (or answer the prompt)", "password_missing"
        ) from None
    except CertificateLoadError as exc:
        raise _load_fail(
            str(exc),
            "pass the .pfx CAISO issued with --pfx, or the PEM certificate with --cert and its key with --key",
            "unreadable",
        ) from None
    raise _load_fail(
        "no client certificate was given", "pass --pfx FILE, or --cert FILE and --key FILE", "missing"
    )


def summarize(cert: x509.Certificate) -> dict[str, str]:
    """Public facts about a certificate, safe to print in any report."""
    pub = cert.public_key()
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "X"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "key": describe_key(pub),
        "sha256_fingerprint": cert.fingerprint(hashes.SHA256()).hex(":").upper(),
    }


def describe_key(pub: object) -> str:
    if isinstance(pub, rsa.RSAPublicKey):
        return f"RSA {pub.key_size}"
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return f"EC {pub.curve.name}"
    if isinstance(pub, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return type(pub).__name__.removesuffix("PublicKey")
    return type(pub).__name__


def check_key_match(m: Material) -> Check:
    title = "Key matches certificate"
    if key_matches(m.cert, m.key):
        return make_check(
            "local.key_match", title, CheckStatus.PASS, "the private key belongs to the certificate"
        )
    return make_check(
        "local.key_match",
        title,
        CheckStatus.FAIL,
        "the private key does not belong to the certificate (key/cert mismatch)",
        "use the key generated together with this certificate, or the .pfx CAISO issued, which holds both",
    )


def check_validity(cert: x509.Certificate, now: datetime | None = None) -> Check:
    now = now or datetime.now(UTC)
    title = "Certificate validity period"
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    data: dict[str, Any] = {"not_before": start.isoformat(), "not_after": end.isoformat()}
    if now < start:
        return make_check(
            "local.validity",
            title,
            CheckStatus.FAIL,
            f"the certificate is not valid yet: it starts on {start:%Y-%m-%d %H:%M} UTC",
            "wait until the start date, or check this machine's clock and time zone",
            **data,
        )
    if now > end:
        return make_check(
            "local.validity",
            title,
            CheckStatus.FAIL,
            f"the certificate expired on {end:%Y-%m-%d %H:%M} UTC",
            "request a renewed certificate through your Local Security Administrator",
            **data,
        )
    days = (end - now).days
    data["days_left"] = str(days)
    if days < EXPIRY_WARNING_DAYS:
        return make_check(
            "local.validity",
            title,
            CheckStatus.WARN,
            f"the certificate expires in {days} days ({end:%Y-%m-%d})",
            "request the renewal now: CAISO certificates take time to issue",
            **data,
        )
    return make_check(
        "local.validity", title, CheckStatus.PASS, f"valid until {end:%Y-%m-%d} ({days} days left)", **data
    )


def check_key_strength(cert: x509.Certificate) -> Check:
    pub = cert.public_key()
    title = "Key strength"
    desc = describe_key(pub)
    if isinstance(pub, rsa.RSAPublicKey):
        strong = pub.key_size >= MIN_RSA_BITS
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        strong = pub.curve.key_size >= MIN_EC_BITS
    else:
        strong = isinstance(pub, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
    if strong:
        return make_check("local.key_strength", title, CheckStatus.PASS, f"{desc} key", key=desc)
    return make_check(
        "local.key_strength",
        title,
        CheckStatus.FAIL,
        f"the {desc} key is too weak (RSA needs at least {MIN_RSA_BITS} bits, EC at least P-256)",
        "request a new certificate with an RSA 2048+ or EC P-256+ key",
        key=desc,
    )


def check_client_auth(cert: x509.Certificate) -> Check:
    title = "Usable for client authentication"
    eku = extended_key_usages(cert)
    if eku is None:
        return make_check(
            "local.client_auth",
            title,
            CheckStatus.WARN,
            "the certificate has no extended key usage: most servers accept that for clients, some do not",
            "if the server refuses it, request a certificate with the clientAuth usage",
        )
    if ExtendedKeyUsageOID.CLIENT_AUTH in eku:
        return make_check("local.client_auth", title, CheckStatus.PASS, "extended key usage includes clientAuth")
    usages = ", ".join(getattr(u, "_name", u.dotted_string) for u in eku)
    return make_check(
        "local.client_auth",
        title,
        CheckStatus.FAIL,
        f"the certificate is not allowed for client authentication (its usages: {usages})",
        "request a client certificate (extended key usage clientAuth); a server certificate cannot log in",
    )


def check_issuer(m: Material) -> Check:
    """Who issued the client certificate, judged on its own: ``--ca`` is the CA that signs the
    *server*, which CAISO's client CA need not be, so it says nothing about this certificate.
    Whether the server trusts the issuer is the TLS handshake's verdict (``tls.client_cert``)."""
    title = "Client certificate issuer"
    issuer = m.cert.issuer.rfc4514_string()
    if m.cert.issuer == m.cert.subject:
        return make_check(
            "local.issuer", title, CheckStatus.WARN,
            f"the certificate is self-signed ({issuer}): a CRR environment only accepts certificates its CA issued",
            "use the certificate CAISO issued for your SC ID (the .pfx from CAISO's certificate process)",
            issuer=issuer,
        )
    cas = [c for c in m.chain if c.subject == m.cert.issuer]
    if cas:
        problem = chain_problem(m.cert, cas, m.chain)
        if problem is not None:
            return make_check(
                "local.issuer", title, CheckStatus.WARN,
                f"issued by {issuer}, but the issuer certificate in the file does not verify it: {problem}",
                "export the certificate again together with its issuing CA, or use the .pfx CAISO issued",
                issuer=issuer,
            )
        return make_check("local.issuer", title, CheckStatus.PASS,
                          f"issued by {issuer} (its issuing CA is in the file and verifies it)", issuer=issuer)
    return make_check(
        "local.issuer", title, CheckStatus.PASS,
        f"issued by {issuer}; the server judges whether it trusts that CA in the TLS handshake", issuer=issuer,
    )


def check_file_mode(path: Path | None) -> Check:
    title = "Key file permissions"
    if path is None or os.name != "posix":
        return make_check("local.file_mode", title, CheckStatus.SKIP, "not checked on this system")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return make_check(
            "local.file_mode",
            title,
            CheckStatus.WARN,
            f"{path.name} is readable by other users (mode {mode:04o})",
            f"chmod 600 {path}",
            mode=f"{mode:04o}",
        )
    return make_check(
        "local.file_mode", title, CheckStatus.PASS, f"only the owner can read {path.name}", mode=f"{mode:04o}"
    )


def run_local_checks(settings: ProbeSettings) -> tuple[list[Check], Material | None]:
    """All local checks; the material is None when it cannot be used for a handshake."""
    started = time.perf_counter()
    try:
        material = load_material(settings)
    except IdentityError as exc:
        exc.check.duration_s = time.perf_counter() - started
        return [exc.check], None
    checks = [
        make_check(
            "local.load",
            "Certificate loads",
            CheckStatus.PASS,
            f"loaded {material.source}: {material.cert.subject.rfc4514_string()}",
        ),
        check_key_match(material),
        check_validity(material.cert),
        check_key_strength(material.cert),
        check_client_auth(material.cert),
        check_issuer(material),
        check_file_mode(material.key_file),
    ]
    checks[0].duration_s = time.perf_counter() - started
    usable = not checks[1].failed
    return checks, material if usable else None
