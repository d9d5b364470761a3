"""Line charts rendered on the server as SVG: no chart library, no script, nothing from a CDN.

Colours and dashes are CSS classes (``s1``…``s6``, ``dashed``) styled in ui.css. Every chart also
carries its numbers as a table (``Chart.rows``) for screen readers and for copying.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 560, 230
LEFT, RIGHT, TOP, BOTTOM = 58, 16, 12, 30
Y_TICKS = 4
X_TICKS = 5
# Time labels step by a whole number of buckets: hours that divide a day (so labels sit on 00:00, 06:00,
# 12:00…), or days.
HOUR_STEPS = (1, 2, 3, 4, 6, 8, 12, 24)
DAY_STEPS = (1, 2, 3, 5, 7, 10, 14, 15, 30, 60, 90, 180, 365)
EDGE = 24  # a label closer than this to either end of the axis is anchored to it, so it is not cut off
_ids = count(1)


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[datetime, float]]
    css: str = "s1"
    dashed: bool = False


@dataclass(frozen=True)
class Chart:
    title: str
    series: list[Series]
    svg: SafeString
    rows: list[tuple[datetime, list[str]]]

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^n at or above ``value`` (1 for nothing to show)."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def format_value(value: float, unit: str) -> str:
    if unit == "s":
        # Durations are stored in seconds and shown in one unit everywhere: milliseconds.
        milliseconds = value * 1000
        return f"{milliseconds:,.1f} ms" if milliseconds < 10 else f"{milliseconds:,.0f} ms"
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.1f}"


def _n(coordinate: float) -> str:
    return f"{coordinate:.1f}"


def _time_label(moment: datetime, bucket: timedelta) -> str:
    """The hour for hourly buckets, except at midnight, which names its day (over two days, 00:00 and
    00:00 would not say which is which); the day for daily buckets."""
    local = timezone.localtime(moment)
    hourly = bucket < timedelta(days=1) and (local.hour, local.minute) != (0, 0)
    return local.strftime("%H:%M") if hourly else local.strftime("%b %d")


def time_ticks(start: datetime, end: datetime, bucket: timedelta) -> list[datetime]:
    """At most X_TICKS moments in [start, end] for the time labels, each a bucket boundary in the site's
    time zone: on the hour for hourly buckets (at hours that are a multiple of the step: 00:00, 06:00…),
    at midnight for daily ones, a whole number of buckets apart. Evenly spaced labels (the range split in
    four) fell on odd minutes such as 10:15 when the range was not a multiple of four buckets."""
    hourly = bucket < timedelta(days=1)
    unit = timedelta(hours=1) if hourly else timedelta(days=1)
    steps = HOUR_STEPS if hourly else DAY_STEPS
    span = end - start
    step = next((n for n in steps if span // (unit * n) + 1 <= X_TICKS), steps[-1])
    if hourly:
        # Absolute hours (every offset change of a time zone is whole hours in practice), each label at a
        # local hour that is a multiple of the step.
        first = timezone.localtime(start).replace(minute=0, second=0, microsecond=0)
        if first < start:
            first = _hours_later(first, 1)
        while first.hour % step:
            first = _hours_later(first, 1)
        moments = [_hours_later(first, step * k) for k in range(X_TICKS + 1)]
    else:
        # Wall-clock days: local midnight plus whole days is the next local midnight, across DST too.
        first = timezone.localtime(start).replace(hour=0, minute=0, second=0, microsecond=0)
        if first < start:
            first += unit
        moments = [first + unit * step * k for k in range(X_TICKS + 1)]
    return [moment for moment in moments if moment <= end][:X_TICKS]


def _hours_later(moment: datetime, hours: int) -> datetime:
    """``hours`` of elapsed time after ``moment``, in the site's time zone (not wall-clock hours)."""
    return timezone.localtime(moment.astimezone(UTC) + timedelta(hours=hours))


def line_chart(
    *, title: str, unit: str, series: list[Series], start: datetime, end: datetime, bucket: timedelta
) -> Chart:
    """A chart of ``series`` over [start, end]; the y axis starts at zero. ``bucket`` is the width the
    points were grouped by (an hour or a day): the time labels sit on bucket boundaries."""
    chart_id = f"chart-{next(_ids)}"
    values = [v for s in series for _, v in s.points]
    top = nice_ceiling(max(values, default=0.0) / Y_TICKS) * Y_TICKS
    span = max((end - start).total_seconds(), 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(moment: datetime) -> float:
        return LEFT + plot_w * ((moment - start).total_seconds() / span)

    def y(value: float) -> float:
        return TOP + plot_h * (1 - value / top)

    parts: list[SafeString] = []
    for i in range(Y_TICKS + 1):
        value = top * i / Y_TICKS
        parts.append(
            format_html(
                '<line class="grid-line" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                _n(y(value)),
                _n(y(value)),
                LEFT - 6,
                _n(y(value)),
                format_value(value, unit),
            )
        )
    for i, moment in enumerate(time_ticks(start, end, bucket)):
        at = x(moment)
        anchor = "start" if at - LEFT < EDGE else "end" if WIDTH - RIGHT - at < EDGE else "middle"
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="{}" class="{}">{}</text>',
                _n(at),
                HEIGHT - 9,
                anchor,
                # Every other label is left out on a phone, where the text is drawn larger (ui.css).
                "time minor" if i % 2 else "time",
                _time_label(moment, bucket),
            )
        )
    parts.append(
        format_html(
            '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>',
            LEFT,
            WIDTH - RIGHT,
            TOP + plot_h,
            TOP + plot_h,
        )
    )
    for s in series:
        classes = f"line {s.css}{' dashed' if s.dashed else ''}"
        if len(s.points) > 1:
            coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in s.points)
            parts.append(format_html('<polyline class="{}" points="{}"/>', classes, coords))
        parts.append(
            format_html_join(
                "",
                '<circle class="dot {}" cx="{}" cy="{}" r="{}"><title>{}: {}</title></circle>',
                (
                    (s.css, _n(x(t)), _n(y(v)), 3 if len(s.points) == 1 else 2, s.name, format_value(v, unit))
                    for t, v in s.points
                ),
            )
        )
    svg = format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-labelledby="{}-title" preserveAspectRatio="xMidYMid meet">'
        '<title id="{}-title">{}</title>{}</svg>',
        WIDTH,
        HEIGHT,
        chart_id,
        chart_id,
        title,
        format_html_join("", "{}", ((part,) for part in parts)),
    )
    moments = sorted({t for s in series for t, _ in s.points})
    lookup = [{t: v for t, v in s.points} for s in series]
    rows = [
        (moment, [format_value(points[moment], unit) if moment in points else "–" for points in lookup])
        for moment in moments
    ]
    return Chart(title=title, series=series, svg=svg, rows=rows)
