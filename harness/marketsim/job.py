"""Run the main job: sandbox (when it is the target), the connectivity probe for each
participant, the structured plan, a short fuzz of every service, a window-close load burst.

Against the sandbox the job starts a fresh sandbox database each run, so results are
reproducible; the dev PKI under ``certs/dev`` is kept between runs (making keys is the slow
part and nothing in it changes). Against Map-Stage or production every part keeps its own safe
defaults: the probe reads, the plan and the fuzz are read-only unless writes were allowed, and
no load is sent without --allow-load. The job runs the runners; it re-implements none of them.
"""

from __future__ import annotations

import contextlib
import shlex
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.client.control import fresh_plan_week
from harness.client.targets import TargetKind, describe_target
from harness.config import CrrsimConfig
from harness.events import Emit, Note, RunFinished, Runner, RunStarted, ignore, in_part
from harness.load.settings import SHARED_RATE
from harness.marketsim.merge import Part, merge_reports
from harness.pki import DevPKI, ensure_dev_pki
from harness.probe import ProbeResult, ProbeSettings
from harness.probe.scorecard import run_scorecard, scorecard_sections
from harness.reports import Gap, RunReport, could_not_run
from harness.scenarios.settings import ScenarioSettings

SANDBOX_PARTICIPANTS = ("ECAL", "WCAL")
PARTS = ("probe", "scenarios", "fuzz", "load")
FUZZ_EXAMPLES = 3  # cases per operation and phase in the job's short fuzz of every service
SHARED_FUZZ_BUDGET = 300  # requests of that fuzz on a shared environment (at its 2 per second: 2.5 minutes)
# the job's load burst: the window-close profile, 10 s, peak 10 arrivals/s from a pool of 30 users
LOAD_SECONDS = 10.0
PYTEST_INTERRUPTED = 2  # pytest.ExitCode.INTERRUPTED (pytest is imported only when the plan runs)
LOAD_BURST = {"profile": "window-close", "arrival_rate": 10.0, "users": 30, "run_time": LOAD_SECONDS}


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
    slo: Path | None = None  # the load burst's SLO file (default load/slo/default.yaml)
    wait_timeout_s: float = 900.0  # off the sandbox: how long a plan step waits for the CRR team
    password: str | None = field(default=None, repr=False)  # a real environment's pfx password
    kind: TargetKind | None = None  # the judged target kind; None: not judged

    def runs(self, part: str) -> bool:
        return part not in self.skip and (part != "scenarios" or self.scenarios)

    @classmethod
    def from_config(
        cls,
        cfg: CrrsimConfig,
        *,
        participants: list[str] | None = None,
        out: Path | None = None,
        password: str | None = None,
        **job: Any,
    ) -> MarketSimSettings:
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
    def proven_sandbox(self) -> bool:
        """A URL that proved it is a crrsim sandbox (``CrrsimConfig.judged_kind``): it gets the
        sandbox's rules, with the dev PKI of ``--pki``, and no sandbox is started."""
        return not self.cfg.is_sandbox and self.kind == "sandbox"

    @property
    def out(self) -> Path:
        """Where index.html, marketsim.json and marketsim.xml go."""
        return self.out_dir or self.cfg.reports_dir

    @property
    def details(self) -> Path:
        """Each part's own reports and working files (scenario results, the load run, the
        sandbox database), under ``<out>/marketsim``."""
        return self.out / "marketsim"

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
            files = pki.files_for(sc_id)
        except LookupError as exc:
            raise ValueError(f"the dev PKI has no identity acting for {sc_id}") from exc
        return ProbeSettings.from_config(
            self.cfg, sc_id, target=url, cert=files.cert, key=files.key, pfx=None, ca=pki.ca_cert
        )

    def scenario_settings(self, url: str, pki: DevPKI | None) -> ScenarioSettings:
        cfg = self.cfg
        if pki is not None:  # the job's own sandbox: reached by URL, with its dev PKI
            cfg = replace(cfg, sandbox_pki=pki.directory)
        settings = ScenarioSettings.from_config(
            cfg,
            url=url if pki is not None else None,
            allow_writes=self.allow_writes,
            wait_timeout_s=self.wait_timeout_s,
        )
        settings.participant = self.participants[0]
        return settings


# each part's sections the index shows, by their stable keys (never their titles)
FUZZ_SHOWN = ("per-service", "business-reach")
LOAD_SHOWN = ("slos", "latency", "throughput", "crowd", "cleanup", "integrity")
PLAN_SHOWN = ("plan-grid", "plan-items")
# a part's key -> (its name in the parts table, its sections the index shows, the stem of its
# own reports, its case-group prefix)
PART_VIEWS = {
    "scenarios": ("structured plan", PLAN_SHOWN, "scenarios", "scenarios"),
    "fuzz": ("fuzz", FUZZ_SHOWN, "fuzz", ""),
}


