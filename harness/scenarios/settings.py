"""What one scenario run needs to know, handed from ``crrsim scenarios`` to the pytest plugin.

The runner and pytest may live in different processes (the CLI runs pytest in-process, tests
run it in a subprocess), so settings travel as JSON in one environment variable. Secrets never
do: a pfx password comes from ``CRRSIM_PFX_PASSWORD`` (or the dev PKI's own password file).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.scenarios.plan import default_features_dir, default_plan_file

if TYPE_CHECKING:
    from harness.config import CrrsimConfig

SETTINGS_ENV = "CRRSIM_SCENARIOS_SETTINGS"


@dataclass
class ScenarioSettings:
    target: str = "sandbox"  # "sandbox" | "mapstage" | "production" | an https URL
    url: str | None = None  # an already running sandbox (or any CRR base URL) to use as is
    features: list[str] = field(default_factory=lambda: [str(default_features_dir())])
    plan_file: str = field(default_factory=lambda: str(default_plan_file()))
    participant: str = "ECAL"  # the SC ID "I am the participant" acts for
    allow_writes: bool = False  # needed for scenarios that change state on a shared environment
    # sandbox: dev PKI folder (made if missing) and the sandbox database of an embedded run
    pki_dir: str | None = None
    db: str | None = None
    # a real participant's certificate (Map-Stage): pfx (password from CRRSIM_PFX_PASSWORD) or PEM pair
    pfx: str | None = None
    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    specs: str | None = None  # contract folder; None = crrsim's own contract
    markets: dict[str, str] = field(default_factory=dict)  # alias -> market name overrides
    weeks: list[int] = field(default_factory=list)
    days: list[str] = field(default_factory=list)
    tags: str | None = None  # Cucumber tag expression
    names: list[str] = field(default_factory=list)  # only these scenarios (exact titles as written)
    wait_timeout_s: float = 900.0  # Map-Stage: how long to wait for the CRR team
    poll_interval_s: float = 15.0
    work_dir: str | None = None  # where an embedded sandbox keeps its PKI/db when none given
    shuffle_seed: int | None = None  # run the selected scenarios in a seeded random order
    results_dir: str | None = None  # where the run writes its results (the plugin adds run.json)

    @property
    def is_sandbox(self) -> bool:
        """True when the CRR team's steps can drive the target through the control plane."""
        return self.target == "sandbox"

    @property
    def writes_allowed(self) -> bool:
        return self.is_sandbox or self.allow_writes

    @property
    def feature_dirs(self) -> list[Path]:
        return [Path(p) for p in self.features]

    @classmethod
    def from_config(
        cls, cfg: CrrsimConfig, *, url: str | None = None, results_dir: Path | None = None, **plan: Any
    ) -> ScenarioSettings:
        """The shared settings (target, participant, certificate, CA, dev PKI, contract) come
        from the one config; ``plan`` holds the run's own choices (weeks, days, tags, markets...).

        An embedded sandbox (target sandbox, no ``url``) keeps its throw-away database under
        ``results_dir/sandbox``; the configured ``sandbox_db`` belongs to ``crrsim sandbox serve``.
        """

        def text(path: Path | None) -> str | None:
            return str(path) if path is not None else None

        embedded = cfg.is_sandbox and not url
        return cls(
            target=cfg.target_name,
            url=url,
            participant=(cfg.participant or cls.participant).strip().upper(),
            pki_dir=text(cfg.sandbox_pki),
            pfx=text(cfg.pfx),
            cert=text(cfg.cert),
            key=text(cfg.key or cfg.cert),  # no key file: the key sits in the certificate file
            ca=text(cfg.ca),
            specs=text(cfg.specs),
            work_dir=str(results_dir / "sandbox") if embedded and results_dir is not None else None,
            **plan,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ScenarioSettings:
        data: dict[str, Any] = json.loads(text)
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ScenarioSettings:
        raw = (os.environ if env is None else env).get(SETTINGS_ENV)
        return cls.from_json(raw) if raw else cls()

    def export(self, env: dict[str, str] | None = None) -> None:
        (os.environ if env is None else env)[SETTINGS_ENV] = self.to_json()
