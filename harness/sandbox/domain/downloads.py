"""Market-data download files: one record layout per download type, packed as CSV or JSON in a ZIP.

Why one table of layouts: the same columns drive the CSV header (stable, in this order, so
participants' parsers keep working), the JSON record keys, and the draft-07 file schema each
JSON file is checked against (``harness.contract.file_schemas``). Where a schema exists its
record properties win (file order and names), so builders may offer a superset of fields
(e.g. both ``SEQ`` and ``TotalSEQ``) and the file carries exactly what the schema defines.
JSON files are ``{"marketName", "generatedAt", "records": [...]}``; None values are left out
of JSON and written as empty cells in CSV.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ZIP_DATE = (2026, 1, 1, 0, 0, 0)  # fixed member timestamp: identical data gives identical bytes


@dataclass(frozen=True)
class Layout:
    schema: str  # draft-07 file schema name (without version), e.g. "CRRSourceSink"
    columns: tuple[str, ...]


EXISTING_CRR = Layout(
    "CRRExistingCRRs",
    (
        "CRRID",
        "ParentCRRID",
        "AssetOwner",
        "MarketName",
        "Source",
        "Sink",
        "HedgeType",
        "TOU",
        "CRRType",
        "MW",
        "Period",
        "StartDate",
        "EndDate",
    ),
)
LAYOUTS: dict[str, Layout] = {
    "PUBLIC_EXISTING_CRR": EXISTING_CRR,
    "SOURCE_SINK_REPLACEMENT": Layout(
        "CRRSourceandSinkNameMapping", ("RetiredSourceSink", "ReplacementSourceSink", "EffectiveDate")
    ),
    "GROUPED_BASE_LOADING": Layout(
        "CRRGroupedBaseLoading", ("MarketName", "Source", "Sink", "HedgeType", "TOU", "Period", "MW")
    ),
    "SOURCE_SINK": Layout(
        "CRRSourceSink",
        (
            "SourceSink",
            "Type",
            "BiddableFlag",
            "Zone",
            "AugmentedBusName",
            "EMSBusName",
            "ParticipationFactor",
            "TOU",
        ),
    ),
    "SET_ASIDE": Layout(
        "CRRSetAside", ("MarketName", "InterfaceName", "Period", "TOU", "SetAsidePercent", "SetAsideMW")
    ),
    "BINDING_CONSTRAINT": Layout(
        "CRRBindingConstraint",
        ("MarketName", "ConstraintName", "Period", "TOU", "HedgeType", "ShadowPrice", "FlowMW", "LimitMW"),
    ),
    "PUBLIC_ALLOCATION_RESULT": Layout(
        "CRRPublicAllocationResult",
        ("MarketName", "Source", "Sink", "HedgeType", "TOU", "Period", "CRRType", "AwardedMW"),
    ),
    "PUBLIC_AUCTION_RESULT": Layout(
        "CRRPublicAuctionResult",
        (
            "MarketName",
            "Source",
            "Sink",
            "HedgeType",
            "TOU",
            "Period",
            "CRRType",
            "Side",
            "AwardedMW",
            "ClearingPrice",
        ),
    ),
    "CLEARING_PRICE": Layout(
        "CRRSourceSinkClearingPrice",
        ("MarketName", "Source", "Sink", "HedgeType", "TOU", "Period", "ClearingPrice", "ClearedMW"),
    ),
    "PRIVATE_ALLOCATION_RESULT": Layout(
        "CRRPrivateAllocation",
        (
            "MarketName",
            "AssetOwner",
            "NominationID",
            "PortfolioID",
            "Source",
            "Sink",
            "HedgeType",
            "TOU",
            "Period",
            "CRRType",
            "AwardedMW",
            "CRRIDs",
        ),
    ),
    "PRIVATE_AUCTION_RESULT": Layout(
        "CRRPrivateAuction",
        (
            "MarketName",
            "AssetOwner",
            "BidID",
            "PortfolioID",
            "Side",
            "Source",
            "Sink",
            "HedgeType",
            "TOU",
            "Period",
            "CRRType",
            "AwardedMW",
            "ClearingPrice",
            "CRRIDs",
        ),
    ),
    "SIGNATURE": Layout(
        "CRRSignatureResult",
        ("NominationCapCalcName", "AssetOwner", "Source", "Sink", "TOU", "Period", "CRRType", "MW"),
    ),
    "UPPER_BOUND": Layout(
        "CRRUpperBoundResult",
        ("NominationCapCalcName", "AssetOwner", "Sink", "TOU", "Period", "CRRType", "UpperBoundMW"),
    ),
    "SEQ": Layout(
        "CRRSEQResult",
        ("NominationCapCalcName", "AssetOwner", "Sink", "TOU", "Period", "CRRType", "TotalSEQ"),
    ),
    "MEQ": Layout(
        "CRRMEQResult",
        ("NominationCapCalcName", "AssetOwner", "Sink", "TOU", "Period", "CRRType", "TotalMEQ"),
    ),
}
for _kind in ("ALLOCATION", "AUCTION", "SECONDARY_MARKET", "SYSTEM", "LM_CURRENT_PLUS_3", "LM_BEYOND_3"):
    LAYOUTS[f"PRIVATE_EXISTING_CRR_{_kind}"] = EXISTING_CRR


def file_stem(download_type: str, market: str | None = None, participant: str | None = None) -> str:
    """File names participants' tools already expect (see FIELD-FACTS), else descriptive ones."""
    named = {
        "PUBLIC_AUCTION_RESULT": f"publicResults_{market}",
        "PUBLIC_ALLOCATION_RESULT": f"publicResults_{market}",
        "PRIVATE_AUCTION_RESULT": f"privateResults_{participant}_{market}",
        "PRIVATE_ALLOCATION_RESULT": f"privateResults_{participant}_{market}",
        "CLEARING_PRICE": f"clearingprices_{market}",
        "SOURCE_SINK": f"{market}_SourceSink",
        "GROUPED_BASE_LOADING": f"{market}_GroupedBaseLoading",
        "SET_ASIDE": f"{market}_SetAside",
        "BINDING_CONSTRAINT": f"bindingConstraints_{market}",
        "PUBLIC_EXISTING_CRR": "publicExistingCRRs",
        "SOURCE_SINK_REPLACEMENT": "sourceSinkReplacement",
    }
    if download_type in named:
        return named[download_type]
    if download_type.startswith("PRIVATE_EXISTING_CRR_"):
        return f"privateExistingCRRs_{participant}_{download_type.removeprefix('PRIVATE_EXISTING_CRR_')}"
    return f"{market}_{download_type}_{participant}"  # nomination cap data


