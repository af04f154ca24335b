"""The download table (harness.contract.downloads) against our contract: every download type the
market_data operations offer is in it, under the operation and parameter that serve it."""

from __future__ import annotations

import io
import zipfile

import pytest

from harness.contract import load_catalogue
from harness.contract.downloads import DOWNLOADS, DownloadError, records, unpack


def test_every_download_type_of_the_contract_is_in_the_table() -> None:
    service = load_catalogue(None)["market_data"]
    offered: dict[str, set[tuple[str, str]]] = {}
    for op in service.operations:
        for param in op.parameters:
            if param.name.endswith("DownloadType"):
                for kind in param.schema.get("enum", []):
                    offered.setdefault(kind, set()).add((op.operation_id, param.name))
    assert offered, "no download type parameter found in the market_data contract"
    assert set(DOWNLOADS) == set(offered)
    for kind, download in DOWNLOADS.items():
        assert (download.operation, download.type_param) in offered[kind], kind


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_a_download_is_read_from_its_one_file_and_refused_otherwise() -> None:
    name, text = unpack(_zip({"m_SourceSink.json": b'{"records": [{"SourceSink": "A"}, 3]}'}), "JSON")
    assert name == "m_SourceSink.json" and records(text, "JSON") == [{"SourceSink": "A"}]
    assert records("SourceSink,Type\r\nA,LAP\r\n", "CSV") == [{"SourceSink": "A", "Type": "LAP"}]
    with pytest.raises(DownloadError, match="holds 2 files"):
        unpack(_zip({"a.json": b"{}", "b.json": b"{}"}), "JSON")
    with pytest.raises(DownloadError, match="expected a .csv file"):
        unpack(_zip({"a.json": b"{}"}), "CSV")
    with pytest.raises(DownloadError, match="not a ZIP archive \\(text/html, 6 bytes\\)"):
        unpack(b"<html>", "JSON", "text/html")
