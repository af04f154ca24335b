"""Market Data downloads: public and private files, delivered as ZIP archives of CSV or JSON."""

from __future__ import annotations

from typing import Any

import pytest

from harness.client import CRRResponse
from harness.contract import downloads
from harness.contract.downloads import DOWNLOADS, SERVICE, DownloadError, records
from harness.scenarios.steplib import given, parsers, then, when
from scenarios.context import ScenarioContext


def request_download(
    ctx: ScenarioContext, kind: str, fmt: str, market: str | None = None, participant: str | None = None
) -> CRRResponse:
    if kind not in DOWNLOADS:
        pytest.fail(f"unknown download {kind!r}; known: {', '.join(sorted(DOWNLOADS))}", pytrace=False)
    spec = DOWNLOADS[kind]
    name = None
    if spec.market_param:
        name = ctx.env.market(market) if market else ctx.require_market()
        if spec.market_param == "nominationCapCalcName":
            name = ctx.env.plan.nomination_cap_calc.format(market=name)
    return ctx.call(SERVICE, spec.operation, params=spec.params(kind, fmt, participant or ctx.me.sc, name))


def unpack(response: CRRResponse, fmt: str) -> tuple[str, str]:
    """(member name, text) of the one file in a download's ZIP archive."""
    try:
        return downloads.unpack(response.body, fmt, response.content_type)
    except DownloadError as exc:
        raise AssertionError(str(exc)) from None


@when(parsers.re(r'I download "(?P<kind>[A-Z_]+)"(?: for "(?P<market>[^"]+)")? as (?P<fmt>CSV|JSON)'))
def download(ctx: ScenarioContext, kind: str, market: str | None, fmt: str) -> None:
    """Download a Market Data file by its download type, for my market or the named one.

    Nomination-cap types (MEQ, SEQ, UPPER_BOUND, SIGNATURE) use the allocation market's cap
    calculation (plan.yaml ``nomination_cap_calc``).
    """
    ctx.data["download"] = (request_download(ctx, kind, fmt, market), fmt)


@when(parsers.parse('I ask for the "{kind}" download of "{participant}" for "{market}"'))
def download_of_other(ctx: ScenarioContext, kind: str, participant: str, market: str) -> None:
    """Ask for another SC's private file (it must be refused)."""
    request_download(ctx, kind, "CSV", market, participant)


@then(parsers.re(r"I receive a ZIP archive holding (?P<fmt>CSV|JSON) data"))
def receive_zip(ctx: ScenarioContext, fmt: str) -> None:
    """The download succeeded with a ZIP archive of one readable CSV/JSON file."""
    response, asked = ctx.data.get("download", (ctx.last(), fmt))
    if not response.ok:
        pytest.fail(f"the download failed: {ctx.describe(response)}", pytrace=False)
    assert asked == fmt, f"asked for {asked}, checking for {fmt}"
    _, text = unpack(response, fmt)
    records(text, fmt)  # parses, or fails the step
    ctx.data["download_text"] = text


@then("the download mentions my SC ID")
def download_mentions_me(ctx: ScenarioContext) -> None:
    """The downloaded file holds records of my SC ID (private data is mine)."""
    text = ctx.data.get("download_text", "")
    assert ctx.me.sc in text, f"the downloaded file does not mention {ctx.me.sc}"


# --------------------------------------------------------------------------------------
# results a valuation desk checks: awards against prices, prices against nodes, branches
# --------------------------------------------------------------------------------------
def downloaded(ctx: ScenarioContext) -> list[dict[str, Any]]:
    """The records of the last download (which must have succeeded)."""
    response, fmt = ctx.need("download", "no download yet: add a step like 'When I download ...'")
    if not response.ok:
        pytest.fail(f"the download failed: {ctx.describe(response)}", pytrace=False)
    return records(unpack(response, fmt)[1], fmt)


@given(parsers.parse("I am the only bidder in the {alias} market"))
def only_bidder(ctx: ScenarioContext, alias: str) -> None:
    """Awards depend on every bid in the market: exact expectations hold only where nobody else
    bids, i.e. in a sandbox this scenario starts afresh."""
    if not ctx.env.settings.is_sandbox:
        pytest.skip(
            "the awards depend on every participant's bids in a shared environment; this scenario "
            "checks clearing where only its own bids are in the market (the sandbox)"
        )
    ctx.market = ctx.env.market(alias)


AWARD = (
    r'I am awarded (?:(?P<all>[\d.]+) MW|more than 0 and less than (?P<part>[\d.]+) MW) from "(?P<source>[^"]+)"'
    r' to "(?P<sink>[^"]+)" at (?P<price>-?[\d.]+) \$/MW'
)


