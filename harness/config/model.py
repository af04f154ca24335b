"""``CrrsimConfig``: the one settings object every command and runner receives.

It is a frozen value: loading (``harness.config.loader``) decides what the settings are,
and everything downstream only reads them, so a run cannot change its own target half way.
Passwords are held only in memory (from the environment), never shown in ``repr``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from harness.client.control import judge_target
from harness.client.targets import TargetKind, resolve_target, target_kind
from harness.client.tls import ClientIdentity
from harness.pki.devpki import dev_ca, identity_paths
from harness.pki.identities import dev_identity_for
from harness.pki.loading import CertificateLoadError, needs_password

PasswordProvider = Callable[[], str]


class ConfigError(ValueError):
    """Settings that cannot work; the message is a sentence for the user."""


@dataclass(frozen=True)
class CrrsimConfig:
    target: str = "sandbox"  # sandbox | mapstage | production | https URL
    participant: str | None = None  # SC ID the run acts for, e.g. ECAL
    dev_identity: str | None = None  # sandbox only: dev PKI identity name, e.g. ecal
    cert: Path | None = None  # PEM client certificate (chain)
    key: Path | None = None  # PEM private key (None: inside the cert file)
    pfx: Path | None = None  # PKCS#12 alternative to cert+key
    ca: Path | None = None  # CA bundle; None: system store (sandbox: the dev CA)
    specs: Path | None = None  # contract folder; None: the bundled contract
    timeout: float = 15.0
    retries: int = 3
    reports_dir: Path = Path("reports")
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8443
    sandbox_pki: Path = Path("certs/dev")
    sandbox_db: Path = Path("reports/sandbox.db")  # reports/ is git-ignored
    # secrets: environment (or a prompt) only, never files; hidden from repr and equality
    pfx_password: str | None = field(default=None, repr=False, compare=False)
    key_password: str | None = field(default=None, repr=False, compare=False)
    # where each non-default value came from ("file:PATH", "env:CRRSIM_X", "override")
    sources: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    # -- derived ------------------------------------------------------------------------
    @property
    def sandbox_url(self) -> str:
        return f"https://{self.sandbox_host}:{self.sandbox_port}/crr"

    @property
    def is_sandbox(self) -> bool:
        return self.target.strip().lower() == "sandbox"

    @property
    def target_name(self) -> str:
        """The target as runners compare it: a lower-case environment name, or the URL as given."""
        value = self.target.strip()
        return value.lower() if value.lower() in ("sandbox", "mapstage", "production") else value.rstrip("/")

    @property
    def target_kind(self) -> TargetKind:
        """The rules the target gets before anything is sent: sandbox (by name), production (by
        name or host, however spelled) or shared. ``judged_kind`` may upgrade a URL to sandbox."""
        return target_kind(self.target)

    def judged_kind(self) -> TargetKind:
        """``target_kind``, except that a URL answering the control plane to the operator
        certificate of ``sandbox_pki`` is a crrsim sandbox and gets the sandbox's rules (one
        request, to that URL's control plane; none for a named environment or production)."""
        kind = self.target_kind
        if kind != "shared":
            return kind
        return judge_target(self.target, self.base_url(), self.sandbox_pki, self.ca)

    def base_url(self) -> str:
        try:
            return resolve_target(self.target, self.sandbox_url)
        except ValueError as exc:
            raise ConfigError(f"{exc} ({self.source_of('target')})") from None

    def ca_path(self) -> Path | None:
        """CA bundle to trust: explicit, else the dev CA for the sandbox, else the system store."""
        if self.ca is not None:
            return self.ca
        return dev_ca(self.sandbox_pki) if self.is_sandbox else None

    def source_of(self, name: str) -> str:
        return self.sources.get(name, "default")

    def dev_identity_name(self) -> str:
        """Which dev identity stands for this run in the sandbox (explicit, else by participant)."""
        if self.dev_identity:
            return self.dev_identity
        if self.participant:
            try:
                return dev_identity_for(self.participant).name
            except LookupError:
                raise ConfigError(
                    f"No dev identity acts for participant {self.participant.strip().upper()} in the sandbox; "
                    "choose one with dev_identity (CRRSIM_DEV_IDENTITY)."
                ) from None
        return "ecal"

    def client_identity(self, password_provider: PasswordProvider | None = None) -> ClientIdentity | None:
        """Load the client certificate this config names.

        Explicit pfx or cert/key win; against the sandbox with neither, the dev PKI identity
        is used. Against a real target with neither, None (the probe reports that). The pfx
        password comes from CRRSIM_PFX_PASSWORD, else from ``password_provider()`` (a prompt).
        """
        if self.pfx is not None:
            password = self.pfx_password
            if password is None:
                if password_provider is None:
                    raise ConfigError(
                        f"The client certificate {self.pfx} needs its password: set CRRSIM_PFX_PASSWORD "
                        "or run interactively to be prompted."
                    )
                password = password_provider()
            return ClientIdentity.from_pfx(self.pfx, password)
        if self.cert is not None:
            password = self.key_password
            key_file = self.key or self.cert
            if password is None and password_provider is not None and _pem_key_encrypted(key_file):
                password = password_provider()
            return ClientIdentity.from_pem(self.cert, self.key, password)
        if self.is_sandbox:
            name = self.dev_identity_name()
            files = identity_paths(self.sandbox_pki, name)
            cert, key = files.cert, files.key
            if not cert.is_file() or not key.is_file():
                raise ConfigError(
                    f"The dev identity {name!r} is missing from {self.sandbox_pki}: "
                    "run `crrsim certs` to create the dev PKI."
                )
            return ClientIdentity.from_pem(cert, key)
        return None

    def as_dict(self) -> dict[str, Any]:
        """Public settings (no secrets) for reports and `config show`."""
        hidden = {"pfx_password", "key_password", "sources"}
        return {
            f.name: (str(v) if isinstance(v := getattr(self, f.name), Path) else v)
            for f in fields(self)
            if f.name not in hidden
        }


def _pem_key_encrypted(path: Path) -> bool:
    try:
        return needs_password(path)
    except CertificateLoadError:
        return False  # from_pem will say what is wrong with the file
