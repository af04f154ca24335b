"""Our JSON Schemas (draft-07) for market-data download files, and a validator for them.

CAISO publishes the content of its download archives as draft-07 JSON Schemas separate from
the OpenAPI files (the API only says "octet-stream"). The sandbox builds the files it serves
from these schemas and the harness checks downloaded files against them, so both sides agree
on field names, optional fields (e.g. OperatingPositiveLimit, TotalSEQ) and enums (e.g. the
CONTRACT node type) in one place. Validation uses jsonschema-rs: exact ``multipleOf`` on
decimal MW values, where float-based validators reject valid numbers.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from harness.contract.errors import ContractError

SCHEMAS_DIR = Path(__file__).parent / "schemas"
_SUFFIX = ".draft-07.schema.json"


def file_schema_names() -> tuple[str, ...]:
    """Names we ship, e.g. ``CRRSourceSink_v1``."""
    return tuple(sorted(p.name[: -len(_SUFFIX)] for p in SCHEMAS_DIR.glob(f"*{_SUFFIX}")))


def _canonical(name: str) -> str:
    """Accept ``CRRSourceSink_v1``, ``CRRSourceSink`` or the full file name."""
    base = name[: -len(_SUFFIX)] if name.endswith(_SUFFIX) else name
    known = file_schema_names()
    if base in known:
        return base
    versioned = [k for k in known if k.rsplit("_v", 1)[0] == base]
    if len(versioned) == 1:
        return versioned[0]
    raise ContractError(f"no market-data file schema named {name!r}; known: {', '.join(known)}")


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS_DIR / f"{name}{_SUFFIX}").read_text(encoding="utf-8"))


@cache
def _validator(name: str) -> jsonschema_rs.Draft7Validator:
    return jsonschema_rs.Draft7Validator(_load(name), validate_formats=True)


def file_schema(name: str) -> dict[str, Any]:
    """The JSON Schema for one download file type (a copy: callers may modify it)."""
    return copy.deepcopy(_load(_canonical(name)))


def _pointer(path: list[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(file)"


def validate_file_records(name: str, data: Any) -> list[str]:
    """Every problem in a parsed download file, as ``location: message``; empty when valid."""
    validator = _validator(_canonical(name))
    return [f"{_pointer(list(e.instance_path))}: {e.message}" for e in validator.iter_errors(data)]
