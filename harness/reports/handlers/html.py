"""RunReport as one self-contained HTML page a participant can print or attach to an email.

Self-contained means no network at all when opened: inline CSS, charts as inline SVG, no
fonts, scripts or images from elsewhere. Jinja2 autoescaping keeps response bodies and
certificate names from injecting markup.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import jinja2
from markupsafe import Markup

from harness import __version__
from harness.reports.handlers.scrub import scrub
from harness.reports.model import CaseStatus, RunReport

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["scrub"] = scrub

BAR_H, GAP, LABEL_W, BAR_W, VALUE_W = 18, 6, 190, 380, 80


def bar_chart(values: dict[str, float], unit: str = "") -> Markup:
    """Horizontal bar chart as inline SVG (labels left, bars scaled to the largest value)."""
    if not values:
        return Markup("")
    top = max(values.values()) or 1.0
    height = len(values) * (BAR_H + GAP) + GAP
    width = LABEL_W + BAR_W + VALUE_W
    parts = [
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="bar chart" class="chart">'
    ]
    for i, (label, value) in enumerate(values.items()):
        y = GAP + i * (BAR_H + GAP)
        length = max(1.0, BAR_W * value / top)
        parts.append(
            f'<text x="{LABEL_W - 8}" y="{y + BAR_H - 5}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL_W}" y="{y}" width="{length:.1f}" height="{BAR_H}" rx="2"/>'
            f'<text x="{LABEL_W + length + 6:.1f}" y="{y + BAR_H - 5}">{value:g} {escape(unit)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def render_html(report: RunReport) -> str:
    groups: dict[str, list] = {}
    for case in report.cases:
        groups.setdefault(case.group, []).append(case)
    page = _ENV.get_template("report.html.j2").render(
        report=report,
        groups=groups,
        counts=report.counts(),
        findings=report.fix_first(),
        chart_for=lambda section: bar_chart(section.chart, section.chart_unit),
        generated=datetime.now(UTC),
        version=__version__,
        CaseStatus=CaseStatus,
    )
    return scrub(page)


def write_html(report: RunReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
