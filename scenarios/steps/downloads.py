"""Market Data downloads: public and private files, delivered as ZIP archives of CSV or JSON."""

from __future__ import annotations

import pytest

from harness.client import CRRResponse
from harness.contract import downloads
from harness.contract.downloads import DOWNLOADS, SERVICE, DownloadError, records
from harness.scenarios.steplib import parsers, then, when
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
