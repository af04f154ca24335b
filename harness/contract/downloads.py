"""Market-data downloads as a client sees them: which operation serves each download type, and
how to read the one file inside the ZIP archive it answers with.

The scenarios check downloads and ``crrsim fuzz`` reads live values from them (the market's
node list, the CRRs a participant holds); both ask here, so a renamed parameter or a new
download type is changed once.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

FORMATS = ("CSV", "JSON")
SERVICE = "market_data"


class DownloadError(ValueError):
    """An answer that is not the one-file ZIP archive a download must be; the message says why."""


@dataclass(frozen=True)
class Download:
    operation: str  # operationId in the market_data service
    type_param: str  # the query parameter carrying the download type
    market_param: str | None = None  # "marketName", "nominationCapCalcName" or None

    def params(self, kind: str, fmt: str, participant: str, market: str | None = None) -> dict[str, str]:
        """The query of one download (``market`` is the market or cap calculation it needs)."""
        out = {self.type_param: kind, "fileFormat": fmt, "participantName": participant}
        if self.market_param and market is not None:
            out[self.market_param] = market
        return out


EXISTING_CRR_ORIGINS = (
    "ALLOCATION",
    "AUCTION",
    "SECONDARY_MARKET",
    "SYSTEM",
    "LM_CURRENT_PLUS_3",
    "LM_BEYOND_3",
)


def _table() -> dict[str, Download]:
    out: dict[str, Download] = {}
    for t in ("PUBLIC_EXISTING_CRR", "SOURCE_SINK_REPLACEMENT"):
        out[t] = Download("getPublicGeneralData", "publicGeneralDownloadType")
    for t in ("GROUPED_BASE_LOADING", "SOURCE_SINK", "SET_ASIDE"):
        out[t] = Download("getPublicMarketData", "publicMarketDownloadType", "marketName")
    out["PUBLIC_ALLOCATION_RESULT"] = Download(
        "getPublicAllocationResult", "publicAllocationResultDownloadType", "marketName"
    )
    # BINDING_CONSTRAINT comes from either results operation, by market type: the auction one here
    for t in ("PUBLIC_AUCTION_RESULT", "CLEARING_PRICE", "BINDING_CONSTRAINT"):
        out[t] = Download("getPublicAuctionResult", "publicAuctionResultDownloadType", "marketName")
    for origin in EXISTING_CRR_ORIGINS:
        out[f"PRIVATE_EXISTING_CRR_{origin}"] = Download(
            "getPrivateGeneralData", "privateGeneralDownloadType"
        )
    for t in ("SIGNATURE", "UPPER_BOUND", "SEQ", "MEQ"):
        out[t] = Download(
            "getPrivateAllocationMarketData", "privateAllocationDataDownloadType", "nominationCapCalcName"
        )
    out["PRIVATE_ALLOCATION_RESULT"] = Download(
        "getPrivateAllocationResult", "privateAllocationResultDownloadType", "marketName"
    )
    out["PRIVATE_AUCTION_RESULT"] = Download(
        "getPrivateAuctionResult", "privateAuctionResultDownloadType", "marketName"
    )
    return out


DOWNLOADS: dict[str, Download] = _table()


def unpack(body: bytes, fmt: str, content_type: str = "") -> tuple[str, str]:
    """(member name, text) of the one ``.csv``/``.json`` file in a download's ZIP archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            names = zf.namelist()
            if len(names) != 1:
                raise DownloadError(
                    f"the archive holds {len(names)} files ({', '.join(names)}), expected one"
                )
            text = zf.read(names[0]).decode("utf-8")
    except zipfile.BadZipFile:
        raise DownloadError(
            f"the download is not a ZIP archive ({content_type or 'no content type'}, {len(body)} bytes)"
        ) from None
    except UnicodeDecodeError:
        raise DownloadError(f"the file {names[0]} in the archive is not UTF-8 text") from None
    if not names[0].lower().endswith("." + fmt.lower()):
        raise DownloadError(f"the archive holds {names[0]}, expected a .{fmt.lower()} file")
    return names[0], text


def records(text: str, fmt: str) -> list[dict[str, Any]]:
    """Records of a downloaded file: JSON ``{"records": [...]}`` (or a bare list) or CSV rows."""
    if fmt == "JSON":
        data = json.loads(text)
        found = data.get("records", []) if isinstance(data, dict) else data
        return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []
    return list(csv.DictReader(io.StringIO(text)))


def biddable_nodes(rows: list[dict[str, Any]]) -> list[str]:
    """The sources and sinks a bid may name: the node list's (SOURCE_SINK) biddable rows, in
    file order, each once."""
    found: list[str] = []
    for row in rows:
        name = row.get("SourceSink")
        if (
            isinstance(name, str)
            and str(row.get("BiddableFlag", "Yes")).lower() in ("yes", "y", "true")
            and name not in found
        ):
            found.append(name)
    return found
