"""Load a folder of CRR contract files into typed services and operations.

The catalogue keeps the newest version of each service found in the folder, resolves the
local ``$ref`` pointers once (so validators and runners see plain JSON Schema), and records
what it tolerated in ``Catalogue.warnings`` instead of failing: CAISO's published files have
quirks (``pattern`` on numbers, ``format: double``, ``get-status`` operationIds) that real
clients live with, and so must we.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.contract.errors import ContractError
from harness.contract.naming import SpecVersion, parse_spec_filename
from harness.contract.validate import validate_document
from harness.contract.wire import JSON_MEDIA_TYPE
from harness.contract.yaml12 import load_yaml

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
SPECS_ENV = "CRRSIM_SPECS"


OFFICIAL_SPECS_ENV = "CRRSIM_OFFICIAL_SPECS"


def official_specs_dir() -> Path:
    """Where CAISO's published files are looked for by the agreement tests and reports:
    ``$CRRSIM_OFFICIAL_SPECS``, else ``../shared/reference/caiso-crr-specs`` beside the checkout."""
    env = os.environ.get(OFFICIAL_SPECS_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "reference" / "caiso-crr-specs"


def default_specs_dir() -> Path:
    """Our own contract files, shipped inside the package."""
    return Path(__file__).parent / "specs"


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "query" | "header" | "path" | "cookie"
    required: bool
    schema: dict[str, Any]


@dataclass(frozen=True)
class Operation:
    service: str
    method: str  # upper case
    path: str  # as in the contract, without the /crr base
    operation_id: str
    parameters: tuple[Parameter, ...]
    request_schema: dict[str, Any] | None
    request_required: bool
    responses: dict[str, dict[str, Any] | None]  # status -> resolved schema of its JSON body
    response_media: dict[str, str | None]  # status -> first media type, None without content
    tags: tuple[str, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def label(self) -> str:
        """'METHOD /path', the name schemathesis (and every fuzz report) gives the operation."""
        return f"{self.method} {self.path}"

    @property
    def accept(self) -> str:
        """What to send as Accept: the media types the contract declares for this operation's
        answers, successes first (a market-data download: application/octet-stream, then the
        JSON of its errors). A strict server answers 406 to an Accept the contract does not offer."""
        ordered = sorted(self.response_media.items(), key=lambda item: (not item[0].startswith("2"), item[0]))
        media = list(dict.fromkeys(m for _, m in ordered if m))
        return ", ".join(media) or JSON_MEDIA_TYPE

    @property
    def writes(self) -> bool:
        """True for operations that change state (CAISO tags them '... Write')."""
        if any(t.lower().endswith("write") for t in self.tags):
            return True
        if any(t.lower().endswith("read") for t in self.tags):
            return False
        return self.method not in ("GET", "HEAD", "OPTIONS")

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    @property
    def takes_participant(self) -> bool:
        if self.parameter("participantName"):
            return True
        props = (self.request_schema or {}).get("properties", {})
        return "participantName" in props


@dataclass(frozen=True)
class Service:
    name: str  # e.g. "auction", as in the file name
    version: SpecVersion
    path: Path
    title: str
    spec: dict[str, Any] = field(repr=False)
    operations: tuple[Operation, ...]
    error_codes: tuple[str, ...]

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(f"{self.name} has no operation {operation_id!r}")


@dataclass
class Catalogue:
    directory: Path
    services: dict[str, Service]
    warnings: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Service]:
        return iter(self.services[name] for name in sorted(self.services))

    def __getitem__(self, name: str) -> Service:
        return self.services[name]

    def operations(self) -> Iterator[Operation]:
        for svc in self:
            yield from svc.operations

    def find(self, method: str, path: str) -> Operation | None:
        for op in self.operations():
            if op.method == method.upper() and op.path == path:
                return op
        return None


def resolve_refs(node: Any, root: dict[str, Any], _seen: tuple[str, ...] = ()) -> Any:
    """Inline local ``#/...`` references; remote references are a contract error."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#/"):
                raise ContractError(f"only local $ref pointers are supported, got {ref!r}")
            if ref in _seen:
                raise ContractError(f"recursive $ref {ref!r}")
            target: Any = root
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                try:
                    target = target[part]
                except (KeyError, TypeError) as exc:
                    raise ContractError(f"dangling $ref {ref!r}") from exc
            merged = resolve_refs(copy.deepcopy(target), root, (*_seen, ref))
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if siblings and isinstance(merged, dict):
                merged = {**merged, **resolve_refs(siblings, root, _seen)}
            return merged
        return {k: resolve_refs(v, root, _seen) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve_refs(v, root, _seen) for v in node]
    return node


def _json_schema_of(content: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str | None]:
    if not content:
        return None, None
    media = next(iter(content))
    for candidate in (JSON_MEDIA_TYPE, media):
        if candidate in content:
            return (content[candidate] or {}).get("schema"), media
    return None, media


