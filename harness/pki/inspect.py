"""Explain a certificate file in plain words: who it names, who vouched for it, until when,
what it may be used for, and whether it fits a given CA and key.

Most connectivity failures with mTLS come down to one of exactly these facts (expired, wrong
CA, no clientAuth, key from another cert), so the report puts them first and lists each
problem as a sentence. It never holds key material: only whether a key was present/matching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.pki import judgement
from harness.pki.checks import (
    chain_problem,
    extended_key_usages,
    is_ca,
    key_matches,
    subject_alt_names,
    utc_now,
)
from harness.pki.facts import fingerprint
from harness.pki.issue import PrivateKey
from harness.pki.judgement import Judgement
from harness.pki.loading import (
    CertificateLoadError,
    LoadedCertificate,
    PemFiles,
    PfxPasswordError,
    load_ca_bundle,
    load_certificate_file,
    load_key_file,
    load_pfx,
    pfx_as_pem_files,
)

__all__ = [
    "CertificateLoadError",
    "CertificateReport",
    "ChainCheck",
    "KeyCheck",
    "PemFiles",
    "PfxPasswordError",
    "describe",
    "inspect_certificate",
    "load_pfx",
    "pfx_as_pem_files",
]

Validity = Literal["valid", "EXPIRED", "NOT YET VALID"]

_EKU_NAMES: dict[x509.ObjectIdentifier, str] = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
}
_KEY_USAGE_FLAGS = (
    ("digital_signature", "digitalSignature"),
    ("content_commitment", "nonRepudiation"),
    ("key_encipherment", "keyEncipherment"),
    ("data_encipherment", "dataEncipherment"),
    ("key_agreement", "keyAgreement"),
    ("key_cert_sign", "keyCertSign"),
    ("crl_sign", "cRLSign"),
)


@dataclass(frozen=True)
class ChainCheck:
    ca_file: str
    trusted: bool
    detail: str


@dataclass(frozen=True)
class KeyCheck:
    key_source: str
    matches: bool


@dataclass(frozen=True)
class CertificateReport:
    source: str
    file_format: str
    subject: str
    common_name: str | None
    organization: str | None
    issuer: str
    serial_number: str
    self_signed: bool
    is_ca: bool
    sans: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    days_left: int
    validity: Validity
    key_type: str
    key_size: int | None
    signature_algorithm: str
    key_usage: tuple[str, ...]
    # None: the certificate has no EKU extension, which TLS reads as "any purpose"
    extended_key_usage: tuple[str, ...] | None
    client_auth: bool
    server_auth: bool
    sha256_fingerprint: str
    bundled_certificates: tuple[str, ...] = ()
    contains_private_key: bool = False
    chain: ChainCheck | None = None
    key_check: KeyCheck | None = None
    checked_at: datetime = field(default_factory=utc_now)
    judgements: tuple[Judgement, ...] = ()

    @property
    def problems(self) -> list[str]:
        """Each reason this certificate would fail as a TLS client identity, as a sentence
        (the same judgements the connectivity probe makes: ``harness.pki.judgement``)."""
        return [j.sentence for j in self.judgements if j.failed]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("not_before", "not_after", "checked_at"):
            data[name] = getattr(self, name).isoformat()
        for name in ("sans", "key_usage", "bundled_certificates"):
            data[name] = list(data[name])
        if self.extended_key_usage is not None:
            data["extended_key_usage"] = list(self.extended_key_usage)
        data["problems"] = self.problems
        return data

    def to_lines(self) -> list[str]:
        key = self.key_type + (f" {self.key_size} bits" if self.key_size else "")
        if self.extended_key_usage is None:
            eku = "not restricted (no extendedKeyUsage extension)"
        else:
            eku = ", ".join(self.extended_key_usage) or "(empty)"
        lines = [
            f"File:           {self.source} ({self.file_format})",
            f"Subject:        {self.subject}",
            f"Issuer:         {self.issuer}" + ("  (self-signed)" if self.self_signed else ""),
            f"Serial:         {self.serial_number}",
            f"Kind:           {'CA certificate' if self.is_ca else 'end-entity certificate'}",
            f"SANs:           {', '.join(self.sans) if self.sans else '(none)'}",
            f"Valid from:     {_stamp(self.not_before)}",
            f"Valid until:    {_stamp(self.not_after)}  ({_days_phrase(self)})",
            f"Status:         {self.validity}",
            f"Key:            {key}; signed with {self.signature_algorithm}",
            f"Key usage:      {', '.join(self.key_usage) or '(none)'}",
            f"Extended usage: {eku}",
            f"TLS client:     {'yes (clientAuth allowed)' if self.client_auth else 'NO (clientAuth not allowed)'}",
            f"TLS server:     {'yes' if self.server_auth else 'no'}",
            f"SHA-256:        {self.sha256_fingerprint}",
        ]
        if self.bundled_certificates:
            lines.append(f"Also in file:   {'; '.join(self.bundled_certificates)}")
        if self.contains_private_key:
            lines.append("Private key:    present in the file (not shown)")
        if self.chain is not None:
            verdict = "OK, issued by" if self.chain.trusted else "FAILED against"
            lines.append(
                f"Chain:          {verdict} {self.chain.ca_file}"
                + ("" if self.chain.trusted else f": {self.chain.detail}")
            )
        if self.key_check is not None:
            verdict = "matches" if self.key_check.matches else "DOES NOT match"
            lines.append(
                f"Key check:      the key from {self.key_check.key_source} {verdict} this certificate"
            )
        lines.extend(f"Problem:        {p}" for p in self.problems)
        return lines


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _days_phrase(report: CertificateReport) -> str:
    if report.validity == "EXPIRED":
        ago = -report.days_left
        return "EXPIRED today" if ago == 0 else f"EXPIRED {ago} day{'s' if ago != 1 else ''} ago"
    if report.validity == "NOT YET VALID":
        return "NOT YET VALID"
    return f"{report.days_left} days left"


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def _san_text(general_name: x509.GeneralName) -> str:
    prefix = {
        x509.DNSName: "DNS",
        x509.IPAddress: "IP",
        x509.UniformResourceIdentifier: "URI",
        x509.RFC822Name: "email",
    }.get(type(general_name), type(general_name).__name__)
    return f"{prefix}:{general_name.value}"


def _key_description(cert: x509.Certificate) -> tuple[str, int | None]:
    public = cert.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        return "RSA", public.key_size
    if isinstance(public, ec.EllipticCurvePublicKey):
        return f"EC {public.curve.name}", public.curve.key_size
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(public, ed448.Ed448PublicKey):
        return "Ed448", 448
    if isinstance(public, dsa.DSAPublicKey):
        return "DSA", public.key_size
    return type(public).__name__, None


def _key_usage(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return ()
    names = [label for attr, label in _KEY_USAGE_FLAGS if getattr(usage, attr)]
    if usage.key_agreement:  # these two are only defined together with keyAgreement
        names += [
            label
            for attr, label in (("encipher_only", "encipherOnly"), ("decipher_only", "decipherOnly"))
            if getattr(usage, attr)
        ]
    return tuple(names)


def describe(
    loaded: LoadedCertificate,
    *,
    ca_certs: Sequence[x509.Certificate] | None = None,
    ca_source: str | None = None,
    key: PrivateKey | None = None,
    key_source: str | None = None,
    now: datetime | None = None,
) -> CertificateReport:
    """Build the report from already-loaded objects (the CLI and tests share this)."""
    cert = loaded.cert
    moment = now or utc_now()
    if moment < cert.not_valid_before_utc:
        validity: Validity = "NOT YET VALID"
    elif moment > cert.not_valid_after_utc:
        validity = "EXPIRED"
    else:
        validity = "valid"
    ekus = extended_key_usages(cert)
    any_purpose = ekus is None or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in ekus
    key_type, key_size = _key_description(cert)
    chain = None
    if ca_certs is not None:
        problem = chain_problem(cert, ca_certs, loaded.chain)
        chain = ChainCheck(
            ca_source or "the CA file", problem is None, problem or "issuer and signature verified"
        )
    if key is None and loaded.key is not None:
        key, key_source = loaded.key, "the same file"
    key_check = KeyCheck(key_source or "the key file", key_matches(cert, key)) if key is not None else None
    judged = [judgement.validity(cert, moment)]
    if not is_ca(cert):  # a CA certificate is not meant to log in
        judged.append(judgement.client_auth(cert))
    if ca_certs is not None:
        judged.append(judgement.chain(cert, ca_certs, loaded.chain, ca_source or "the CA file"))
    if key is not None:
        judged.append(judgement.key_match(cert, key, key_source or "the key file"))
    judged.append(judgement.key_strength(cert))
    return CertificateReport(
        source=str(loaded.path),
        file_format=loaded.format,
        subject=cert.subject.rfc4514_string(),
        common_name=_attr(cert.subject, NameOID.COMMON_NAME),
        organization=_attr(cert.subject, NameOID.ORGANIZATION_NAME),
        issuer=cert.issuer.rfc4514_string(),
        serial_number=format(cert.serial_number, "X"),
        self_signed=cert.subject == cert.issuer,
        is_ca=is_ca(cert),
        sans=tuple(_san_text(n) for n in subject_alt_names(cert)),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        # whole days, truncated toward zero: expired 1.5 days ago -> -1, not -2
        days_left=int((cert.not_valid_after_utc - moment).total_seconds() / 86400),
        validity=validity,
        key_type=key_type,
        key_size=key_size,
        signature_algorithm=cert.signature_hash_algorithm.name
        if cert.signature_hash_algorithm
        else "unknown",
        key_usage=_key_usage(cert),
        extended_key_usage=None if ekus is None else tuple(_EKU_NAMES.get(o, o.dotted_string) for o in ekus),
        client_auth=any_purpose or ExtendedKeyUsageOID.CLIENT_AUTH in (ekus or ()),
        server_auth=any_purpose or ExtendedKeyUsageOID.SERVER_AUTH in (ekus or ()),
        sha256_fingerprint=fingerprint(cert),
        bundled_certificates=tuple(c.subject.rfc4514_string() for c in loaded.chain),
        contains_private_key=loaded.key is not None,
        chain=chain,
        key_check=key_check,
        checked_at=moment,
        judgements=tuple(judged),
    )


def inspect_certificate(
    path: Path,
    *,
    password: str | bytes | None = None,
    ca: Path | None = None,
    key: Path | None = None,
    now: datetime | None = None,
) -> CertificateReport:
    """Load ``path`` (PEM with optional key, DER or pfx) and report on it; ``password`` opens a
    pfx or an encrypted key, ``ca`` adds a chain check, ``key`` a key-match check."""
    loaded = load_certificate_file(Path(path), password)
    ca_certs = load_ca_bundle(Path(ca)) if ca is not None else None
    private = load_key_file(Path(key), password) if key is not None else None
    return describe(
        loaded,
        ca_certs=ca_certs,
        ca_source=str(ca) if ca is not None else None,
        key=private,
        key_source=str(key) if key is not None else None,
        now=now,
    )
