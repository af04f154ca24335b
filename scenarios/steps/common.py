"""Who I am, when it is, which market I work in, and how the last request ended."""

from __future__ import annotations

from harness.scenarios.steplib import given, parsers, then
from scenarios.context import ScenarioContext

DAY = r"(?P<day>Monday|Tuesday|Wednesday|Thursday|Friday)"


@given("the Market Sim plan is set up")
def plan_is_set_up(ctx: ScenarioContext) -> None:
    """The CRR team has created the plan's markets, credit and seed data (once per run).

    Sandbox: the control plane's setupPlan; Map-Stage: CAISO did it before Market Sim.
    """
    ctx.env.team.setup_plan()


@given(parsers.re(rf"it is {DAY} (?P<hhmm>\d\d:\d\d) of week (?P<week>\d+)"))
def it_is(ctx: ScenarioContext, day: str, hhmm: str, week: str) -> None:
    """Move the sandbox clock to that moment of the plan calendar (plan.yaml's week 1 Monday).

    Map-Stage runs on the real calendar, so there the step only documents the intent.
    """
    ctx.env.team.set_time(ctx.env.plan.calendar.at(int(week), day, hhmm))


@given("I am the participant")
def i_am_the_participant(ctx: ScenarioContext) -> None:
    """Act for the run's participant (--participant, default ECAL) with its own certificate."""
    ctx.who = ctx.env.me


@given(parsers.re(r'I am participant "(?P<sc>[^"]+)"(?: using the "(?P<identity>[^"]+)" certificate)?'))
def i_am_participant(ctx: ScenarioContext, sc: str, identity: str | None) -> None:
    """Act for SC ID ``sc``, with its usual certificate or the named dev certificate.

    Dev certificates (ecal-readonly, ycal-partial, ncal for NCAL and SCAL, ...) exist only in
    the sandbox; elsewhere a scenario needing one is skipped.
    """
    ctx.who = ctx.env.participant(sc, identity)


@given(parsers.re(r"I work in the (?P<alias>(?:monthly|annual) (?:allocation|auction)) market"))
def i_work_in_plan_market(ctx: ScenarioContext, alias: str) -> None:
    """Choose the plan's market by role (features/plan.yaml ``markets``, or --market overrides)."""
    ctx.market = ctx.env.market(alias)


@given(parsers.parse('I work in the market "{market}"'))
def i_work_in_market(ctx: ScenarioContext, market: str) -> None:
    """Choose a market by name (plan names follow --market overrides)."""
    ctx.market = ctx.env.market(market)


@then("the request succeeds")
def request_succeeds(ctx: ScenarioContext) -> None:
    """The last request got a 2xx JSON answer."""
    ctx.expect_ok()


@then(
    parsers.re(
        r"the request is refused(?: with HTTP (?P<status>\d{3}))?(?: (?:and|with) error \"(?P<code>[A-Z0-9]+)\")?"
    )
)
def request_refused(ctx: ScenarioContext, status: str | None, code: str | None) -> None:
    """The last request failed, optionally with this HTTP status and/or this CAISO error code."""
    ctx.expect_refused(int(status) if status else None, code)
