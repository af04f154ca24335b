"""Handlers of a run's events (``harness.events``): the live displays (rich bars, plain lines),
the NDJSON event log, and the report files (``ReportFiles``) whose writers are below.

Writers for ``harness.reports.RunReport``: JSON, JUnit XML, self-contained HTML, terminal text.

They are generic on purpose: the probe, the scenarios, fuzz and load runners all hand over a
RunReport, so each format is implemented exactly once. Every writer passes its text through
``scrub`` first, so a private key block that slipped into a message never reaches a file.
"""

from harness.reports.handlers.display import LineDisplay, LiveDisplay
from harness.reports.handlers.files import ReportFiles
from harness.reports.handlers.html import render_html, write_html
from harness.reports.handlers.json_report import SCHEMA_VERSION, report_dict, write_json
from harness.reports.handlers.junit import render_junit, write_junit
from harness.reports.handlers.ndjson import EventLog, event_dict
from harness.reports.handlers.scrub import scrub
from harness.reports.handlers.text import render_text

__all__ = [
    "SCHEMA_VERSION",
    "EventLog",
    "LineDisplay",
    "LiveDisplay",
    "ReportFiles",
    "event_dict",
    "render_html",
    "render_junit",
    "render_text",
    "report_dict",
    "scrub",
    "write_html",
    "write_json",
    "write_junit",
]
