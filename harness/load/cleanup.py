"""What a load run on a shared environment leaves behind, and taking away what can be.

A 20 s burst on Map-Stage made 19 portfolios, 5 offers and 2 accepted trades and said nothing
of them. Now the run says before it starts what it will write and what it cannot undo; after
it, every portfolio it acknowledged creating is retracted (refused unless submitted: fine) and
deleted with its participant's own certificate, one line each (``LEFT ...`` when it could not
be, which fails the run); and what the API offers no way to remove (secondary-market offers,
load submissions, trades) is counted in the report. Accepting an offer is a trade that moves
CRR holdings: it needs ``--allow-trades`` off the sandbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.client import CRRTransportError
from harness.config.participants import Participant
from harness.contract import load_catalogue
from harness.contract.portfolios import PORTFOLIO_OPERATIONS
from harness.load.hdr import Recording
from harness.load.integrity import ParticipantClients
from harness.reports.model import Finding, Section, plural

# request names of the writes the API cannot undo -> how the report names them
KEPT = {
    "secondary_market.postPublicSmBuyOffers": "public buy offers posted (the API has no withdrawal: they stay until "
    "they expire or are answered)",
    "secondary_market.postPrivateSmSellOffers": "private sell offers posted (the API has no withdrawal)",
    "historical_forecasted_load.loadSubmission": "forecast load submissions (a later submission replaces one; none "
    "removes it)",
    "secondary_market.postSmResponseToSellOffers": "offers accepted: trades that moved CRR holdings (--allow-trades)",
}


def notice(target: str, allow_trades: bool) -> str:
    """What the run will write to a shared environment, said before it starts."""
    trades = (
        "it accepts private sell offers between the run's participants (--allow-trades): trades that move CRR "
        "holdings and cannot be undone"
        if allow_trades
        else "it accepts no offer (a trade cannot be undone: --allow-trades)"
    )
    return (
        f"This load run writes to {target}: it creates and submits auction and nomination portfolios (each is "
        "retracted and deleted at the end), posts secondary-market offers and forecast load submissions (the API "
        f"cannot remove those: the report counts them); {trades}."
    )


def clean_up(
    writes: list[dict[str, Any]],
    participants: list[Participant],
    url: str,
    ca: Path | None,
    passwords: dict[str, str] | None = None,
    specs: Path | None = None,
) -> list[str]:
    """Retract and delete every portfolio the run acknowledged creating; one line each."""
    catalogue = load_catalogue(specs)
    steps = {
        service: {
            step: catalogue[service].operation(op).path
            for step, op in ops.items()
            if step in ("retract", "delete")
        }
        for service, ops in PORTFOLIO_OPERATIONS.items()
    }
    lines = []
    with ParticipantClients(participants, url, ca, passwords) as client_of:
        for write in writes:
            ident = {
                "marketName": write["market"],
                "participantName": write["participant"],
                "portfolioName": write["portfolio"],
            }
            paths = steps[write["service"]]
            try:
                client = client_of(write["participant"])
                client.request("POST", paths["retract"], json=ident)  # refused unless SUBMITTED: fine
                gone = client.request("DELETE", paths["delete"], params=ident)
            except CRRTransportError as exc:
                lines.append(
                    f"LEFT {write['service']} portfolio {write['portfolio']!r} in {write['market']} (no answer: "
                    f"{exc})"
                )
                continue
            lines.append(
                f"{'deleted' if gone.ok else 'LEFT'} {write['service']} portfolio {write['portfolio']!r} in "
                f"{write['market']}"
                + ("" if gone.ok else f" (HTTP {gone.status}, caiso-request-id {gone.request_id})")
            )
    return lines


def kept(recording: Recording) -> list[str]:
    """What the run wrote that no operation can remove, counted from its own acknowledged calls."""
    counts = {name: tally.count - tally.errors for name, tally in recording.ops.items() if name in KEPT}
    return [f"{n} {KEPT[name]}" for name, n in sorted(counts.items()) if n]


def add_to_report(report: Any, lines: list[str], left_behind: list[str]) -> None:
    """The clean-up as a section; a portfolio that could not be removed is a finding (it fails
    the run, as the fuzz's clean-up does)."""
    deleted = sum(line.startswith("deleted") for line in lines)
    summary = [
        f"{deleted} of the {plural(len(lines), 'portfolio')} the run created "
        f"{'was' if len(lines) == 1 else 'were'} retracted and deleted"
    ]
    report.sections.append(
        Section(
            "Clean-up of the run's own data",
            key="cleanup",
            text=[
                *summary,
                *(line for line in lines if line.startswith("LEFT")),
                *(f"not removable: {line}" for line in left_behind),
            ],
        )
    )
    left = [line for line in lines if line.startswith("LEFT")]
    report.findings += [
        Finding(text=line, where="clean-up", fix="remove it through the CRR UI, or ask the CRR team to")
        for line in left
    ]
    if left:
        report.judge(failed=True)
