"""``crrsim specs diff OLD NEW``: every change between two versions of a service's contract,
classified for a participant's client, the version bump the changes require against the bump
the new file carries, and what a participant must do.

Classes (each change names the rule behind it):

* **breaking**: a client built for the old file can fail against the new one (a path, method
  or operationId it calls is gone or renamed, a parameter moved between path/query/header, a
  new required request field or parameter, a request value no longer accepted -- enum value
  removed, pattern changed, a tighter length or range -- or a response it parses changed: a
  field removed or no longer always there, a new enum value a strict parser refuses, a type);
* **compatible**: an old client keeps working (a new operation, a new optional field or
  parameter, a request enum value added, a looser constraint, a schema renamed with the same
  content: the wire is unchanged, generated class names change);
* **documentation**: descriptions, summaries, examples, titles.

CAISO's rule (the 2024 deck): MAJOR for a new service or a new major version of one (its
``/vN.0/`` paths), MINOR for any change to a service, MINI for documentation only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.contract.catalogue import resolve_refs
from harness.contract.wire import JSON_MEDIA_TYPE

DOC_KEYS = frozenset({"description", "summary", "example", "examples", "title", "externalDocs", "tags"})
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
BUMPS = ("NONE", "MINI", "MINOR", "MAJOR")
_SERVICE_VERSION = re.compile(r"/v(\d+)\.\d+/")


@dataclass(frozen=True)
class Change:
    kind: str  # breaking | compatible | documentation
    rule: str
    where: str
    text: str
    action: str = ""  # what a participant's client must now do (breaking changes)


@dataclass
class DiffResult:
    old_version: str
    new_version: str
    changes: list[Change] = field(default_factory=list)
    required: str = "NONE"  # the bump the changes require
    carried: str = "NONE"  # the bump the new file's version carries

    @property
    def understated(self) -> bool:
        return BUMPS.index(self.carried) < BUMPS.index(self.required)

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]


def bump_between(old: str, new: str) -> str:
    """MAJOR/MINOR/MINI by the first part of MAJOR.MINOR.MINI that differs; NONE if equal."""
    try:
        a, b = [tuple(int(p) for p in v.split(".")) for v in (old, new)]
    except ValueError:
        return "NONE"
    for index, name in enumerate(("MAJOR", "MINOR", "MINI")):
        if a[index] != b[index]:
            return name
    return "NONE"


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for path, item in (spec.get("paths") or {}).items():
        for method in METHODS:
            op = (item or {}).get(method)
            if isinstance(op, dict):
                shared = [p for p in (item.get("parameters") or []) if isinstance(p, dict)]
                out[(method.upper(), path)] = {**op, "parameters": [*shared, *(op.get("parameters") or [])]}
    return out


def _params(op: dict[str, Any], root: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """name -> parameter, $ref'd ones (components/parameters) resolved."""
    resolved = [resolve_refs(p, root) for p in op.get("parameters") or [] if isinstance(p, dict)]
    return {str(p.get("name")): p for p in resolved if isinstance(p, dict) and p.get("name")}


def _body(op: dict[str, Any]) -> dict[str, Any] | None:
    content = (op.get("requestBody") or {}).get("content") or {}
    media = content.get(JSON_MEDIA_TYPE) or next(iter(content.values()), None)
    return (media or {}).get("schema") if isinstance(media, dict) else None


