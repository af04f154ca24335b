"""Run locust as a subprocess on ``load/locustfile.py``, then judge what it recorded.

locust brings the users, the shapes, master/worker distribution, its web UI and its HTML/CSV;
crrsim adds the participants' certificates, the profile as data, exact HDR percentiles merged
across workers, SLO gates, the integrity check of the sandbox's acknowledged writes, and its
own report (JSON, JUnit, HTML) from one model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.config.participants import Participant
from harness.contract import Catalogue, load_catalogue
from harness.load.contention import CoreShares
from harness.load.hdr import LATE_S, Recording, Tally
from harness.load.profiles import Profile, load_profile
from harness.load.settings import LoadSettings
from harness.load.slo import LIMITS, Verdict, evaluate, load_slos
from harness.reports.model import CaseResult, CaseStatus, Finding, Gap, RunReport, Section

# the operations the users call (locustfile keys): service -> operationIds
CALLED = {
    "market_status": (
        "getActiveAuctionMarkets",
        "getActiveAllocationMarkets",
        "getPostedAuctionMarkets",
        "getMarketStatus",
        "getMarketInfo",
    ),
    "auction": ("portfolioCreation", "portfolioSubmission"),
    "nomination": ("portfolioCreation", "portfolioSubmission"),
    "historical_forecasted_load": ("getOpenForecastLoadSubmissionWindowList", "postLoadSubmission"),
    "secondary_market": (
        "postPublicSmBuyOffers",
        "postPrivateSmSellOffers",
        "getMySmResponsesByStatus",
        "postSmResponseToSellOffers",
    ),
    "market_data": (
        "getPublicMarketData",
        "getPublicGeneralData",
        "getPublicAuctionResult",
        "getPrivateAuctionResult",
        "getPrivateGeneralData",
    ),
    "messages": ("publicMessages",),
}


class LoadRunError(RuntimeError):
    """locust could not run or wrote nothing; the message says what it printed."""


@dataclass
class LoadOutcome:
    report: RunReport
    recording: Recording
    verdicts: list[Verdict]
    integrity: list[str] = field(default_factory=list)  # problems found; empty when clean or not checked
    run_dir: Path | None = None

    @property
    def slo_breached(self) -> bool:
        """An SLO judged and breached (a breach left unjudged, see ``build_report``, is not one)."""
        return any(c.group == "slo" and c.status is CaseStatus.FAILED for c in self.report.cases)


def locustfile() -> Path:
    """``load/locustfile.py`` of a source checkout, or its copy inside an installed wheel."""
    checkout = Path(__file__).resolve().parents[2] / "load" / "locustfile.py"
    return (
        checkout
        if checkout.is_file()
        else Path(__file__).resolve().parents[1] / "_plan" / "load" / "locustfile.py"
    )


def operation_paths(catalogue: Catalogue) -> tuple[dict[str, str], str, dict[str, str]]:
    """("service.operationId" -> path) for every call the users make, the app status key, and
    each call's Accept (what the contract declares its answers to be)."""
    ops = {
        f"{service}.{operation_id}": catalogue[service].operation(operation_id)
        for service, operation_ids in CALLED.items()
        for operation_id in operation_ids
    }
    status_op = catalogue["app_status"].operations[0]
    key = f"app_status.{status_op.operation_id}"
    ops[key] = status_op
    return {k: op.path for k, op in ops.items()}, key, {k: op.accept for k, op in ops.items()}


def interval_for(duration: float) -> float:
    """Seconds per chart point: about 60 to 120 points whatever the length of the run."""
    for step in (1.0, 2.0, 5.0, 10.0, 30.0, 60.0):
        if duration / step <= 120:
            return step
    return 300.0


def build_config(
    settings: LoadSettings,
    url: str,
    profile: Profile,
    run_dir: Path,
    run_id: str,
    participants: list[Participant],
) -> dict[str, Any]:
    paths, status_key, accept = operation_paths(load_catalogue(settings.cfg.specs))
    return {
        "base_url": url,
        "ca": str(settings.cfg.ca_path()) if settings.cfg.ca_path() else None,
        "participants": [p.wire() for p in participants],
        "profile": profile.to_dict(),
        "paths": paths,
        "accept": accept,
        "app_status": status_key,
        "interval_s": interval_for(profile.duration),
        "run_id": run_id,
        "results": str(run_dir / "results.json"),
        "progress": str(run_dir / PROGRESS_FILE),
        "raw_dir": str(settings.raw_dir) if settings.raw_dir else None,
        "max_rps": settings.max_rps,
        "abort_on_fail": settings.abort_on_fail,
        "allow_trades": settings.target_kind == "sandbox" or settings.allow_trades,
        "slos": [slo.wire() for slo in (load_slos(settings.slo) if settings.slo else [])],
    }


