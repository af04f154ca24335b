"""Make CAs and issue server/client certificates with `cryptography` only.

Everything here is keyword-only and takes explicit validity windows, usages, SANs and key
types, because the negative tests and the probe's fault matrix need certificates that are
wrong in exactly one way (expired, wrong EKU, foreign CA, ...). The dev PKI is just one
caller of these functions.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, TypedDict, Unpack

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
KeyType = Literal["rsa", "ec"]
Curve = Literal["P-256", "P-384"]

DEFAULT_ORGANIZATION = "CAISO Market Sim"
# Back-dating absorbs small clock differences between the machine that issues and the one
# that verifies; without it a fresh certificate can look "not yet valid" for a few seconds.
BACKDATE = timedelta(minutes=5)
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH

_CURVES: dict[str, type[ec.EllipticCurve]] = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1}


@dataclass(frozen=True)
class KeySpec:
    """Which key to generate. RSA 2048 is the default: fast to make and accepted everywhere."""

    key_type: KeyType = "rsa"
    rsa_bits: int = 2048
    curve: Curve = "P-256"

    def generate(self) -> PrivateKey:
        if self.key_type == "rsa":
            if self.rsa_bits < 2048:
                raise ValueError(f"RSA keys shorter than 2048 bits are refused (asked for {self.rsa_bits})")
            return rsa.generate_private_key(public_exponent=65537, key_size=self.rsa_bits)
        if self.key_type == "ec":
            if self.curve not in _CURVES:
                raise ValueError(f"unsupported EC curve {self.curve!r}; use one of {sorted(_CURVES)}")
            return ec.generate_private_key(_CURVES[self.curve]())
        raise ValueError(f"unsupported key type {self.key_type!r}; use 'rsa' or 'ec'")


RSA_2048 = KeySpec()
EC_P256 = KeySpec("ec", curve="P-256")
EC_P384 = KeySpec("ec", curve="P-384")


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, kept together because nearly every caller needs both."""

    cert: x509.Certificate
    key: PrivateKey


def parse_san(value: str | x509.GeneralName) -> x509.GeneralName:
    """'127.0.0.1' / '::1' -> IP SAN, 'uri:...' -> URI SAN, 'email:...' -> RFC822, else DNS."""
    if isinstance(value, x509.GeneralName):
        return value
    text = value.strip()
    lowered = text.lower()
    for prefix in ("ip:", "dns:", "uri:", "email:"):
        if lowered.startswith(prefix):
            body = text[len(prefix) :]
            if prefix == "ip:":
                return x509.IPAddress(ipaddress.ip_address(body))
            if prefix == "dns:":
                return x509.DNSName(body)
            if prefix == "uri:":
                return x509.UniformResourceIdentifier(body)
            return x509.RFC822Name(body)
    try:
        return x509.IPAddress(ipaddress.ip_address(text))
    except ValueError:
        return x509.DNSName(text)


def make_name(
    common_name: str, organization: str | None, organizational_unit: str | None = None
) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if organizational_unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, organizational_unit))
    return x509.Name(attrs)


def _window(not_before: datetime | None, not_after: datetime | None, days: int) -> tuple[datetime, datetime]:
    start = not_before if not_before is not None else datetime.now(UTC) - BACKDATE
    end = not_after if not_after is not None else start + timedelta(days=days)
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("not_before/not_after must be timezone-aware (use datetime.now(UTC))")
    if end <= start:
        raise ValueError(f"not_after ({end.isoformat()}) must be later than not_before ({start.isoformat()})")
    return start, end


def _leaf_key_usage(key: PrivateKey) -> x509.KeyUsage:
    # RSA key exchange needs keyEncipherment; ECDHE with EC keys needs only digitalSignature.
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=isinstance(key, rsa.RSAPrivateKey),
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def make_ca(
    *,
    common_name: str = "crrsim dev CA",
    organization: str | None = DEFAULT_ORGANIZATION,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = 3650,
    key_spec: KeySpec = RSA_2048,
    private_key: PrivateKey | None = None,
) -> Issued:
    """A self-signed root that may sign end-entity certificates only (pathLen 0)."""
    key = private_key or key_spec.generate()
    start, end = _window(not_before, not_after, days)
    name = make_name(common_name, organization)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def issue_certificate(
    *,
    ca: Issued,
    subject: x509.Name,
    extended_key_usages: Sequence[x509.ObjectIdentifier] = (),
    sans: Iterable[str | x509.GeneralName] = (),
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    days: int = 397,
    key_spec: KeySpec = RSA_2048,
    private_key: PrivateKey | None = None,
) -> Issued:
    """The one place end-entity certificates are built; server/client helpers only pick defaults.

    An empty ``extended_key_usages`` leaves the EKU extension out entirely (which TLS stacks
    read as "any purpose"), so callers can test that case too.
    """
    key = private_key or key_spec.generate()
    start, end = _window(not_before, not_after, days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_key_usage(key), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if extended_key_usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(extended_key_usages)), critical=False)
    general_names = [parse_san(s) for s in sans]
    if general_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(general_names), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


