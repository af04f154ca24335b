"""What one fuzz run needs: the one config (target, identity, CA, contract) plus its own choices."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.client.targets import TargetKind
from harness.config import CrrsimConfig
from harness.pki.devpki import clients_dir, identity_paths

PHASES = ("examples", "coverage", "fuzzing", "stateful")
MODES = ("positive", "negative", "all")
SHARED_RATE = 2.0  # requests per second off the sandbox unless --rate says otherwise
SHARED_BUDGET = 2000  # requests per run off the sandbox unless --max-requests says otherwise
# seconds an answer may take before it is a failure (schemathesis' max_response_time). On a
# sandbox (loopback, one request at a time) far above what a read or a 500-record upload takes
# even on a busy laptop; off it, room for the network and a gateway, still well below the 15 s
# a participant's client waits (FIELD-FACTS: 15 s connect and read timeouts)
MAX_RESPONSE_TIME = 1.0
SHARED_MAX_RESPONSE_TIME = 5.0


@dataclass
class FuzzSettings:
    cfg: CrrsimConfig = field(default_factory=CrrsimConfig)
    participant: str = "ECAL"
    services: list[str] = field(default_factory=list)  # empty: all
    operations: list[str] = field(default_factory=list)  # operationIds; empty: all
    mode: str = "all"
    phases: tuple[str, ...] = PHASES
    max_examples: int = 10
    seed: int | None = None
    workers: int = 1
    allow_writes: bool = False
    rate: float | None = None  # requests per second; None: unlimited on the sandbox, SHARED_RATE elsewhere
    max_requests: int | None = None  # request budget; None: unlimited on the sandbox, SHARED_BUDGET elsewhere
    stop_on_5xx: bool | None = None  # stop at the first server error; None: off on the sandbox, on elsewhere
    continue_on_failure: bool = False  # keep generating for an operation after its first failure
    max_response_time: float | None = None  # seconds; None: MAX_RESPONSE_TIME on a sandbox, else SHARED_...
    reads_only: bool = False  # differential mode: a comparison never writes, anywhere
    password: str | None = field(default=None, repr=False)
    # the identity actually used (the dev PKI's on the sandbox, else the config's)
    cert: Path | None = None
    key: Path | None = None
    pfx: Path | None = None
    ca: Path | None = None
    kind: TargetKind | None = None  # the judged kind (``CrrsimConfig.judged_kind``); None: not judged

    @property
    def target_kind(self) -> TargetKind:
        """sandbox (embedded, or a URL that proved it is one) | production (by host, whatever the
        spelling) | shared (Map-Stage or any other URL)."""
        return self.kind or self.cfg.target_kind

    @property
    def other_identity(self) -> str | None:
        """A dev identity acting for another SC than the participant (for the isolation oracle)."""
        from harness.pki.identities import DEV_IDENTITIES

        for ident in DEV_IDENTITIES:
            if ident.role == "participant" and self.participant not in ident.sc_ids and ident.access == "rw":
                return ident.name
        return None

    def other_identity_files(self) -> tuple[Path, Path] | None:
        """(cert, key) of ``other_identity`` when the dev PKI is at hand (sandbox or --url with --pki)."""
        name = self.other_identity
        if name is None or self.target_kind == "production":
            return None
        folder, files = clients_dir(self.cfg.sandbox_pki), identity_paths(self.cfg.sandbox_pki, name)
        if not files.cert.is_file():
            return None
        if (
            self.target_kind != "sandbox"
            and self.cert is not None
            and not str(self.cert).startswith(str(folder))
        ):
            return None  # a participant's own certificate on a shared environment: no dev identities there
        return files.cert, files.key

    @property
    def specs(self) -> Path | None:
        return self.cfg.specs

    @classmethod
    def from_config(cls, cfg: CrrsimConfig, **run: object) -> FuzzSettings:
        settings = cls(cfg=cfg, cert=cfg.cert, key=cfg.key, pfx=cfg.pfx, ca=cfg.ca_path(), **run)  # type: ignore[arg-type]
        if cfg.participant:
            settings.participant = cfg.participant.strip().upper()
        settings.kind = cfg.judged_kind()
        shared = settings.target_kind != "sandbox"
        if settings.rate is None and shared:
            settings.rate = SHARED_RATE
        if settings.max_requests is None and shared:
            settings.max_requests = SHARED_BUDGET
        if settings.stop_on_5xx is None:
            settings.stop_on_5xx = shared
        if settings.max_response_time is None:
            settings.max_response_time = SHARED_MAX_RESPONSE_TIME if shared else MAX_RESPONSE_TIME
        return settings