def locust_command(settings: LoadSettings, config_url: str, run_dir: Path) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile()),
        "--host",
        config_url,
        "--html",
        str(run_dir / "locust.html"),
        "--csv",
        str(run_dir / "locust"),
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    if settings.ui:
        cmd += ["--autostart", "--autoquit", "10", "--web-host", "127.0.0.1"]
    else:
        cmd += ["--headless", "--only-summary"]
    if settings.worker:
        return [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile()),
            "--worker",
            "--master-host",
            str(settings.master_host),
            "--loglevel",
            "WARNING",
        ]
    if settings.master:
        cmd += ["--master", "--expect-workers", str(settings.expect_workers)]
    elif settings.processes > 1:
        cmd += ["--processes", str(settings.processes)]
    return cmd


PROGRESS_FILE = "progress.ndjson"  # the locustfile's live figures, one JSON line per half second


def live_progress(channel: Path) -> tuple[float, str] | None:
    """(seconds into the test, '6 users, 54 req/s, 461 requests, 0 failed') from the last line the
    locustfile wrote to its progress channel; None before the test starts. The locustfile counts
    from the test's start, so a slow start (gevent and locust importing on a busy machine) never
    reads as a stalled run."""
    try:
        with channel.open("rb") as fh:
            fh.seek(max(0, channel.stat().st_size - 1024))
            last = json.loads(fh.read().decode("utf-8", "replace").strip().splitlines()[-1])
        figures = f"{last['users']} users, {last['rps']:.0f} req/s, {last['requests']} requests, {last['failures']} failed"
        return float(last["elapsed"]), figures
    except (OSError, IndexError, KeyError, TypeError, ValueError):
        return None


def run_locust(
    cmd: list[str],
    env: dict[str, str],
    duration: float,
    progress: Any = None,
    channel: Path | None = None,
    shares: CoreShares | None = None,
) -> subprocess.CompletedProcess[str]:
    """Start locust and wait for it, telling ``progress`` the seconds done and the live figures
    every half second, as the locustfile reports them on its progress ``channel``; ``shares``
    gets a sample of the machine's spare CPU about once a second while the test runs."""
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        output: list[str] = []
        import threading

        reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
        reader.start()
        try:
            ticks = 0
            while proc.poll() is None:
                live = live_progress(channel) if channel is not None else None
                if progress is not None:
                    elapsed, figures = live if live is not None else (0.0, "starting locust")
                    progress(elapsed, duration, figures)
                ticks += 1
                if shares is not None and live is not None and ticks % 2 == 0:  # the test is under way
                    shares.sample()
                time.sleep(0.5)
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait(30)
            raise
        reader.join(10)
        return subprocess.CompletedProcess(cmd, proc.returncode, "".join(output), "")


def _prepare(
    settings: LoadSettings,
    url: str,
    run_dir: Path,
    participants: list[Participant],
    secrets: dict[str, str] | None,
) -> tuple[Profile, dict[str, str]]:
    """The scaled profile, and locust's environment: the run's config file (no secret in it) and
    the pfx passwords as variables (never written anywhere)."""
    profile = load_profile(settings.profile).scaled(
        settings.users, settings.spawn_rate, settings.arrival_rate, settings.run_time
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    config = build_config(settings, url, profile, run_dir, uuid.uuid4().hex[:8], participants)
    config_file = run_dir / "locust-config.json"
    config_file.write_text(json.dumps(config, indent=1), encoding="utf-8")
    env = {**os.environ, **(secrets or {}), "CRRSIM_LOAD_CONFIG": str(config_file)}
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH")])
    )
    return profile, env


def password_variables(
    participants: list[Participant], passwords: dict[str, str]
) -> tuple[list[Participant], dict[str, str]]:
    """Each pfx password as a variable of its own for the locust process (never its command line,
    never a file), and the participants pointing at those variables."""
    found, secrets = list(participants), {}
    for n, p in enumerate(found):
        if p.sc in passwords:
            secrets[f"CRRSIM_LOAD_PASSWORD_{n}"] = passwords[p.sc]
            found[n] = Participant(p.sc, p.cert, p.key, p.pfx, f"CRRSIM_LOAD_PASSWORD_{n}")
    return found, secrets


