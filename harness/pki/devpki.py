"""The development PKI on disk: one CA, the sandbox's server certificate, a client identity per
DEV_IDENTITIES entry and the deliberately broken BAD_CLIENT_CERTS.

`ensure_dev_pki` is idempotent because every test session, the sandbox and the CLI call it on
the same folder: it checks each file and re-makes only what is missing or no longer right
(wrong issuer after a CA was re-made, expiring soon, a pfx that no longer opens with the
password, ...). Keys are never rotated for no reason, so fingerprints stay stable.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from harness.pki import issue
from harness.pki.checks import extended_key_usages, is_ca, issued_by, key_matches, subject_alt_names, utc_now
from harness.pki.facts import PFX_PASSWORD_ENV
from harness.pki.identities import BAD_CLIENT_CERTS, DEV_IDENTITIES, dev_identity_for, identity
from harness.pki.issue import CLIENT_AUTH, SERVER_AUTH, Issued
from harness.pki.loading import CertificateLoadError, load_pfx

try:  # POSIX only: on Windows concurrent first runs are simply not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

DEFAULT_DEV_PKI_DIR = Path("certs") / "dev"
SERVER_SANS = ("localhost", "127.0.0.1")
# The identity every bad certificate impersonates: the server must refuse it for the
# certificate's fault alone, not because the name is unknown.
BAD_CERT_IDENTITY = "ecal"
UNTRUSTED_CA_STEM = "untrusted-ca"

CA_DAYS = 3650
LEAF_DAYS = 397
# Re-issue good certificates this long before they expire, so a long run never crosses expiry.
RENEW_BEFORE = timedelta(days=30)

PasswordSource = Literal["argument", "environment", "file", "generated"]
Action = Literal["created", "reissued", "repacked", "removed", "updated"]


@dataclass(frozen=True)
class IdentityFiles:
    name: str
    cert: Path
    key: Path
    pfx: Path


@dataclass(frozen=True)
class FileChange:
    """One thing ensure_dev_pki did, with the reason, so `crrsim certs init` can say why."""

    path: Path
    action: Action
    reason: str


@dataclass(frozen=True)
class DevPKI:
    directory: Path
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    password_file: Path
    identities: dict[str, IdentityFiles]
    bad: dict[str, IdentityFiles]
    # How this call got the password and what it changed: facts about the call, not the
    # folder, so two DevPKI of the same folder compare equal.
    password_source: PasswordSource = field(default="file", compare=False)
    changes: tuple[FileChange, ...] = field(default=(), compare=False)
    _password: str | None = field(default=None, repr=False, compare=False)

    def password(self) -> str:
        """The password of every .pfx in this PKI (never log it)."""
        if self._password is not None:
            return self._password
        return self.password_file.read_text().strip()

    def files_for(self, sc_id: str) -> IdentityFiles:
        """The files of the dev identity acting for ``sc_id`` (LookupError: none does)."""
        return self.identities[dev_identity_for(sc_id).name]

    @property
    def untrusted_ca_cert(self) -> Path:
        """The CA that issued bad/unknown-ca: trusted by nothing, useful as a wrong --ca."""
        return self.directory / "bad" / f"{UNTRUSTED_CA_STEM}.pem"

    @property
    def untrusted_ca_key(self) -> Path:
        return self.directory / "bad" / f"{UNTRUSTED_CA_STEM}.key"

    @property
    def readme(self) -> Path:
        return self.directory / "README.txt"

    def files(self, name: str) -> IdentityFiles:
        """Files of a dev identity or a bad certificate, by name."""
        found = self.identities.get(name) or self.bad.get(name)
        if found is None:
            raise KeyError(f"no dev identity or bad certificate named {name!r}")
        return found

    def all_files(self) -> list[Path]:
        paths = [self.ca_cert, self.ca_key, self.server_cert, self.server_key]
        for files in (*self.identities.values(), *self.bad.values()):
            paths += [files.cert, files.key, files.pfx]
        return [*paths, self.untrusted_ca_cert, self.untrusted_ca_key, self.password_file, self.readme]


# --- validity policies: is an existing certificate's window still what its role needs? -------

Window = tuple[datetime | None, datetime | None]  # (not_before, not_after); None = issue's default
WindowCheck = Callable[[x509.Certificate, datetime], str | None]


def _good_window(cert: x509.Certificate, now: datetime) -> str | None:
    if cert.not_valid_before_utc > now:
        return "it is not valid yet"
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        return "it expires within 30 days" if cert.not_valid_after_utc > now else "it has expired"
    return None


def _expired_window(cert: x509.Certificate, now: datetime) -> str | None:
    return None if cert.not_valid_after_utc < now else "it is meant to be expired but is not"


def _future_window(cert: x509.Certificate, now: datetime) -> str | None:
    return None if cert.not_valid_before_utc > now + timedelta(days=1) else "it is about to become valid"


@dataclass(frozen=True)
class _LeafPlan:
    """Everything needed to check or (re)make one end-entity certificate."""

    stem: Path  # path without suffix: stem.pem / stem.key / stem.pfx
    subject: x509.Name
    ekus: tuple[x509.ObjectIdentifier, ...]
    sans: tuple[str, ...] = ()
    window: Window = (None, None)
    window_check: WindowCheck = _good_window
    pfx: bool = True


def _bad_plans(bad_dir: Path, now: datetime) -> dict[str, _LeafPlan]:
    ecal = identity(BAD_CERT_IDENTITY)

    def subject(fault: str) -> x509.Name:
        base = issue.client_subject(ecal.name, ecal.sc_ids)
        ou = x509.NameAttribute(x509.oid.NameOID.ORGANIZATIONAL_UNIT_NAME, f"crrsim negative test: {fault}")
        return x509.Name([*base, ou])

    plans = {
        "expired": _LeafPlan(
            bad_dir / "expired",
            subject("expired"),
            (CLIENT_AUTH,),
            window=(now - timedelta(days=60), now - timedelta(days=1)),
            window_check=_expired_window,
        ),
        "not-yet-valid": _LeafPlan(
            bad_dir / "not-yet-valid",
            subject("not yet valid"),
            (CLIENT_AUTH,),
            window=(now + timedelta(days=365), now + timedelta(days=365 + LEAF_DAYS)),
            window_check=_future_window,
        ),
        "unknown-ca": _LeafPlan(bad_dir / "unknown-ca", subject("unknown CA"), (CLIENT_AUTH,)),
        "no-client-auth": _LeafPlan(bad_dir / "no-client-auth", subject("no clientAuth"), (SERVER_AUTH,)),
    }
    missing = set(BAD_CLIENT_CERTS) - set(plans)
    if missing:  # identities.py grew a fault this module does not know how to make
        raise RuntimeError(f"no recipe for bad client certificate(s): {sorted(missing)}")
    return plans


# --- the builder ---------------------------------------------------------------------------


class _Builder:
    def __init__(self, directory: Path, password: str, force: bool) -> None:
        self.directory = directory
        self.password = password
        self.force = force
        self.now = utc_now()
        self.changes: list[FileChange] = []

    def note(self, path: Path, action: Action, reason: str) -> None:
        self.changes.append(FileChange(path, action, reason))

    def _load_pair(self, cert_path: Path, key_path: Path) -> tuple[Issued | None, str]:
        if self.force:
            return None, "--force was given"
        if not cert_path.exists() or not key_path.exists():
            missing = cert_path if not cert_path.exists() else key_path
            return None, f"{missing.name} was missing"
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            # Our own files, checked against the certificate next: skip the slow RSA self-test.
            key = serialization.load_pem_private_key(
                key_path.read_bytes(), None, unsafe_skip_rsa_key_validation=True
            )
        except (ValueError, TypeError):
            return None, "the existing file did not parse"
        if not key_matches(cert, key):  # type: ignore[arg-type]
            return None, "the key did not match the certificate"
        return Issued(cert, key), ""  # type: ignore[arg-type]

    def _save_pair(self, issued: Issued, stem: Path, reason: str, existed: bool) -> None:
        cert_path, key_path = issue.write_pair(stem, issued)
        action: Action = "reissued" if existed else "created"
        self.note(cert_path, action, reason)
        self.note(key_path, action, reason)

    def ca(self, stem: Path, common_name: str) -> tuple[Issued, bool]:
        """(CA, whether it was re-made). Leaves check their issuer, so they follow a new CA."""
        cert_path, key_path = stem.with_suffix(".pem"), stem.with_suffix(".key")
        existing, reason = self._load_pair(cert_path, key_path)
        if existing is not None:
            if not is_ca(existing.cert) or existing.cert.subject != existing.cert.issuer:
                reason = "it was not a self-signed CA"
            elif (why := _good_window(existing.cert, self.now)) is not None:
                reason = why
            else:
                return existing, False
        made = issue.make_ca(common_name=common_name, days=CA_DAYS)
        self._save_pair(made, stem, reason, cert_path.exists())
        return made, True

    def leaf(self, plan: _LeafPlan, ca: Issued) -> Issued:
        cert_path, key_path = plan.stem.with_suffix(".pem"), plan.stem.with_suffix(".key")
        existing, reason = self._load_pair(cert_path, key_path)
        if existing is not None:
            reason = self._leaf_problem(existing.cert, plan, ca) or ""
            if not reason:
                if plan.pfx:
                    self.pfx(plan.stem.with_suffix(".pfx"), existing, ca)
                return existing
        made = issue.issue_certificate(
            ca=ca,
            subject=plan.subject,
            extended_key_usages=plan.ekus,
            sans=plan.sans,
            not_before=plan.window[0],
            not_after=plan.window[1],
            days=LEAF_DAYS,
        )
        self._save_pair(made, plan.stem, reason, cert_path.exists())
        if plan.pfx:
            self.pfx(plan.stem.with_suffix(".pfx"), made, ca, force=True)
        return made

    def _leaf_problem(self, cert: x509.Certificate, plan: _LeafPlan, ca: Issued) -> str | None:
        if issued_by(cert, ca.cert) is not None:
            return "its CA was re-made" if cert.issuer == ca.cert.subject else "it was issued by another CA"
        if cert.subject != plan.subject:
            return "its subject changed"
        if (extended_key_usages(cert) or ()) != plan.ekus:
            return "its extended key usages changed"
        if tuple(issue.parse_san(s) for s in plan.sans) != subject_alt_names(cert):
            return "its subject alternative names changed"
        return plan.window_check(cert, self.now)

    def pfx(self, path: Path, issued: Issued, ca: Issued, *, force: bool = False) -> None:
        reason = "its certificate was (re)issued" if force else self._pfx_problem(path, issued)
        if reason is None:
            return
        existed = path.exists()
        issue.write_pfx(
            path,
            key=issued.key,
            cert=issued.cert,
            ca_certs=[ca.cert],
            password=self.password,
            friendly_name=path.stem,
        )
        self.note(path, "repacked" if existed else "created", reason)

    def _pfx_problem(self, path: Path, issued: Issued) -> str | None:
        if not path.exists():
            return f"{path.name} was missing"
        try:
            key, cert, _ = load_pfx(path, self.password)
        except CertificateLoadError:
            return "it did not open with the current password"
        if cert != issued.cert or key is None or not key_matches(issued.cert, key):
            return "it held a different certificate or key"
        return None


# --- password ------------------------------------------------------------------------------


def _resolve_password(password: str | None, password_file: Path) -> tuple[str, PasswordSource]:
    if password:
        return password, "argument"
    env = os.environ.get(PFX_PASSWORD_ENV)
    if env:
        return env, "environment"
    if password_file.exists():
        stored = password_file.read_text().strip()
        if stored:
            return stored, "file"
    return secrets.token_urlsafe(18), "generated"


def _sync_password_file(builder: _Builder, password_file: Path, source: PasswordSource) -> None:
    """Keep DIR/pfx-password truthful. Generated and argument passwords are stored (other
    processes, e.g. the sandbox, open the same folder without being told the password). An
    environment password is never written to disk — it may be the user's real pfx password —
    and a stored one that no longer matches the pfx files is removed rather than left lying."""
    stored = password_file.read_text().strip() if password_file.exists() else None
    if source == "environment":
        if stored is not None and stored != builder.password:
            password_file.unlink()
            builder.note(password_file, "removed", f"the pfx files now use ${PFX_PASSWORD_ENV}")
        return
    if stored != builder.password:
        issue.write_password_file(password_file, builder.password)
        builder.note(password_file, "created" if stored is None else "updated", f"password {source}")
    elif password_file.stat().st_mode & 0o077:
        password_file.chmod(0o600)


# --- the entry point -----------------------------------------------------------------------


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialise concurrent ensure_dev_pki calls on one folder (xdist workers, sandbox + tests)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != 0o700:
        path.chmod(0o700)


def ensure_dev_pki(directory: Path, password: str | None = None, *, force: bool = False) -> DevPKI:
    """Create what is missing or wrong under ``directory``, keep the rest, return the paths.

    Password: ``password`` if given, else $CRRSIM_PFX_PASSWORD, else DIR/pfx-password (made
    with a random value on first use). ``force`` re-makes every key and certificate (the
    password is kept).
    """
    directory = Path(directory).resolve()
    _private_dir(directory)
    for sub in (clients_dir(directory), directory / "bad"):
        _private_dir(sub)
    password_file = directory / "pfx-password"
    with _locked(directory):
        secret, source = _resolve_password(password, password_file)
        builder = _Builder(directory, secret, force)
        _sync_password_file(builder, password_file, source)

        ca, _ = builder.ca(directory / "ca", "crrsim dev CA")
        untrusted, _ = builder.ca(
            directory / "bad" / UNTRUSTED_CA_STEM, "crrsim untrusted CA (negative tests)"
        )
        builder.leaf(
            _LeafPlan(
                directory / "server",
                issue.make_name("localhost", issue.DEFAULT_ORGANIZATION),
                (SERVER_AUTH,),
                sans=SERVER_SANS,
                pfx=False,
            ),
            ca,
        )
        identities: dict[str, IdentityFiles] = {}
        for ident in DEV_IDENTITIES:
            stem = clients_dir(directory) / ident.name
            builder.leaf(_LeafPlan(stem, issue.client_subject(ident.name, ident.sc_ids), (CLIENT_AUTH,)), ca)
            identities[ident.name] = _files(ident.name, stem)
        bad: dict[str, IdentityFiles] = {}
        for name, plan in _bad_plans(directory / "bad", builder.now).items():
            builder.leaf(plan, untrusted if name == "unknown-ca" else ca)
            bad[name] = _files(name, plan.stem)
        _write_readme(builder, directory / "README.txt")

    return DevPKI(
        directory=directory,
        ca_cert=dev_ca(directory),
        ca_key=directory / "ca.key",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        password_file=password_file,
        identities=identities,
        bad=bad,
        password_source=source,
        changes=tuple(builder.changes),
        _password=secret,
    )


def dev_ca(directory: Path) -> Path:
    """The dev CA's certificate in a dev PKI folder: what clients trust for the sandbox."""
    return Path(directory) / "ca.pem"


