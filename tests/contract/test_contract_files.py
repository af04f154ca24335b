"""Properties of our own contract files beyond agreement with CAISO's interface."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from harness.contract import Catalogue, Service
from harness.contract.catalogue import error_table_of, resolve_refs

SERVERS = ["https://mapstage-api.caiso.com/crr", "https://api.caiso.com/crr"]
PLACEHOLDER = re.compile(r"\{\d\}")


def _expected_status(code: str) -> int:
    if code.startswith("SEC"):
        return 403
    return {"SER0029": 404, "SER0028": 500, "SER0001": 500, "GEN0003": 503}.get(code, 400)


def _examples(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(location, schema, example) for every example attached to a schema, parameter or media type."""
    if isinstance(node, dict):
        if "example" in node:
            schema = node.get("schema", node)  # parameter / media type carry a schema; a schema is its own
            yield path, schema, node["example"]
        for key, value in node.items():
            if key not in ("example", "x-crr-errors", "links"):
                yield from _examples(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _examples(value, f"{path}/{i}")


def _openapi_to_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop what JSON Schema reads differently: `pattern` on numbers and prose keys."""
    if isinstance(schema, dict):
        out = {
            k: _openapi_to_json_schema(v) for k, v in schema.items() if k not in ("example", "description")
        }
        if out.get("type") in ("number", "integer"):
            out.pop("pattern", None)
        if "properties" in schema:
            out["properties"] = {k: _openapi_to_json_schema(v) for k, v in schema["properties"].items()}
        return out
    if isinstance(schema, list):
        return [_openapi_to_json_schema(v) for v in schema]
    return schema


def test_servers_are_mapstage_then_production(ours: Catalogue) -> None:
    for svc in ours:
        assert [s["url"] for s in svc.spec["servers"]] == SERVERS, svc.name


def test_every_example_is_valid_for_its_schema(ours: Catalogue) -> None:
    problems = []
    count = 0
    for svc in ours:
        for where, schema, example in _examples(svc.spec):
            resolved = _openapi_to_json_schema(resolve_refs(schema, svc.spec))
            count += 1
            for error in jsonschema_rs.validator_for(resolved, validate_formats=True).iter_errors(example):
                problems.append(f"{svc.name}{where}: {error.message}")
    assert count > 200
    assert not problems, "\n".join(problems)


def test_prose_is_present_and_markdown_only(ours: Catalogue) -> None:
    missing = []
    for svc in ours:
        text = svc.path.read_text(encoding="utf-8")
        assert "<table" not in text and "<td>" not in text, svc.name
        assert "| Version | Date |" in svc.spec["info"]["description"], svc.name
        for op in svc.operations:
            for key in ("summary", "description"):
                if not op.raw.get(key):
                    missing.append(f"{svc.name} {op.operation_id}: {key}")
            missing += [
                f"{svc.name} {op.operation_id} {s}"
                for s, r in op.raw["responses"].items()
                if not r.get("description")
            ]
        for name, schema in svc.spec["components"].get("schemas", {}).items():
            if not schema.get("description"):
                missing.append(f"{svc.name} schema {name}")
    assert not missing, "\n".join(missing)


def _errors(svc: Service) -> list[dict[str, Any]]:
    return svc.spec["components"].get("schemas", {}).get("CRRServiceException", {}).get("x-crr-errors", [])


def test_error_codes_carry_status_and_message(ours: Catalogue) -> None:
    for svc in ours:
        entries = _errors(svc)
        assert [e["code"] for e in entries] == list(svc.error_codes)
        for entry in entries:
            assert entry["status"] == _expected_status(entry["code"]), (svc.name, entry)
            assert entry["message"].strip(), (svc.name, entry)
    assert len(ours["auction"].error_codes) == 26
    assert ours["app_status"].error_codes == ()  # CAISO lists none for the status ping


@pytest.mark.official_specs
def test_message_placeholders_match_caiso(ours: Catalogue, caiso: Catalogue) -> None:
    """A sandbox filling {0}/{1} must have the same arguments CAISO's message takes."""
    wrong = []
    for svc in ours:
        theirs = error_table_of(caiso[svc.name].spec)
        for entry in _errors(svc):
            if set(PLACEHOLDER.findall(entry["message"])) != set(PLACEHOLDER.findall(theirs[entry["code"]])):
                wrong.append(
                    f"{svc.name} {entry['code']}: ours {entry['message']!r}, CAISO {theirs[entry['code']]!r}"
                )
    assert not wrong, "\n".join(wrong)


LIFECYCLES = {
    "auction": [
        ("portfolioCreation", "SubmitPortfolio"),
        ("portfolioCreation", "GetRequiredCredit"),
        ("portfolioSubmission", "RetractPortfolio"),
        ("portfolioRetraction", "DeletePortfolio"),
    ],
    "nomination": [
        ("portfolioCreation", "GetPortfolio"),
        ("portfolioSubmission", "RetractPortfolio"),
        ("portfolioRetraction", "DeletePortfolio"),
    ],
    "secondary_market": [
        ("publicSmSellOfferCreation", "RespondToSellOffer"),
        ("smResponseToSellOffers", "ResponsesByStatus"),
    ],
    "tor_conversion": [("torConversionCreation", "RequestList")],
    "historical_forecasted_load": [("loadSubmission", "LoadData")],
    "load_migration": [("numberOfCustomers", "ExistingNumberOfCustomers")],
}


@pytest.mark.parametrize("service", sorted(LIFECYCLES))
def test_schemathesis_builds_stateful_transitions_from_our_links(ours: Catalogue, service: str) -> None:
    import schemathesis

    machine = schemathesis.openapi.from_path(ours[service].path).as_state_machine()
    transitions = [name for name in dir(machine) if "___200_" in name]
    for source, link in LIFECYCLES[service]:
        assert any(f"_{source}___200_{link}__" in name for name in transitions), (source, link, transitions)