class LeafOptions(TypedDict, total=False):
    """Validity window and key of an end-entity certificate. Declared once so the server and
    client helpers pass them on to ``issue_certificate`` untouched (its defaults apply):
    a new option is added here, not in every helper."""

    not_before: datetime | None
    not_after: datetime | None
    days: int
    key_spec: KeySpec
    private_key: PrivateKey | None


def issue_server_cert(
    *,
    ca: Issued,
    common_name: str = "localhost",
    sans: Iterable[str | x509.GeneralName] = ("localhost", "127.0.0.1"),
    organization: str | None = DEFAULT_ORGANIZATION,
    extended_key_usages: Sequence[x509.ObjectIdentifier] = (SERVER_AUTH,),
    **options: Unpack[LeafOptions],
) -> Issued:
    """A TLS server certificate; clients check the SANs, never the CN, so SANs are the default."""
    return issue_certificate(
        ca=ca,
        subject=make_name(common_name, organization),
        extended_key_usages=extended_key_usages,
        sans=sans,
        **options,
    )


def client_subject(name: str, sc_ids: Sequence[str] = ()) -> x509.Name:
    """CN = identity name (the sandbox looks callers up by it), O = first SC ID."""
    return make_name(name, sc_ids[0] if sc_ids else DEFAULT_ORGANIZATION)


def issue_client_cert(
    *,
    ca: Issued,
    name: str,
    sc_ids: Sequence[str] = (),
    extended_key_usages: Sequence[x509.ObjectIdentifier] = (CLIENT_AUTH,),
    sans: Iterable[str | x509.GeneralName] = (),
    **options: Unpack[LeafOptions],
) -> Issued:
    """A TLS client certificate for one identity (see ``client_subject``)."""
    return issue_certificate(
        ca=ca,
        subject=client_subject(name, sc_ids),
        extended_key_usages=extended_key_usages,
        sans=sans,
        **options,
    )


# --- writing -------------------------------------------------------------------------------


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Write via a temp file + rename so a crash or a concurrent reader never sees half a key,
    and create it with its final mode so a key is never briefly world-readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        # mkstemp creates the file 0600, so a key is private from its first byte.
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: PrivateKey) -> bytes:
    """Unencrypted PKCS#8: schemathesis/httpx/locust need a key they can read without a prompt."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_cert_pem(path: Path, *certs: x509.Certificate) -> Path:
    """Certificates are public: 0644. Several certs make a bundle (leaf first)."""
    _atomic_write(path, b"".join(cert_pem(c) for c in certs), 0o644)
    return path


def write_key_pem(path: Path, key: PrivateKey) -> Path:
    _atomic_write(path, key_pem(key), 0o600)
    return path


def write_pair(stem: Path, issued: Issued) -> tuple[Path, Path]:
    """(stem.pem, stem.key): the one file layout of a certificate and its key, shared by the
    dev PKI and the test PKIs. The key goes first, so a crash in between leaves a pair that
    ``ensure_dev_pki`` sees does not match and re-makes."""
    key = write_key_pem(stem.with_suffix(".key"), issued.key)
    return write_cert_pem(stem.with_suffix(".pem"), issued.cert), key


def write_password_file(path: Path, password: str) -> Path:
    _atomic_write(path, password.encode() + b"\n", 0o600)
    return path


def pfx_bytes(
    *,
    key: PrivateKey,
    cert: x509.Certificate,
    ca_certs: Sequence[x509.Certificate] = (),
    password: str,
    friendly_name: str | None = None,
) -> bytes:
    """PKCS#12 with AES-256/PBKDF2 (what current OpenSSL, Java and Windows all open)."""
    if not password:
        raise ValueError("a PKCS#12 file needs a non-empty password")
    return pkcs12.serialize_key_and_certificates(
        name=(friendly_name or _common_name(cert) or "crrsim").encode(),
        key=key,
        cert=cert,
        cas=list(ca_certs) or None,
        encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
    )


def write_pfx(
    path: Path,
    *,
    key: PrivateKey,
    cert: x509.Certificate,
    ca_certs: Sequence[x509.Certificate] = (),
    password: str,
    friendly_name: str | None = None,
) -> Path:
    data = pfx_bytes(key=key, cert=cert, ca_certs=ca_certs, password=password, friendly_name=friendly_name)
    _atomic_write(path, data, 0o600)
    return path


def _common_name(cert: x509.Certificate) -> str | None:
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else None
