"""Run the main job: sandbox (when it is the target), connectivity probe, structured plan.

Against the sandbox the job starts a fresh sandbox database each run, so results are
reproducible; the dev PKI under ``certs/dev`` is kept between runs (making keys is the slow
part and nothing in it changes). Against Map-Stage or production it probes with the
participant's own certificate and runs the plan read-only unless writes were allowed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.marketsim.merge import merge_reports
from harness.pki import DEFAULT_DEV_PKI_DIR, DevPKI, ensure_dev_pki
from harness.pki.identities import dev_identity_for
from harness.probe import ProbeSettings, run_probe
from harness.reports import RunReport

if TYPE_CHECKING:
    from harness.config import CrrsimConfig

Say = Callable[[str], None]
SANDBOX_PARTICIPANTS = ("ECAL", "WCAL")


@dataclass
class MarketSimSettings:
    target: str = "sandbox"  # "sandbox" | "mapstage" | "production" | an https URL
    out: Path = Path("reports/marketsim")
    pki_dir: Path = Path(DEFAULT_DEV_PKI_DIR)
    participants: list[str] = field(default_factory=lambda: list(SANDBOX_PARTICIPANTS))
    scenarios: bool = True
    scenario_args: list[str] = field(default_factory=list)  # extra pytest args, e.g. ["-k", "auction"]
    timeout: float = 30.0
    # a real environment: the participant's own certificate (the password comes from the env)
    cert: Path | None = None
    key: Path | None = None
    pfx: Path | None = None
    password: str | None = field(default=None, repr=False)
    ca: Path | None = None
    allow_writes: bool = False
    specs: Path | None = None  # contract folder for the sandbox, the probe and the plan; None = ours

    @property
    def is_sandbox(self) -> bool:
        return self.target == "sandbox"

    @classmethod
    def from_config(cls, cfg: CrrsimConfig, *, participants: list[str] | None = None, out: Path | None = None,
                    password: str | None = None, **job: Any) -> MarketSimSettings:
        """Shared settings from the one config; ``job`` holds the run's own (scenarios, scenario_args,
        allow_writes). Participants: as given, else the configured one, else ECAL and WCAL."""
        chosen = participants or ([cfg.participant.strip().upper()] if cfg.participant else [])
        return cls(
            target=cfg.target_name,
            out=out or cfg.reports_dir / "marketsim",
            pki_dir=cfg.sandbox_pki,
            participants=chosen or list(SANDBOX_PARTICIPANTS),
            timeout=cfg.timeout,
            cert=cfg.cert,
            key=cfg.key,
            pfx=cfg.pfx,
            password=password,
            ca=cfg.ca,
            specs=cfg.specs,
            **job,
        )


@dataclass
class MarketSimOutcome:
    report: RunReport
    files: dict[str, Path]

    @property
    def ok(self) -> bool:
        return self.report.ok


@contextlib.contextmanager
def _sandbox(settings: MarketSimSettings, say: Say) -> Iterator[tuple[str, DevPKI | None]]:
    if not settings.is_sandbox:
        yield settings.target, None
        return
    from harness.sandbox.launch import start_sandbox

    pki = ensure_dev_pki(settings.pki_dir)
    db = settings.out / "sandbox.db"
    say(f"starting the embedded sandbox (PKI {settings.pki_dir}, database {db}) ...")
    running = start_sandbox(pki.directory, db, specs=settings.specs, fresh=True)
    say(f"sandbox listening at {running.url}")
    try:
        yield running.url, pki
    finally:
        running.stop()


def _probe(settings: MarketSimSettings, url: str, pki: DevPKI | None, sc_id: str) -> RunReport:
    if pki is not None:
        try:
            files = pki.identities[dev_identity_for(sc_id).name]
        except LookupError as exc:
            raise ValueError(f"the dev PKI has no identity acting for {sc_id}") from exc
        probe = ProbeSettings(target=url, participant=sc_id, cert=files.cert, key=files.key, ca=pki.ca_cert,
                              timeout=settings.timeout, specs=settings.specs)
    else:
        probe = ProbeSettings(target=url, participant=sc_id, cert=settings.cert, key=settings.key or settings.cert,
                              pfx=settings.pfx, password=settings.password, ca=settings.ca, timeout=settings.timeout,
                              specs=settings.specs)
    return run_probe(probe).to_report()


def _scenarios(settings: MarketSimSettings, url: str, pki: DevPKI | None) -> RunReport:
    from harness.scenarios.results import load_results
    from harness.scenarios.runner import run
    from harness.scenarios.settings import ScenarioSettings

    results = settings.out / "scenarios"
    scenario = ScenarioSettings(
        target="sandbox" if pki is not None else settings.target,
        url=url if pki is not None else None,
        participant=settings.participants[0],
        allow_writes=settings.allow_writes,
        pki_dir=str(pki.directory) if pki is not None else None,
        pfx=str(settings.pfx) if settings.pfx else None,
        cert=str(settings.cert) if settings.cert else None,
        key=str(settings.key) if settings.key else None,
        ca=str(settings.ca) if settings.ca else None,
        specs=str(settings.specs) if settings.specs else None,
    )
    run(scenario, results, extra=["-q", *settings.scenario_args])
    return load_results(results, target=url)


def run_marketsim(settings: MarketSimSettings, say: Say = print) -> MarketSimOutcome:
    from harness.reports.handlers import write_html, write_json, write_junit

    started = datetime.now(UTC)
    settings.out.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    with _sandbox(settings, say) as (url, pki):
        probes: dict[str, RunReport] = {}
        for sc_id in settings.participants:
            say(f"connectivity: probing all services as {sc_id} ...")
            probes[sc_id] = _probe(settings, url, pki, sc_id)
            say(f"connectivity {sc_id}: {probes[sc_id].verdict}")
        scenarios = None
        if settings.scenarios:
            say("structured Market Sim plan: running the Gherkin scenarios ...")
            scenarios = _scenarios(settings, url, pki)
            say(f"structured plan: {scenarios.verdict} {scenarios.counts()}")
        else:
            notes.append("The structured plan was not run (--no-scenarios).")
    report = merge_reports(url, probes, scenarios, started, notes)
    files = {
        "html": settings.out / "marketsim.html",
        "json": settings.out / "marketsim.json",
        "junit": settings.out / "marketsim.xml",
    }
    write_html(report, files["html"])
    write_json(report, files["json"])
    write_junit(report, files["junit"])
    return MarketSimOutcome(report=report, files=files)
