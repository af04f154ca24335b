"""RunReport as plain aligned text for a terminal; colour only when asked (i.e. on a TTY)."""

from __future__ import annotations

from collections.abc import Sequence

from harness.reports.handlers.scrub import scrub
from harness.reports.model import CaseStatus, RunReport, in_words

_LABEL = {
    CaseStatus.PASSED: "PASS",
    CaseStatus.FAILED: "FAIL",
    CaseStatus.ERROR: "ERROR",
    CaseStatus.SKIPPED: "SKIP",
    CaseStatus.WARNING: "WARN",
}
_COLOUR = {
    CaseStatus.PASSED: "32",
    CaseStatus.FAILED: "31",
    CaseStatus.ERROR: "31",
    CaseStatus.SKIPPED: "90",
    CaseStatus.WARNING: "33",
}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(len(str(r[i])) for r in (headers, *rows)) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = [str(c).ljust(w) for c, w in zip(cells[:-1], widths[:-1], strict=True)]
        return (indent + "  ".join([*padded, str(cells[-1])])).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def render_text(report: RunReport, *, color: bool = False) -> str:
    out = [report.title, f"  target: {report.target}   started: {report.started_at:%Y-%m-%d %H:%M:%S %Z}"]
    if report.tested:
        out.append(f"  tested: {report.tested}")
    findings = report.fix_first()
    if findings:
        out += ["", _paint("WHAT TO FIX", "31;1", color)]
        for f in findings:
            where = f"[{f.where}] " if f.where else ""
            rid = f" (caiso-request-id {f.request_id})" if f.request_id else ""
            out.append(f"  - {where}{f.text}{rid}")
            if f.fix:
                out.append(f"    {f.fix}")
    if report.gaps:
        out += ["", _paint("NOT COVERED", "33;1", color)]
        for gap in report.gaps:
            out.append(f"  - {gap.what}")
            if gap.cover:
                out.append(f"    to cover it: {gap.cover}")
    groups: dict[str, list] = {}
    for case in report.cases:
        groups.setdefault(case.group, []).append(case)
    width = max((len(c.name) for c in report.cases), default=0)
    for group, cases in groups.items():
        out += ["", group.upper()]
        for case in cases:
            label = _paint(_LABEL[case.status].ljust(5), _COLOUR[case.status], color)
            out.append(f"  {label} {case.name.ljust(width)}  {case.message}".rstrip())
            if case.details and case.status is not CaseStatus.PASSED:
                out.append(f"  {'':5} {'':{width}}  {case.details}")
    for section in report.sections:
        if not (section.rows or section.text or section.facts):
            continue
        out += ["", section.title.upper()]
        # the run's own figures (requests, latency, the arrival schedule, the certificate) are
        # what a terminal reader looks for first; charts stay in the HTML
        key_width = max((len(k) for k in section.facts), default=0)
        out += [f"  {key.ljust(key_width)}  {value}" for key, value in section.facts.items()]
        if section.rows:
            headers = list(section.rows[0])
            out += table(headers, [[row.get(h, "") for h in headers] for row in section.rows])
        out += [f"  - {line}" for line in section.text]
    summary = in_words(report.counts())
    verdict = _paint(report.verdict, "32;1" if report.ok else "33;1" if report.incomplete else "31;1", color)
    out += ["", f"VERDICT: {verdict}  ({summary}; {report.duration_s:.1f} s)"]
    return scrub("\n".join(out)) + "\n"
