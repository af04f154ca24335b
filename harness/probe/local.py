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
from pathlib import Path
from typing import Any

from cryptography import x509

from harness.pki.facts import fingerprint
from harness.pki.issue import PrivateKey
from harness.pki.judgement import Judgement, describe_key, judge_client_identity
from harness.pki.loading import (
    CertificateLoadError,
    PfxPasswordError,
    load_certificate_file,
    load_key_file,
    load_pfx,
)
from harness.probe.model import Check, CheckStatus, ProbeSettings, make_check


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
        "sha256_fingerprint": fingerprint(cert),
    }


def as_check(judgement: Judgement) -> Check:
    """A certificate judgement (harness.pki.judgement, shared with `certs inspect`) as a probe check."""
    data: dict[str, Any] = dict(judgement.data)
    return make_check(
        f"local.{judgement.aspect}",
        judgement.title,
        CheckStatus(judgement.status),
        judgement.diagnosis,
        judgement.fix,
        **data,
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
    judged = judge_client_identity(
        material.cert, key=material.key, key_source=material.source, bundled=material.chain
    )
    checks = [
        make_check(
            "local.load",
            "Certificate loads",
            CheckStatus.PASS,
            f"loaded {material.source}: {material.cert.subject.rfc4514_string()}",
        ),
        *map(as_check, judged),
        check_file_mode(material.key_file),
    ]
    checks[0].duration_s = time.perf_counter() - started
    usable = not any(j.aspect == "key_match" and j.failed for j in judged)
    return checks, material if usable else None