@dataclass
class MarketSimOutcome:
    report: RunReport
    files: dict[str, Path]
    parts: list[Part] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.report.ok


@contextlib.contextmanager
def _sandbox(settings: MarketSimSettings, emit: Emit) -> Iterator[tuple[str, DevPKI | None]]:
    if settings.proven_sandbox:
        url = settings.cfg.base_url()
        emit(
            Note(
                text=f"{url} is a crrsim sandbox (it answered its control plane to the operator of "
                f"{settings.pki_dir}): the sandbox's rules apply, and each part starts from a fresh plan week there"
            )
        )
        yield url, ensure_dev_pki(settings.pki_dir)
        return
    if not settings.is_sandbox:
        yield settings.target, None
        return
    from harness.sandbox.launch import embedded

    db = settings.details / "sandbox.db"
    emit(Note(text=f"starting the embedded sandbox (PKI {settings.pki_dir}, database {db}) ..."))
    # the plan's scenarios drive the clock from the plan's start; the later parts each begin
    # with a fresh plan week (fresh_plan_week), as `crrsim fuzz` and `crrsim load` do
    with embedded(settings.pki_dir, settings.specs, db=db, plan_week=False, prefix="marketsim") as (url, pki):
        emit(Note(text=f"sandbox listening at {url}"))
        try:
            yield url, pki
        finally:
            emit(Note(text="sandbox stopped"))


def _own_reports(settings: MarketSimSettings, report: RunReport, stem: str) -> dict[str, str]:
    """A part's own HTML and JSON beside the index (in ``marketsim/``), as links relative to it."""
    from harness.reports.handlers import write_html, write_json

    write_html(report, settings.details / f"{stem}.html")
    write_json(report, settings.details / f"{stem}.json")
    base = settings.details.relative_to(settings.out).as_posix()
    return {"HTML": f"{base}/{stem}.html", "JSON": f"{base}/{stem}.json"}


def _connectivity(
    settings: MarketSimSettings, url: str, pki: DevPKI | None, emit: Emit
) -> tuple[list[Part], list[ProbeResult]]:
    """The readiness scorecard of ``crrsim probe --participants``, one part per participant."""
    probes = [settings.probe_settings(url, sc_id, pki) for sc_id in settings.participants]
    _scorecard, results = run_scorecard(probes, in_part(emit, "connectivity"))
    parts = []
    for result in results:
        report = result.to_report()  # once: the part and its own reports show the same one
        sc = result.settings.participant
        seconds = ((result.finished_at or result.started_at) - result.started_at).total_seconds()
        parts.append(
            Part(f"connectivity {sc}", report, seconds, links=_own_reports(settings, report, f"probe-{sc}"))
        )
    return parts, results


def _scenarios(settings: MarketSimSettings, url: str, pki: DevPKI | None, emit: Emit) -> RunReport:
    from harness.scenarios.runner import run

    results = settings.details / "scenarios"
    # pytest's own terminal output goes to a log beside the results: the job shows progress itself
    with (
        (settings.details / "scenarios.log").open("w", encoding="utf-8") as log,
        contextlib.redirect_stdout(log),
    ):
        plan = run(
            settings.scenario_settings(url, pki),
            results,
            extra=["-q", *settings.scenario_args],
            emit=in_part(emit, "scenarios"),
        )
    report = plan.report
    if report is None:
        raise RuntimeError(
            f"the plan wrote no results to read (its log: {settings.details / 'scenarios.log'})"
        )
    if plan.code == PYTEST_INTERRUPTED:  # pytest caught the Ctrl+C: what ran is kept, the rest is said
        ran = len(report.cases)
        report.gaps.append(
            Gap(
                f"The plan was interrupted after {ran} of {plan.selected} scenarios; "
                f"{plan.selected - ran} never ran",
                "run it again: crrsim marketsim --only scenarios",
            )
        )
        report.judge_by_cases()
        raise Interrupted(report, "scenarios")
    return report


