"""Market Data downloads: public and private files, delivered as ZIP archives of CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest
from pytest_bdd import parsers, then, when

from harness.client import CRRResponse
from scenarios.context import ScenarioContext


@dataclass(frozen=True)
class Download:
    operation: str
    type_param: str
    market_param: str | None = None  # "marketName", "nominationCapCalcName" or None


def _table() -> dict[str, Download]:
    out: dict[str, Download] = {}
    for t in ("PUBLIC_EXISTING_CRR", "SOURCE_SINK_REPLACEMENT"):
        out[t] = Download("getPublicGeneralData", "publicGeneralDownloadType")
    for t in ("GROUPED_BASE_LOADING", "SOURCE_SINK", "SET_ASIDE"):
        out[t] = Download("getPublicMarketData", "publicMarketDownloadType", "marketName")
    out["PUBLIC_ALLOCATION_RESULT"] = Download("getPublicAllocationResult", "publicAllocationResultDownloadType", "marketName")
    for t in ("PUBLIC_AUCTION_RESULT", "CLEARING_PRICE"):
        out[t] = Download("getPublicAuctionResult", "publicAuctionResultDownloadType", "marketName")
    for origin in ("ALLOCATION", "AUCTION", "SECONDARY_MARKET", "SYSTEM", "LM_CURRENT_PLUS_3", "LM_BEYOND_3"):
        out[f"PRIVATE_EXISTING_CRR_{origin}"] = Download("getPrivateGeneralData", "privateGeneralDownloadType")
    for t in ("SIGNATURE", "UPPER_BOUND", "SEQ", "MEQ"):
        out[t] = Download("getPrivateAllocationMarketData", "privateAllocationDataDownloadType", "nominationCapCalcName")
    out["PRIVATE_ALLOCATION_RESULT"] = Download("getPrivateAllocationResult", "privateAllocationResultDownloadType", "marketName")
    out["PRIVATE_AUCTION_RESULT"] = Download("getPrivateAuctionResult", "privateAuctionResultDownloadType", "marketName")
    return out


DOWNLOADS = _table()


def request_download(
    ctx: ScenarioContext, kind: str, fmt: str, market: str | None = None, participant: str | None = None
) -> CRRResponse:
    if kind not in DOWNLOADS:
        pytest.fail(f"unknown download {kind!r}; known: {', '.join(sorted(DOWNLOADS))}", pytrace=False)
    spec = DOWNLOADS[kind]
    params: dict[str, Any] = {spec.type_param: kind, "fileFormat": fmt, "participantName": participant or ctx.me.sc}
    if spec.market_param:
        name = ctx.env.market(market) if market else ctx.require_market()
        if spec.market_param == "nominationCapCalcName":
            name = ctx.env.plan.nomination_cap_calc.format(market=name)
        params[spec.market_param] = name
    return ctx.call("market_data", spec.operation, params=params)


def unpack(response: CRRResponse, fmt: str) -> tuple[str, str]:
    """(member name, text) of the one file in a download's ZIP archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(response.body)) as zf:
            names = zf.namelist()
            if len(names) != 1:
                raise AssertionError(f"the archive holds {len(names)} files ({', '.join(names)}), expected one")
            text = zf.read(names[0]).decode("utf-8")
    except zipfile.BadZipFile:
        raise AssertionError(f"the download is not a ZIP archive ({response.content_type}, {len(response.body)} bytes)") from None
    name = names[0]
    assert name.lower().endswith("." + fmt.lower()), f"the archive holds {name}, expected a .{fmt.lower()} file"
    return name, text


def records(text: str, fmt: str) -> list[dict[str, Any]]:
    """Records of a downloaded file: JSON ``{"records": [...]}`` (or a bare list) or CSV rows."""
    if fmt == "JSON":
        data = json.loads(text)
        return list(data.get("records", []) if isinstance(data, dict) else data)
    return list(csv.DictReader(io.StringIO(text)))


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
