"""What a probe is asked to do and what it found.

The probe keeps its own result types (checks with a diagnosis and a fix, services with an
outcome class) because its verdict logic needs them; ``ProbeResult.to_report()`` turns them
into the one ``RunReport`` every report handler understands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from harness.probe.report import probe_report

if TYPE_CHECKING:
    from harness.config import CrrsimConfig
    from harness.reports import RunReport


def _rdn(subject: str, key: str) -> str:
    """The value of ``key`` (e.g. ``O``) in an RFC 4514 subject string, or ''."""
    for part in subject.split(","):
        name, _, value = part.partition("=")
        if name.strip().upper() == key:
            return value.strip()
    return ""


class CheckStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"  # passed, but the participant should act soon (e.g. cert expiring)
    FAIL = "fail"
    SKIP = "skip"  # not run because an earlier check made it meaningless


class ServiceStatus(StrEnum):
    OK = "OK"
    NOT_PROVISIONED = "NOT_PROVISIONED"
    ACCESS_DENIED = "ACCESS_DENIED"
    NOT_FOUND = "NOT_FOUND"
    SERVER_ERROR = "SERVER_ERROR"
    # an answer that is neither data nor a CRR error: an HTML gateway page, a 400 for the
    # probe's own request, an unparseable body. Kept apart so it is never mistaken for OK.
    UNEXPECTED_RESPONSE = "UNEXPECTED_RESPONSE"
    TIMEOUT = "TIMEOUT"
    TLS_FAILURE = "TLS_FAILURE"
    CONNECTION_FAILURE = "CONNECTION_FAILURE"


CheckGroup = Literal["local", "network", "tls"]
CHECK_GROUPS: tuple[CheckGroup, ...] = ("local", "network", "tls")


@dataclass
class ProbeSettings:
    """Inputs of one probe run. ``password`` is never rendered (``repr=False``)."""

    target: str  # "sandbox" | "mapstage" | "production" | an https URL
    participant: str  # SC ID, e.g. "ECAL"
    cert: Path | None = None
    key: Path | None = None
    pfx: Path | None = None
    password: str | None = field(default=None, repr=False)
    ca: Path | None = None
    timeout: float = 30.0  # bound for the whole probe, in seconds
    specs: Path | None = None  # contract folder; None = our own contract
    sandbox_url: str | None = None  # where "sandbox" points when not the default port
    # the dev PKI whose operator may prove a URL is a crrsim sandbox (how the report names the target)
    pki_dir: Path | None = None

    @classmethod
    def from_config(
        cls, cfg: CrrsimConfig, participant: str, *, password: str | None = None, **overrides: Any
    ) -> ProbeSettings:
        """The probe's inputs from the one config (target, certificate, CA, timeout, contract);
        ``overrides`` replace what a caller knows better (e.g. the dev identity's files)."""
        values: dict[str, Any] = {
            "target": cfg.target,
            "participant": participant,
            "cert": cfg.cert,
            "key": cfg.key or cfg.cert,
            "pfx": cfg.pfx,
            "password": password,
            "ca": cfg.ca_path(),
            "timeout": cfg.timeout,
            "specs": cfg.specs,
            "sandbox_url": cfg.sandbox_url,
            "pki_dir": cfg.sandbox_pki,
        }
        return cls(**{**values, **overrides})

    def __post_init__(self) -> None:
        for name in ("cert", "key", "pfx", "ca", "specs", "pki_dir"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                setattr(self, name, Path(value))


@dataclass
class Check:
    """One local/network/TLS check with a plain-words diagnosis and the likely fix."""

    id: str  # stable machine name, e.g. "tls.handshake"
    group: CheckGroup
    title: str  # short human name, e.g. "TLS handshake"
    status: CheckStatus
    diagnosis: str
    fix: str = ""
    duration_s: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status is CheckStatus.FAIL


def make_check(
    check_id: str,
    title: str,
    status: CheckStatus,
    diagnosis: str,
    fix: str = "",
    *,
    duration_s: float = 0.0,
    **data: object,
) -> Check:
    """The one way the probe steps build a Check. The group is taken from the id's prefix
    ("tls.handshake" -> "tls") so the two can never disagree, and the duration can be given
    here so a timed check is built in one expression."""
    group = check_id.partition(".")[0]
    if group not in CHECK_GROUPS:
        raise ValueError(f"a probe check's id starts with one of {', '.join(CHECK_GROUPS)}: {check_id!r}")
    return Check(
        id=check_id,
        group=group,
        title=title,
        status=status,
        diagnosis=diagnosis,
        fix=fix,
        duration_s=duration_s,
        data=dict(data),
    )


@dataclass
class ServiceResult:
    """The outcome of one safe read call to one CRR service."""

    service: str
    operation_id: str
    method: str
    path: str
    status: ServiceStatus
    diagnosis: str
    fix: str = ""
    attempted: bool = True  # False when an earlier network/TLS failure made the call pointless
    http_status: int | None = None
    error_code: str | None = None  # CRR error code of the answer, e.g. "SEC0002" or "MKT0001"
    latency_s: float | None = None
    request_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is ServiceStatus.OK


@dataclass
class ProbeResult:
    settings: ProbeSettings
    base_url: str
    checks: list[Check] = field(default_factory=list)
    services: list[ServiceResult] = field(default_factory=list)
    identity: dict[str, str] = field(default_factory=dict)  # certificate summary (no key material)
    tls: dict[str, str] = field(default_factory=dict)  # negotiated version, cipher, server cert
    notes: list[str] = field(default_factory=list)  # things the reader should know (e.g. writes untested)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    tested: str = ""  # the target in words (client.targets.describe_target), beside the verdict

    @property
    def certified(self) -> bool:
        """Every check passed (warnings allowed) and every service answered OK."""
        return (
            bool(self.services)
            and not any(c.failed for c in self.checks)
            and all(s.ok for s in self.services)
        )

    @property
    def unreachable(self) -> bool:
        """The target's name did not resolve or nothing accepted the TCP connection."""
        return any(c.failed and c.id in ("network.dns", "network.tcp") for c in self.checks)

    @property
    def exit_code(self) -> int:
        """0 certified, 3 the target cannot be reached (as in every command), else 1."""
        if self.certified:
            return 0
        return 3 if self.unreachable else 1

    @property
    def verdict(self) -> str:
        return "CERTIFIED" if self.certified else "NOT CERTIFIED"

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def service(self, name: str) -> ServiceResult | None:
        return next((s for s in self.services if s.service == name), None)

    def problems(self) -> list[str]:
        """The failed checks' and services' diagnoses, most fundamental first; services that
        all failed the same way are one root cause, not ten identical lines."""
        return [f"{where}: {text}" for where, text, _fix, _rid in self.what_to_fix()]

    def what_to_fix(self) -> list[tuple[str, str, str, str]]:
        """(where, diagnosis, fix, caiso-request-id) for everything to fix, root causes first."""
        out = [(c.title, c.diagnosis, c.fix, "") for c in self.checks if c.failed]
        cause = self.root_cause()
        if cause is not None:
            return [*out, cause]
        out += [
            (s.service, s.diagnosis, s.fix, s.request_id or "")
            for s in self.services
            if not s.ok and s.attempted
        ]
        return out

    def shares_root_cause(self, service: ServiceResult) -> bool:
        """Whether ``service`` is one of the failures ``root_cause`` speaks for."""
        return service.attempted and not service.ok and self.root_cause() is not None

    def root_cause(self) -> tuple[str, str, str, str] | None:
        """When two or more services were reached and every failure among them is the same
        (outcome, error code, HTTP status), the one cause behind them with its fix."""
        failed = [s for s in self.services if s.attempted and not s.ok]
        if len(failed) < 2 or len({(s.status, s.error_code, s.http_status) for s in failed}) != 1:
            return None
        first, n = failed[0], len(failed)
        every = "every service" if n == len(self.services) else f"{n} of the {len(self.services)} services"
        rid = first.request_id or ""
        subject = self.identity.get("subject", "")
        if first.status is ServiceStatus.ACCESS_DENIED and first.error_code == "SEC0001":
            org = _rdn(subject, "O")
            every = "every service that acts for an SC ID" if n < len(self.services) else every
            return (
                "Certificate and --participant",
                f"{every} refused to let this certificate ({subject or 'its subject is unknown'}) act for "
                f"{self.settings.participant}, the SC ID given with --participant (SEC0001)",
                f"probe with the SC ID the certificate acts for (--participant {org})"
                if org and org != self.settings.participant
                else f"use the certificate CAISO issued for {self.settings.participant}, or the SC ID your certificate "
                "is provisioned for",
                rid,
            )
        if first.status is ServiceStatus.NOT_FOUND:
            return (
                "Base URL",
                f"{every} answered 404: the base URL's path is probably wrong ({self.base_url})",
                "the CRR API lives under /crr: use --env mapstage (or production), or --url https://<host>/crr",
                rid,
            )
        if first.status is ServiceStatus.NOT_PROVISIONED:
            return (
                "Provisioning",
                f"{every} said this certificate is not provisioned for it ({first.error_code})",
                "ask your Local Security Administrator to provision this certificate for the CRR API services",
                rid,
            )
        if first.status is ServiceStatus.SERVER_ERROR:
            return (
                "Environment",
                f"{every} failed with a server error (HTTP {first.http_status}"
                f"{' ' + first.error_code if first.error_code else ''}): the environment has a problem, not your setup",
                "retry later; if it persists, report it to CAISO with the caiso-request-ids in the service matrix",
                rid,
            )
        if first.status is ServiceStatus.TIMEOUT:
            return (
                "Environment",
                f"{every} timed out: {first.diagnosis}",
                first.fix
                or "raise --timeout; if it persists, the environment or a proxy is holding requests",
                rid,
            )
        return (f"{n} services", f"{every} failed the same way: {first.diagnosis}", first.fix, rid)

    def to_report(self) -> RunReport:
        return probe_report(self)
