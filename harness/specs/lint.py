"""``crrsim specs lint``: what in a contract file silently breaks tools or clients.

A file can be valid OpenAPI 3.0 and still switch validation off without a word: a ``pattern``
that Ajv (and so Prism) cannot compile makes Prism skip the whole body's validation; an unknown
keyword (``maxlenth``) or a ``pattern`` on a number is ignored; a ``required`` name missing
from ``properties`` can never be satisfied by a generated client. Each rule here names one such
way, with where it is and why it matters. Errors break a tool or a client; warnings are what a
reader of the file should know.

Patterns are compiled in the three dialects participants meet: ECMA-262 with the ``u`` flag
(Ajv, Prism, browsers; through Node), Python ``re`` (schemathesis, crrsim) and Java
(``java.util.regex``, the CRR system's own side and Java clients; through a JVM when one is
installed, said in the report when not).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.contract.catalogue import error_table_of
from harness.contract.errors import ContractError
from harness.contract.naming import parse_spec_filename
from harness.contract.validate import check_structure
from harness.contract.yaml12 import load_yaml
from harness.events import Emit, Figures, Runner, RunStarted, ignore
from harness.reports.model import CaseResult, CaseStatus, Finding, RunReport, Section, plural

# OpenAPI 3.0 Schema Object keywords (plus the extensions prefix): anything else is ignored
SCHEMA_KEYWORDS = frozenset(
    {
        "title",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "maxProperties",
        "minProperties",
        "required",
        "enum",
        "type",
        "allOf",
        "oneOf",
        "anyOf",
        "not",
        "items",
        "properties",
        "additionalProperties",
        "description",
        "format",
        "default",
        "nullable",
        "discriminator",
        "readOnly",
        "writeOnly",
        "xml",
        "externalDocs",
        "example",
        "deprecated",
        "$ref",
    }
)
STRING_ONLY = ("pattern", "maxLength", "minLength")
# formats OpenAPI 3.0 defines and the ones JSON Schema validators (Ajv formats, jsonschema) know
KNOWN_FORMATS = frozenset(
    {
        "int32",
        "int64",
        "float",
        "double",
        "byte",
        "binary",
        "date",
        "date-time",
        "password",
        "email",
        "uuid",
        "uri",
        "uri-reference",
        "hostname",
        "ipv4",
        "ipv6",
        "time",
        "duration",
        "regex",
        "idn-email",
        "iri",
    }
)
CODE = re.compile(r"\b([A-Z]{3,4}\d{3,4})\b")  # SER0017, LMV023, LHFV0026
_HTML_ROW = re.compile(
    r"<tr>\s*<td>\s*(.*?)\s*</td>\s*<td>\s*(.*?)\s*</td>\s*<td>\s*(.*?)\s*</td>\s*</tr>", re.S | re.I
)
_MD_ROW = re.compile(r"^\s*\|\s*(\d+\.\d+\.\d+)\s*\|\s*([^|]*?)\s*\|\s*(.*?)\s*\|\s*$", re.M)
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


Severity = Literal["error", "warning", "known"]


@dataclass(frozen=True)
class LintFinding:
    file: str
    rule: str
    severity: Severity  # "known": a node marked x-crrsim-known, shown and never counted
    where: str  # a JSON-pointer-like location in the file
    message: str


@dataclass
class ChangeLogRow:
    version: str
    date: str
    text: str


@dataclass
class LintResult:
    files: list[str] = field(default_factory=list)
    findings: list[LintFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be checked, and why

    @property
    def errors(self) -> list[LintFinding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[LintFinding]:
        return [f for f in self.findings if f.severity == "warning"]


KNOWN = "x-crrsim-known"
"""A schema node's extension saying why its finding is kept on purpose (crrsim's own contract
repeats some of CAISO's patterns exactly, so that it validates what CAISO validates): the lint
still shows the finding, marked known, and does not count it."""


def change_log(info_description: str) -> list[ChangeLogRow]:
    """The change-log table of ``info.description``: CAISO's HTML rows or our Markdown rows;
    the header row (no version in its first cell) is skipped."""
    rows = [
        ChangeLogRow(*(re.sub(r"<[^>]+>", "", c).strip() for c in m))
        for m in _HTML_ROW.findall(info_description)
    ]
    if not rows:
        rows = [ChangeLogRow(*m) for m in _MD_ROW.findall(info_description)]
    return [r for r in rows if _VERSION.match(r.version)]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def _pointer(path: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _schemas(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Every Schema Object of a document, with its location (components, parameters, bodies)."""
    if isinstance(node, dict):
        parent = path[-1] if path else None
        grand = path[-2] if len(path) > 1 else None
        is_schema = (
            parent == "schema"
            or grand == "schemas"
            or parent in ("items", "additionalProperties", "not")
            or grand == "properties"
            or (len(path) > 1 and path[-2] in ("allOf", "oneOf", "anyOf"))
        )
        if grand == "properties" and len(path) > 2 and path[-3] == "properties":
            is_schema = True  # a property literally named "properties"
        if is_schema:
            yield path, node
        for key, value in node.items():
            if key in ("example", "examples", "default", "enum"):
                continue
            yield from _schemas(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _schemas(value, (*path, i))


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary") and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


def _compile_all(patterns: list[str], runtime: str) -> dict[str, str] | None:
    """pattern -> error message for the patterns ``runtime`` (node | java) cannot compile; None
    when the runtime is not installed."""
    if runtime == "node":
        exe = shutil.which("node")
        if exe is None:
            return None
        script = (
            "const ps=JSON.parse(require('fs').readFileSync(0,'utf8'));const out={};"
            "for(const p of ps){try{new RegExp(p,'u')}catch(e){out[p]=e.message}}"
            "process.stdout.write(JSON.stringify(out))"
        )
        done = subprocess.run(
            [exe, "-e", script], input=json.dumps(patterns), capture_output=True, text=True, timeout=60
        )
        return dict(json.loads(done.stdout or "{}"))
    exe = shutil.which("java")
    if exe is None:
        return None
    source = (
        "import java.util.regex.*;import java.nio.file.*;public class CrrsimRegex{public static void main(String[] a)"
        'throws Exception{for(String p:Files.readAllLines(Path.of(a[0]))){try{Pattern.compile(p.replace("\\\\n",'
        '"\\n"));}catch(PatternSyntaxException e){System.out.println(p+"\\t"+e.getDescription());}}}}'
    )
    with tempfile.TemporaryDirectory(prefix="crrsim-java-") as work:
        (Path(work) / "CrrsimRegex.java").write_text(source, encoding="utf-8")
        listing = Path(work) / "patterns.txt"
        listing.write_text("\n".join(p.replace("\n", "\\n") for p in patterns), encoding="utf-8")
        done = subprocess.run(
            [exe, str(Path(work) / "CrrsimRegex.java"), str(listing)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    if done.returncode != 0:
        return None
    return dict(line.split("\t", 1) for line in done.stdout.splitlines() if "\t" in line)


def _example_problems(schema: dict[str, Any], example: Any) -> list[str]:
    """What a schema's own example breaks (the primitive keywords; a $ref'd or composite schema
    is left alone)."""
    out: list[str] = []
    kind = schema.get("type")
    types: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "array": list,
        "object": dict,
    }
    if kind in types and (
        not isinstance(example, types[kind]) or (kind in ("integer", "number") and isinstance(example, bool))
    ):
        return [f"the example {example!r} is not of type {kind}"]
    if "enum" in schema and example not in schema["enum"]:
        out.append(f"the example {example!r} is not one of its enum values")
    if isinstance(example, str):
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                if re.search(pattern, example) is None:
                    out.append(f"the example {example!r} does not match its pattern {pattern!r}")
            except re.error:
                pass  # reported by the pattern rule
        if isinstance(schema.get("maxLength"), int) and len(example) > schema["maxLength"]:
            out.append(f"the example is longer than its maxLength {schema['maxLength']}")
        if isinstance(schema.get("minLength"), int) and len(example) < schema["minLength"]:
            out.append(f"the example is shorter than its minLength {schema['minLength']}")
    if isinstance(example, int | float) and not isinstance(example, bool):
        if isinstance(schema.get("maximum"), int | float) and example > schema["maximum"]:
            out.append(f"the example {example} is above its maximum {schema['maximum']}")
        if isinstance(schema.get("minimum"), int | float) and example < schema["minimum"]:
            out.append(f"the example {example} is below its minimum {schema['minimum']}")
    return out


def lint_document(spec: Any, path: Path) -> tuple[list[LintFinding], list[tuple[str, str]]]:
    """Findings for one loaded document (patterns are collected, not compiled: see lint_paths)."""
    name = path.name
    out: list[LintFinding] = []

    def add(rule: str, severity: Severity, where: str, message: str) -> None:
        out.append(LintFinding(name, rule, severity, where, message))

    if not isinstance(spec, dict):
        add("openapi", "error", "/", "not a YAML mapping: not an OpenAPI document")
        return out, []
    try:
        check_structure(spec, name)
    except ContractError as exc:
        add("openapi", "error", "/", str(exc).split(": ", 1)[-1])
    info: dict[str, Any] = spec["info"] if isinstance(spec.get("info"), dict) else {}
    declared = str(info.get("version", ""))
    parsed = parse_spec_filename(path)
    if parsed is None:
        add(
            "file-name",
            "error",
            "/",
            "the name is not caiso_crr_<service>_v<MAJOR>.<MINOR>.<MINI>.yaml (or "
            "..._openapi.yaml): tools that find files by name will not find it",
        )
    elif str(parsed.version) != declared:
        add(
            "file-name",
            "error",
            "/info/version",
            f"the name says {parsed.version}, info.version says {declared or 'nothing'}",
        )
    rows = change_log(str(info.get("description", "")))
    if not rows:
        add("change-log", "warning", "/info/description", "no change-log table (version, date, change) found")
    else:
        versions = [r.version for r in rows]
        if versions != sorted(versions, key=_version_key) or len(set(versions)) != len(versions):
            add(
                "change-log",
                "error",
                "/info/description",
                f"the change-log rows are not in version order: {', '.join(versions)}",
            )
        if versions[-1] != declared:
            add(
                "change-log",
                "error",
                "/info/description",
                f"the last change-log row is {versions[-1]}, info.version is {declared or 'missing'}",
            )
    patterns: list[tuple[str, str]] = []  # (pattern, where it is used)
    for where, schema in _schemas(spec):
        pointer = _pointer(where)
        unknown = sorted(k for k in schema if k not in SCHEMA_KEYWORDS and not str(k).startswith("x-"))
        if unknown:
            add(
                "unknown-keyword",
                "error",
                pointer,
                f"unknown keyword{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(unknown)}: validators ignore {'them' if len(unknown) > 1 else 'it'}, so the constraint "
                "is not checked anywhere",
            )
        if "$ref" in schema and len(schema) > 1:
            ignored = sorted(k for k in schema if k != "$ref")
            add(
                "ref-siblings",
                "warning",
                pointer,
                f"{', '.join(ignored)} next to $ref: OpenAPI 3.0 ignores every sibling of a $ref",
            )
        kind = schema.get("type")
        if kind in ("number", "integer", "boolean", "array", "object"):
            for key in STRING_ONLY:
                if key in schema:
                    add(
                        "string-keyword-on-non-string",
                        "warning",
                        pointer,
                        f"{key} on a {kind}: it applies to strings "
                        "only, so the value is never checked against it",
                    )
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt not in KNOWN_FORMATS:
            add(
                "unknown-format",
                "warning",
                pointer,
                f"format {fmt!r} is known to no validator: it checks nothing",
            )
        required = schema.get("required")
        props = schema.get("properties")
        if isinstance(required, list) and isinstance(props, dict):
            for missing in (r for r in required if r not in props):
                add(
                    "required-not-defined",
                    "error",
                    pointer,
                    f"required names {missing!r}, which properties does not "
                    "define: valid data must carry a property the schema never describes",
                )
        if isinstance(schema.get("pattern"), str):
            patterns.append((schema["pattern"], pointer))
        if "example" in schema and "$ref" not in schema:
            for problem in _example_problems(schema, schema["example"]):
                add("example-invalid", "error", pointer, problem)
    # error codes: used in descriptions vs the CRRServiceException table
    table = set(error_table_of(spec))
    used = {
        code for text in _texts({k: v for k, v in spec.items() if k != "info"}) for code in CODE.findall(text)
    }
    listed_in_info = set(CODE.findall(str(info.get("description", ""))))
    if table:
        for code in sorted(used - table):
            add(
                "error-codes",
                "warning",
                "/",
                f"{code} is named in a description but not in the CRRServiceException "
                "table: a client cannot look it up",
            )
        unused = sorted(table - used - listed_in_info)
        if unused:
            add(
                "error-codes",
                "warning",
                "/components/schemas/CRRServiceException",
                f"{len(unused)} codes of the error "
                f"table are named by no operation or schema, so a reader cannot tell where they come from: "
                f"{', '.join(unused)}",
            )
    # operationIds that differ only in case
    seen: dict[str, str] = {}
    for route, item in (spec.get("paths") or {}).items():
        for method, op in (item or {}).items():
            if isinstance(op, dict) and isinstance(op.get("operationId"), str):
                op_id = op["operationId"]
                twin = seen.get(op_id.lower())
                if twin is not None and twin != op_id:
                    add(
                        "operation-id-case",
                        "error",
                        _pointer(("paths", route, method)),
                        f"operationId {op_id!r} "
                        f"differs from {twin!r} only in case: generated clients on case-insensitive file systems "
                        "and languages collide",
                    )
                seen.setdefault(op_id.lower(), op_id)
    return out, patterns


def _spec_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        files += sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml")) if p.is_dir() else [p]
    return files


def lint_paths(paths: list[Path], emit: Emit = ignore) -> LintResult:
    """Lint every contract file named or found in the folders named (a figure per file to ``emit``;
    the patterns of all files are then compiled once per dialect)."""
    result = LintResult()
    where_patterns: dict[str, list[tuple[str, str]]] = {}
    known: dict[str, dict[str, str]] = {}  # file -> pointer -> why (KNOWN)
    spec_files = _spec_files(paths)
    emit(RunStarted(runner=Runner.SPECS, title="specs lint", total=len(spec_files), unit="files"))
    for path in spec_files:
        emit(
            Figures(
                completed=len(result.files), text=f"{plural(len(result.findings), 'finding')}; {path.name}"
            )
        )
        result.files.append(path.name)
        try:
            spec = load_yaml(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            result.findings.append(
                LintFinding(path.name, "openapi", "error", "/", f"cannot be read as YAML: {exc}")
            )
            continue
        except Exception as exc:  # yaml.YAMLError
            result.findings.append(LintFinding(path.name, "openapi", "error", "/", f"not valid YAML: {exc}"))
            continue
        findings, patterns = lint_document(spec, path)
        result.findings += findings
        if isinstance(spec, dict):
            known[path.name] = {
                _pointer(where): str(schema[KNOWN]) for where, schema in _schemas(spec) if KNOWN in schema
            }
        for pattern, pointer in patterns:
            where_patterns.setdefault(pattern, []).append((path.name, pointer))
    unique = sorted(where_patterns)
    dialects = {"python": {p: str(e) for p in unique for e in _python_error(p)}}
    for runtime, label in (
        ("node", "ECMA-262 with the u flag (Ajv, Prism)"),
        ("java", "Java (java.util.regex)"),
    ):
        compiled = _compile_all(unique, runtime) if unique else {}
        if compiled is None:
            result.notes.append(f"{label}: not checked, {runtime} is not installed")
            continue
        dialects[runtime] = compiled
    names = {
        "python": "Python re (schemathesis, crrsim)",
        "node": "ECMA-262 with the u flag (Ajv, Prism)",
        "java": "Java (java.util.regex)",
    }
    for runtime, failed in dialects.items():
        for pattern, message in sorted(failed.items()):
            files = sorted({f for f, _ in where_patterns[pattern]})
            for file in files:
                uses = [w for f, w in where_patterns[pattern] if f == file]
                count = len(uses)
                result.findings.append(
                    LintFinding(
                        file,
                        f"pattern-{runtime}",
                        "error",
                        uses[0],
                        f"pattern {pattern!r} ({count} use{'s' if count > 1 else ''}) "
                        f"does not compile in {names[runtime]}: {message}"
                        + (" -- Prism then skips validating the whole body" if runtime == "node" else ""),
                    )
                )
    result.findings = [_acknowledged(f, known.get(f.file, {}), where_patterns) for f in result.findings]
    return result


def _acknowledged(
    finding: LintFinding, known: dict[str, str], where_patterns: dict[str, list[tuple[str, str]]]
) -> LintFinding:
    """The finding, severity "known" when its node says why it is kept (a pattern: every use of it
    in that file)."""
    if finding.rule.startswith("pattern-"):
        pattern = next(
            (p for p, uses in where_patterns.items() if (finding.file, finding.where) in uses), None
        )
        uses = [w for f, w in where_patterns.get(pattern or "", []) if f == finding.file]
        why = known.get(finding.where) if uses and all(w in known for w in uses) else None
    else:
        why = known.get(finding.where)
    if why is None:
        return finding
    return LintFinding(
        finding.file, finding.rule, "known", finding.where, f"{finding.message} (known: {why})"
    )


def _python_error(pattern: str) -> list[str]:
    try:
        re.compile(pattern)
    except re.error as exc:
        return [str(exc)]
    return []


RULES = (
    "openapi",
    "file-name",
    "change-log",
    "pattern-node",
    "pattern-python",
    "pattern-java",
    "unknown-keyword",
    "string-keyword-on-non-string",
    "unknown-format",
    "required-not-defined",
    "ref-siblings",
    "example-invalid",
    "error-codes",
    "operation-id-case",
)


def lint_report(result: LintResult, target: str) -> RunReport:
    """The lint as the one report model: per file and rule one case (failed on an error, a
    warning on warnings only, passed when clean), so JUnit shows the whole matrix."""
    cases = []
    for file in result.files:
        for rule in RULES:
            found = [f for f in result.findings if f.file == file and f.rule == rule]
            status = (
                CaseStatus.FAILED
                if any(f.severity == "error" for f in found)
                else CaseStatus.WARNING
                if any(f.severity == "warning" for f in found)
                else CaseStatus.PASSED
            )
            cases.append(
                CaseResult(
                    group=file,
                    name=rule,
                    status=status,
                    message="; ".join(f"{f.where}: {f.message}" for f in found),
                    data={"findings": [f.__dict__ for f in found]},
                )
            )
    ok = not result.errors
    return RunReport(
        runner="specs-lint",
        title="Contract lint",
        target=target,
        verdict="CLEAN" if ok else "ERRORS",
        ok=ok,
        cases=cases,
        findings=[Finding(text=f"{f.file} {f.where}: {f.message}", where=f.rule) for f in result.errors],
        sections=[
            Section(
                "Lint",
                facts={
                    "files": str(len(result.files)),
                    "errors": str(len(result.errors)),
                    "warnings": str(len(result.warnings)),
                    "known": str(len(result.findings) - len(result.errors) - len(result.warnings)),
                },
                text=result.notes,
            )
        ],
        meta={"files": result.files},
    )
