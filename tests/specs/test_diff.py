"""`crrsim specs diff` (issue 13): older versions built from the 2024 deck's "B2B Spec Updates"
list by undoing each change on a copy of our contract; each must be found, classified and
given the bump CAISO's MAJOR.MINOR.MINI rule requires."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.contract.yaml12 import load_yaml
from harness.specs.diff import bump_between, diff_documents

SPECS = Path(__file__).resolve().parents[2] / "harness" / "contract" / "specs"


def _ours(service: str) -> dict[str, Any]:
    path = next(SPECS.glob(f"caiso_crr_{service}_v*.yaml"))
    return load_yaml(path.read_text(encoding="utf-8"))


def _older(
    spec: dict[str, Any], undo: Callable[[dict[str, Any]], object], version: str = "1.0.0"
) -> dict[str, Any]:
    old = copy.deepcopy(spec)
    undo(old)
    old["info"]["version"] = version
    return old


def _rename_operation(old: dict[str, Any], current: str, before: str) -> None:
    for item in old["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == current:
                op["operationId"] = before


def _schemas(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["components"]["schemas"]


def _rename_schema(old: dict[str, Any], current: str, before: str) -> None:
    text = json.dumps(old).replace(f'"#/components/schemas/{current}"', f'"#/components/schemas/{before}"')
    old.clear()
    old.update(json.loads(text))
    _schemas(old)[before] = _schemas(old).pop(current)


def _delete_with_path_params(old: dict[str, Any]) -> None:
    item = old["paths"].pop("/auction/v1.0/portfolio")
    delete = item.pop("delete")
    if item:
        old["paths"]["/auction/v1.0/portfolio"] = item
    params = [
        p
        for p in delete["parameters"]
        if "$ref" in p and not p["$ref"].endswith(("MarketName", "PortfolioName"))
    ]
    params += [
        {"name": "marketName", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "portfolioName", "in": "path", "required": True, "schema": {"type": "string"}},
    ]
    old["paths"]["/auction/v1.0/portfolio/{marketName}/{portfolioName}"] = {
        "delete": {**delete, "parameters": params}
    }


def _without_set_aside(old: dict[str, Any]) -> None:
    enum = old["components"]["parameters"]["PublicMarketDownloadType"]["schema"]["enum"]
    enum.remove("SET_ASIDE")


def _effective_date_optional(old: dict[str, Any]) -> None:
    _schemas(old)["PostDASRsummaryset"]["required"].remove("effectiveDate")


def _looser_portfolio_name(old: dict[str, Any]) -> None:
    for schema in _schemas(old).values():
        name = (schema.get("properties") or {}).get("portfolioName")
        if isinstance(name, dict) and "pattern" in name:
            name["pattern"] = "^.*$"


def _maxlenth_typo(old: dict[str, Any]) -> None:
    props = _schemas(old)["PostDASRsummaryset"]["properties"]["udcName"]
    props["maxlenth"] = props.pop("maxLength")


def _messages_api_exception(old: dict[str, Any]) -> None:
    _rename_schema(old, "CRRServiceException", "ApiException")


def _status_enum_without_closed(old: dict[str, Any]) -> None:
    status = next(
        s
        for name, s in _schemas(old).items()
        if name in ("MarketStatusType", "MarketStatus") and isinstance(s.get("enum"), list)
    )
    status["enum"].remove("CLOSED")


CASES = [
    # (service, what the deck says changed, undo it, expected (kind, rule), a phrase of the action or text)
    (
        "load_migration",
        "getLoadMigrationTransfers -> getLoadMigrationCRRs",
        lambda o: _rename_operation(o, "getLoadMigrationCRRs", "getLoadMigrationTransfers"),
        ("breaking", "operationId changed"),
        "getLoadMigrationTransfers is now getLoadMigrationCRRs",
    ),
    (
        "market_status",
        "getmarketstatus -> getMarketInfo",
        lambda o: _rename_operation(o, "getMarketInfo", "getmarketstatus"),
        ("breaking", "operationId changed"),
        "getmarketstatus is now getMarketInfo",
    ),
    (
        "auction",
        "delete portfolio path parameters replaced",
        _delete_with_path_params,
        ("breaking", "path or method changed"),
        "call DELETE /auction/v1.0/portfolio instead of",
    ),
    (
        "auction",
        "delete portfolio path parameters replaced",
        _delete_with_path_params,
        ("breaking", "parameter moved"),
        "marketName moved from path to",
    ),
    (
        "load_migration",
        "effectiveDate made required in PostDASRsummaryset",
        _effective_date_optional,
        ("breaking", "request field made required"),
        "your client must now send `effectiveDate` in `PostDASRsummaryset`",
    ),
    (
        "market_data",
        "SET_ASIDE added",
        _without_set_aside,
        ("compatible", "request enum value added"),
        "SET_ASIDE",
    ),
    (
        "messages",
        "ApiException -> CRRServiceException",
        _messages_api_exception,
        ("compatible", "schema renamed"),
        "ApiException is now CRRServiceException",
    ),
    (
        "nomination",
        "PortfolioStatus -> Portfolio",
        lambda o: _rename_schema(o, "Portfolio", "PortfolioStatus"),
        ("compatible", "schema renamed"),
        "PortfolioStatus is now Portfolio",
    ),
    (
        "nomination",
        "tightened name patterns",
        _looser_portfolio_name,
        ("breaking", "pattern changed"),
        "check that the",
    ),
    ("load_migration", "maxlenth -> maxLength", _maxlenth_typo, ("breaking", "maxLength added"), "udcName"),
]


@pytest.mark.parametrize(
    ("service", "change", "undo", "expected", "phrase"),
    CASES,
    ids=[f"{c[0]}: {c[1]} ({c[3][1]})" for c in CASES],
)
def test_each_change_of_the_deck_is_found_classified_and_bumped(
    service: str, change: str, undo: Callable, expected: tuple[str, str], phrase: str
) -> None:
    new = _ours(service)
    if service == "nomination" and "PortfolioStatus" in _schemas(new):
        _rename_schema(
            new, "PortfolioStatus", "PortfolioStatusSummary"
        )  # ours has both names: free the old one
    new["info"]["version"] = "1.0.1"  # shipped as documentation only: understated
    result = diff_documents(_older(new, undo), new)
    found = [c for c in result.changes if (c.kind, c.rule) == expected]
    assert found, [(c.kind, c.rule, c.text) for c in result.changes]
    assert any(phrase in c.action or phrase in c.text for c in found), [(c.text, c.action) for c in found]
    assert result.required == "MINOR" and result.carried == "MINI" and result.understated


def test_a_response_enum_value_added_breaks_strict_clients_and_required_to_optional_is_compatible() -> None:
    new = _ours("load_migration")
    old = _older(new, lambda o: o)
    _schemas(new)["PostDASRsummaryset"]["required"].remove("udcName")  # required -> optional (a request)
    result = diff_documents(old, new)
    assert [(c.kind, c.rule) for c in result.changes] == [("compatible", "request field made optional")]
    status = _ours("market_status")
    before = _older(status, _status_enum_without_closed, "1.1.0")
    status["info"]["version"] = "1.2.0"
    found = diff_documents(before, status)
    assert ("breaking", "response enum value added") in {(c.kind, c.rule) for c in found.changes}
    assert not found.understated


def test_documentation_only_needs_a_mini_bump_and_a_new_service_version_a_major() -> None:
    new = _ours("messages")
    old = _older(new, lambda o: o, "1.2.0")
    new["info"]["version"] = "1.2.1"
    for item in new["paths"].values():
        for op in item.values():
            if isinstance(op, dict):
                op["summary"] = op.get("summary", "") + " (reworded)"
    result = diff_documents(old, new)
    assert [(c.kind, c.rule) for c in result.changes] == [("documentation", "documentation changed")]
    assert result.required == "MINI" and not result.understated
    v2 = json.loads(json.dumps(new).replace("/messages/v1.0/", "/messages/v2.0/"))
    v2["info"]["version"] = "1.3.0"
    assert diff_documents(new, v2).required == "MAJOR" and diff_documents(new, v2).understated
    assert bump_between("1.2.1", "2.0.0") == "MAJOR" and bump_between("1.2.1", "1.2.1") == "NONE"


def test_the_cli_diffs_two_files_with_an_action_list_and_exit_code(tmp_path: Path) -> None:
    new = _ours("load_migration")
    new["info"]["version"] = "1.1.1"
    old = _older(new, _effective_date_optional, "1.1.0")
    (tmp_path / "old.yaml").write_text(yaml.safe_dump(old))
    (tmp_path / "new.yaml").write_text(yaml.safe_dump(new))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "specs",
            "diff",
            "old.yaml",
            "new.yaml",
            "--json",
            "d.json",
            "--markdown",
            "d.md",
            "--junit",
            "d.xml",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # breaking changes in a MINI bump
    assert "your client must now send `effectiveDate` in `PostDASRsummaryset`" in run.stdout
    assert "understates" in run.stdout
    data = json.loads((tmp_path / "d.json").read_text())
    assert data["verdict"] == "UNDERSTATED"
    assert "effectiveDate" in (tmp_path / "d.md").read_text()


def test_a_documentation_change_without_a_bump_is_named_by_service_and_said_plainly(tmp_path: Path) -> None:
    """Two CAISO-named files: the service is named from the file name (it used to read "the
    service"), and an understated bump with nothing breaking is not called "breaking changes"."""
    new = _ours("auction")
    old = copy.deepcopy(new)
    operation = next(iter(next(iter(old["paths"].values())).values()))
    operation["description"] = "An older wording of the same operation."
    name = next(SPECS.glob("caiso_crr_auction_*.yaml")).name
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / name).write_text(yaml.safe_dump(old))
    (tmp_path / name).write_text(yaml.safe_dump(new))
    run = subprocess.run(
        [sys.executable, "-m", "harness", "specs", "diff", f"old/{name}", name, "--json", "d.json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.startswith(
        f"auction: {new['info']['version']} -> {new['info']['version']}: 0 breaking, "
        "0 compatible, 1 documentation"
    ), run.stdout
    assert "Error: a version bump that understates the change" in run.stderr and "breaking" not in run.stderr
    findings = json.loads((tmp_path / "d.json").read_text())["findings"]
    assert findings and "publish it as a MINI version" in findings[0]["fix"], findings


def test_two_folders_are_diffed_service_by_service(tmp_path: Path) -> None:
    """A folder pair (all ten services): only the service that changed reports changes."""
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    for folder in (old_dir, new_dir):
        folder.mkdir()
        for spec in SPECS.glob("caiso_crr_*.yaml"):
            (folder / spec.name).write_bytes(spec.read_bytes())
    changed = next(new_dir.glob("caiso_crr_market_data_*.yaml"))
    doc = load_yaml(changed.read_text())
    doc["components"]["parameters"]["PublicMarketDownloadType"]["schema"]["enum"].remove("SET_ASIDE")
    changed.write_text(yaml.safe_dump(doc))
    run = subprocess.run(
        [sys.executable, "-m", "harness", "specs", "diff", "old", "new", "--json", "d.json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # a request value removed: breaking
    lines = [line for line in run.stdout.splitlines() if not line.startswith(" ") and ": " in line]
    assert len(lines) == 10 and all(
        " 0 breaking, 0 compatible" in line for line in lines if not line.startswith("market_data")
    ), lines
    assert "market_data: 1.2.0 -> 1.2.0: 1 breaking" in run.stdout
    assert "stop sending SET_ASIDE" in run.stdout


def _file_schema(name: str) -> dict[str, Any]:
    return json.loads((SPECS.parent / "schemas" / f"{name}_v1.draft-07.schema.json").read_text())


def test_the_decks_json_schema_updates_are_classified_as_a_reader_sees_them() -> None:
    """Download files are read by participants: CONTRACT added to the node types breaks a strict
    reader; fields changed from required to optional may now be missing from a record."""
    new = _file_schema("CRRSourceSink")
    old = copy.deepcopy(new)
    old["definitions"]["NodeType"]["enum"].remove("CONTRACT")
    found = {(c.kind, c.rule): c for c in diff_documents(old, new).changes}
    assert ("breaking", "response enum value added") in found, found
    assert "CONTRACT" in found[("breaking", "response enum value added")].action
    new = _file_schema("CRRInterface")
    old = copy.deepcopy(new)
    old["definitions"]["Record"]["required"] += ["OperatingPositiveLimit", "OperatingNegativeLimit"]
    changes = diff_documents(old, new).changes
    assert sorted((c.kind, c.rule, c.where.rsplit("/", 1)[-1]) for c in changes) == [
        ("breaking", "response field made optional", "OperatingNegativeLimit"),
        ("breaking", "response field made optional", "OperatingPositiveLimit"),
    ]
