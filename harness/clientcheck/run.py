"""One client check, whole: the judging sandbox up, the participant told where it is, their
client watched until it stops, then the scorecard, as events.

``crrsim client-check`` calls :func:`run`. The sandbox is the embedded one (mTLS, the plan set
up, its clock at the script's plan day) started with ``--judge``: it misbehaves on the script's
schedule and writes what it saw; the judge (``rules.judge``) reads only that record, so no agent
runs in the participant's client.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from harness.client import ClientIdentity, CRRClient
from harness.client.control import ControlPlane, plan_day_time
from harness.clientcheck.rules import Context, Verdict, judge
from harness.config import CrrsimConfig
from harness.config.clientscript import ClientScript, Seen
from harness.contract import load_catalogue
from harness.events import CaseFinished, Emit, Figures, Note, RunFinished, Runner, RunStarted, ignore
from harness.pki import DevPKI, ensure_dev_pki
from harness.pki.facts import fingerprint
from harness.pki.identities import DEV_IDENTITIES
from harness.pki.loading import load_pfx
from harness.reports.model import CaseResult, CaseStatus, Gap, RunReport, Section
from harness.sandbox.launch import RunningSandbox, start_sandbox

HOST = "localhost"  # a name, so the client sends SNI as it must to CAISO (the dev certificate has it)
SEEN_FILE = "seen.ndjson"
HANDSHAKES = 5
STATUS = {
    "PASS": CaseStatus.PASSED,
    "FAIL": CaseStatus.FAILED,
    "NOT EXERCISED": CaseStatus.SKIPPED,
    "ERROR": CaseStatus.ERROR,
}


class CheckError(RuntimeError):
    """The check could not start (a certificate that does not open, a port in use); a sentence."""


@dataclass
class CheckSettings:
    cfg: CrrsimConfig
    script: ClientScript
    participant: str = "ECAL"
    run_dir: Path = Path("reports/client-check")
    pfx: Path | None = None  # the participant's own certificate (None: the dev identity)
    pfx_password: str | None = field(default=None, repr=False)
    duration: float | None = None  # stop after this many seconds
    until_idle: float | None = None  # stop once the client was silent this long (after its first call)
    port: int = 0  # 0: a free port (the URL says which)


@dataclass(frozen=True)
class Rehearsal:
    """What the participant points their client at."""

    url: str
    ca: Path
    participant: str
    certificate: str  # in words: their pfx, or the dev identity's files
    day: str
    script: str

    def instructions(self) -> list[str]:
        return [
            f"Point your client at {self.url}",
            f"  trust the CA in {self.ca}",
            f"  client certificate: {self.certificate}",
            f"  act as {self.participant}; the sandbox clock is at plan day {self.day}",
            f"  script: {self.script}",
        ]


@dataclass
class CheckOutcome:
    report: RunReport
    verdicts: list[Verdict]
    seen: list[Seen]


def run(
    settings: CheckSettings,
    emit: Emit = ignore,
    *,
    on_ready: Callable[[Rehearsal], None] = lambda _r: None,
    stop: threading.Event | None = None,
) -> CheckOutcome:
    """Serve, watch, judge. Returns when ``stop`` is set, ``duration`` passed, the client was idle
    ``until_idle`` seconds, or on Ctrl+C (KeyboardInterrupt is the participant saying "done")."""
    clock = time.monotonic()
    began = datetime.now(UTC)
    stop = stop or threading.Event()
    script = settings.script
    emit(
        RunStarted(
            runner=Runner.CLIENT_CHECK, title="client check", target=f"{settings.participant}'s client"
        )
    )
    _check_flow(settings)
    pki = ensure_dev_pki(settings.cfg.sandbox_pki)
    run_dir = settings.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    seen_path = run_dir / SEEN_FILE
    seen_path.unlink(missing_ok=True)
    expected, cert_words, trust, provisioning = _identity(settings, pki, run_dir)
    with _judging_sandbox(settings, pki, run_dir, seen_path, trust, provisioning) as running:
        handshake_ms = _handshake_ms(running.port, pki, settings.participant)
        rehearsal = Rehearsal(
            url=f"https://{HOST}:{running.port}/crr",
            ca=pki.ca_cert,
            participant=settings.participant,
            certificate=cert_words,
            day=script.day,
            script=script.source,
        )
        emit(
            Note(
                text=f"judging sandbox ready at {rehearsal.url}; watching for {settings.participant}'s client"
            )
        )
        on_ready(rehearsal)
        started = time.monotonic()
        how = _wait(settings, seen_path, stop, emit)
        watched = time.monotonic() - started
    seen = read_seen(seen_path)
    ctx = Context(
        script=script,
        sc_ids=frozenset({settings.participant}),
        expected_cert=expected,
        host=HOST,
        handshake_ms=handshake_ms,
    )
    verdicts = judge(seen, ctx)
    report = _report(settings, verdicts, seen, ctx, how, watched, rehearsal)
    report.started_at, report.finished_at = began, datetime.now(UTC)
    for i, case in enumerate(report.cases, 1):
        emit(CaseFinished(case=case, completed=i))
    emit(RunFinished(report=report, seconds=time.monotonic() - clock))
    return CheckOutcome(report, verdicts, seen)


def read_seen(path: Path) -> list[Seen]:
    """The judging sandbox's records (its ``arrived`` marks are for the idle clock only)."""
    out = []
    with contextlib.suppress(FileNotFoundError), path.open(encoding="utf-8") as fh:
        for text in fh:
            with contextlib.suppress(ValueError):
                data = json.loads(text)
                if isinstance(data, dict) and "t0" in data:
                    out.append(Seen.from_dict(data))
    return out


