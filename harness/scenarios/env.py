"""The environment a scenario run talks to: target URL, identities, markets and the CRR team.

One ``ScenarioEnv`` per pytest session. Against the sandbox it may start an embedded sandbox
(with a dev PKI) and acts as any dev identity; against Map-Stage it holds the participant's one
real certificate, and a scenario needing any other identity is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.client import ClientIdentity, CRRClient, resolve_target
from harness.client.control import ControlPlane
from harness.contract import Catalogue, load_catalogue
from harness.pki.facts import PFX_PASSWORD_ENV
from harness.pki.identities import dev_identity_for
from harness.scenarios.plan import Plan, load_plan
from harness.scenarios.settings import ScenarioSettings
from harness.scenarios.team import CRRTeam, SandboxTeam, WaitingTeam

if TYPE_CHECKING:
    from harness.pki import DevPKI

PASSWORD_ENV = PFX_PASSWORD_ENV
OPERATOR = "operator"
ME = "me"  # the identity name of the configured participant's own certificate (non-sandbox)


@dataclass(frozen=True)
class Who:
    """An identity (certificate) acting for one SC ID."""

    identity: str
    sc: str


@dataclass
class ScenarioEnv:
    settings: ScenarioSettings
    plan: Plan
    base_url: str
    pki: DevPKI | None = None
    _clients: dict[str, CRRClient] = field(default_factory=dict)
    _team: CRRTeam | None = None
    _cleanup: list[Any] = field(default_factory=list)
    _catalogue: Catalogue | None = None
    # facts scenarios leave for later ones in the same run (e.g. CRRs already offered)
    memory: dict[str, Any] = field(default_factory=dict)

    @property
    def catalogue(self) -> Catalogue:
        """Operations are looked up by operationId, so --specs switches paths for every step."""
        if self._catalogue is None:
            self._catalogue = load_catalogue(self.settings.specs)
        return self._catalogue

    # -- identities ------------------------------------------------------------------
    @property
    def me(self) -> Who:
        """The participant the run is for ("I am the participant")."""
        sc = self.settings.participant
        return self.participant(sc) if self.pki else Who(ME, sc)

    def participant(self, sc: str, identity: str | None = None) -> Who:
        if self.pki is None:
            if sc == self.settings.participant and identity in (None, ME):
                return Who(ME, sc)
            what = f"the {identity!r} certificate" if identity else f"a certificate for {sc}"
            pytest.skip(f"needs {what}; only the sandbox's dev PKI has identities besides your own")
        if identity is not None:
            if identity not in self.pki.identities and identity not in self.pki.bad:
                raise LookupError(f"no dev identity {identity!r}; known: {', '.join(self.pki.identities)}")
            return Who(identity, sc)
        return Who(dev_identity_for(sc).name, sc)

    def identity_files(self, name: str) -> tuple[Path, Path]:
        if self.pki is None:
            raise LookupError("dev identities exist only with the sandbox's dev PKI")
        files = self.pki.identities.get(name) or self.pki.bad[name]
        return files.cert, files.key

    def ca(self) -> Path | None:
        if self.pki is not None:
            return self.pki.ca_cert
        return self.settings.ca

    def _own_identity(self) -> ClientIdentity:
        s = self.settings
        if s.pfx:
            password = os.environ.get(PASSWORD_ENV)
            if password is None:
                raise pytest.UsageError(f"set {PASSWORD_ENV} to the password of {s.pfx}")
            return ClientIdentity.from_pfx(s.pfx, password)
        if s.cert and s.key:
            return ClientIdentity.from_pem(s.cert, s.key, password=os.environ.get(PASSWORD_ENV))
        raise pytest.UsageError(
            "give your certificate: --pfx FILE (password in CRRSIM_PFX_PASSWORD) or --cert/--key"
        )

    def client(self, identity: str) -> CRRClient:
        if identity not in self._clients:
            if identity == ME:
                ident = self._own_identity()
            else:
                cert, key = self.identity_files(identity)
                ident = ClientIdentity.from_pem(cert, key)
            self._clients[identity] = CRRClient(self.base_url, identity=ident, ca=self.ca(), retries=1)
        return self._clients[identity]

    # -- markets and the CRR team ----------------------------------------------------
    def market(self, name_or_alias: str) -> str:
        """A plan alias ("monthly auction") or plan market name -> this environment's market."""
        overrides = self.settings.markets
        key = name_or_alias.strip()
        if key in self.plan.markets:
            return overrides.get(key, self.plan.markets[key])
        for alias, plan_name in self.plan.markets.items():
            if plan_name == key and alias in overrides:
                return overrides[alias]
        return key

    @property
    def team(self) -> CRRTeam:
        if self._team is None:
            if self.pki is not None and self.settings.is_sandbox:
                self._team = SandboxTeam(ControlPlane(self.client(OPERATOR)))
            else:
                self._team = WaitingTeam(
                    self.client(self.me.identity),
                    self.me.sc,
                    self.settings.wait_timeout_s,
                    self.settings.poll_interval_s,
                )
        return self._team

    def fresh_start(self) -> None:
        """Before each scenario. In the sandbox: an empty sandbox with the plan set up and no
        memory of earlier scenarios, so running a scenario after others is running it alone.
        On a shared environment nothing can be reset; ``memory`` keeps the run from reusing
        what an earlier scenario used up (e.g. a CRR it offered)."""
        if self.team.fresh_start():
            self.memory.clear()

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()
        for stop in reversed(self._cleanup):
            stop()
        self._cleanup.clear()


def _work_dir(settings: ScenarioSettings) -> Path:
    if settings.work_dir:
        path = settings.work_dir
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix="crrsim-scenarios-"))


def open_env(settings: ScenarioSettings) -> ScenarioEnv:
    """Resolve the target; start an embedded sandbox when the run targets one and gave no URL."""
    plan = load_plan(settings.plan_file)
    if not settings.is_sandbox:
        return ScenarioEnv(settings, plan, resolve_target(settings.target))
    from harness.pki import ensure_dev_pki

    work = _work_dir(settings)
    pki_dir = settings.pki_dir
    if settings.url:
        return ScenarioEnv(settings, plan, resolve_target(settings.url), pki=ensure_dev_pki(pki_dir))
    from harness.sandbox.launch import embedded

    # an explicit --db is the user's to keep; the work folder's own database starts fresh each
    # run; the plan's scenarios drive the clock themselves, from the plan's start
    db = settings.db or work / "sandbox.db"
    stack = contextlib.ExitStack()  # closed with the env (ScenarioEnv.close)
    url, pki = stack.enter_context(
        embedded(
            pki_dir,
            settings.specs,
            db=db,
            fresh=not settings.db,
            plan_week=False,
        )
    )
    env = ScenarioEnv(settings, plan, url, pki=pki)
    env._cleanup.append(stack.close)
    return env
