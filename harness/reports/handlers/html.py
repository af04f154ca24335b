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
from harness.reports.model import CaseResult, CaseStatus, RunReport, anchor, in_words, plural

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


LINE_W, LINE_H, PAD_L, PAD_B, PAD_T = 640, 200, 56, 28, 12
LINE_COLOURS = ("#3b6fd4", "#d4843b", "#c23b3b", "#3ba46f", "#7a3bd4")


def _nice(top: float) -> float:
    """A round axis maximum at or above ``top`` (1, 2 or 5 times a power of ten)."""
    if top <= 0:
        return 1.0
    scale = 10 ** len(str(int(top)))  # a power of ten above top
    for step in (0.1, 0.2, 0.5, 1.0):
        if top <= scale * step:
            return scale * step
    return scale


def line_chart(series: dict[str, list[list[float]]], unit: str = "") -> Markup:
    """Lines over time as inline SVG: x in seconds from the start, a shared y axis, a legend."""
    points = [p for line in series.values() for p in line]
    if not points:
        return Markup("")
    x_top = max(p[0] for p in points) or 1.0
    y_top = _nice(max(p[1] for p in points))
    width, height = PAD_L + LINE_W + 30, PAD_T + LINE_H + PAD_B + 18 * ((len(series) + 3) // 4)

    def x(v: float) -> float:
        return PAD_L + LINE_W * v / x_top

    def y(v: float) -> float:
        return PAD_T + LINE_H - LINE_H * v / y_top

    parts = [
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="line chart" class="chart line">',
        f'<line x1="{PAD_L}" y1="{PAD_T + LINE_H}" x2="{PAD_L + LINE_W}" y2="{PAD_T + LINE_H}" class="axis"/>',
        f'<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{PAD_T + LINE_H}" class="axis"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        parts.append(
            f'<text x="{PAD_L - 6}" y="{y(y_top * frac) + 4:.1f}" text-anchor="end">{y_top * frac:g}</text>'
        )
        parts.append(
            f'<text x="{x(x_top * frac):.1f}" y="{PAD_T + LINE_H + 16}" text-anchor="middle">'
            f"{x_top * frac:.0f} s</text>"
        )
    parts.append(f'<text x="4" y="{PAD_T - 2}">{escape(unit)}</text>')
    for n, (name, line) in enumerate(series.items()):
        colour = LINE_COLOURS[n % len(LINE_COLOURS)]
        coords = " ".join(f"{x(px):.1f},{y(py):.1f}" for px, py in line)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        lx, ly = PAD_L + (n % 4) * 150, PAD_T + LINE_H + PAD_B + 14 + 18 * (n // 4)
        parts.append(
            f'<rect x="{lx}" y="{ly - 9}" width="12" height="4" fill="{colour}"/>'
            f'<text x="{lx + 16}" y="{ly - 4}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


_TONES = {
    "grey": ("skipped", "manual", "not run"),
    "good": ("passed", "ok", "certified", "ready", "automated"),
    "bad": ("failed", "error", "not certified", "not ready", "missing", "breached"),
    "warn": ("warning",),
}


def tone(value: object) -> str:
    """good, bad, warn or grey for a status word in any runner's vocabulary (CERTIFIED, OK,
    passed, NOT_PROVISIONED ...): how a table cell or a tile is coloured; "" for other text."""
    word = str(value).strip().lower().replace("_", " ")
    for name, words in _TONES.items():
        if word in words or any(word.startswith(w + ":") or word.startswith(w + " (") for w in words):
            return name
    if word.startswith(("not ", "access ", "server ", "tls ", "connection ", "timeout")):
        return "bad"
    return ""


FOLD_ROWS = 12  # a passing table longer than this is folded (the page of a rehearsal was 21,775 px tall)


def calm_rows(rows: list[dict[str, str]]) -> str:
    """The summary of a long table with nothing failed or warned in it (to fold), else ""."""
    if len(rows) <= FOLD_ROWS or any(tone(v) in ("bad", "warn") for row in rows for v in row.values()):
        return ""
    return f"{plural(len(rows), 'row')}, nothing failed: show"


def calm_cases(cases: list[CaseResult]) -> str:
    """The summary of a group of checks none of which failed, erred or warned (to fold), else ""."""
    if any(c.status in (CaseStatus.FAILED, CaseStatus.ERROR, CaseStatus.WARNING) for c in cases):
        return ""
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.status.value] = counts.get(case.status.value, 0) + 1
    return f"{in_words(counts)}: show"


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
        lines_for=lambda section: line_chart(section.series, section.series_unit),
        generated=datetime.now(UTC),
        version=__version__,
        CaseStatus=CaseStatus,
        anchor=anchor,
        tone=tone,
        calm_rows=calm_rows,
        calm_cases=calm_cases,
    )
    return scrub(page)


def write_html(report: RunReport, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