def run_worker(
    settings: LoadSettings,
    url: str,
    run_dir: Path,
    participants: list[Participant],
    secrets: dict[str, str] | None = None,
) -> int:
    """A locust worker for a master on another machine: it sends and reports, the master judges."""
    profile, env = _prepare(settings, url, run_dir, participants, secrets)
    done = run_locust(locust_command(settings, url, run_dir), env, profile.duration)
    (run_dir / "locust.log").write_text(done.stdout, encoding="utf-8")
    return done.returncode


def run_load(
    settings: LoadSettings,
    url: str,
    run_dir: Path,
    participants: list[Participant],
    secrets: dict[str, str] | None = None,
    progress: Any = None,
) -> LoadOutcome:
    """One load run against ``url`` with ``participants``; ``secrets`` are pfx passwords as
    environment variables for the locust process (never written anywhere)."""
    slos = load_slos(settings.slo) if settings.slo else []
    profile, env = _prepare(settings, url, run_dir, participants, secrets)
    started = datetime.now(UTC)
    shares = CoreShares()
    done = run_locust(
        locust_command(settings, url, run_dir),
        env,
        profile.duration,
        progress,
        run_dir / PROGRESS_FILE,
        shares,
    )
    (run_dir / "locust.log").write_text(done.stdout, encoding="utf-8")
    results_file = run_dir / "results.json"
    if not results_file.is_file():
        said = [line[len("crrsim: ") :] for line in done.stdout.splitlines() if line.startswith("crrsim: ")]
        if said:  # the locustfile's own sentence (a certificate it cannot open)
            raise LoadRunError(said[-1])
        tail = "\n".join(done.stdout.strip().splitlines()[-15:])
        raise LoadRunError(f"locust ended (exit {done.returncode}) without results; its last lines:\n{tail}")
    results = json.loads(results_file.read_text(encoding="utf-8"))
    recording = Recording.from_wire(results["recording"])
    duration = float(results["duration_s"]) or profile.duration
    verdicts = evaluate(slos, recording, duration)
    report = build_report(settings, url, profile, recording, verdicts, results, started, shares)
    return LoadOutcome(report, recording, verdicts, run_dir=run_dir)


def _ms(value: float) -> str:
    return f"{value:.1f}"


