"""RunReport as JUnit XML: one <testcase> per case, so any CI server shows checks as tests.

Warnings pass (CI must not go red for "expires in 20 days") but keep their message in
<system-out>; skipped cases carry their reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.reports.handlers.scrub import scrub
from harness.reports.model import CaseStatus, RunReport

# XML 1.0 forbids most control characters; a response body could contain them.
_BAD_XML = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _clean(text: str) -> str:
    return scrub(text).translate(_BAD_XML)


def render_junit(report: RunReport) -> str:
    counts = report.counts()
    attrs = {
        "name": _clean(report.title),
        "tests": str(len(report.cases)),
        "failures": str(counts[CaseStatus.FAILED.value]),
        "errors": str(counts[CaseStatus.ERROR.value]),
        "skipped": str(counts[CaseStatus.SKIPPED.value]),
        "time": f"{report.duration_s:.3f}",
    }
    root = ET.Element("testsuites", attrs)
    suite = ET.SubElement(root, "testsuite", {**attrs, "timestamp": report.started_at.isoformat()})
    props = ET.SubElement(suite, "properties")
    for name, value in (("runner", report.runner), ("target", report.target), ("verdict", report.verdict)):
        ET.SubElement(props, "property", {"name": name, "value": _clean(str(value))})
    for key, value in report.meta.items():
        if isinstance(value, str | int | float | bool):
            ET.SubElement(props, "property", {"name": f"meta.{key}", "value": _clean(str(value))})
    for case in report.cases:
        el = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"{report.runner}.{case.group}",
                "name": _clean(case.name),
                "time": f"{case.duration_s:.3f}",
            },
        )
        body = _clean("\n".join(t for t in (case.message, case.details) if t))
        if case.status is CaseStatus.FAILED:
            ET.SubElement(el, "failure", {"message": _clean(case.message), "type": "failed"}).text = body
        elif case.status is CaseStatus.ERROR:
            ET.SubElement(el, "error", {"message": _clean(case.message), "type": "error"}).text = body
        elif case.status is CaseStatus.SKIPPED:
            ET.SubElement(el, "skipped", {"message": _clean(case.message)})
        elif body:
            prefix = "WARNING: " if case.status is CaseStatus.WARNING else ""
            ET.SubElement(el, "system-out").text = prefix + body
    for n, gap in enumerate(report.gaps, 1):
        # a CI server shows an INCOMPLETE run as not green: each gap is an error of its own
        el = ET.SubElement(
            suite,
            "testcase",
            {"classname": f"{report.runner}.coverage", "name": f"not covered {n}", "time": "0.000"},
        )
        ET.SubElement(el, "error", {"message": _clean(gap.what), "type": "incomplete"}).text = _clean(
            gap.what + (f"\nto cover it: {gap.cover}" if gap.cover else "")
        )
    if report.gaps:
        for element in (root, suite):
            element.set("tests", str(len(report.cases) + len(report.gaps)))
            element.set("errors", str(counts[CaseStatus.ERROR.value] + len(report.gaps)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(report: RunReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_junit(report), encoding="utf-8")
    return path
