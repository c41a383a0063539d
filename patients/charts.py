"""Trend charts as server-rendered SVG geometry: no script, prints as drawn.

The x axis is days since day 0 (Day +N). Each chart carries its reference
lines (fever threshold, NEWS2 bands) and the interventions on the same axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime

from .clinical.crs import FEVER_THRESHOLD_C
from .clinical.news2 import HIGH_MIN_TOTAL, MEDIUM_MIN_TOTAL

WIDTH, HEIGHT = 760, 170
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 26
MARKED_KINDS = {
    "tocilizumab": "Toci",
    "corticosteroid": "Steroid",
    "vasopressor": "Pressor",
    "siltuximab": "Siltux",
    "anakinra": "Anakinra",
}


@dataclass
class Series:
    name: str
    css: str
    points: list[dict[str, Any]] = field(default_factory=list)
    path: str = ""
    step: bool = False


@dataclass
class Chart:
    id: str
    title: str
    unit: str
    y_min: float
    y_max: float
    series: list[Series]
    lines: list[dict[str, Any]] = field(default_factory=list)
    markers: list[dict[str, Any]] = field(default_factory=list)
    y_ticks: list[dict[str, Any]] = field(default_factory=list)
    x_ticks: list[dict[str, Any]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def point_count(self) -> int:
        return sum(len(s.points) for s in self.series)

    def svg(self) -> str:
        """Return the chart as SVG markup (every text escaped).

        Built here rather than in a template: a 14-day chart has hundreds
        of points, and template lookups per point made the page slow.
        """
        right = self.width - RIGHT
        parts = [
            f'<svg viewBox="0 0 {self.width} {self.height}" role="img" aria-label="'
            f'{escape(self.title)} over time: {self.point_count} values">'
        ]
        for t in self.y_ticks:
            parts.append(
                f'<line class="grid" x1="{LEFT}" x2="{right}" y1="{t["y"]}" y2="{t["y"]}"/>'
                f'<text class="tick" x="{LEFT - 4}" y="{t["y"]}" text-anchor="end" '
                f'dominant-baseline="middle">{escape(t["label"])}</text>'
            )
        for t in self.x_ticks:
            parts.append(
                f'<text class="tick" x="{t["x"]}" y="{self.height - 6}" '
                f'text-anchor="middle">{escape(t["label"])}</text>'
            )
        for line in self.lines:
            parts.append(
                f'<line class="refline {line["css"]}" x1="{LEFT}" x2="{right}" y1="{line["y"]}" '
                f'y2="{line["y"]}"/><text class="reflabel" x="{right}" y="{line["y"]}" dy="-3" '
                f'text-anchor="end">{escape(line["label"])}</text>'
            )
        for m in self.markers:
            parts.append(
                f'<line class="marker" x1="{m["x"]}" x2="{m["x"]}" y1="{TOP}" '
                f'y2="{self.height - BOTTOM}"/><text class="markerlabel" x="{m["x"]}" y="{TOP - 2}" '
                f'text-anchor="middle">{escape(m["label"])}</text>'
            )
        for s in self.series:
            parts.append(f'<path class="line {s.css}" d="{s.path}"/>')
            parts.extend(
                f'<circle class="pt {s.css}" cx="{p["x"]}" cy="{p["y"]}" r="2.6">'
                f"<title>{escape(p['label'])}</title></circle>"
                for p in s.points
            )
        parts.append("</svg>")
        return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


class Axis:
    def __init__(self, day0: datetime, start: float, end: float, y_min: float, y_max: float):
        self.day0, self.start, self.end = day0, start, max(end, start + 0.5)
        self.y_min, self.y_max = y_min, y_max

    def day(self, t: datetime) -> float:
        return (t - self.day0).total_seconds() / 86400

    def x(self, day: float) -> float:
        span = self.end - self.start
        return round(LEFT + (day - self.start) / span * (WIDTH - LEFT - RIGHT), 1)

    def y(self, value: float) -> float:
        value = min(max(value, self.y_min), self.y_max)
        span = self.y_max - self.y_min
        return round(HEIGHT - BOTTOM - (value - self.y_min) / span * (HEIGHT - TOP - BOTTOM), 1)


def _path(points: list[dict[str, Any]], step: bool) -> str:
    parts = []
    for i, p in enumerate(points):
        if i == 0:
            parts.append(f"M{p['x']},{p['y']}")
        elif step:
            parts.append(f"H{p['x']}V{p['y']}")
        else:
            parts.append(f"L{p['x']},{p['y']}")
    return " ".join(parts)


def build_chart(
    chart_id: str,
    title: str,
    unit: str,
    y_min: float,
    y_max: float,
    series: list[tuple[str, str, str, bool]],
    rounds: list,
    axis_args: tuple,
    lines=(),
    markers=(),
    tick_every: float | None = None,
) -> Chart:
    day0, start, end = axis_args
    axis = Axis(day0, start, end, y_min, y_max)
    built = []
    for name, attr, css, step in series:
        s = Series(name, css, step=step)
        for r in rounds:
            value = attr(r) if callable(attr) else getattr(r, attr)
            if value is None:
                continue
            d = axis.day(r.clinical_time)
            s.points.append(
                {
                    "x": axis.x(d),
                    "y": axis.y(value),
                    "value": value,
                    "label": f"{name} {value:g} {unit} on Day +{d:.1f} "
                    f"({r.clinical_time:%d %b %H:%M})",
                }
            )
        s.path = _path(s.points, step)
        built.append(s)
    tick = tick_every or max(1, round((y_max - y_min) / 4))
    y_ticks = []
    v = y_min
    while v <= y_max + 1e-9:
        y_ticks.append({"y": axis.y(v), "label": f"{v:g}"})
        v += tick
    first, last = int(start) if start >= 0 else int(start) - 1, int(end) + 1
    step_days = max(1, (last - first) // 10)
    x_ticks = [
        {"x": axis.x(d), "label": f"+{d}" if d >= 0 else str(d)}
        for d in range(first, last + 1, step_days)
        if start <= d <= end
    ]
    return Chart(
        chart_id,
        title,
        unit,
        y_min,
        y_max,
        built,
        lines=[{"y": axis.y(v), "label": label, "css": css} for v, label, css in lines],
        markers=[
            {"x": axis.x(axis.day(t)), "label": label}
            for t, label in markers
            if start <= axis.day(t) <= axis.end
        ],
        y_ticks=y_ticks,
        x_ticks=x_ticks,
    )


def patient_charts(rounds: list, interventions: list, day0: datetime) -> list[Chart]:
    """Return the trend charts for ``rounds`` (final rounds, oldest first)."""
    if not rounds:
        return []
    days = [(r.clinical_time - day0).total_seconds() / 86400 for r in rounds]
    axis_args = (day0, min(min(days), 0), max(days))
    markers = [
        (i.given_at, MARKED_KINDS[i.kind])
        for i in interventions
        if i.kind in MARKED_KINDS and i.status == "final"
    ]

    def on_oxygen(r) -> float | None:
        if not r.oxygen_device:
            return None
        return 0 if r.oxygen_device == "room_air" else (r.oxygen_flow_l_min or 1)

    return [
        build_chart(
            "chart-temperature",
            "Temperature",
            "°C",
            35,
            41,
            [("Temperature", "temperature_c", "s1", False)],
            rounds,
            axis_args,
            lines=[(FEVER_THRESHOLD_C, f"fever {FEVER_THRESHOLD_C} °C (ASTCT)", "ref")],
            markers=markers,
            tick_every=1,
        ),
        build_chart(
            "chart-heart-rate",
            "Heart rate",
            "/min",
            30,
            180,
            [("Heart rate", "heart_rate", "s1", False)],
            rounds,
            axis_args,
            markers=markers,
            tick_every=30,
        ),
        build_chart(
            "chart-blood-pressure",
            "Blood pressure",
            "mmHg",
            30,
            200,
            [("Systolic", "systolic_bp", "s1", False), ("Diastolic", "diastolic_bp", "s2", False)],
            rounds,
            axis_args,
            lines=[(90, "SBP 90 (NEWS2 scores 3 at or below)", "ref")],
            markers=markers,
            tick_every=40,
        ),
        build_chart(
            "chart-respiratory-rate",
            "Respiratory rate",
            "/min",
            0,
            40,
            [("Respiratory rate", "respiratory_rate", "s1", False)],
            rounds,
            axis_args,
            markers=markers,
            tick_every=10,
        ),
        build_chart(
            "chart-spo2",
            "SpO2 and oxygen",
            "% / L/min",
            0,
            100,
            [("SpO2", "spo2", "s1", False), ("O2 flow", on_oxygen, "s2", True)],
            rounds,
            axis_args,
            markers=markers,
            tick_every=20,
        ),
        build_chart(
            "chart-news2",
            "NEWS2",
            "points",
            0,
            20,
            [("NEWS2", "news2_total", "s1", False)],
            rounds,
            axis_args,
            lines=[
                (MEDIUM_MIN_TOTAL, "5: medium risk", "band-medium"),
                (HIGH_MIN_TOTAL, "7: high risk", "band-high"),
            ],
            markers=markers,
            tick_every=5,
        ),
        build_chart(
            "chart-grades",
            "CRS and ICANS grade",
            "grade",
            0,
            4,
            [("CRS grade", "crs_grade", "s1", True), ("ICANS grade", "icans_grade", "s2", True)],
            rounds,
            axis_args,
            markers=markers,
            tick_every=1,
        ),
        build_chart(
            "chart-ice",
            "ICE score",
            "/10",
            0,
            10,
            [("ICE", "ice_score", "s1", True)],
            rounds,
            axis_args,
            markers=markers,
            tick_every=2,
        ),
    ]


def heat_map(
    rounds: list, flags: list, systems: tuple[str, ...], detail_url: str
) -> dict[str, Any]:
    """Return organ-system rows by round columns, each cell with its flag mark.

    ``detail_url`` is a round's detail URL with 0 for its id (reversed once).
    """
    flagged = {(f.opened_by_round_id, f.organ_system) for f in flags if f.organ_system}
    prefix = detail_url.rsplit("0/", 1)[0]
    columns = [
        {
            "round": r,
            "when": f"{localtime(r.clinical_time):%d %b %H:%M}",
            "url": f"{prefix}{r.pk}/",
        }
        for r in rounds
    ]
    rows = [
        {
            "system": system,
            "label": system.capitalize(),
            "cells": [
                {
                    "url": c["url"],
                    "when": c["when"],
                    "severity": c["round"].organ_severity.get(system),
                    "flag": (c["round"].pk, system) in flagged,
                }
                for c in columns
            ],
        }
        for system in systems
    ]
    return {"columns": columns, "rows": rows, "html": heat_html(columns, rows)}


def heat_html(columns: list[dict[str, Any]], rows: list[dict[str, Any]]) -> str:
    """Return the heat map's table, every text escaped (144 cells per view)."""
    head = "".join(f'<th scope="col" class="heat-time">{escape(c["when"])}</th>' for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in row["cells"]:
            level = "na" if c["severity"] is None else c["severity"]
            shown = "—" if c["severity"] is None else str(c["severity"])
            mark = "!" if c["flag"] else ""
            label = f"{row['label']} {c['when']}: severity {shown}"
            label += ", flag raised" if c["flag"] else ""
            cells.append(
                f'<td class="lvl-bg-{level}"><a href="{c["url"]}" hx-get="{c["url"]}" '
                f'aria-label="{escape(label)}">{shown}{mark}</a></td>'
            )
        body.append(f'<tr><th scope="row">{escape(row["label"])}</th>{"".join(cells)}</tr>')
    return mark_safe(  # noqa: S308 - built from escaped values
        '<table class="heat"><thead><tr><th scope="col">System</th>' + head + "</tr></thead>"
        '<tbody hx-target="#round-detail" hx-swap="outerHTML">'
        + "".join(body)
        + "</tbody></table>"
    )
