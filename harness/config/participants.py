"""Several participants at once: a participants file (SC IDs with their certificate files), or
the dev PKI's participants on the sandbox.

One file format serves every command that acts for more than one SC ID (``crrsim load
--participants``, ``crrsim probe --participants``): an ISO's tracker or an L&P team writes it
once. Passwords are never in it, only the name of the variable holding each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.client.tls import ClientIdentity
from harness.config.model import CrrsimConfig
from harness.contract.yaml12 import load_yaml_file
from harness.pki.devpki import identity_paths
from harness.pki.facts import PFX_PASSWORD_ENV, participant_password_env

DEV_PARTICIPANTS = ("ecal", "wcal", "ncal")  # dev identities that act as participants in load runs


class ParticipantsError(ValueError):
    """A participants file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Participant:
    """One SC ID and its certificate files; a pfx password only by the name of its variable."""

    sc: str
    cert: Path | None = None
    key: Path | None = None
    pfx: Path | None = None
    password_env: str | None = None

    @property
    def password_variable(self) -> str:
        """Where this participant's pfx password is read from: the file's ``password_env``, else
        ``CRRSIM_PFX_PASSWORD_<SC>``."""
        return self.password_env or participant_password_env(self.sc)

    @classmethod
    def from_config(cls, cfg: CrrsimConfig, sc: str) -> Participant:
        """The config's own certificate acting for ``sc`` (its pfx password: $CRRSIM_PFX_PASSWORD)."""
        return cls(sc.upper(), cfg.cert, cfg.key, cfg.pfx, PFX_PASSWORD_ENV if cfg.pfx else None)

    def identity(self, password: str | None = None) -> ClientIdentity:
        """This participant's certificate, loaded: the pfx with ``password`` (the value of
        :attr:`password_variable`, read by the caller), else the PEM pair."""
        if self.pfx is not None:
            return ClientIdentity.from_pfx(self.pfx, password)
        if self.cert is None:
            raise ParticipantsError(f"{self.sc} names neither a pfx nor a cert")
        return ClientIdentity.from_pem(self.cert, self.key)

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Participant:
        """The inverse of :meth:`wire` (a locust process reads its participants this way)."""
        paths = {k: Path(wire[k]) if wire.get(k) else None for k in ("cert", "key", "pfx")}
        return cls(wire["sc"], password_env=wire.get("password_env"), **paths)

    def wire(self) -> dict[str, Any]:
        return {
            "sc": self.sc,
            "cert": str(self.cert) if self.cert else None,
            "key": str(self.key) if self.key else None,
            "pfx": str(self.pfx) if self.pfx else None,
            "password_env": self.password_env,
        }


def dev_participants(pki_dir: Path, names: tuple[str, ...] = DEV_PARTICIPANTS) -> list[Participant]:
    from harness.pki.identities import DEV_IDENTITIES

    return [
        Participant(ident.sc_ids[0], files.cert, files.key)
        for ident in DEV_IDENTITIES
        if ident.name in names
        for files in [identity_paths(pki_dir, ident.name)]
    ]


def load_participants(path: Path) -> list[Participant]:
    """``participants:`` entries with ``sc`` and ``pfx`` (+ ``password_env``) or ``cert``/``key``.
    A password in the file is refused: files get copied, mailed and committed."""
    data = load_yaml_file(path, ParticipantsError)
    entries = data.get("participants") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ParticipantsError(f"{path}: expected 'participants:', a list of SC IDs with their certificates")
    out: list[Participant] = []
    base = path.parent
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("sc"), str):
            raise ParticipantsError(f"{path}: participant {n} needs 'sc' (its SC ID)")
        if any("password" in k and k != "password_env" for k in entry):
            raise ParticipantsError(
                f"{path}: participant {n} ({entry['sc']}) holds a password; name an environment "
                "variable with password_env instead (or be asked for it)"
            )
        files = {k: (base / str(entry[k])) if entry.get(k) else None for k in ("cert", "key", "pfx")}
        if files["pfx"] is None and files["cert"] is None:
            raise ParticipantsError(f"{path}: participant {n} ({entry['sc']}) needs pfx, or cert and key")
        for kind, file in files.items():
            if file is not None and not file.is_file():
                raise ParticipantsError(
                    f"{path}: participant {n} ({entry['sc']}): {kind} {file} does not exist"
                )
        sc = entry["sc"].strip().upper()
        if any(p.sc == sc for p in out):
            raise ParticipantsError(f"{path}: participant {n} ({sc}) is listed twice")
        out.append(Participant(sc, files["cert"], files["key"], files["pfx"], entry.get("password_env")))
    return out
