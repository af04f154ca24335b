"""Our draft-07 schemas for market-data download files."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from harness.contract import ContractError
from harness.contract.file_schemas import file_schema, file_schema_names, validate_file_records

SOURCE_SINK = {
    "SourceSink": "DLAP_PGAE-APND",
    "Type": "LAP",
    "BiddableFlag": "Yes",
    "Zone": "PGAE-30",
    "AugmentedBusName": "BusbarSection_3408_N1",
    "EMSBusName": "1-BUS-60",
    "ParticipationFactor": 0.003,
    "TOU": "ON",
}
VALID: dict[str, list[dict[str, Any]]] = {
    "CRRSourceSink_v1": [
        SOURCE_SINK,
        {**SOURCE_SINK, "SourceSink": "ETC_CONTRACT_7", "Type": "CONTRACT", "TOU": "OFF"},
    ],
    # optional limits / ratings / totals left out on purpose
    "CRRInterface_v1": [{"InterfaceName": "PATH26_BG", "Period": "2026_M03", "TOU": "ON"}],
    "CRRLineAndTransformer_v1": [
        {
            "BranchName": "MIDWAY-VINCENT_500_1",
            "ElementType": "LINE",
            "FromBus": "MIDWAY_500",
            "ToBus": "VINCENT_500",
            "Period": "2026_S02",
            "TOU": "OFF",
        }
    ],
    "CRRSEQResult_v1": [
        {"AssetOwner": "WCAL", "Sink": "SLAP_PGST-APND", "Period": "2026_S01", "TOU": "ON", "SEQ": 12.345}
    ],
    "CRROutage_v1": [
        {
            "OutageId": 42,
            "EquipmentName": "MIDWAY-VINCENT_500_1",
            "EquipmentType": "LINE",
            "StartDate": "2026-03-02T08:00:00Z",
            "EndDate": "2026-03-04T08:00:00Z",
            "Period": "2026_M03",
        }
    ],
    "CRRSetAside_v1": [
        {"InterfaceName": "PATH26_BG", "Period": "2026_M03", "TOU": "ON", "SetAsideMW": 150.5}
    ],
}


def test_we_ship_the_six_schemas_as_valid_draft_07() -> None:
    assert set(file_schema_names()) == set(VALID)
    for name in file_schema_names():
        schema = file_schema(name)
        jsonschema.Draft7Validator.check_schema(schema)
        assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
        assert schema["required"] == ["records"]


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_records_pass(name: str) -> None:
    assert validate_file_records(name, {"marketName": "AUC_MN_2026_M03", "records": VALID[name]}) == []


def test_optional_fields_may_be_present() -> None:
    full = {
        "CRRInterface_v1": {"OperatingPositiveLimit": 1200.5, "OperatingNegativeLimit": -950},
        "CRRLineAndTransformer_v1": {"OperatingNormalRating": 1800, "OperatingEmergencyRating": 2100.25},
        "CRRSEQResult_v1": {"TotalSEQ": 240.125},
    }
    for name, extra in full.items():
        assert validate_file_records(name, {"records": [{**VALID[name][0], **extra}]}) == [], name


def test_names_are_accepted_in_three_spellings() -> None:
    for spelling in ("CRRSourceSink", "CRRSourceSink_v1", "CRRSourceSink_v1.draft-07.schema.json"):
        assert validate_file_records(spelling, {"records": [SOURCE_SINK]}) == []
    with pytest.raises(ContractError, match="no market-data file schema named 'CRRNope'"):
        file_schema("CRRNope")


def test_invalid_records_are_all_reported_with_locations() -> None:
    bad = {**SOURCE_SINK, "Type": "BUS", "BiddableFlag": "yes", "TOU": "PEAK", "Color": "red"}
    del bad["SourceSink"]
    problems = validate_file_records("CRRSourceSink_v1", {"records": [SOURCE_SINK, bad]})
    joined = "\n".join(problems)
    assert len(problems) == 5, joined
    assert all(p.startswith("records[1]") for p in problems)
    for fragment in (
        '"BUS"',
        '"yes"',
        '"PEAK"',
        "'Color' was unexpected",
        '"SourceSink" is a required property',
    ):
        assert fragment in joined


def test_required_fields_and_formats_are_enforced() -> None:
    seq = dict(VALID["CRRSEQResult_v1"][0])
    del seq["SEQ"]
    assert validate_file_records("CRRSEQResult_v1", {"records": [seq]}) == [
        'records[0]: "SEQ" is a required property'
    ]
    outage = {**VALID["CRROutage_v1"][0], "StartDate": "yesterday", "Period": "2026_S05"}
    problems = validate_file_records("CRROutage_v1", {"records": [outage]})
    assert any(p.startswith("records[0].StartDate") for p in problems)
    assert any(p.startswith("records[0].Period") for p in problems)
    assert validate_file_records("CRRSetAside_v1", []) == ['(file): [] is not of type "object"']


def test_megawatts_are_checked_exactly_to_three_decimals() -> None:
    ok = [{**VALID["CRRSetAside_v1"][0], "SetAsideMW": mw} for mw in (1.005, 0.001, 273.561, 99999.999)]
    assert validate_file_records("CRRSetAside_v1", {"records": ok}) == []
    bad = [{**VALID["CRRSetAside_v1"][0], "SetAsideMW": 1.0005}]
    assert validate_file_records("CRRSetAside_v1", {"records": bad}) == [
        "records[0].SetAsideMW: 1.0005 is not a multiple of 0.001"
    ]


def test_file_schema_returns_a_private_copy() -> None:
    first = file_schema("CRRSourceSink_v1")
    first["definitions"]["NodeType"]["enum"].clear()
    assert "CONTRACT" in file_schema("CRRSourceSink_v1")["definitions"]["NodeType"]["enum"]