def build_report(
    settings: LoadSettings,
    url: str,
    profile: Profile,
    recording: Recording,
    verdicts: list[Verdict],
    results: dict[str, Any],
    started: datetime,
    shares: CoreShares | None = None,
) -> RunReport:
    duration = float(results["duration_s"])
    total = recording.total()
    cases = [
        CaseResult(
            group="slo",
            name=v.slo.name,
            status=CaseStatus.PASSED if v.ok else CaseStatus.FAILED,
            message=v.message,
            data={
                "operation": v.slo.operation,
                "samples": v.samples,
                "measured": v.measured,
                "limits": v.slo.limits,
            },
        )
        for v in verdicts
    ]
    findings = [
        Finding(
            text=f"SLO '{v.slo.name}' ({v.slo.operation}) breached: {'; '.join(v.breaches)}",
            fix="compare the per-operation table and the latency over time: a queue that grows at the "
            "peak points at capacity, a flat high latency at one operation",
            where=v.slo.name,
        )
        for v in verdicts
        if not v.ok
    ]
    rows = [
        {
            "operation": name,
            "requests": str(t.count),
            "errors": str(t.errors),
            "req/s": f"{t.count / duration:.1f}" if duration else "0",
            "p50 ms": _ms(t.percentile_ms(50)),
            "p95 ms": _ms(t.percentile_ms(95)),
            "p99 ms": _ms(t.percentile_ms(99)),
            "max ms": _ms(t.max_ms()),
            "errors seen": "; ".join(t.examples),
        }
        for name, t in sorted(recording.ops.items())
    ]
    interval = float(results["interval_s"])
    timeline = [
        {
            "second": f"{index * interval:.0f}",
            "req/s": f"{t.count / interval:.1f}",
            "p50 ms": _ms(t.percentile_ms(50)),
            "p95 ms": _ms(t.percentile_ms(95)),
            "p99 ms": _ms(t.percentile_ms(99)),
            "errors": str(t.errors),
            "users": str(t.users),
            "arrivals/s": f"{t.arrivals / interval:.1f}",
        }
        for index, t in sorted(recording.buckets.items())
    ]
    facts = {
        "target": url,
        "profile": f"{profile.name} ({profile.model} model): {profile.description}",
        "duration": f"{duration:.1f} s",
        "processes": str(results.get("processes", 1)),
        "requests": str(total.count),
        "errors": f"{total.errors} ({total.errors / total.count:.2%})" if total.count else "0",
        "throughput": f"{total.count / duration:.1f} req/s" if duration else "-",
        "latency (exact, all calls)": f"p50 {_ms(total.percentile_ms(50))} ms, p95 {_ms(total.percentile_ms(95))} "
        f"ms, p99 {_ms(total.percentile_ms(99))} ms, max {_ms(total.max_ms())} ms",
        "SLOs": (
            f"{sum(v.ok for v in verdicts)} of {len(verdicts)} met ({settings.slo})"
            if verdicts
            else "none given (--slo FILE)"
        ),
    }
    if results.get("aborted"):
        facts["stopped early"] = f"--abort-on-fail: {results['aborted']}"
    if results.get("node_pairs"):
        facts["bids and buy offers on"] = str(results["node_pairs"])
    gaps: list[Gap] = []
    if shares is not None:
        facts["CPU to spare on this machine"] = shares.words()
        if settings.target_kind == "sandbox" and shares.busy:
            _unjudged(
                cases, findings, gaps, _busy_machine(shares), only=lambda case: _explained(shares, case)
            )
    if profile.model == "arrival":
        case = generator_case(profile, recording, aborted=bool(results.get("aborted")))
        cases.append(case)
        if case.status is CaseStatus.WARNING:
            busy = shares is not None and shares.busy
            gaps.append(
                Gap(
                    f"The load generator fell behind its schedule: {case.message}"
                    + (f"; this machine was busy ({shares.words()})" if busy and shares is not None else ""),
                    "run again when the machine is quieter; if it still falls behind, --users N (a larger "
                    "pool) or the generator on a machine of its own"
                    if busy
                    else "--users N (a larger pool) or --processes N, or the generator on a machine of its own",
                )
            )
            if settings.target_kind == "sandbox":
                _unjudged(cases, findings, gaps, FELL_BEHIND)
        facts["arrival rate"] = (
            f"{case.message} (peak {profile.peak_rate:g}/s); latency counted from each "
            "arrival's intended time"
        )
        if results.get("setup_s") is not None:
            facts["arrival clock"] = (
                f"started {results['setup_s']:g} s into the run, once the pool of {profile.pool} "
                "users was up and had read its markets"
            )
    buckets = sorted(recording.buckets.items())

    def line(value: Any, answered: bool = False) -> list[list[float]]:
        """One point per interval; ``answered``: only intervals that had answers (a latency of an
        idle second is not 0 ms, it is nothing, so the line does not dive to 0 after the run)."""
        return [[index * interval, round(value(t), 3)] for index, t in buckets if t.count or not answered]

    if profile.model == "arrival":
        crowd = {"arrivals sent/s": line(lambda t: t.arrivals / interval)}
        crowd_title, crowd_unit = "Arrival rate over time", "arrivals/s"
    else:
        crowd = {"users": line(lambda t: t.users)}
        crowd_title, crowd_unit = "Users over time", "users"
    slo_rows = [
        {
            "SLO": v.slo.name,
            "result": "passed" if v.ok else "failed",
            "operation": v.slo.operation,
            "samples": f"{v.samples:,}",
            "measured against the limit": "; ".join(v.breaches or v.sentences()),
        }
        for v in verdicts
    ]
    sections = [
        Section("Run", facts=facts),
        Section(
            "SLOs",
            rows=slo_rows,
            text=[] if slo_rows else ["No SLO file was given (--slo FILE)."],
            key="slos",
        ),
        Section(
            "Latency over time (exact, all calls)",
            series={f"p{p}": line(lambda t, p=p: t.percentile_ms(p), answered=True) for p in (50, 95, 99)},
            series_unit="ms",
            key="latency",
        ),
        Section(
            "Throughput over time",
            series={
                "answers/s": line(lambda t: t.count / interval),
                "errors/s": line(lambda t: t.errors / interval),
            },
            series_unit="req/s",
            key="throughput",
        ),
        Section(crowd_title, series=crowd, series_unit=crowd_unit, key="crowd"),
        Section(
            "Per operation (exact HDR percentiles)",
            rows=rows,
            chart={r["operation"]: float(r["p95 ms"]) for r in rows},
            chart_unit="ms (p95)",
        ),
        Section(f"Over time ({interval:g} s intervals)", rows=timeline),
    ]
    return RunReport(
        runner="load",
        title="CRR load and performance (locust)",
        target=url,
        verdict="",
        ok=False,
        cases=cases,
        sections=sections,
        started_at=started,
        finished_at=datetime.now(UTC),
        findings=findings,
        gaps=gaps,
        meta={
            "crrsim_version": __version__,
            "profile": profile.name,
            "requests": total.count,
            "duration_s": round(duration, 2),
            "run_id": results.get("run_id"),
        },
    ).judge_by_cases()


