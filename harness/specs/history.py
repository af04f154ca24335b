"""``crrsim specs history FILE|DIR``: each file's change-log table, every entry classified, and
every published version's bump audited against CAISO's MAJOR.MINOR.MINI rule.

The table is all a participant has for versions CAISO no longer publishes, so the entries are
read as text: each row splits into its changes (CAISO separates them with ';' or sentences),
and each change is classified by the first rule below that matches its wording -- breaking
(a client built for the previous version can fail), compatible (a service change an old client
survives) or documentation. A row with any breaking or compatible change is a service change
and needs at least a MINOR bump; documentation alone needs MINI. A version whose bump is
smaller understates its change (a tightened pattern or a changed minimum shipped as MINI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.contract.naming import parse_spec_filename
from harness.contract.yaml12 import load_yaml
from harness.specs.diff import BUMPS, bump_between
from harness.specs.lint import change_log


def _from_to_tighter(text: str) -> bool | None:
    """For 'maxLength/maximum ... from A to B': True when B < A (tighter), None without numbers."""
    found = re.search(r"from\s+(\d+)\D+?to\s+(?:\w+\s+)?(?:size\s+)?(\d+)", text)
    return None if found is None else int(found.group(2)) < int(found.group(1))


# (pattern on the lower-cased change, class, rule); the first match wins, so specific before general
RULES: tuple[tuple[str, str, str], ...] = (
    (r"^initial version", "initial", "first published version"),
    (
        r"typographical error which changed '\w+' to '\w+'",
        "breaking",
        "field renamed (a typo fixed on the wire)",
    ),
    (
        r"(updated|changed?) .*\b(api|endpoint|path|uri)\b.* from \S+ to \S+|\bapi structure change\b",
        "breaking",
        "path changed",
    ),
    (r"\brename[ds]? services?\b|\boperationid\b", "breaking", "operationId or path renamed"),
    (
        r"change required property|\bextra required\b|to required field|\bas required\b|to be required"
        r"|\badded? .*\brequired\b",
        "breaking",
        "new required field",
    ),
    (r"\bregex\b|\bpattern|\bdisallow\b", "breaking", "pattern changed"),
    (r"\bremove .* from enum\b", "breaking", "enum value removed"),
    (r"crrserviceexception by having", "breaking", "error body reshaped"),
    (r"\breplace error code\b|\bchange prefix of error codes\b", "breaking", "error code renamed"),
    (r"\bmaxlength\b.*\bfrom\b.*\bto\b|\bmaximum\b.*\bfrom\b.*\bto\b", "length-or-range", "limit changed"),
    (r"\bmaxlength to \d+", "breaking", "limit tightened"),
    (r"\bremove (maxlength|minlength|minimum|maximum)\b", "compatible", "limit removed"),
    (r"\bminimum\b|\bmaximum\b|\bmaxlength\b|\bminlength\b", "compatible", "limit changed"),
    (r"\bformat from\b", "compatible", "format corrected"),
    (r"error message|error descriptions?|description of error code", "documentation", "documentation"),
    (
        r"\badd(ed)?\b.*\berror codes?\b",
        "compatible",
        "error code added (a refusal the service may now give)",
    ),
    (r"\bremove error codes?\b", "compatible", "error code removed"),
    (r"exception model|\bremoved model\b", "compatible", "schema renamed (same role, new name)"),
    (r"\bremove[ds]? .+ from\b", "breaking", "field removed"),
    (r"\bresponses to have http status codes\b", "compatible", "responses added"),
    (r"\benum\b", "compatible", "enum value added"),
    (
        r"\badd(ed)? (a |an )?(missing )?(field|attribute)\b|\badd \w+ to '|\badd \w+ .* as optional\b",
        "compatible",
        "field added",
    ),
    (
        r"typographical|\btypo\b|description|summary|examples?\b|comments?\b|documentation|schema version numbers"
        r"|is used for response|made sure",
        "documentation",
        "documentation",
    ),
)


@dataclass(frozen=True)
class Entry:
    version: str
    date: str
    text: str
    kind: str  # breaking | compatible | documentation | initial
    rule: str


@dataclass
class VersionAudit:
    version: str
    date: str
    carried: str  # the bump from the previous row
    required: str  # what its changes need
    entries: list[Entry] = field(default_factory=list)

    @property
    def understated(self) -> bool:
        return BUMPS.index(self.carried) < BUMPS.index(self.required)


def classify(text: str) -> tuple[str, str]:
    low = text.lower()
    for pattern, kind, rule in RULES:
        if re.search(pattern, low):
            if kind == "length-or-range":
                tighter = _from_to_tighter(low)
                return ("breaking", "limit tightened") if tighter else ("compatible", "limit loosened")
            return kind, rule
    return "compatible", "other service change (wording not recognised: counted as a service change)"


def split_changes(text: str) -> list[str]:
    """One row's changes: CAISO separates them with ';' (sometimes with sentences)."""
    return [c.strip(" .") for c in re.split(r";\s*|\.\s+(?=[A-Z])", text) if c.strip(" .")]