def _fuzz(settings: MarketSimSettings, url: str, pki: DevPKI | None, emit: Emit) -> RunReport:
    """A short fuzz of every service: read-only off the sandbox (the fuzz's own safe defaults)."""
    from harness.fuzz.runner import run_fuzz
    from harness.fuzz.settings import FuzzSettings

    cfg = settings.cfg if pki is None else replace(settings.cfg, sandbox_pki=pki.directory)
    fuzz = FuzzSettings.from_config(
        cfg,
        max_examples=FUZZ_EXAMPLES,
        phases=("examples", "coverage", "fuzzing"),
        password=settings.password,
    )
    if (
        pki is None
    ):  # a shared environment: the fuzz's own 2 req/s, and short: no coverage sweep, a small budget
        fuzz.phases, fuzz.max_requests = ("examples", "fuzzing"), SHARED_FUZZ_BUDGET
    fuzz.participant = settings.participants[0]
    if pki is not None:
        files = pki.files_for(fuzz.participant)
        fuzz.cert, fuzz.key, fuzz.pfx, fuzz.ca = files.cert, files.key, None, pki.ca_cert
    outcome = run_fuzz(fuzz, url, emit=in_part(emit, "fuzz"))
    if outcome.interrupted:  # schemathesis caught the Ctrl+C itself: the job stops here all the same
        raise Interrupted(outcome.report, "fuzz")
    return outcome.report


def _load(settings: MarketSimSettings, url: str, pki: DevPKI | None, emit: Emit) -> RunReport:
    """A window-close burst gated by its SLOs (--slo, else the default file), with the integrity
    check and clean-up ``crrsim load`` does (``harness.load.run``: the same run)."""
    from harness.config.participants import Participant, dev_participants
    from harness.load import cleanup
    from harness.load.run import run
    from harness.load.runner import password_variables
    from harness.load.settings import SHARED_RATE, LoadSettings
    from harness.load.slo import default_slo_file

    cfg = settings.cfg if pki is None else replace(settings.cfg, ca=pki.ca_cert, sandbox_pki=pki.directory)
    load = LoadSettings(cfg=cfg, slo=settings.slo or default_slo_file(), allow_load=True, **LOAD_BURST)  # type: ignore[arg-type]
    load.kind = settings.kind
    secrets: dict[str, str] = {}
    if pki is not None:
        participants = dev_participants(pki.directory)
    else:
        load.max_rps = SHARED_RATE
        participants = [Participant.from_config(cfg, settings.participants[0])]
        # the password asked for once at the start (or $CRRSIM_PFX_PASSWORD) reaches locust by a
        # variable of its own, never its command line
        participants, secrets = password_variables(
            participants, {participants[0].sc: settings.password} if settings.password else {}
        )
        emit(Note(text=cleanup.notice(settings.target, allow_trades=False)))
    read_back = pki.ca_cert if pki is not None else None
    outcome = run(
        load,
        url,
        settings.details / "load",
        participants,
        secrets,
        read_back_ca=read_back,
        emit=in_part(emit, "load"),
    )
    return outcome.report


def _timed(
    name: str, key: str, emit: Emit, work: Callable[[], RunReport], url: str = ""
) -> tuple[RunReport, float]:
    """Run one part (its runner emits its own events under ``key``); a part that cannot run
    (locust cannot open a certificate, a runner's process dies) becomes an error in the report,
    said as the part's end, so the parts that did run keep their results and the page still
    gets written."""
    clock = time.monotonic()
    try:
        report = work()
    except (OSError, ValueError, RuntimeError) as exc:
        report = could_not_run(
            name, url, str(exc), "fix what the sentence names, then run the job again (or --only that part)"
        )
        emit(RunFinished(part=key, report=report, seconds=time.monotonic() - clock))
    return report, time.monotonic() - clock


class Interrupted(KeyboardInterrupt):
    """Ctrl+C (or SIGTERM, which the command turns into one) while a part ran; ``report`` is
    what that part had done (the scenarios that ran), when it kept anything."""

    def __init__(self, report: RunReport | None = None, part: str = "") -> None:  # part: its stable key
        super().__init__()
        self.report, self.part = report, part