def clients_dir(directory: Path) -> Path:
    """Where a dev PKI keeps its client identities (``clients/<name>.pem|.key|.pfx``)."""
    return Path(directory) / "clients"


def identity_paths(directory: Path, name: str) -> IdentityFiles:
    """The paths of dev identity ``name`` in a dev PKI folder, whether or not they exist yet:
    the one place the folder's layout is spelled."""
    return _files(name, clients_dir(directory) / name)


def files_for(directory: Path, sc_id: str) -> IdentityFiles:
    """The paths of the dev identity acting for ``sc_id`` in a dev PKI folder (LookupError: none
    does): the one way a runner wires an SC ID to its dev certificate."""
    return identity_paths(directory, dev_identity_for(sc_id).name)


def dev_identity_files(directory: Path, name: str) -> IdentityFiles | None:
    """The files of dev identity ``name`` in a dev PKI folder, when its certificate and key are
    there; None otherwise. Reads only: unlike ``ensure_dev_pki`` it never makes anything, so a
    runner can ask whether a folder given with ``--pki`` holds an identity without changing it."""
    files = identity_paths(directory, name)
    return files if files.cert.is_file() and files.key.is_file() else None


def _files(name: str, stem: Path) -> IdentityFiles:
    return IdentityFiles(name, stem.with_suffix(".pem"), stem.with_suffix(".key"), stem.with_suffix(".pfx"))


