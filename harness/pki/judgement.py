"""The one judgement of a certificate as a TLS client identity.

``crrsim certs inspect`` and the connectivity probe both ask "will this certificate work as my
client identity, and if not, what do I do?". They used to answer with two sets of rules that
could disagree (an anyExtendedKeyUsage certificate passed one and failed the other); now both
render these judgements: the probe as its ``local.*`` checks, ``inspect`` as its problems.

Each judgement has a status (pass, warn, fail), a diagnosis in plain words and the likely fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from harness.pki.checks import chain_problem, extended_key_usages, key_matches
from harness.pki.issue import PrivateKey

EXPIRY_WARNING_DAYS = 30
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256

Status = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class Judgement:
    aspect: str  # validity | key_match | key_strength | client_auth | issuer | chain
    title: str
    status: Status
    diagnosis: str
    fix: str = ""
    data: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    @property
    def sentence(self) -> str:
        """The diagnosis as a sentence of its own (reports that list problems)."""
        text = self.diagnosis[:1].upper() + self.diagnosis[1:]
        return text if text.endswith(".") else text + "."


def describe_key(pub: object) -> str:
    if isinstance(pub, rsa.RSAPublicKey):
        return f"RSA {pub.key_size}"
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return f"EC {pub.curve.name}"
    if isinstance(pub, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return type(pub).__name__.removesuffix("PublicKey")
    return type(pub).__name__


def validity(cert: x509.Certificate, now: datetime | None = None) -> Judgement:
    now = now or datetime.now(UTC)
    title = "Certificate validity period"
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    data = {"not_before": start.isoformat(), "not_after": end.isoformat()}
    if now < start:
        return Judgement(
            "validity",
            title,
            "fail",
            f"the certificate is not valid yet: it is not valid until {start:%Y-%m-%d %H:%M} UTC",
            "wait until the start date, or check this machine's clock and time zone",
            data,
        )
    if now > end:
        return Judgement(
            "validity",
            title,
            "fail",
            f"the certificate expired on {end:%Y-%m-%d %H:%M} UTC",
            "request a renewed certificate through your Local Security Administrator",
            data,
        )
    days = (end - now).days
    data["days_left"] = str(days)
    if days < EXPIRY_WARNING_DAYS:
        return Judgement(
            "validity",
            title,
            "warn",
            f"the certificate expires in {days} days ({end:%Y-%m-%d})",
            "request the renewal now: CAISO certificates take time to issue",
            data,
        )
    return Judgement("validity", title, "pass", f"valid until {end:%Y-%m-%d} ({days} days left)", data=data)


def key_match(cert: x509.Certificate, key: PrivateKey, key_source: str = "the key file") -> Judgement:
    title = "Key matches certificate"
    if key_matches(cert, key):
        return Judgement("key_match", title, "pass", "the private key belongs to the certificate")
    return Judgement(
        "key_match",
        title,
        "fail",
        f"the private key from {key_source} does not belong to the certificate (key/cert mismatch)",
        "use the key generated together with this certificate, or the .pfx CAISO issued, which holds both",
    )


def key_strength(cert: x509.Certificate) -> Judgement:
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
        return Judgement("key_strength", title, "pass", f"{desc} key", data={"key": desc})
    return Judgement(
        "key_strength",
        title,
        "fail",
        f"the {desc} key is too weak (RSA needs at least {MIN_RSA_BITS} bits, EC at least P-256)",
        "request a new certificate with an RSA 2048+ or EC P-256+ key",
        {"key": desc},
    )


def client_auth(cert: x509.Certificate) -> Judgement:
    title = "Usable for client authentication"
    eku = extended_key_usages(cert)
    if eku is None:
        return Judgement(
            "client_auth",
            title,
            "warn",
            "the certificate has no extended key usage: most servers accept that for clients, some do not",
            "if the server refuses it, request a certificate with the clientAuth usage",
        )
    if ExtendedKeyUsageOID.CLIENT_AUTH in eku or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku:
        return Judgement("client_auth", title, "pass", "extended key usage includes clientAuth")
    usages = ", ".join(getattr(u, "_name", u.dotted_string) for u in eku)
    server = (
        "; it is a server certificate, which cannot log in as a client"
        if (ExtendedKeyUsageOID.SERVER_AUTH in eku)
        else ""
    )
    return Judgement(
        "client_auth",
        title,
        "fail",
        f"the certificate is not allowed for client authentication (its usages: {usages}){server}",
        "request a client certificate (extended key usage clientAuth); a server certificate cannot log in",
    )


def issuer(cert: x509.Certificate, bundled: Sequence[x509.Certificate] = ()) -> Judgement:
    """Who issued the certificate, judged on its own: whether a server trusts that issuer is the
    server's verdict in the TLS handshake (a CA file for the *server* says nothing about it)."""
    title = "Client certificate issuer"
    name = cert.issuer.rfc4514_string()
    data = {"issuer": name}
    if cert.issuer == cert.subject:
        return Judgement(
            "issuer",
            title,
            "warn",
            f"the certificate is self-signed ({name}): a CRR environment only accepts certificates its CA issued",
            "use the certificate CAISO issued for your SC ID (the .pfx from CAISO's certificate process)",
            data,
        )
    cas = [c for c in bundled if c.subject == cert.issuer]
    if cas:
        problem = chain_problem(cert, cas, bundled)
        if problem is not None:
            return Judgement(
                "issuer",
                title,
                "warn",
                f"issued by {name}, but the issuer certificate in the file does not verify it: {problem}",
                "export the certificate again together with its issuing CA, or use the .pfx CAISO issued",
                data,
            )
        return Judgement(
            "issuer",
            title,
            "pass",
            f"issued by {name} (its issuing CA is in the file and verifies it)",
            data=data,
        )
    return Judgement(
        "issuer",
        title,
        "pass",
        f"issued by {name}; the server judges whether it trusts that CA in the TLS handshake",
        data=data,
    )


def chain(
    cert: x509.Certificate,
    anchors: Sequence[x509.Certificate],
    bundled: Sequence[x509.Certificate] = (),
    ca_source: str = "the CA file",
) -> Judgement:
    """Whether ``cert`` chains to a CA the caller names (``certs inspect --ca``)."""
    problem = chain_problem(cert, anchors, bundled)
    if problem is None:
        return Judgement("chain", "Issued by the given CA", "pass", f"chains to the CA in {ca_source}")
    return Judgement(
        "chain",
        "Issued by the given CA",
        "fail",
        f"it is not issued by the CA in {ca_source}: {problem}",
        "use the certificate that CA issued, or name the right CA file",
    )


def judge_client_identity(
    cert: x509.Certificate,
    *,
    key: PrivateKey | None = None,
    key_source: str = "the key file",
    bundled: Sequence[x509.Certificate] = (),
    now: datetime | None = None,
) -> list[Judgement]:
    """Every judgement of ``cert`` as a TLS client identity, most fundamental first."""
    found = []
    if key is not None:
        found.append(key_match(cert, key, key_source))
    found += [validity(cert, now), key_strength(cert), client_auth(cert), issuer(cert, bundled)]
    return found
