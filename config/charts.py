"""Geometry for the small SVG bar charts on product pages (the scoring what-if, the deal
forecast): no chart library, the templates draw the rectangles."""

from __future__ import annotations

CHART_W, CHART_H = 640, 180


def svg_bars(series: list[dict], keys: tuple[str, ...], labels: list[str]) -> dict:
    """One group per item, one bar per key, heights scaled to the largest value (at least 1)."""
    top = max([1, *(item[k] for item in series for k in keys)])
    n = max(1, len(series))
    group_w = CHART_W / n
    bar_w = max(1.0, (group_w - 4) / len(keys))
    groups = []
    for i, item in enumerate(series):
        bars = []
        for j, key in enumerate(keys):
            h = CHART_H * item[key] / top
            bars.append({"key": key, "x": i * group_w + 2 + j * bar_w, "y": CHART_H - h, "w": bar_w, "h": h})
        groups.append({"label": labels[i], "bars": bars, "item": item, "x": i * group_w + group_w / 2})
    return {"groups": groups, "top": top, "w": CHART_W, "h": CHART_H}