def readme_text() -> str:
    """README.txt for the folder: what each file is for. Deliberately free of any secret."""
    idents = "\n".join(f"  clients/{i.name}.pem|.key|.pfx  {i.description}" for i in DEV_IDENTITIES)
    return f"""crrsim development PKI -- generated by `crrsim certs init`; safe to delete and re-make.
For local testing only: these keys are unencrypted and the CA is trusted by nothing real.

ca.pem / ca.key          the dev CA; give ca.pem to clients as the trust anchor (--ca)
server.pem / server.key  the sandbox's TLS server certificate (SANs: {", ".join(SERVER_SANS)})
pfx-password             password of every .pfx here (mode 0600; absent when the password
                         came from ${PFX_PASSWORD_ENV}, which is then needed to open them)

Client identities (CN = identity name, O = its first SC ID, EKU clientAuth).
.pem = certificate, .key = unencrypted private key (0600), .pfx = PKCS#12 with key, cert and CA:
{idents}

Deliberately broken client certificates (all claim to be {BAD_CERT_IDENTITY}); a correct server refuses each:
  bad/expired.*            validity ended in the past
  bad/not-yet-valid.*      validity starts a year from now
  bad/unknown-ca.*         issued by bad/{UNTRUSTED_CA_STEM}.pem, which nothing trusts
  bad/no-client-auth.*     extendedKeyUsage is serverAuth only

Re-running `crrsim certs init` keeps everything that is still right and re-makes only what
is missing, expiring within 30 days, or depends on something re-made. `--force` re-makes all.
Inspect any file with `crrsim certs inspect FILE [--ca ca.pem] [--key FILE]`.
"""


def _write_readme(builder: _Builder, path: Path) -> None:
    text = readme_text()
    if path.exists() and path.read_text() == text:
        return
    existed = path.exists()
    path.write_text(text)
    builder.note(path, "updated" if existed else "created", "folder guide")