def audit_file(path: Path) -> list[VersionAudit]:
    spec = load_yaml(path.read_text(encoding="utf-8"))
    info: dict[str, Any] = (
        spec["info"] if isinstance(spec, dict) and isinstance(spec.get("info"), dict) else {}
    )
    rows = change_log(str(info.get("description", "")))
    audits: list[VersionAudit] = []
    previous: str | None = None
    for row in rows:
        entries = [Entry(row.version, row.date, text, *classify(text)) for text in split_changes(row.text)]
        kinds = {e.kind for e in entries}
        required = (
            "MINOR" if kinds & {"breaking", "compatible"} else "MINI" if "documentation" in kinds else "NONE"
        )
        carried = bump_between(previous, row.version) if previous else "MAJOR"
        if previous is None:
            required = "NONE"  # the first version is the baseline
        audits.append(VersionAudit(row.version, row.date, carried, required, entries))
        previous = row.version
    return audits


def audit_paths(paths: list[Path]) -> dict[str, list[VersionAudit]]:
    files: list[Path] = []
    for p in paths:
        files += sorted(q for q in p.glob("*.y*ml")) if p.is_dir() else [p]
    out = {}
    for f in files:
        parsed = parse_spec_filename(f)
        out[parsed.service if parsed else f.stem] = audit_file(f)
    return out


def history_report(audits: dict[str, list[VersionAudit]], target: str) -> Any:
    from harness.reports.model import CaseResult, CaseStatus, Finding, RunReport, Section

    cases, findings = [], []
    counts: dict[str, int] = {}
    for service, versions in audits.items():
        for v in versions:
            for e in v.entries:
                counts[e.kind] = counts.get(e.kind, 0) + 1
            cases.append(
                CaseResult(
                    group=service,
                    name=v.version,
                    status=CaseStatus.FAILED if v.understated else CaseStatus.PASSED,
                    message=f"{v.date}: carries {v.carried}, its changes need {v.required}"
                    + (" (understated)" if v.understated else ""),
                    details="\n".join(f"[{e.kind}: {e.rule}] {e.text}" for e in v.entries),
                    data={
                        "entries": [e.__dict__ for e in v.entries],
                        "carried": v.carried,
                        "required": v.required,
                    },
                )
            )
            if v.understated:
                worst = next((e for e in v.entries if e.kind == "breaking"), None) or next(
                    e for e in v.entries if e.kind == "compatible"
                )
                findings.append(
                    Finding(
                        text=f"{service} {v.version} ({v.date}) is a {v.carried} bump but changes the "
                        f"service: {worst.text} [{worst.rule}]",
                        where=f"{service} {v.version}",
                    )
                )
    understated = [f"{c.group} {c.name}" for c in cases if c.status == CaseStatus.FAILED]
    by_interface = [
        f"{service} {v.version}"
        for service, versions in audits.items()
        for v in versions
        if v.understated
        and any(
            e.kind == "breaking" or (e.kind == "compatible" and not e.rule.startswith("error code added"))
            for e in v.entries
        )
    ]
    facts = {
        "versions": str(len(cases)),
        "entries": str(sum(counts.values())),
        **{f"{kind} entries": str(n) for kind, n in sorted(counts.items())},
        "versions whose bump understates the change": f"{len(understated)}: {', '.join(understated) or 'none'}",
        # the same, reading a documented error code as documentation (it may only name an old refusal)
        "... of them by an interface change, error codes aside": f"{len(by_interface)}: "
        f"{', '.join(by_interface) or 'none'}",
    }
    return RunReport(
        runner="specs-history",
        title="Change-log audit",
        target=target,
        verdict="UNDERSTATED" if understated else "HONEST",
        ok=not understated,
        cases=cases,
        findings=findings,
        sections=[Section("Change logs", facts=facts)],
    )