def _operations(service: str, spec: dict[str, Any]) -> list[Operation]:
    ops: list[Operation] = []
    for path, item in (spec.get("paths") or {}).items():
        item = resolve_refs(item, spec)
        shared_params = item.get("parameters", [])
        for method in HTTP_METHODS:
            raw = item.get(method)
            if not isinstance(raw, dict):
                continue
            params = {(p["name"], p["in"]): p for p in (*shared_params, *raw.get("parameters", []))}
            parameters = tuple(
                Parameter(
                    name=p["name"],
                    location=p["in"],
                    required=bool(p.get("required", p["in"] == "path")),
                    schema=p.get("schema") or {},
                )
                for p in params.values()
            )
            body = raw.get("requestBody") or {}
            request_schema, _ = _json_schema_of(body.get("content"))
            responses: dict[str, dict[str, Any] | None] = {}
            media: dict[str, str | None] = {}
            for status, resp in (raw.get("responses") or {}).items():
                responses[str(status)], media[str(status)] = _json_schema_of((resp or {}).get("content"))
            ops.append(
                Operation(
                    service=service,
                    method=method.upper(),
                    path=path,
                    operation_id=raw.get("operationId") or f"{method}{path}",
                    parameters=parameters,
                    request_schema=request_schema,
                    request_required=bool(body.get("required", False)),
                    responses=responses,
                    response_media=media,
                    tags=tuple(raw.get("tags") or ()),
                    raw=raw,
                )
            )
    return ops


_HTML_ERROR_ROW = re.compile(r"<td>\s*([A-Z]{2,5}\d{3,5})\s*</td>\s*<td>(.*?)</td>", re.S)


def _exception_schema(spec: dict[str, Any]) -> dict[str, Any]:
    return ((spec.get("components") or {}).get("schemas") or {}).get("CRRServiceException") or {}


def error_table_of(spec: dict[str, Any]) -> dict[str, str]:
    """Error code -> message template, as a contract declares them.

    Ours lists them as structured ``x-crr-errors`` entries on the CRRServiceException schema;
    CAISO's only have them in an HTML table in its description (codes like SER0029, LHFV0026
    or LMV023), so for those we read that table.
    """
    schema = _exception_schema(spec)
    listed = schema.get("x-crr-errors")
    if isinstance(listed, list):
        return {
            str(e["code"]): str(e.get("message", "")) for e in listed if isinstance(e, dict) and "code" in e
        }
    return {
        code: " ".join(msg.split()) for code, msg in _HTML_ERROR_ROW.findall(schema.get("description") or "")
    }


def error_codes_of(spec: dict[str, Any]) -> tuple[str, ...]:
    """The error codes a contract declares, in its order."""
    return tuple(error_table_of(spec))


def _read_spec(path: Path) -> dict[str, Any]:
    try:
        spec = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path.name}: cannot be read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ContractError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(spec, dict) or not str(spec.get("openapi", "")).startswith("3."):
        raise ContractError(f"{path.name}: not an OpenAPI 3 document (no 'openapi: 3.x' at the top)")
    return spec


def _service_from(path: Path, spec: dict[str, Any]) -> Service:
    parsed = parse_spec_filename(path)
    if parsed is None:
        raise ContractError(
            f"{path.name}: not a CRR contract file name (caiso_crr_<service>_v<M>.<m>.<n>.yaml)"
        )
    try:
        operations = tuple(_operations(parsed.service, spec))
    except ContractError as exc:
        raise ContractError(f"{path.name}: {exc}") from exc
    except (KeyError, TypeError, AttributeError) as exc:
        raise ContractError(f"{path.name}: malformed operation or parameter ({exc!r})") from exc
    return Service(
        name=parsed.service,
        version=parsed.version,
        path=path,
        title=str((spec.get("info") or {}).get("title", parsed.service)),
        spec=spec,
        operations=operations,
        error_codes=error_codes_of(spec),
    )


def resolve_specs_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Explicit folder, else $CRRSIM_SPECS, else our own contract."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(SPECS_ENV)
    return Path(env) if env else default_specs_dir()


def load_catalogue(directory: str | os.PathLike[str] | None = None, *, validate: bool = True) -> Catalogue:
    """Load the newest version of each service found in ``directory``.

    ``validate=False`` skips the OpenAPI structural check (quirk warnings are still
    collected); it exists for hot paths that load a folder already checked.
    """
    folder = resolve_specs_dir(directory)
    if not folder.is_dir():
        raise ContractError(f"spec folder {folder} does not exist")
    newest: dict[str, Path] = {}
    versions: dict[str, SpecVersion] = {}
    warnings: list[str] = []
    for path in sorted(folder.iterdir()):
        parsed = parse_spec_filename(path)
        if parsed is None:
            continue
        current = versions.get(parsed.service)
        if current is None or parsed.version > current:
            if current is not None:
                warnings.append(f"{parsed.service}: using v{parsed.version}, ignoring older v{current}")
            newest[parsed.service] = path
            versions[parsed.service] = parsed.version
        else:
            warnings.append(f"{parsed.service}: ignoring older {path.name}")
    if not newest:
        raise ContractError(f"no CRR contract files (caiso_crr_*_v*.yaml) in {folder}")
    services: dict[str, Service] = {}
    for name, path in sorted(newest.items()):
        spec = _read_spec(path)
        warnings.extend(validate_document(spec, path.name, structural=validate))
        services[name] = _service_from(path, spec)
    return Catalogue(directory=folder, services=services, warnings=warnings)
