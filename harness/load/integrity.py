"""The integrity check after a load run on the sandbox: every write the target acknowledged is
read back with its participant's certificate and must be there, unchanged (the number of bids
and the paths they bid on). Load finds lost writes that no single functional test does: a
lock dropped under contention, a batch half committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.client import CRRClient, CRRTransportError
from harness.config.participants import Participant
from harness.contract import load_catalogue
from harness.reports.model import CaseResult, CaseStatus, Finding, Gap, Section


class ParticipantClients:
    """One client per participant of the run, made on first use with that participant's own
    certificate (what acknowledged a write reads it back and removes it); closed together."""

    def __init__(
        self,
        participants: list[Participant],
        url: str,
        ca: Path | None,
        passwords: dict[str, str] | None = None,
    ) -> None:
        self.by_sc = {p.sc: p for p in participants}
        self.url, self.ca, self.passwords = url, ca, passwords or {}
        self.clients: dict[str, CRRClient] = {}

    def __call__(self, sc: str) -> CRRClient:
        if sc not in self.clients:
            who = self.by_sc[sc]
            identity = who.identity(self.passwords.get(sc))
            self.clients[sc] = CRRClient(self.url, identity=identity, ca=self.ca)
        return self.clients[sc]

    def __enter__(self) -> ParticipantClients:
        return self

    def __exit__(self, *exc: object) -> None:
        for client in self.clients.values():
            client.close()


def check_integrity(
    writes: list[dict[str, Any]],
    participants: list[Participant],
    url: str,
    ca: Path | None,
    specs: Path | None = None,
) -> list[str]:
    """One sentence per acknowledged write that is missing or different; [] when all read back."""
    catalogue = load_catalogue(specs)
    paths = {
        "auction": catalogue["auction"].operation("getPortfolio").path,
        "nomination": catalogue["nomination"].operation("portfolio").path,
    }
    problems: list[str] = []
    with ParticipantClients(participants, url, ca) as client_of:
        for write in writes:
            sc = write["participant"]
            params = {
                "participantName": sc,
                "marketName": write["market"],
                "portfolioName": write["portfolio"],
            }
            try:
                answer = client_of(sc).get(paths[write["service"]], params=params)
            except CRRTransportError as exc:
                problems.append(
                    f"{write['portfolio']} ({sc}, {write['market']}) could not be read back: {exc}"
                )
                continue
            if not answer.ok:
                error = answer.error()
                problems.append(
                    f"{write['portfolio']} ({sc}, {write['market']}) was acknowledged but reads back as "
                    f"HTTP {answer.status} {','.join(error.codes) if error else ''}".rstrip()
                )
                continue
            records = _records(answer.json())
            read = sorted({f"{r.get('source')}>{r.get('sink')}" for r in records})
            if len(records) != write["records"] or read != write["paths"]:
                problems.append(
                    f"{write['portfolio']} ({sc}, {write['market']}) reads back with {len(records)} records "
                    f"on {len(read)} paths; {write['records']} records on {len(write['paths'])} paths were "
                    "acknowledged"
                )
    return problems


def _records(portfolio: Any) -> list[dict[str, Any]]:
    """The records of a portfolio read back: every object in its top-level lists (bids and
    offers, or nominations; the names differ between services and contract versions)."""
    if not isinstance(portfolio, dict):
        return []
    return [
        r for value in portfolio.values() if isinstance(value, list) for r in value if isinstance(r, dict)
    ]


UPLOADS = ("auction.portfolioCreation", "nomination.portfolioCreation")


def acknowledged_uploads(recording: Any) -> int:
    """Portfolio creations the target answered with success, as the load's own figures count them:
    what the writes handed to the check must add up to."""
    return sum(t.count - t.errors for name, t in recording.ops.items() if name in UPLOADS)


def add_to_report(outcome: Any, checked: bool) -> None:
    """The integrity check as one case, its problems as findings (a lost write fails the run). A
    check that read nothing back never passes: writes the figures saw acknowledged but that never
    reached the check fail it, and a run that uploaded nothing leaves it not covered."""
    writes = len(outcome.recording.writes)
    report = outcome.report
    if not checked:
        report.sections.append(
            Section(
                "Integrity check",
                key="integrity",
                text=[f"not run: only the sandbox is read back after a run ({writes} writes acknowledged)"],
            )
        )
        return
    problems = list(outcome.integrity)
    acknowledged = acknowledged_uploads(outcome.recording)
    if acknowledged > writes:
        problems.append(
            f"{acknowledged - writes} of {acknowledged} acknowledged portfolio uploads never reached the "
            "integrity check (a worker's writes lost on their way to the master)"
        )
    if writes == 0 and acknowledged == 0:
        report.cases.append(
            CaseResult(
                group="integrity",
                name="acknowledged writes read back",
                status=CaseStatus.SKIPPED,
                message="nothing to read back: no upload was acknowledged",
            )
        )
        report.sections.append(
            Section(
                "Integrity check", text=["not covered: the run made no upload to read back"], key="integrity"
            )
        )
        report.gaps.append(
            Gap(
                "The integrity check read nothing back: the run made no portfolio upload (no open market "
                "to upload to?)",
                "an open auction or allocation market: on the sandbox `crrsim sandbox "
                "reset` and `crrsim sandbox clock --set` a plan day with open windows",
            )
        )
    else:
        report.cases.append(
            CaseResult(
                group="integrity",
                name="acknowledged writes read back",
                status=CaseStatus.FAILED if problems else CaseStatus.PASSED,
                message=f"{writes - len(outcome.integrity)} of {writes} acknowledged writes read back unchanged"
                + (f" ({acknowledged} uploads acknowledged)" if acknowledged != writes else ""),
            )
        )
        report.sections.append(
            Section(
                "Integrity check",
                key="integrity",
                text=problems
                or [f"all {writes} acknowledged portfolio uploads read back with their records"],
            )
        )
    report.findings += [
        Finding(
            text=p,
            fix="a write the sandbox acknowledged is gone or changed: keep the "
            "sandbox's log and this report for the CRR team",
            where="integrity",
        )
        for p in problems
    ]
    outcome.integrity = problems
    report.judge_by_cases()
