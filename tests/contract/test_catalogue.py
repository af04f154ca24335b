"""Loading contract folders: naming, versions, quirks as warnings, broken files as errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness.contract import ContractError, SpecVersion, load_catalogue
from tests.contract.conftest import MINIMAL_SPEC, write_spec

QUIRKY = textwrap.dedent(
    """\
    openapi: 3.0.0
    info: {title: quirky, version: "1.0.0"}
    servers:
      - url: https://virtserver.swaggerhub.com/example/1.0.0
    paths:
      /status:
        get:
          operationId: get-status
          responses:
            '200':
              description: ok
              content:
                application/octet-stream:
                  schema: {type: object}
      /thing:
        post:
          operationId: postThing
          requestBody:
            content:
              application/json:
                schema: {$ref: '#/components/schemas/Thing'}
          responses:
            '200': {description: ok}
    components:
      schemas:
        Thing:
          type: object
          required: [market, tou]
          properties:
            marketName: {type: string}
            tou: {type: string, enum: [ON, OFF]}
            mw: {type: number, format: double, pattern: '[0-9]+', multipleOf: 0.001}
    """
)


def test_both_file_name_styles_load(tmp_path: Path) -> None:
    write_spec(tmp_path, "caiso_crr_app_status_v1.0.0_openapi.yaml")
    write_spec(tmp_path, "caiso_crr_messages_v1.2.1.yaml", version="1.2.1")
    write_spec(tmp_path, "README.yaml")  # not a contract name: ignored
    cat = load_catalogue(tmp_path)
    assert sorted(cat.services) == ["app_status", "messages"]
    assert cat["app_status"].version == SpecVersion(1, 0, 0)
    assert cat["messages"].version == SpecVersion(1, 2, 1)
    assert cat["messages"].operation("getStatus").path == "/status"


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("caiso_crr_auction_v1.1.9.yaml", "caiso_crr_auction_v1.2.1.yaml"),
        ("caiso_crr_auction_v1.2.1.yaml", "caiso_crr_auction_v1.10.0_openapi.yaml"),
        ("caiso_crr_auction_v1.0.0_openapi.yaml", "caiso_crr_auction_v2.0.0.yml"),
    ],
)
def test_newest_version_wins(tmp_path: Path, older: str, newer: str) -> None:
    write_spec(tmp_path, older)
    write_spec(tmp_path, newer)
    cat = load_catalogue(tmp_path)
    assert cat["auction"].path.name == newer
    assert any("auction" in w and "older" in w for w in cat.warnings)


def test_quirks_become_warnings_not_errors(tmp_path: Path) -> None:
    write_spec(tmp_path, "caiso_crr_market_data_v1.0.0.yaml", QUIRKY)
    cat = load_catalogue(tmp_path)
    text = "\n".join(cat.warnings)
    assert "operationId 'get-status' is not an identifier" in text
    assert "`pattern` on a number" in text
    assert "`format: double`" in text
    assert "application/octet-stream" in text
    assert "required property 'market' is not among the properties" in text
    assert "not a CAISO host" in text
    assert all(w.startswith("caiso_crr_market_data_v1.0.0.yaml: ") for w in cat.warnings)
    assert cat["market_data"].operation("get-status").response_media["200"] == "application/octet-stream"


def test_bare_on_off_enums_stay_strings(tmp_path: Path) -> None:
    """YAML 1.1 would read ON/OFF as booleans; OpenAPI tools (and we) read YAML 1.2."""
    write_spec(tmp_path, "caiso_crr_nomination_v1.0.0.yaml", QUIRKY)
    body = load_catalogue(tmp_path)["nomination"].operation("postThing").request_schema
    assert body is not None
    assert body["properties"]["tou"]["enum"] == ["ON", "OFF"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("openapi: 3.0.0\ninfo: [unclosed\n", "not valid YAML"),
        ("swagger: '2.0'\ninfo: {title: old, version: '1'}\npaths: {}\n", "not an OpenAPI 3 document"),
        (
            MINIMAL_SPEC.format(version="1.0.0").replace("in: header", "in: body"),
            "not a valid OpenAPI 3.0 document",
        ),
        (
            MINIMAL_SPEC.format(version="1.0.0").replace(
                "        '200':\n          description: fine\n", "        '200':\n"
            ),
            "not a valid OpenAPI 3.0 document",
        ),
        (
            MINIMAL_SPEC.format(version="1.0.0").replace(
                "status: {type: string, maxLength: 2048}", "status: {$ref: '#/components/schemas/Nope'}"
            ),
            "caiso_crr_auction_v1.0.0.yaml",
        ),
    ],
    ids=["bad-yaml", "swagger-2", "bad-parameter-location", "response-without-description", "dangling-ref"],
)
def test_broken_file_raises_contract_error_naming_it(tmp_path: Path, text: str, expected: str) -> None:
    write_spec(tmp_path, "caiso_crr_auction_v1.0.0.yaml", text)
    with pytest.raises(ContractError) as info:
        load_catalogue(tmp_path)
    message = str(info.value)
    assert "caiso_crr_auction_v1.0.0.yaml" in message
    assert expected in message


def test_structural_check_can_be_skipped(tmp_path: Path) -> None:
    bad = MINIMAL_SPEC.format(version="1.0.0").replace("in: header", "in: body")
    write_spec(tmp_path, "caiso_crr_auction_v1.0.0.yaml", bad)
    cat = load_catalogue(tmp_path, validate=False)
    assert cat["auction"].operation("getStatus").method == "GET"


def test_empty_or_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="no CRR contract files"):
        load_catalogue(tmp_path)
    with pytest.raises(ContractError, match="does not exist"):
        load_catalogue(tmp_path / "absent")


def test_specs_folder_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_spec(tmp_path, "caiso_crr_messages_v9.9.9.yaml", version="9.9.9")
    monkeypatch.setenv("CRRSIM_SPECS", str(tmp_path))
    cat = load_catalogue()
    assert cat.directory == tmp_path
    assert str(cat["messages"].version) == "9.9.9"


def test_our_contract_is_complete(ours) -> None:  # noqa: ANN001 - fixture
    assert len(ours.services) == 10
    assert sum(len(s.operations) for s in ours) == 69
    creation = ours["auction"].operation("portfolioCreation")
    assert creation.writes and creation.takes_participant
    assert creation.request_schema is not None and "newBids" in creation.request_schema["properties"]
    assert not ours["auction"].operation("getPortfolio").writes
    assert "POR0101" in ours["auction"].error_codes
    assert ours.find("get", "/status") is ours["app_status"].operation("get-status")