def _check_flow(settings: CheckSettings) -> None:
    """A flow step naming no operation of the contract is the script's mistake: said up front."""
    ops = {(s.name, o.operation_id) for s in load_catalogue(settings.cfg.specs) for o in s.operations}
    for step in settings.script.flow:
        if (step.service, step.operation) not in ops:
            raise CheckError(
                f"{settings.script.source}: flow step {step.step!r} names {step.service} {step.operation}, "
                "which the contract does not have"
            )


def _identity(
    settings: CheckSettings, pki: DevPKI, run_dir: Path
) -> tuple[str, str, Path | None, Path | None]:
    """(expected certificate's SHA-256, the certificate in words, trust file, provisioning file).
    A participant's own pfx is trusted as it is (its issuer when the pfx carries it, else the
    certificate itself) and provisioned for their SC ID; its password never leaves memory."""
    if settings.pfx is None:
        files = pki.files_for(settings.participant)
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        words = f"{files.pfx} (password in {pki.password_file}), or {files.cert} + {files.key}"
        return cert.fingerprint(hashes.SHA256()).hex(), words, None, None
    try:
        _key, cert, chain = load_pfx(settings.pfx, settings.pfx_password)
    except Exception as exc:  # noqa: BLE001 - any reason the pfx does not open is said as it is
        raise CheckError(f"{settings.pfx}: {exc}") from None
    trust = run_dir / "trust.pem"
    trust.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (chain or [cert])))
    cn = next((str(a.value) for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)), None)
    if not cn:
        raise CheckError(f"{settings.pfx}: its certificate has no subject CN to recognise it by")
    table = {
        i.name: {"sc_ids": list(i.sc_ids), "access": i.access, "services": list(i.services), "role": i.role}
        for i in DEV_IDENTITIES
    }
    table[cn] = {"sc_ids": [settings.participant], "access": "rw"}
    provisioning = run_dir / "provisioning.yaml"
    provisioning.write_text(json.dumps(table, indent=1))  # JSON is YAML
    words = f"your {settings.pfx} (CN={cn}, SHA-256 {fingerprint(cert)})"
    return cert.fingerprint(hashes.SHA256()).hex(), words, trust, provisioning


@contextlib.contextmanager
def _judging_sandbox(
    settings: CheckSettings,
    pki: DevPKI,
    run_dir: Path,
    seen: Path,
    trust: Path | None,
    provisioning: Path | None,
) -> Iterator[RunningSandbox]:
    script_file = run_dir / "script.yaml"  # what was judged by, beside the scorecard
    script_file.write_text(settings.script.to_yaml(), encoding="utf-8")
    try:
        running = start_sandbox(
            pki.directory,
            run_dir / "sandbox.db",
            port=settings.port,
            specs=settings.cfg.specs,
            provisioning=provisioning,
            fresh=True,
            judge=script_file,
            observe=seen,
            trust=trust,
        )
    except Exception as exc:
        raise CheckError(f"the judging sandbox did not start: {exc}") from None
    try:
        operator = pki.identities["operator"]
        with CRRClient(
            running.url, identity=ClientIdentity.from_pem(operator.cert, operator.key), ca=pki.ca_cert
        ) as client:
            plane = ControlPlane(client)
            plane.reset()
            plane.set_clock(plan_day_time(settings.script.day))
        yield running
    finally:
        running.stop()


def _handshake_ms(port: int, pki: DevPKI, participant: str) -> float | None:
    """The median cost of one full TLS handshake with this sandbox (what a client that opens a
    connection per request pays each time, before any network latency)."""
    files = pki.files_for(participant)
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    ctx.load_cert_chain(str(files.cert), str(files.key))
    times = []
    for _ in range(HANDSHAKES):
        start = time.perf_counter()
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                ctx.wrap_socket(raw, server_hostname=HOST),
            ):
                times.append((time.perf_counter() - start) * 1000)
        except (OSError, ssl.SSLError):
            return None
    return statistics.median(times)