def _responses(op: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    out: dict[str, dict[str, Any] | None] = {}
    for status, answer in (op.get("responses") or {}).items():
        content = (answer or {}).get("content") or {}
        media = content.get(JSON_MEDIA_TYPE) or next(iter(content.values()), None)
        out[str(status)] = (media or {}).get("schema") if isinstance(media, dict) else None
    return out


def _strip_docs(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_docs(v) for k, v in node.items() if k not in DOC_KEYS}
    if isinstance(node, list):
        return [_strip_docs(v) for v in node]
    return node


class _Differ:
    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def add(self, kind: str, rule: str, where: str, text: str, action: str = "") -> None:
        self.changes.append(Change(kind, rule, where, text, action))

    # -- schemas --------------------------------------------------------------------------
    def schema(self, old: Any, new: Any, where: str, direction: str, label: str) -> None:
        """Compare two resolved schemas; ``direction`` is "request" (the client sends it) or
        "response" (the client reads it); ``label`` names the field for the action list."""
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        sending = direction == "request"
        if old.get("type") != new.get("type") and old.get("type") and new.get("type"):
            self.add(
                "breaking",
                "type changed",
                where,
                f"{label}: type {old['type']} is now {new['type']}",
                f"send and read {label} as {new['type']}",
            )
            return
        old_enum, new_enum = old.get("enum"), new.get("enum")
        if isinstance(old_enum, list) and isinstance(new_enum, list):
            added = [v for v in new_enum if v not in old_enum]
            removed = [v for v in old_enum if v not in new_enum]
            if added:
                if sending:
                    self.add(
                        "compatible",
                        "request enum value added",
                        where,
                        f"{label} now also accepts {', '.join(map(str, added))}",
                    )
                else:
                    self.add(
                        "breaking",
                        "response enum value added",
                        where,
                        f"{label} may now come back as {', '.join(map(str, added))}",
                        f"accept {', '.join(map(str, added))} in {label}",
                    )
            if removed:
                if sending:
                    self.add(
                        "breaking",
                        "request enum value removed",
                        where,
                        f"{label} no longer accepts {', '.join(map(str, removed))}",
                        f"stop sending {', '.join(map(str, removed))} in {label}",
                    )
                else:
                    self.add(
                        "compatible",
                        "response enum value removed",
                        where,
                        f"{label} no longer comes back as {', '.join(map(str, removed))}",
                    )
        self.constraints(old, new, where, sending, label)
        old_props, new_props = old.get("properties") or {}, new.get("properties") or {}
        old_req, new_req = set(old.get("required") or []), set(new.get("required") or [])
        for name in sorted(set(old_props) | set(new_props)):
            at, field_label = f"{where}/{name}", f"{label}.{name}" if label else name
            if name not in new_props:
                if sending:
                    self.add("compatible", "request field removed", at, f"{field_label} is no longer read")
                else:
                    self.add(
                        "breaking",
                        "response field removed",
                        at,
                        f"{field_label} is no longer sent",
                        f"stop reading {field_label}",
                    )
                continue
            if name not in old_props:
                if sending and name in new_req:
                    self.add(
                        "breaking",
                        "new required request field",
                        at,
                        f"{field_label} is new and required",
                        _must_send(field_label),
                    )
                else:
                    self.add(
                        "compatible",
                        f"new optional {'request' if sending else 'response'} field",
                        at,
                        f"{field_label} is new" + ("" if sending else " (tolerant readers ignore it)"),
                    )
                continue
            if sending and name in new_req and name not in old_req:
                self.add(
                    "breaking",
                    "request field made required",
                    at,
                    f"{field_label} is now required",
                    _must_send(field_label),
                )
            elif sending and name in old_req and name not in new_req:
                self.add("compatible", "request field made optional", at, f"{field_label} is now optional")
            elif not sending and name in old_req and name not in new_req:
                self.add(
                    "breaking",
                    "response field made optional",
                    at,
                    f"{field_label} may now be absent",
                    f"handle a missing {field_label}",
                )
            elif not sending and name in new_req and name not in old_req:
                self.add(
                    "compatible", "response field made required", at, f"{field_label} is now always sent"
                )
            self.schema(old_props[name], new_props[name], at, direction, field_label)
        if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
            self.schema(old["items"], new["items"], f"{where}[]", direction, f"{label}[]")

    def constraints(
        self, old: dict[str, Any], new: dict[str, Any], where: str, sending: bool, label: str
    ) -> None:
        if old.get("pattern") != new.get("pattern") and "pattern" in new:
            kind = "breaking" if sending else "compatible"
            text = (
                f"{label}: pattern {old.get('pattern')!r} is now {new['pattern']!r}"
                if "pattern" in old
                else f"{label}: a pattern {new['pattern']!r} is new"
            )
            self.add(
                kind,
                "pattern changed" if "pattern" in old else "pattern added",
                where,
                text,
                f"check that the {label} you send matches {new['pattern']!r}" if sending else "",
            )
        elif "pattern" in old and "pattern" not in new:
            self.add("compatible", "pattern removed", where, f"{label}: pattern {old['pattern']!r} removed")
        for key, tighter in (
            ("maxLength", lambda a, b: b < a),
            ("maxItems", lambda a, b: b < a),
            ("maximum", lambda a, b: b < a),
            ("minLength", lambda a, b: b > a),
            ("minItems", lambda a, b: b > a),
            ("minimum", lambda a, b: b > a),
        ):
            a, b = old.get(key), new.get(key)
            if a == b or b is None and a is None:
                continue
            if b is not None and (a is None or tighter(a, b)):
                kind = "breaking" if sending else "compatible"
                text = f"{label}: {key} {a} is now {b}" if a is not None else f"{label}: {key} {b} is new"
                self.add(
                    kind,
                    f"{key} {'tightened' if a is not None else 'added'}",
                    where,
                    text,
                    f"keep {label} within {key} {b}" if sending else "",
                )
            else:
                kind = "compatible" if sending else "breaking"
                self.add(
                    kind,
                    f"{key} {'loosened' if b is not None else 'removed'}",
                    where,
                    f"{label}: {key} {a} is now {b if b is not None else 'gone'}",
                    "" if sending else f"accept {label} beyond the old {key} {a}",
                )

    # -- operations -------------------------------------------------------------------------
    def operations(self) -> None:
        old_ops, new_ops = _operations(self.old), _operations(self.new)
        by_id = {op.get("operationId"): key for key, op in new_ops.items()}
        matched: dict[tuple[str, str], tuple[str, str]] = {}
        for key, op in old_ops.items():
            if key in new_ops:
                matched[key] = key
            elif op.get("operationId") in by_id and by_id[op.get("operationId")] not in old_ops:
                moved = by_id[op["operationId"]]
                matched[key] = moved
                self.add(
                    "breaking",
                    "path or method changed",
                    f"{key[0]} {key[1]}",
                    f"{op['operationId']} moved from {key[0]} {key[1]} to {moved[0]} {moved[1]}",
                    f"call {moved[0]} {moved[1]} instead of {key[0]} {key[1]}",
                )
            else:
                self.add(
                    "breaking",
                    "operation removed",
                    f"{key[0]} {key[1]}",
                    f"{op.get('operationId')} ({key[0]} {key[1]}) is gone",
                    f"stop calling {key[0]} {key[1]}",
                )
        for key, op in new_ops.items():
            if key not in matched.values():
                self.add(
                    "compatible",
                    "operation added",
                    f"{key[0]} {key[1]}",
                    f"{op.get('operationId')} ({key[0]} {key[1]}) is new",
                )
        for old_key, new_key in matched.items():
            self.operation(old_ops[old_key], new_ops[new_key], f"{new_key[0]} {new_key[1]}")

    def operation(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        op_id = new.get("operationId") or where
        if old.get("operationId") != new.get("operationId"):
            self.add(
                "breaking",
                "operationId changed",
                where,
                f"operationId {old.get('operationId')} is now {new.get('operationId')}",
                f"regenerate your client: {old.get('operationId')} is now {new.get('operationId')}",
            )
        old_params, new_params = _params(old, self.old), _params(new, self.new)
        for name in sorted(set(old_params) | set(new_params)):
            at = f"{where} parameter {name}"
            if name not in new_params:
                self.add("compatible", "parameter removed", at, f"{op_id} no longer reads {name}")
                continue
            p_new = new_params[name]
            if name not in old_params:
                if p_new.get("required"):
                    self.add(
                        "breaking",
                        "new required parameter",
                        at,
                        f"{op_id} requires the new {p_new.get('in')} parameter {name}",
                        f"your client must now send {name} ({p_new.get('in')}) in {op_id}",
                    )
                else:
                    self.add(
                        "compatible", "new optional parameter", at, f"{op_id} takes a new optional {name}"
                    )
                continue
            p_old = old_params[name]
            if p_old.get("in") != p_new.get("in"):
                self.add(
                    "breaking",
                    "parameter moved",
                    at,
                    f"{name} moved from {p_old.get('in')} to {p_new.get('in')}",
                    f"send {name} as a {p_new.get('in')} parameter in {op_id}, not in the {p_old.get('in')}",
                )
            if p_new.get("required") and not p_old.get("required"):
                self.add(
                    "breaking",
                    "parameter made required",
                    at,
                    f"{name} is now required",
                    f"your client must now send {name} in {op_id}",
                )
            self.schema(p_old.get("schema"), p_new.get("schema"), at, "request", name)
        old_body, new_body = _body(old), _body(new)
        if old_body is not None or new_body is not None:
            self.schema(
                resolve_refs(old_body, self.old) if old_body else {},
                resolve_refs(new_body, self.new) if new_body else {},
                f"{where} body",
                "request",
                _schema_name(new_body) or op_id,
            )
        old_resp, new_resp = _responses(old), _responses(new)
        for status in sorted(set(old_resp) | set(new_resp)):
            at = f"{where} {status}"
            if status not in new_resp:
                self.add("compatible", "response removed", at, f"{op_id} no longer answers {status}")
            elif status not in old_resp:
                self.add("compatible", "response added", at, f"{op_id} may now answer {status}")
            elif old_resp[status] is not None and new_resp[status] is not None:
                self.schema(
                    resolve_refs(old_resp[status], self.old),
                    resolve_refs(new_resp[status], self.new),
                    at,
                    "response",
                    _schema_name(new_resp[status]) or op_id,
                )

    # -- components --------------------------------------------------------------------------
    def renamed_schemas(self) -> None:
        old_s = (self.old.get("components") or {}).get("schemas") or {}
        new_s = (self.new.get("components") or {}).get("schemas") or {}
        gone = [n for n in old_s if n not in new_s]
        added = [n for n in new_s if n not in old_s]
        for name in gone:
            twin = next((a for a in added if _strip_docs(new_s[a]) == _strip_docs(old_s[name])), None)
            if twin is None:  # a closer look: same property names
                twin = next(
                    (
                        a
                        for a in added
                        if set((new_s[a] or {}).get("properties") or {})
                        == set((old_s[name] or {}).get("properties") or {})
                        and (old_s[name] or {}).get("properties")
                    ),
                    None,
                )
            if twin is not None:
                added.remove(twin)
                self.add(
                    "compatible",
                    "schema renamed",
                    f"/components/schemas/{name}",
                    f"schema {name} is now {twin} "
                    "(the same fields on the wire; generated clients' class names change)",
                    f"rename {name} to {twin} in code generated from the file",
                )

    def documentation(self) -> None:
        if self.changes:
            return
        old_doc = {k: v for k, v in self.old.items() if k != "info"}
        new_doc = {k: v for k, v in self.new.items() if k != "info"}
        old_info = {
            k: v for k, v in (self.old.get("info") or {}).items() if k not in ("version", "description")
        }
        new_info = {
            k: v for k, v in (self.new.get("info") or {}).items() if k not in ("version", "description")
        }
        if old_doc != new_doc or old_info != new_info:
            self.add(
                "documentation",
                "documentation changed",
                "/",
                "descriptions, summaries, examples or titles changed; no interface change",
            )


def _must_send(label: str) -> str:
    """'your client must now send `effectiveDate` in `PostDASRsummaryset`'."""
    owner, _, name = label.rpartition(".")
    return (
        f"your client must now send `{name}` in `{owner}`" if owner else f"your client must now send `{name}`"
    )


def _schema_name(schema: Any) -> str:
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[-1]
    items = schema.get("items") if isinstance(schema, dict) else None
    return _schema_name(items) if items else ""


def _service_major(spec: dict[str, Any]) -> set[str]:
    return {m.group(1) for path in (spec.get("paths") or {}) for m in [_SERVICE_VERSION.search(path)] if m}


def _is_file_schema(doc: dict[str, Any]) -> bool:
    """A draft-07 JSON Schema of a download file (CRRSourceSink_v1...), not an OpenAPI document."""
    return "openapi" not in doc and ("$schema" in doc or "definitions" in doc)


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> DiffResult:
    """OpenAPI documents, or two versions of a download file's JSON Schema: a file participants
    read, so it is compared as a response (a new enum value breaks a strict reader)."""
    differ = _Differ(old, new)
    if _is_file_schema(old) and _is_file_schema(new):
        differ.schema(
            resolve_refs(old, old), resolve_refs(new, new), "/", "response", str(new.get("title") or "file")
        )
        if not differ.changes and _strip_docs(old) == _strip_docs(new) and old != new:
            differ.add(
                "documentation", "documentation changed", "/", "descriptions, titles or examples changed"
            )
        versions = [
            m.group(1) if (m := re.search(r"_v(\d+)", str(d.get("$id", "")))) else "" for d in (old, new)
        ]
        result = DiffResult(versions[0], versions[1], differ.changes)
        result.required = (
            "MINOR"
            if result.of("breaking") or result.of("compatible")
            else "MINI"
            if result.changes
            else "NONE"
        )
        return result
    differ.operations()
    differ.renamed_schemas()
    differ.documentation()
    result = DiffResult(
        str((old.get("info") or {}).get("version", "")),
        str((new.get("info") or {}).get("version", "")),
        differ.changes,
    )
    if _service_major(old) != _service_major(new):
        result.required = "MAJOR"
    elif result.of("breaking") or result.of("compatible"):
        result.required = "MINOR"
    elif result.of("documentation"):
        result.required = "MINI"
    result.carried = bump_between(result.old_version, result.new_version)
    return result


def diff_paths(old: Any, new: Any) -> dict[str, DiffResult]:
    """service -> result, for two files or two folders (matched by the service in the names)."""
    from pathlib import Path

    from harness.contract.naming import parse_spec_filename
    from harness.contract.yaml12 import load_yaml

    def files(p: Path) -> dict[str, Path]:
        if p.is_file():
            parsed = parse_spec_filename(p)
            return {parsed.service if parsed else p.stem: p}
        found: dict[str, Path] = {}
        for q in sorted(p.glob("*.y*ml")):
            parsed = parse_spec_filename(q)
            known = parse_spec_filename(found[parsed.service]) if parsed and parsed.service in found else None
            if parsed is not None and (known is None or parsed.version > known.version):
                found[parsed.service] = q
        return found

    old_files, new_files = files(Path(old)), files(Path(new))
    if Path(old).is_file() and Path(new).is_file():  # one pair, whatever the names say
        named = parse_spec_filename(Path(new)) or parse_spec_filename(Path(old))
        service = named.service if named is not None else "the service"
        old_files, new_files = {service: Path(old)}, {service: Path(new)}
    out = {}
    for service in sorted(set(old_files) | set(new_files)):
        if service not in new_files:
            out[service] = DiffResult(
                "",
                "",
                [
                    Change(
                        "breaking",
                        "service removed",
                        service,
                        f"{service} is gone",
                        f"stop calling {service}",
                    )
                ],
                required="MAJOR",
            )
            continue
        new_spec = load_yaml(new_files[service].read_text(encoding="utf-8"))
        if service not in old_files:
            out[service] = DiffResult(
                "",
                str((new_spec.get("info") or {}).get("version", "")),
                [Change("compatible", "service added", service, f"{service} is new")],
                required="MAJOR",
                carried="MAJOR",
            )
            continue
        out[service] = diff_documents(load_yaml(old_files[service].read_text(encoding="utf-8")), new_spec)
    return out


def diff_report(results: dict[str, DiffResult], target: str) -> Any:
    """The diff as the one report model: per service a case for the bump and one per change
    class, the breaking changes as what to fix first (with the participant's action)."""
    from harness.reports.model import CaseResult, CaseStatus, Finding, RunReport, Section

    cases, findings, actions = [], [], []
    for service, result in results.items():
        bump = (
            f"{result.old_version} -> {result.new_version} carries {result.carried}; the changes require "
            f"{result.required}"
        )
        cases.append(
            CaseResult(
                group=service,
                name="version bump",
                status=CaseStatus.FAILED if result.understated else CaseStatus.PASSED,
                message=bump + (" (understates the change)" if result.understated else ""),
            )
        )
        if result.understated:
            findings.append(
                Finding(
                    text=f"{service}: the version {bump}: the bump understates the change",
                    fix=f"publish it as a {result.required} version",
                    where=service,
                )
            )
        for kind in ("breaking", "compatible", "documentation"):
            found = result.of(kind)
            cases.append(
                CaseResult(
                    group=service,
                    name=f"{kind} changes",
                    status=CaseStatus.FAILED if kind == "breaking" and found else CaseStatus.PASSED,
                    message=f"{len(found)} change(s)",
                    details="\n".join(f"[{c.rule}] {c.where}: {c.text}" for c in found),
                    data={"changes": [c.__dict__ for c in found]},
                )
            )
        for c in result.of("breaking"):
            findings.append(Finding(text=f"{service}: {c.text} [{c.rule}]", fix=c.action, where=c.where))
            if c.action:
                actions.append(f"{service}: {c.action}")
    understated = any(r.understated for r in results.values())
    breaking = any(r.of("breaking") for r in results.values())
    verdict = "UNDERSTATED" if understated else "BREAKING" if breaking else "COMPATIBLE"
    return RunReport(
        runner="specs-diff",
        title="Contract diff",
        target=target,
        verdict=verdict,
        ok=not (understated or breaking),
        cases=cases,
        findings=findings,
        sections=[Section("Participant action list", text=actions or ["nothing to change"])],
    )


def diff_markdown(results: dict[str, DiffResult]) -> str:
    lines = ["# Contract changes", ""]
    for service, result in results.items():
        lines += [
            f"## {service}: {result.old_version or '(none)'} -> {result.new_version or '(none)'}",
            "",
            f"Bump carried: **{result.carried}**; required by the changes: **{result.required}**"
            + (" -- **understated**" if result.understated else ""),
            "",
        ]
        for kind in ("breaking", "compatible", "documentation"):
            found = result.of(kind)
            if found:
                lines += [f"### {kind.capitalize()} ({len(found)})", ""]
                lines += [
                    f"- `{c.where}`: {c.text} *({c.rule})*" + (f" -- **do:** {c.action}" if c.action else "")
                    for c in found
                ]
                lines.append("")
    return "\n".join(lines) + "\n"