FELL_BEHIND = (
    "the generator fell behind on the machine the sandbox runs on",
    "the generator and the sandbox shared this machine's cores and the generator fell behind",
    "run again on a quieter machine, or with --users N",
)


def _busy_machine(shares: CoreShares) -> tuple[str, str, str]:
    return (
        f"this machine was busy: a process got {shares.median:.0%} of a core while the load ran",
        f"the sandbox ran on this machine while it was busy (a process got {shares.median:.0%} of a core), and "
        "each breach is within its limit once the missing CPU is discounted",
        "run again when the machine is quieter (other test runs, builds), or against a sandbox on a machine of its own",
    )


def _unjudged(
    cases: list[CaseResult],
    findings: list[Finding],
    gaps: list[Gap],
    why: tuple[str, str, str],
    only: Callable[[CaseResult], bool] = lambda case: True,
) -> None:
    """A sandbox on this machine shares its cores with the generator and with whatever else runs
    here: when the generator fell behind, or the machine had no CPU to spare and the breach is
    within its limit once that is discounted (``only``), a breached SLO measured the machine as
    much as the server, so it is not judged (a warning, and a gap naming why), never FAILED.
    Against Map-Stage the SLOs keep their force. ``why``: (in the case, in the gap, what to do)."""
    breached = [c for c in cases if c.group == "slo" and c.status is CaseStatus.FAILED and only(c)]
    for case in breached:
        case.status = CaseStatus.WARNING
        case.message = f"not judged ({why[0]}): {case.message}"
    findings[:] = [f for f in findings if f.where not in {c.name for c in breached}]
    if breached:
        gaps.append(
            Gap(
                f"{len(breached)} SLO breach{'es' if len(breached) > 1 else ''} not judged: "
                f"{', '.join(c.name for c in breached)}; {why[1]}",
                why[2],
            )
        )


def _explained(shares: CoreShares, case: CaseResult) -> bool:
    """Every limit this SLO case breached is one the machine's missing CPU accounts for."""
    measured, limits = case.data.get("measured", {}), case.data.get("limits", {})
    failing = [
        key
        for key, value in measured.items()
        if key in limits and (value > limits[key] if LIMITS[key][2] else value < limits[key])
    ]
    return bool(failing) and all(shares.explains(key, measured[key], limits[key]) for key in failing)


def profile_expected(profile: Profile) -> float:
    return sum(s.rate * s.duration for s in profile.stages)


def generator_case(profile: Profile, recording: Recording, *, aborted: bool = False) -> CaseResult:
    """Did the load generator deliver the schedule (k6's dropped_iterations)? Arrivals never sent,
    or sent late because every user of the pool was still waiting for an answer, mean the server
    saw less load than the profile asked for: a warning, since the SLOs were judged on what was
    sent. Its own verdict would be wrong: a slow server also makes arrivals late."""
    scheduled = round(profile_expected(profile))
    sent = sum(t.arrivals for t in recording.buckets.values())
    late = sum(t.late for t in recording.buckets.values())
    message = f"{sent} of {scheduled} scheduled arrivals sent; " + (
        f"{late} more than {LATE_S * 1000:.0f} ms late (no user of the pool of {profile.pool} was free)"
        if late
        else "all on time"
    )
    short = scheduled - sent > max(1, scheduled // 100) and not aborted
    status = CaseStatus.WARNING if short or late > max(1, sent // 10) else CaseStatus.PASSED
    hint = (
        ""
        if status is CaseStatus.PASSED
        else (
            ": the server saw less load than the profile asked for; a larger pool (--users) or more processes "
            "(--processes) keep the schedule, unless the server itself is what holds the users"
        )
    )
    return CaseResult(
        group="generator",
        name="arrivals sent on schedule",
        status=status,
        message=message + hint,
        data={"scheduled": scheduled, "sent": sent, "late": late},
    )


def percentile_of(values: list[int], pct: float) -> float:
    """A percentile of raw microsecond latencies, in ms, by HDR's rank rule (the value at rank
    ``int(pct/100 * n + 0.5)``), so the two are compared like for like."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1] / 1000


__all__ = ["LoadOutcome", "LoadRunError", "Tally", "run_load"]
