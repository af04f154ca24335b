"""TLS for the CRR API: who we are (client identity) and whom we trust (CA bundle).

Why an ``ssl.SSLContext`` built here instead of httpx's ``verify=``/``cert=`` arguments:
httpx 0.28 silently drops the client certificate when given ``verify=<path>`` together
with ``cert=``, and then the server just says "no certificate". Building the context
ourselves makes the client certificate impossible to lose.

Why identities are loaded up front (with ``harness.pki.loading``): participants hold
PKCS#12 files, which the ``ssl`` module cannot read, and loading first turns "wrong password",
"key does not match certificate" and "not a PKCS#12 file" into plain sentences before
any connection is attempted. ``ssl`` can only load keys from files, so the key is
written *encrypted* under a random one-time passphrase into a private temp dir, loaded,
and deleted at once: the unencrypted key never touches the disk. Nothing here logs or
prints key material, and ``repr()`` shows only public facts about the certificate.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import shutil
import ssl
import tempfile
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from harness.pki.facts import fingerprint
from harness.pki.issue import PrivateKey
from harness.pki.loading import (
    CertificateLoadError,
    PfxPasswordError,
    load_certificate_file,
    load_key_file,
    load_pfx,
)

StrPath = str | os.PathLike[str]


class TLSSetupError(ValueError):
    """TLS material could not be used (missing file, bad CA bundle...)."""


class IdentityError(TLSSetupError):
    """A client certificate/key (PEM or PKCS#12) could not be loaded.

    ``password_problem`` is True when only the password is missing or wrong (so a CLI
    can re-prompt instead of telling the user to fetch the file again).
    """

    def __init__(self, message: str, *, password_problem: bool = False) -> None:
        super().__init__(message)
        self.password_problem = password_problem


def _identity_error(exc: CertificateLoadError) -> IdentityError:
    return IdentityError(str(exc), password_problem=isinstance(exc, PfxPasswordError))


class ClientIdentity:
    """A client certificate chain and its private key, held in memory."""

    __slots__ = ("_key", "_chain", "source")

    def __init__(self, key: PrivateKey, chain: list[x509.Certificate], source: str) -> None:
        if not chain:
            raise IdentityError(f"{source} holds no certificate.")
        leaf_pub = (
            chain[0]
            .public_key()
            .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        key_pub = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if leaf_pub != key_pub:
            raise IdentityError(f"The private key in {source} does not belong to its certificate.")
        self._key = key
        self._chain = tuple(chain)
        self.source = source

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def from_pem(
        cls, cert: StrPath, key: StrPath | None = None, password: str | bytes | None = None
    ) -> ClientIdentity:
        """PEM certificate (chain) + PEM key; ``key=None`` means the key is in the cert file."""
        try:
            loaded = load_certificate_file(Path(cert), None if key is not None else password)
            private_key = load_key_file(Path(key), password) if key is not None else loaded.key
        except CertificateLoadError as exc:
            raise _identity_error(exc) from None
        if private_key is None:
            raise IdentityError(f"{cert} holds no private key: pass the key file too.")
        return cls(private_key, [loaded.cert, *loaded.chain], f"pem:{cert}")

    @classmethod
    def from_pfx(cls, path: StrPath, password: str | bytes | None) -> ClientIdentity:
        """PKCS#12 (.pfx/.p12) as CAISO issues them, with their password."""
        try:
            private_key, leaf, extra = load_pfx(Path(path), password)
        except CertificateLoadError as exc:
            raise _identity_error(exc) from None
        if private_key is None:
            raise IdentityError(f"{path} holds no private key, so it cannot identify a client.")
        return cls(private_key, [leaf, *extra], f"pfx:{path}")

    # -- public facts (safe to log) -------------------------------------------------------
    @property
    def certificate(self) -> x509.Certificate:
        return self._chain[0]

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return self._chain

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def common_name(self) -> str | None:
        names = self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else None

    @property
    def not_before(self) -> dt.datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> dt.datetime:
        return self.certificate.not_valid_after_utc

    @property
    def fingerprint_sha256(self) -> str:
        return fingerprint(self.certificate)

    def is_valid_at(self, when: dt.datetime | None = None) -> bool:
        when = when or dt.datetime.now(dt.UTC)
        return self.not_before <= when <= self.not_after

    def __repr__(self) -> str:
        return (
            f"ClientIdentity(subject={self.subject!r}, not_after={self.not_after.isoformat()}, "
            f"source={self.source!r})"
        )

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[Any, ...]:  # pickling would copy the key somewhere we do not control
        raise TypeError("ClientIdentity cannot be pickled (it holds a private key).")

    # -- loading into ssl -------------------------------------------------------------------
    def load_into(self, context: ssl.SSLContext) -> None:
        """Give ``context`` this identity; the key reaches disk only encrypted, and briefly."""
        passphrase = secrets.token_hex(32)
        workdir = tempfile.mkdtemp(prefix="crrsim-id-")  # mkdtemp makes it 0700
        try:
            cert_file = os.path.join(workdir, "chain.pem")
            key_file = os.path.join(workdir, "key.pem")
            with open(cert_file, "wb") as fh:
                for cert in self._chain:
                    if cert is not self._chain[0] and cert.subject == cert.issuer:
                        continue  # the server has its roots; sending ours only costs bytes
                    fh.write(cert.public_bytes(serialization.Encoding.PEM))
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(
                    self._key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.BestAvailableEncryption(passphrase.encode()),
                    )
                )
            context.load_cert_chain(cert_file, key_file, password=passphrase)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def build_ssl_context(
    identity: ClientIdentity | None = None,
    ca: str | os.PathLike[str] | None = None,
    *,
    minimum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
) -> ssl.SSLContext:
    """Client context: TLS >= 1.2, server certificate and hostname always verified.

    ``ca`` is a PEM bundle file or directory; ``None`` trusts the system store (right for
    CAISO's public endpoints; the sandbox needs its dev CA).
    """
    # Not ssl.create_default_context(): that honours SSLKEYLOGFILE, which would write
    # session secrets to disk if the variable happens to be set.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = max(minimum_version, ssl.TLSVersion.TLSv1_2)
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    if ca is None:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        ca_path = Path(ca)
        if not ca_path.exists():
            raise TLSSetupError(f"The CA bundle {ca_path} does not exist.")
        try:
            if ca_path.is_dir():
                context.load_verify_locations(capath=str(ca_path))
            else:
                context.load_verify_locations(cafile=str(ca_path))
        except ssl.SSLError:
            raise TLSSetupError(f"{ca_path} is not a PEM CA bundle.") from None
    if identity is not None:
        identity.load_into(context)
    return context
