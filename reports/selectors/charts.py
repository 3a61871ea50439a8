"""Server-side SVG charts for the reports: no JavaScript, no CDN, readable without colour alone
(every bar and point carries a <title> with its exact value, and the table sits beside it)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#4b5563", "#ca8a04")
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 64
TICKS = 5
LABEL_CHARS = 14


@dataclass
class Chart:
    title: str
    svg: str


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):  # five gridline intervals of 0.2, 0.4, 0.5, 1, 2 x magnitude
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0").rstrip(".")


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _frame(
    title: str,
    labels: list[str],
    top: float,
    percent: bool,
    body: list[str],
    series_names,
    bottom: float = 0.0,
    ticks: int = TICKS,
) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" class="report-chart" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(ticks + 1):
        value = bottom + (top - bottom) * i / ticks
        y = TOP + plot_h - plot_h * i / ticks
        stroke = "#9ca3af" if value == 0 else "#e5e7eb"
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="{stroke}"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#374151">{_fmt(value, percent)}</text>'
        )
    step = plot_w / max(len(labels), 1)
    every = max(1, len(labels) // 12)
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + step * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 14}" text-anchor="end" fill="#374151" '
            f'transform="rotate(-30 {x:.1f} {TOP + plot_h + 14})">{escape(_label(str(label)))}</text>'
        )
    parts.extend(body)
    legend_x = LEFT
    for i, name in enumerate(series_names):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{legend_x}" y="8" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 14}" y="17" fill="#111827">{escape(name)}</text>')
        legend_x += 24 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, labels: list, series: list[tuple[str, list]], *, percent: bool = False) -> Chart:
    """Grouped bars: one group per label, one bar per series."""
    values = [v or 0 for _, vals in series for v in vals]
    top = 1.0 if percent and max(values, default=0) <= 1 else _nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels), 1)
    bar_w = min(step * 0.8 / max(len(series), 1), 48)
    body = []
    for s, (name, vals) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        for i, v in enumerate(vals):
            v = float(v or 0)
            h = plot_h * v / top if top else 0
            x = LEFT + step * i + (step - bar_w * len(series)) / 2 + bar_w * s
            body.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(str(labels[i]))} · {escape(name)}: {_fmt(v, percent)}</title></rect>'
            )
    return Chart(title, _frame(title, [str(label) for label in labels], top, percent, body, [n for n, _ in series]))


def line_chart(
    title: str,
    labels: list,
    series: list[tuple[str, list]],
    *,
    percent: bool = False,
    y_range: tuple[float, float] | None = None,
) -> Chart:
    """Lines with points; ``y_range`` fixes the axis (e.g. NPS runs from -100 to 100)."""
    values = [float(v) for _, vals in series for v in vals if v is not None]
    if y_range:
        bottom, top = y_range
    else:
        bottom = 0.0
        top = 1.0 if percent and max(values, default=0) <= 1 else _nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels), 1)
    span = (top - bottom) or 1.0
    body = []
    for s, (name, vals) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        points = []
        for i, v in enumerate(vals):
            if v is None:
                continue
            x = LEFT + step * (i + 0.5)
            clamped = min(max(float(v), bottom), top)
            y = TOP + plot_h - plot_h * (clamped - bottom) / span
            points.append((x, y, v, labels[i]))
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, v, label in points:
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"><title>{escape(str(label))} · '
                f"{escape(name)}: {_fmt(float(v), percent)}</title></circle>"
            )
    frame = _frame(
        title,
        [str(label) for label in labels],
        top,
        percent,
        body,
        [n for n, _ in series],
        bottom,
        4 if y_range else TICKS,
    )
    return Chart(title, frame)
