"""What one scenario run needs to know, handed from ``crrsim scenarios`` to the pytest plugin.

pytest runs in the runner's process; the settings reach the plugin as an object passed to
``pytest.main(plugins=[...])`` (``pytest_plugin.RunSettings``), never through the environment.
Secrets are never settings: a pfx password comes from ``CRRSIM_PFX_PASSWORD`` (or the dev PKI's
own password file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config import CrrsimConfig
from harness.scenarios.plan import default_features_dir, default_plan_file


@dataclass
class ScenarioSettings:
    """The one config (target, participant's certificate, CA, dev PKI, contract) and the plan's
    own choices for this run; nothing of the config is copied here."""

    cfg: CrrsimConfig = field(default_factory=CrrsimConfig)
    url: str | None = None  # an already running sandbox (or any CRR base URL) to use as is
    features: list[Path] = field(default_factory=lambda: [default_features_dir()])
    plan_file: Path = field(default_factory=default_plan_file)
    participant: str = "ECAL"  # the SC ID "I am the participant" acts for
    allow_writes: bool = False  # needed for scenarios that change state on a shared environment
    db: Path | None = None  # an embedded run's sandbox database to keep (default: a fresh one)
    markets: dict[str, str] = field(default_factory=dict)  # alias -> market name overrides
    weeks: list[int] = field(default_factory=list)
    days: list[str] = field(default_factory=list)
    tags: str | None = None  # Cucumber tag expression
    names: list[str] = field(default_factory=list)  # only these scenarios (exact titles as written)
    wait_timeout_s: float = 900.0  # Map-Stage: how long to wait for the CRR team
    poll_interval_s: float = 15.0
    work_dir: Path | None = None  # where an embedded sandbox keeps its PKI/db when none given
    shuffle_seed: int | None = None  # run the selected scenarios in a seeded random order
    results_dir: Path | None = None  # where the run writes its results (the plugin adds run.json)

    # -- the config's facts, read where they live ---------------------------------------
    @property
    def target(self) -> str:
        """sandbox, mapstage, production or a URL, as named in the config."""
        return self.cfg.target_name

    @property
    def pki_dir(self) -> Path:
        return self.cfg.sandbox_pki

    @property
    def pfx(self) -> Path | None:
        return self.cfg.pfx

    @property
    def cert(self) -> Path | None:
        return self.cfg.cert

    @property
    def key(self) -> Path | None:
        return self.cfg.key or self.cfg.cert  # no key file: the key sits in the certificate file

    @property
    def ca(self) -> Path | None:
        return self.cfg.ca

    @property
    def specs(self) -> Path | None:
        return self.cfg.specs

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
        """The run's settings on the one config; ``plan`` holds the run's own choices (weeks,
        days, tags, markets...).

        An embedded sandbox (target sandbox, no ``url``) keeps its throw-away database under
        ``results_dir/sandbox``; the configured ``sandbox_db`` belongs to ``crrsim sandbox serve``.
        """
        embedded = cfg.is_sandbox and not url
        return cls(
            cfg=cfg,
            url=url,
            participant=(cfg.participant or cls.participant).strip().upper(),
            work_dir=results_dir / "sandbox" if embedded and results_dir is not None else None,
            **plan,
        )
