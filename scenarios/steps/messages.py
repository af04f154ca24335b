"""CRR Messages: public notices and private messages."""

from __future__ import annotations

from datetime import timedelta

from harness.scenarios.env import Who
from harness.scenarios.steplib import parsers, then, when
from scenarios.context import ScenarioContext

LOOKBACK = timedelta(days=60)


def read_messages(
    ctx: ScenarioContext, kind: str, who: Who | None = None, participant: str | None = None
) -> None:
    since = ctx.env.plan.calendar.at(1, "monday", "00:00") - LOOKBACK
    ctx.call(
        "messages",
        f"{kind}Messages",
        who=who,
        params={"participantName": participant or ctx.me.sc, "fromDate": since.isoformat()},
    )


@then(parsers.re(r'I can read the (?P<kind>public|private) message "(?P<text>[^"]+)"'))
def can_read_message(ctx: ScenarioContext, kind: str, text: str) -> None:
    """My public (or private) message list holds a message with this text."""
    read_messages(ctx, kind)
    texts = [m.get("message", "") for m in ctx.expect_ok() or []]
    assert any(text in t for t in texts), f"no {kind} message {text!r} among {len(texts)} messages"


@when(parsers.parse('participant "{other}" asks for my private messages'))
def other_reads_my_messages(ctx: ScenarioContext, other: str) -> None:
    """Another participant's certificate asking for my SC ID's private messages."""
    read_messages(ctx, "private", who=ctx.env.participant(other), participant=ctx.me.sc)
