"""Run the main job: sandbox (when it is the target), connectivity probe, structured plan.

Against the sandbox the job starts a fresh sandbox database each run, so results are
reproducible; the dev PKI under ``certs/dev`` is kept between runs (making keys is the slow
part and nothing in it changes). Against Map-Stage or production it probes with the
participant's own certificate and runs the plan read-only unless writes were allowed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.config import CrrsimConfig
from harness.marketsim.merge import merge_reports
from harness.pki import DevPKI, ensure_dev_pki
from harness.pki.identities import dev_identity_for
from harness.probe import ProbeSettings, run_probe
from harness.reports import RunReport
from harness.scenarios.settings import ScenarioSettings

Say = Callable[[str], None]
SANDBOX_PARTICIPANTS = ("ECAL", "WCAL")
PARTS = ("probe", "scenarios", "fuzz", "load")
FUZZ_EXAMPLES = 3  # cases per operation and phase in the job's short fuzz of every service
# the job's load burst: the window-close profile, 10 s, peak 10 arrivals/s from a pool of 30 users
LOAD_BURST = {"profile": "window-close", "arrival_rate": 10.0, "users": 30, "run_time": 10.0}


@dataclass
class MarketSimSettings:
    """The job's own choices on top of the one config; every runner's settings are derived from
    that config (``ProbeSettings.from_config``, ``ScenarioSettings.from_config``), never copied."""

    cfg: CrrsimConfig = field(default_factory=CrrsimConfig)
    out_dir: Path | None = None  # default <reports_dir>/marketsim
    chosen: list[str] = field(default_factory=list)  # participants given on the command line
    scenarios: bool = True
    scenario_args: list[str] = field(default_factory=list)  # extra pytest args, e.g. ["-k", "auction"]
    allow_writes: bool = False
    allow_load: bool = False
    skip: tuple[str, ...] = ()  # parts left out (--skip fuzz,load); the probe always runs
    password: str | None = field(default=None, repr=False)  # a real environment's pfx password

    def runs(self, part: str) -> bool:
        return part not in self.skip and (part != "scenarios" or self.scenarios)

    @classmethod
    def from_config(cls, cfg: CrrsimConfig, *, participants: list[str] | None = None, out: Path | None = None,
                    password: str | None = None, **job: Any) -> MarketSimSettings:
        """``job`` holds the run's own choices (scenarios, scenario_args, allow_writes)."""
        return cls(cfg=cfg, out_dir=out, chosen=list(participants or []), password=password, **job)

    # -- what the config says, under the names the job uses ------------------------------
    @property
    def target(self) -> str:
        return self.cfg.target_name

    @property
    def is_sandbox(self) -> bool:
        return self.cfg.is_sandbox

    @property
    def out(self) -> Path:
        return self.out_dir or self.cfg.reports_dir / "marketsim"

    @property
    def pki_dir(self) -> Path:
        return self.cfg.sandbox_pki

    @property
    def timeout(self) -> float:
        return self.cfg.timeout

    @property
    def pfx(self) -> Path | None:
        return self.cfg.pfx

    @property
    def specs(self) -> Path | None:
        return self.cfg.specs

    @property
    def participants(self) -> list[str]:
        """As given, else the configured one, else the sandbox's ECAL and WCAL."""
        chosen = self.chosen or ([self.cfg.participant.strip().upper()] if self.cfg.participant else [])
        return chosen or list(SANDBOX_PARTICIPANTS)

    # -- the runners' settings, derived --------------------------------------------------
    def probe_settings(self, url: str, sc_id: str, pki: DevPKI | None) -> ProbeSettings:
        if pki is None:
            return ProbeSettings.from_config(self.cfg, sc_id, password=self.password, target=url)
        try:
            files = pki.identities[dev_identity_for(sc_id).name]
        except LookupError as exc:
            raise ValueError(f"the dev PKI has no identity acting for {sc_id}") from exc
        return ProbeSettings.from_config(self.cfg, sc_id, target=url, cert=files.cert, key=files.key,
                                         pfx=None, ca=pki.ca_cert)

    def scenario_settings(self, url: str, pki: DevPKI | None) -> ScenarioSettings:
        cfg = self.cfg
        if pki is not None:  # the job's own sandbox: reached by URL, with its dev PKI
            cfg = replace(cfg, sandbox_pki=pki.directory)
        settings = ScenarioSettings.from_config(cfg, url=url if pki is not None else None,
                                                allow_writes=self.allow_writes)
        settings.participant = self.participants[0]
        return settings


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
    return run_probe(settings.probe_settings(url, sc_id, pki)).to_report()


