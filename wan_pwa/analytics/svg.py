"""Charts drawn on the server as inline SVG: the CSP allows no script and no inline style, so
colours come from classes in static/css/admin-dashboard.css."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

BAR_WIDTH = 240
BAR_HEIGHT = 18


def bars(items: Sequence[tuple[str, int]], css_class: str = "bar") -> SafeString:
    """Horizontal bars, one row per (label, value), scaled to the largest value."""
    largest = max((value for _, value in items), default=0) or 1
    height = BAR_HEIGHT * max(len(items), 1)
    rows = format_html_join(
        "",
        '<g><text x="0" y="{}" class="chart-label">{}</text>'
        '<rect x="130" y="{}" width="{}" height="{}" class="{}"></rect>'
        '<text x="{}" y="{}" class="chart-value">{}</text></g>',
        (
            (
                index * BAR_HEIGHT + 13,
                label[:24],
                index * BAR_HEIGHT + 3,
                round(value / largest * (BAR_WIDTH - 130 - 40)),
                BAR_HEIGHT - 6,
                css_class,
                round(value / largest * (BAR_WIDTH - 130 - 40)) + 134,
                index * BAR_HEIGHT + 13,
                value,
            )
            for index, (label, value) in enumerate(items)
        ),
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" width="{}" height="{}" role="img">{}</svg>',
        BAR_WIDTH,
        height,
        BAR_WIDTH,
        height,
        rows,
    )


def sparkline(values: Sequence[int], label: str, width: int = 240, height: int = 40) -> SafeString:
    """A line through the values (oldest first), with the label for screen readers."""
    largest = max(values, default=0) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{index * step:.1f},{height - 2 - value / largest * (height - 4):.1f}"
        for index, value in enumerate(values)
    )
    return format_html(
        '<svg class="chart sparkline" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}"><polyline points="{}"></polyline></svg>',
        width,
        height,
        width,
        height,
        label,
        points,
    )


def meter(value: int, limit: int, ok: bool) -> SafeString:
    """A bar of value against limit (e.g. today's spend against the cap)."""
    filled = round(min(value / limit, 1) * BAR_WIDTH) if limit else BAR_WIDTH
    return format_html(
        '<svg class="chart" viewBox="0 0 {} 12" width="{}" height="12" role="img">'
        '<rect x="0" y="0" width="{}" height="12" class="meter-track"></rect>'
        '<rect x="0" y="0" width="{}" height="12" class="{}"></rect></svg>',
        BAR_WIDTH,
        BAR_WIDTH,
        BAR_WIDTH,
        filled,
        "target-met" if ok else "target-missed",
    )