def _wait(settings: CheckSettings, seen: Path, stop: threading.Event, emit: Emit) -> str:
    """Until a stop rule ends the watch; which one, in words."""
    start = time.monotonic()
    tally = _Tally(seen)
    last_change, figures_at = start, 0.0
    try:
        while True:
            now = time.monotonic()
            if stop.is_set():
                return "stopped"
            if settings.duration is not None and now - start >= settings.duration:
                return f"--duration {settings.duration:g} s passed"
            if tally.read():
                last_change = now
            if (
                settings.until_idle is not None
                and tally.arrived
                and tally.arrived == tally.answered
                and now - last_change >= settings.until_idle
            ):
                return f"the client was idle for {settings.until_idle:g} s"
            if now - figures_at >= 1.0:
                figures_at = now
                emit(Figures(completed=0, text=f"{tally.answered} requests seen, {now - start:.0f} s"))
            stop.wait(0.1)
    except KeyboardInterrupt:
        return "stopped with Ctrl+C"


class _Tally:
    """Requests arrived and answered so far, read from the judging sandbox's record as it grows
    (only the new bytes each time; a line still being written waits for its end)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""
        self.arrived = self.answered = 0

    def read(self) -> bool:
        """Take in what was appended since the last read; whether anything was."""
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                new = fh.read()
        except FileNotFoundError:
            return False
        if not new:
            return False
        self.offset += len(new)
        *lines, self.partial = (self.partial + new).split(b"\n")
        for text in lines:
            if text.startswith(b'{"arrived"'):
                self.arrived += 1
            elif text.startswith(b"{"):
                self.answered += 1
        return True


def _report(
    settings: CheckSettings,
    verdicts: list[Verdict],
    seen: list[Seen],
    ctx: Context,
    how: str,
    watched: float,
    rehearsal: Rehearsal,
) -> RunReport:
    cases = [
        CaseResult(
            group=v.group,
            name=v.title,
            status=STATUS[v.outcome],
            message=f"{v.outcome}: {v.summary}",
            details=("Likely fix: " + v.fix + "\n" if v.fix else "") + "\n".join(v.evidence),
            data={"key": v.key, "outcome": v.outcome, "evidence": v.evidence, "fix": v.fix},
        )
        for v in verdicts
    ]
    gaps = [
        Gap(what=f"{v.title}: NOT EXERCISED ({v.summary})", cover=_cover(v))
        for v in verdicts
        if v.outcome == "NOT EXERCISED"
    ]
    conns = len({s.conn for s in seen})
    gone = [s.client_gone_after for s in seen if s.fault == "slow" and s.client_gone_after is not None]
    facts = {
        "requests seen": str(len(seen)),
        "TLS connections": str(conns),
        "watched for": f"{watched:.1f} s ({how})",
        "plan day": settings.script.day,
        "fault schedule seed": str(settings.script.schedule.seed),
        "faults sent": ", ".join(s.fault for s in seen if s.fault) or "none",
        "TLS handshake cost here": f"{ctx.handshake_ms:.1f} ms"
        if ctx.handshake_ms is not None
        else "not measured",
        "client timeout (slow answer)": (
            f"gave up after {gone[0]:.2f} s"
            if gone
            else "waited the whole slow answer"
            if any(s.fault == "slow" for s in seen)
            else "not measured"
        ),
        "URL given": rehearsal.url,
        "script": settings.script.source,
    }
    counts = {o: sum(1 for v in verdicts if v.outcome == o) for o in STATUS}
    report = RunReport(
        runner=Runner.CLIENT_CHECK.value,
        title=f"Client check: {settings.participant}'s B2B client",
        target=rehearsal.url,
        verdict="",
        ok=False,
        cases=cases,
        sections=[
            Section(title="What the sandbox saw", facts=facts, key="client-seen"),
            Section(
                title="Scorecard",
                key="scorecard",
                rows=[{"expectation": v.title, "result": v.outcome, "evidence": v.summary} for v in verdicts],
                text=[
                    f"{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['NOT EXERCISED']} NOT EXERCISED"
                    + (f", {counts['ERROR']} ERROR (the sandbox's own)" if counts["ERROR"] else "")
                ],
            ),
        ],
        meta={"participant": settings.participant, "script": settings.script.to_dict(), "stopped": how},
        gaps=gaps,
        tested=f"{settings.participant}'s client against the judging sandbox",
    )
    return report.judge_by_cases()


def _cover(v: Verdict) -> str:
    if v.group == "flow":
        return "run this step in the client's flow, or take it out of the script's flow (--script)"
    if v.group in ("faults", "drift"):
        return (
            "run a longer flow (more calls of this kind), or set the schedule's first/every lower (--script)"
        )
    return "run the client's flow against the check"