def _scenarios(settings: MarketSimSettings, url: str, pki: DevPKI | None) -> RunReport:
    from harness.scenarios.results import load_results
    from harness.scenarios.runner import run

    results = settings.out / "scenarios"
    run(settings.scenario_settings(url, pki), results, extra=["-q", *settings.scenario_args])
    return load_results(results, target=url)


def _fresh_plan(url: str, pki: DevPKI) -> None:
    """Back to the plan's first Wednesday (the scenarios move the clock): fuzz and load start
    where their own commands start."""
    from harness.client import ClientIdentity, CRRClient
    from harness.client.control import ControlPlane

    operator = pki.identities["operator"]
    with CRRClient(url, identity=ClientIdentity.from_pem(operator.cert, operator.key), ca=pki.ca_cert) as client:
        ControlPlane(client).fresh_plan_week()


def _fuzz(settings: MarketSimSettings, url: str, pki: DevPKI | None) -> RunReport:
    """A short fuzz of every service: read-only off the sandbox (the fuzz's own safe defaults)."""
    from harness.fuzz.runner import run_fuzz
    from harness.fuzz.settings import FuzzSettings

    cfg = settings.cfg if pki is None else replace(settings.cfg, sandbox_pki=pki.directory)
    fuzz = FuzzSettings.from_config(cfg, max_examples=FUZZ_EXAMPLES, phases=("examples", "coverage", "fuzzing"),
                                    password=settings.password)
    fuzz.participant = settings.participants[0]
    if pki is not None:
        files = pki.identities[dev_identity_for(fuzz.participant).name]
        fuzz.cert, fuzz.key, fuzz.pfx, fuzz.ca = files.cert, files.key, None, pki.ca_cert
    return run_fuzz(fuzz, url).report


def _load(settings: MarketSimSettings, url: str, pki: DevPKI | None) -> RunReport:
    """A window-close burst with the default SLOs, and the integrity check of what it wrote."""
    from harness.config.participants import Participant, dev_participants
    from harness.load.integrity import add_to_report, check_integrity
    from harness.load.runner import run_load
    from harness.load.settings import LoadSettings
    from harness.load.slo import default_slo_file

    cfg = settings.cfg if pki is None else replace(settings.cfg, ca=pki.ca_cert, sandbox_pki=pki.directory)
    load = LoadSettings(cfg=cfg, slo=default_slo_file(), allow_load=True, **LOAD_BURST)  # type: ignore[arg-type]
    if pki is not None:
        participants = dev_participants(pki.directory)
    else:
        load.max_rps = 20.0
        participants = [Participant(settings.participants[0], cfg.cert, cfg.key, cfg.pfx,
                                        "CRRSIM_PFX_PASSWORD" if cfg.pfx else None)]
    outcome = run_load(load, url, settings.out / "load", participants)
    if pki is not None:
        outcome.integrity = check_integrity(outcome.recording.writes, participants, url, pki.ca_cert)
    add_to_report(outcome, checked=pki is not None)
    return outcome.report


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
        if settings.runs("scenarios"):
            say("structured Market Sim plan: running the Gherkin scenarios ...")
            scenarios = _scenarios(settings, url, pki)
            say(f"structured plan: {scenarios.verdict} {scenarios.counts()}")
        else:
            notes.append("The structured plan was not run (skipped).")
        parts: dict[str, RunReport] = {}
        if settings.runs("fuzz"):
            if pki is not None:
                _fresh_plan(url, pki)
            say(f"fuzz: every service, {FUZZ_EXAMPLES} cases per operation and phase"
                + ("" if pki is not None else ", read-only (a shared environment)") + " ...")
            parts["fuzz"] = _fuzz(settings, url, pki)
            say(f"fuzz: {parts['fuzz'].verdict} {parts['fuzz'].counts()}")
        else:
            notes.append("The fuzz was not run (skipped).")
        if settings.runs("load") and (pki is not None or settings.allow_load):
            if pki is not None:
                _fresh_plan(url, pki)
            say(f"load: a window-close burst ({LOAD_BURST['run_time']:g} s, peak {LOAD_BURST['arrival_rate']:g} "
                "arrivals/s) with the default SLOs ...")
            parts["load"] = _load(settings, url, pki)
            say(f"load: {parts['load'].verdict} {parts['load'].counts()}")
        elif settings.runs("load"):
            notes.append("No load was sent: a shared environment is loaded only with --allow-load.")
        else:
            notes.append("The load burst was not run (skipped).")
    report = merge_reports(url, probes, scenarios, started, notes, parts)
    files = {
        "html": settings.out / "marketsim.html",
        "json": settings.out / "marketsim.json",
        "junit": settings.out / "marketsim.xml",
    }
    write_html(report, files["html"])
    write_json(report, files["json"])
    write_junit(report, files["junit"])
    return MarketSimOutcome(report=report, files=files)
