"""The comparator behind the agreement test finds every kind of interface change."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.contract import Catalogue, load_catalogue
from harness.contract.compare import diff_services
from harness.contract.yaml12 import load_yaml


def _mutated_auction(ours: Catalogue, tmp_path: Path) -> Catalogue:
    spec = load_yaml(ours["auction"].path.read_text(encoding="utf-8"))
    schemas = spec["components"]["schemas"]
    schemas["NewBid"]["properties"]["source"]["maxLength"] = 151
    schemas["NewBid"]["required"].remove("sink")
    schemas["BidPoint"]["properties"]["price"]["multipleOf"] = 0.1
    schemas["TimeOfUse"]["enum"] = ["ON"]
    schemas["Portfolio"]["properties"]["extra"] = {"type": "string"}
    spec["components"]["parameters"]["ParticipantName"]["schema"]["pattern"] = "^[A-Z]+$"
    spec["components"]["parameters"]["MarketName"]["required"] = False
    listing = spec["paths"]["/auction/v1.0/portfolioList"]["get"]
    listing["operationId"] = "listPortfolios"
    listing["responses"]["200"]["content"] = {
        "text/csv": listing["responses"]["200"]["content"]["application/json"]
    }
    del spec["paths"]["/auction/v1.0/portfolioStatus"]["get"]["responses"]["404"]
    del spec["paths"]["/auction/v1.0/portfolioRequiredCredit"]
    spec["components"]["schemas"]["CRRServiceException"]["x-crr-errors"].pop()
    folder = tmp_path / "mutated"
    folder.mkdir()
    (folder / ours["auction"].path.name).write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return load_catalogue(folder)


def test_identical_contracts_have_no_differences(ours: Catalogue) -> None:
    assert diff_services(ours["auction"], ours["auction"]) == []


def test_every_kind_of_change_is_reported(ours: Catalogue, tmp_path: Path) -> None:
    changed = _mutated_auction(ours, tmp_path)["auction"]
    report = "\n".join(diff_services(changed, ours["auction"]))
    expected = [
        "POST /auction/v1.0/portfolioCreation requestBody.properties.newBids.items.properties.source.maxLength: "
        "ours 151, CAISO 150",
        "portfolioCreation requestBody.properties.newBids.items.required:",
        "bidCurve.items.properties.price.multipleOf: ours 0.1, CAISO 0.01",
        "properties.tou.enum: ours ['ON'], CAISO ['ON', 'OFF']",
        "GET /auction/v1.0/portfolio response 200.properties.extra: not in CAISO's",
        "parameter query.participantName.schema.pattern: ours '^[A-Z]+$'",
        "parameter query.marketName.required: ours False, CAISO True",
        "operationId ours 'listPortfolios', CAISO 'getPortfolioList'",
        "GET /auction/v1.0/portfolioList response 200 media: ours ['text/csv'], CAISO ['application/json']",
        "GET /auction/v1.0/portfolioStatus responses: ours ['200', '400', '401', '403', '500']",
        "auction GET /auction/v1.0/portfolioRequiredCredit: missing in ours",
        "auction error codes: extra in ours [], missing in ours ['SER0030']",
    ]
    missing = [line for line in expected if line not in report]
    assert not missing, f"not reported: {missing}\nreport:\n{report}"
