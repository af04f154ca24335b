"""Structural validation of contract files, and a census of the quirks we tolerate.

Two different outcomes on purpose: a file that is not valid OpenAPI 3.0 is useless to every
runner, so it stops the catalogue with a ContractError naming the file; a file that is valid
but odd (CAISO's ``pattern`` on numbers, ``get-status`` operationIds, binary downloads) is
what participants really receive, so it only produces warnings that ``crrsim specs list``
shows.

The structural check imports openapi-spec-validator (~0.4 s). The sandbox loads the
catalogue at every start, so documents that validated once are remembered by content hash
in a small cache folder ($CRRSIM_CACHE_DIR, else ~/.cache/crrsim); failures are never cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.contract.errors import ContractError

CACHE_ENV = "CRRSIM_CACHE_DIR"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JSON_MEDIA = re.compile(r"^application/([a-z0-9.+-]*\+)?json$")
_MAX_SHOWN = 4  # locations listed per quirk before "and N more"
_validated_in_process: set[str] = set()


def _cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "crrsim"


def _digest(spec: dict[str, Any]) -> str:
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _known_valid(digest: str) -> bool:
    if digest in _validated_in_process:
        return True
    try:
        return (_cache_dir() / "openapi-valid" / digest).is_file()
    except OSError:
        return False


def _remember_valid(digest: str) -> None:
    _validated_in_process.add(digest)
    try:
        folder = _cache_dir() / "openapi-valid"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / digest).touch()
    except OSError:
        pass  # a read-only home must not break loading; we just validate again next time


def _location(path: tuple[Any, ...]) -> str:
    return "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path) or "(root)"


def check_structure(spec: dict[str, Any], label: str) -> None:
    """Raise ContractError listing the OpenAPI 3.0 violations in ``spec`` (``label`` names the file)."""
    digest = _digest(spec)
    if _known_valid(digest):
        return
    from openapi_spec_validator import OpenAPIV30SpecValidator

    try:
        errors = list(OpenAPIV30SpecValidator(spec).iter_errors())
    except Exception as exc:  # the validator raises (rather than reports) on unresolvable $refs
        ref = getattr(exc, "ref", None)
        detail = f"$ref {ref!r} points nowhere" if ref else f"{type(exc).__name__}: {str(exc)[:300]}"
        raise ContractError(f"{label}: not a valid OpenAPI 3.0 document: {detail}") from exc
    if errors:
        shown = [f"  at {_location(tuple(e.absolute_path))}: {e.message}" for e in errors[:10]]
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise ContractError(f"{label}: not a valid OpenAPI 3.0 document:\n" + "\n".join(shown) + more)
    _remember_valid(digest)


def _walk(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, i))


def _is_schema_position(path: tuple[Any, ...]) -> bool:
    """True unless the dict is a ``properties`` map or an example value (whose keys are data)."""
    return not path or path[-1] not in ("properties", "example", "examples", "links", "x-crr-errors")


def quirks(spec: dict[str, Any], label: str) -> list[str]:
    """Readable warnings for tolerated oddities; never raises."""
    found: dict[str, list[str]] = {}

    def note(kind: str, where: tuple[Any, ...]) -> None:
        found.setdefault(kind, []).append(_location(where))

    for path, node in _walk(spec):
        if not _is_schema_position(path) or "example" in path:
            continue
        typ = node.get("type")
        if typ in ("number", "integer") and "pattern" in node:
            note("`pattern` on a number (ignored, as JSON Schema says)", path)
        if node.get("format") == "double" and isinstance(node.get("type"), str):
            note("`format: double` (no JSON Schema meaning; any number is accepted)", path)
        required, props = node.get("required"), node.get("properties")
        if isinstance(required, list) and isinstance(props, dict):
            for name in required:
                if isinstance(name, str) and name not in props:
                    note(f"required property {name!r} is not among the properties", path)
        if (
            len(path) >= 2
            and path[-2] == "content"
            and "responses" in path
            and not _JSON_MEDIA.match(str(path[-1]))
        ):
            note(f"non-JSON response media type {path[-1]} (body not schema-checked)", path)
    for path_name, item in (spec.get("paths") or {}).items():
        for method, op in (item or {}).items():
            if isinstance(op, dict) and "operationId" in op and not _IDENTIFIER.match(str(op["operationId"])):
                note(f"operationId {op['operationId']!r} is not an identifier", ("paths", path_name, method))
    servers = [s.get("url", "") for s in spec.get("servers") or [] if isinstance(s, dict)]
    if servers and ".caiso.com" not in servers[0]:
        note(
            f"first server {servers[0]} is not a CAISO host (always pass the base URL explicitly)",
            ("servers", 0),
        )

    warnings = []
    for kind, where in found.items():
        shown = ", ".join(where[:_MAX_SHOWN])
        more = f" and {len(where) - _MAX_SHOWN} more" if len(where) > _MAX_SHOWN else ""
        warnings.append(f"{label}: {kind}: {shown}{more}")
    return warnings


def validate_document(spec: dict[str, Any], label: str, *, structural: bool = True) -> list[str]:
    """Check one parsed contract; returns its quirk warnings, raises ContractError if unusable."""
    if structural:
        check_structure(spec, label)
    return quirks(spec, label)
