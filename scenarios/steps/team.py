"""What the CRR team does: windows, running markets, messages.

In the sandbox these act through the operator's control plane; on Map-Stage they wait for
CAISO's staff (market status polled, --wait-timeout) -- see harness.scenarios.team.
"""

from __future__ import annotations

from harness.scenarios.steplib import given, parsers, then, when
from scenarios.context import ScenarioContext


@given(
    parsers.re(
        r'the CRR team (?P<action>opens|closes) the submission window of the market "(?P<market>[^"]+)"'
    )
)
@then(
    parsers.re(
        r'the CRR team (?P<action>opens|closes) the submission window of the market "(?P<market>[^"]+)"'
    )
)
@when(
    parsers.re(
        r'the CRR team (?P<action>opens|closes) the submission window of the market "(?P<market>[^"]+)"'
    )
)
def team_window(ctx: ScenarioContext, action: str, market: str) -> None:
    """Open (for two days of plan time) or close a market's submission window."""
    name = ctx.env.market(market)
    if action == "opens":
        ctx.env.team.open_window(name)
    else:
        ctx.env.team.close_window(name)


@given(parsers.parse('the CRR team runs the market "{market}" and posts the results'))
@when(parsers.parse('the CRR team runs the market "{market}" and posts the results'))
def team_runs_market(ctx: ScenarioContext, market: str) -> None:
    """Close the window if needed, clear the market and post its results (once)."""
    ctx.env.team.run_and_post(ctx.env.market(market))


@when(parsers.parse('the CRR team publishes the message "{text}"'))
def team_publishes(ctx: ScenarioContext, text: str) -> None:
    """A public notice every participant can read."""
    ctx.env.team.publish(text)


@when(parsers.parse('the CRR team sends me the private message "{text}"'))
def team_sends_private(ctx: ScenarioContext, text: str) -> None:
    """A private notice for my SC ID only."""
    ctx.env.team.publish(text, to=ctx.me.sc)


@given(parsers.parse('the CRR team retires the node "{node}" in my market'))
def team_retires(ctx: ScenarioContext, node: str) -> None:
    """A new source/sink list version: the PNode retired, re-mapped to the closest biddable node."""
    ctx.env.team.release_nodes(ctx.require_market(), retire=[node], island=[])


@given("the CRR team islands the sink of that CRR in my market")
def team_islands_crr_sink(ctx: ScenarioContext) -> None:
    """A new source/sink list version: the sink of the chosen CRR islanded by an outage."""
    crr = ctx.need("crr", "no CRR chosen: add a step like 'Given I hold a CRR for the market's period'")
    ctx.env.team.release_nodes(ctx.require_market(), retire=[], island=[crr["sink"]])
    ctx.data["islanded"] = crr["sink"]