def _schema(download_type: str) -> dict[str, Any] | None:
    try:
        from harness.contract.file_schemas import file_schema
    except ImportError:
        return None
    try:
        return file_schema(LAYOUTS[download_type].schema)
    except Exception:  # no schema file for this layout yet (ContractError)
        return None


def columns(download_type: str) -> tuple[str, ...]:
    """Record fields in file order: the draft-07 schema's when it exists, else our layout's."""
    schema = _schema(download_type)
    record = ((schema or {}).get("definitions") or {}).get("Record") or {}
    props = tuple(record.get("properties") or ())
    return props or LAYOUTS[download_type].columns


def document(
    download_type: str, records: Iterable[dict[str, Any]], market: str | None, generated_at: str
) -> dict[str, Any]:
    """The JSON file: records cut to the layout's fields (None left out), wrapped with metadata."""
    cols = columns(download_type)
    doc: dict[str, Any] = {}
    if market:
        doc["marketName"] = market
    doc["generatedAt"] = generated_at
    doc["records"] = [{c: r[c] for c in cols if r.get(c) is not None} for r in records]
    return doc


def check_document(download_type: str, doc: dict[str, Any]) -> list[str]:
    """Problems the draft-07 file schema finds (empty when it has none yet)."""
    if _schema(download_type) is None:
        return []
    from harness.contract.file_schemas import validate_file_records

    return list(validate_file_records(LAYOUTS[download_type].schema, doc))


def to_json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=1).encode()


def to_csv(download_type: str, records: Iterable[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    cols = columns(download_type)
    writer.writerow(cols)
    for r in records:
        writer.writerow(["" if r.get(c) is None else _cell(r[c]) for c in cols])
    return buf.getvalue().encode()


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def build_zip(download_type: str, file_format: str, doc: dict[str, Any], stem: str) -> tuple[str, bytes]:
    """(zip file name, zip bytes) holding one ``<stem>.csv`` or ``<stem>.json`` member."""
    ext = file_format.lower()
    payload = to_json(doc) if file_format == "JSON" else to_csv(download_type, doc["records"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(f"{stem}.{ext}", date_time=ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, payload)
    return f"{stem}.zip", buf.getvalue()


def read_zip(data: bytes) -> tuple[str, bytes]:
    """(member name, member bytes) of a one-file download (for tests and the harness)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        if len(names) != 1:
            raise ValueError(f"expected one file in the download, found {names}")
        return names[0], zf.read(names[0])