def run_marketsim(settings: MarketSimSettings, emit: Emit = ignore) -> MarketSimOutcome:
    """Every part in turn; an interruption ends the run early but never loses it: the parts
    that ran keep their results, the part under way keeps what it had done, and the report,
    INCOMPLETE, says where it stopped and what never ran."""
    from harness.reports.handlers import write_html, write_json, write_junit

    started, clock = datetime.now(UTC), time.monotonic()
    emit(RunStarted(runner=Runner.MARKETSIM, title="Market Sim rehearsal", target=settings.target))
    settings.details.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    parts: list[Part] = []
    probes: list[ProbeResult] = []
    stopped: list[Gap] = []
    with _sandbox(settings, emit) as (url, pki):
        try:
            _parts(settings, url, pki, emit, parts, probes, notes)
        except KeyboardInterrupt as stop:
            partial = stop.report if isinstance(stop, Interrupted) else None
            if partial is not None and isinstance(stop, Interrupted):
                name, shown, stem, prefix = PART_VIEWS[stop.part]
                parts.append(
                    Part(name, partial, 0.0, shown, _own_reports(settings, partial, stem), prefix=prefix)
                )
            done = {p.name.split()[0] for p in parts}
            left = [
                name
                for name, part in (
                    ("connectivity", "probe"),
                    ("structured plan", "scenarios"),
                    ("fuzz", "fuzz"),
                    ("load", "load"),
                )
                if settings.runs(part) and name.split()[0] not in done
            ]
            stopped.append(
                Gap(
                    "The rehearsal was interrupted" + (f"; never ran: {', '.join(left)}" if left else ""),
                    "run it again (or --only the parts that did not run)",
                )
            )
            emit(Note(text="interrupted: writing the report of what ran"))
    lead = [replace(s, title=f"Connectivity: {s.title}") for s in scorecard_sections(probes)]
    report = merge_reports(url, parts, started, notes, lead, stopped)
    report.tested = describe_target(settings.cfg.target, settings.kind or settings.cfg.target_kind)
    _reproducible(report, settings)
    files = {
        "html": settings.out / "index.html",
        "json": settings.out / "marketsim.json",
        "junit": settings.out / "marketsim.xml",
    }
    write_html(report, files["html"])
    write_json(report, files["json"])
    write_junit(report, files["junit"])
    emit(RunFinished(report=report, seconds=time.monotonic() - clock))
    return MarketSimOutcome(report=report, files=files, parts=parts)


def _parts(
    settings: MarketSimSettings,
    url: str,
    pki: DevPKI | None,
    emit: Emit,
    parts: list[Part],
    probes: list[ProbeResult],
    notes: list[str],
) -> None:
    """The parts in turn, each appended to ``parts`` as it finishes (so an interruption keeps them)."""
    connectivity, results = _connectivity(settings, url, pki, emit)
    parts += connectivity
    probes += results
    if settings.runs("scenarios"):
        report, seconds = _timed(
            "structured plan", "scenarios", emit, lambda: _scenarios(settings, url, pki, emit), url
        )
        parts.append(
            Part(
                "structured plan",
                report,
                seconds,
                PLAN_SHOWN,
                _own_reports(settings, report, "scenarios"),
                prefix="scenarios",
            )
        )
        if pki is None and not settings.allow_writes:
            notes.append(
                "The structured plan ran read-only: steps that submit data were skipped "
                "(--allow-writes lets them run on a shared environment)."
            )
    else:
        notes.append("The structured plan was not run (skipped).")
    if settings.runs("fuzz"):
        if pki is not None:
            fresh_plan_week(url, pki)  # the plan moved the clock: start where `crrsim fuzz` does
        else:
            notes.append(
                f"The fuzz sent read operations only, at most {SHARED_FUZZ_BUDGET} requests at 2 per second "
                "(a shared environment)."
            )
        report, seconds = _timed("fuzz", "fuzz", emit, lambda: _fuzz(settings, url, pki, emit), url)
        parts.append(Part("fuzz", report, seconds, FUZZ_SHOWN, _own_reports(settings, report, "fuzz")))
    else:
        notes.append("The fuzz was not run (skipped).")
    if settings.runs("load") and (pki is not None or settings.allow_load):
        if pki is not None:
            fresh_plan_week(url, pki)
        else:
            notes.append(
                f"The load burst was sent to a shared environment (--allow-load), capped at {SHARED_RATE:g} req/s."
            )
        emit(
            Note(
                text=f"load: a window-close burst ({LOAD_BURST['run_time']:g} s, peak "
                f"{LOAD_BURST['arrival_rate']:g} arrivals/s) with "
                + (f"the SLOs of {settings.slo.name}" if settings.slo else "the default SLOs")
            )
        )
        report, seconds = _timed("load", "load", emit, lambda: _load(settings, url, pki, emit), url)
        parts.append(Part("load", report, seconds, LOAD_SHOWN, _own_reports(settings, report, "load")))
    elif settings.runs("load"):
        notes.append("No load was sent: a shared environment is loaded only with --allow-load.")
    else:
        notes.append("The load burst was not run (skipped).")


def _reproducible(report: RunReport, settings: MarketSimSettings) -> None:
    """A failing plan item's reproduction names this run's target, so it can be pasted."""
    if settings.is_sandbox:
        return
    target = settings.target
    # --env takes a URL too; --url would name a running sandbox, whose reset is no reproduction
    where = f" --env {shlex.quote(target)}"
    if settings.proven_sandbox:  # a sandbox of one's own: driven again through its control plane
        where = f" --url {shlex.quote(target)} --pki {shlex.quote(str(settings.pki_dir))}"
    for finding in report.findings:
        if finding.reproduce.startswith("crrsim scenarios"):
            finding.reproduce += where
