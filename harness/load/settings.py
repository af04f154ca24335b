"""What one load run needs: the one config (target, identity, CA, contract) plus its own choices,
and the participants whose certificates the virtual users present."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import CrrsimConfig
from harness.contract.yaml12 import load_yaml_file

SHARED_RATE = 20.0  # requests per second off the sandbox unless --max-rps says otherwise
RATE_CEILING = 200.0  # the most --max-rps allows on a shared environment (Map-Stage is not ours)
DEV_PARTICIPANTS = ("ecal", "wcal", "ncal")  # dev identities the sandbox's virtual users take turns with


class ParticipantsError(ValueError):
    """A participants file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class LoadParticipant:
    """One SC ID and its certificate files; a pfx password only by the name of its variable."""

    sc: str
    cert: Path | None = None
    key: Path | None = None
    pfx: Path | None = None
    password_env: str | None = None

    def wire(self) -> dict[str, Any]:
        return {"sc": self.sc, "cert": str(self.cert) if self.cert else None, "key": str(self.key) if self.key else None,
                "pfx": str(self.pfx) if self.pfx else None, "password_env": self.password_env}


def dev_participants(pki_dir: Path) -> list[LoadParticipant]:
    from harness.pki.identities import DEV_IDENTITIES

    clients = pki_dir / "clients"
    return [LoadParticipant(ident.sc_ids[0], clients / f"{ident.name}.pem", clients / f"{ident.name}.key")
            for ident in DEV_IDENTITIES if ident.name in DEV_PARTICIPANTS]


def load_participants(path: Path) -> list[LoadParticipant]:
    """``participants:`` entries with ``sc`` and ``pfx`` (+ ``password_env``) or ``cert``/``key``.
    A password in the file is refused: files get copied, mailed and committed."""
    data = load_yaml_file(path, ParticipantsError)
    entries = data.get("participants") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ParticipantsError(f"{path}: expected 'participants:', a list of SC IDs with their certificates")
    out = []
    base = path.parent
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("sc"), str):
            raise ParticipantsError(f"{path}: participant {n} needs 'sc' (its SC ID)")
        if any("password" in k and k != "password_env" for k in entry):
            raise ParticipantsError(f"{path}: participant {n} ({entry['sc']}) holds a password; name an environment "
                                    "variable with password_env instead (or be asked for it)")
        files = {k: (base / str(entry[k])) if entry.get(k) else None for k in ("cert", "key", "pfx")}
        if files["pfx"] is None and files["cert"] is None:
            raise ParticipantsError(f"{path}: participant {n} ({entry['sc']}) needs pfx, or cert and key")
        for kind, file in files.items():
            if file is not None and not file.is_file():
                raise ParticipantsError(f"{path}: participant {n} ({entry['sc']}): {kind} {file} does not exist")
        out.append(LoadParticipant(entry["sc"].strip().upper(), files["cert"], files["key"], files["pfx"],
                                   entry.get("password_env")))
    return out


@dataclass
class LoadSettings:
    cfg: CrrsimConfig = field(default_factory=CrrsimConfig)
    profile: str = "steady"
    users: int | None = None
    spawn_rate: float | None = None
    arrival_rate: float | None = None
    run_time: float | None = None
    slo: Path | None = None
    processes: int = 1
    master: bool = False
    worker: bool = False
    master_host: str | None = None
    expect_workers: int = 1
    ui: bool = False
    allow_load: bool = False
    abort_on_fail: bool = False  # stop as soon as a latency or error SLO is breached by enough samples
    max_rps: float | None = None  # None: unlimited on the sandbox, SHARED_RATE elsewhere
    participants: list[LoadParticipant] = field(default_factory=list)
    raw_dir: Path | None = None  # keep every raw latency too (to check the histograms against)

    @property
    def target_kind(self) -> str:
        """sandbox | production | shared (Map-Stage or any other URL)."""
        name = self.cfg.target_name
        return name if name in ("sandbox", "production") else "shared"