@then(parsers.re(AWARD))
def awarded(
    ctx: ScenarioContext, all: str | None, part: str | None, source: str, sink: str, price: str
) -> None:
    """My private results on one path: what I won in total, and the path's clearing price."""
    rows = [r for r in downloaded(ctx) if r.get("Source") == source and r.get("Sink") == sink]
    won = sum(float(r.get("AwardedMW") or 0) for r in rows if r.get("Side", "BUY") == "BUY")
    assert rows, f"nothing from {source} to {sink} in my results"
    if all is not None:
        assert abs(won - float(all)) < 0.001, f"awarded {won} MW from {source} to {sink}, expected {all}"
    else:
        assert 0 < won < float(part or 0), f"awarded {won} MW from {source} to {sink}: not a part of {part}"
    prices = {float(r["ClearingPrice"]) for r in rows}
    assert prices == {float(price)}, f"cleared at {sorted(prices)} $/MW, expected {price}"


@then("every path's clearing price is its sink's node price minus its source's")
def prices_add_up(ctx: ScenarioContext) -> None:
    """The CLEARING_PRICE file: node rows (no Sink) and path rows; paths must add up from nodes."""
    rows = downloaded(ctx)
    nodes = {
        (r["Source"], r["TOU"], r["Period"]): float(r["ClearingPrice"]) for r in rows if not r.get("Sink")
    }
    paths = [r for r in rows if r.get("Sink")]
    assert nodes and paths, f"expected node and path prices, found {len(nodes)} nodes and {len(paths)} paths"
    for r in paths:
        at = (r["TOU"], r["Period"])
        expected = nodes[(r["Sink"], *at)] - nodes[(r["Source"], *at)]
        assert abs(float(r["ClearingPrice"]) - expected) <= 0.005 + 1e-9, (  # the path's own rounding
            f"{r['Source']} -> {r['Sink']} {r['TOU']} cleared at {r['ClearingPrice']}, "
            f"but its nodes' prices differ by {expected:.2f}"
        )


@then("the binding constraints are network branches at their limits with a shadow price")
def binding_branches(ctx: ScenarioContext) -> None:
    """The BINDING_CONSTRAINT file: branches (not paths) whose flow met the limit, priced."""
    rows = downloaded(ctx)
    assert rows, "no binding constraint, yet the market was congested"
    for r in rows:
        assert not str(r["ConstraintName"]).startswith("PATH_"), (
            f"{r['ConstraintName']} is a path, not a branch"
        )
        assert float(r["ShadowPrice"]) > 0, f"{r['ConstraintName']} binds without a shadow price"
        assert abs(abs(float(r["FlowMW"])) - float(r["LimitMW"])) < 0.01, (
            f"{r['ConstraintName']} carries {r['FlowMW']} MW of its {r['LimitMW']} MW limit"
        )


@then(parsers.parse('the source and sink list does not offer "{node}"'))
def list_lacks(ctx: ScenarioContext, node: str) -> None:
    """The SOURCE_SINK download no longer lists a retired node."""
    rows = downloaded(ctx)
    ctx.data["source_sink"] = rows
    assert rows, "the source and sink list is empty"
    assert node not in {r.get("SourceSink") for r in rows}, f"{node} is still in the source and sink list"


@then("the source and sink list shows the islanded node as not biddable")
def list_islanded(ctx: ScenarioContext) -> None:
    """An islanded node stays in the list, flagged not biddable (sell offers of held CRRs only)."""
    node = ctx.need("islanded", "no node islanded: add a step like 'the CRR team islands ...'")
    flags = {r.get("BiddableFlag") for r in downloaded(ctx) if r.get("SourceSink") == node}
    assert flags == {"No"}, f"{node} is listed with BiddableFlag {sorted(map(str, flags)) or 'nowhere'}"


@then(parsers.parse('"{node}" is re-mapped to a biddable "{kind}" node of the list'))
def remapped(ctx: ScenarioContext, node: str, kind: str) -> None:
    """SOURCE_SINK_REPLACEMENT maps the retired node to one the market's list offers, same type."""
    listed = ctx.need("source_sink", "read the source and sink list first (the SOURCE_SINK download)")
    targets = [r.get("ReplacementSourceSink") for r in downloaded(ctx) if r.get("RetiredSourceSink") == node]
    assert targets, f"{node} is not in the replacement list"
    offered = {r["SourceSink"] for r in listed if r.get("Type") == kind and r.get("BiddableFlag") == "Yes"}
    assert targets[-1] in offered, (
        f"{node} is re-mapped to {targets[-1]}, not a biddable {kind} node of the list"
    )
