"""Trend charts and the organ-system heat map, as data for the templates.

The x axis is days since day 0 (Day +N). Each chart is described by a
``ChartSpec`` (its series, scale, reference lines); ``build_chart`` turns a
spec and the rounds into SVG geometry that ``_chart.html`` draws.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.timezone import localtime

from .clinical.crs import FEVER_THRESHOLD_C
from .clinical.news2 import HIGH_MIN_TOTAL, MEDIUM_MIN_TOTAL

WIDTH, HEIGHT = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 22, 34
# Intervention labels are set in rows above the plot so none overlaps:
# roughly this many drawing units per character at the chart's label size.
LABEL_UNITS_PER_CHAR = 10
LABEL_ROW_HEIGHT = 19
MAX_LABEL_ROWS = 4
MARKED_KINDS = {
    "tocilizumab": "Toci",
    "corticosteroid": "Steroid",
    "vasopressor": "Pressor",
    "siltuximab": "Siltux",
    "anakinra": "Anakinra",
}


def oxygen_flow(r) -> float | None:
    """Return the oxygen flow to chart: 0 on room air, 1 for an unknown flow."""
    if not r.oxygen_device:
        return None
    return 0 if r.oxygen_device == "room_air" else (r.oxygen_flow_l_min or 1)


@dataclass(frozen=True)
class SeriesSpec:
    name: str
    value: str | Callable[[Any], float | None]  # a round attribute, or a function
    css: str = "s1"
    step: bool = False  # grades and scores change in steps, not gradually

    def read(self, r) -> float | None:
        return self.value(r) if callable(self.value) else getattr(r, self.value)


@dataclass(frozen=True)
class ChartSpec:
    id: str
    title: str
    unit: str
    y_min: float
    y_max: float
    tick_every: float
    series: tuple[SeriesSpec, ...]
    lines: tuple[tuple[float, str, str], ...] = ()  # (value, label, css)


CHARTS = (
    ChartSpec(
        "chart-temperature",
        "Temperature",
        "°C",
        35,
        41,
        1,
        (SeriesSpec("Temperature", "temperature_c"),),
        lines=((FEVER_THRESHOLD_C, f"fever {FEVER_THRESHOLD_C} °C (ASTCT)", "ref"),),
    ),
    ChartSpec(
        "chart-heart-rate",
        "Heart rate",
        "/min",
        30,
        180,
        30,
        (SeriesSpec("Heart rate", "heart_rate"),),
    ),
    ChartSpec(
        "chart-blood-pressure",
        "Blood pressure",
        "mmHg",
        30,
        200,
        40,
        (SeriesSpec("Systolic", "systolic_bp"), SeriesSpec("Diastolic", "diastolic_bp", "s2")),
        lines=((90, "SBP 90 (NEWS2 scores 3 at or below)", "ref"),),
    ),
    ChartSpec(
        "chart-respiratory-rate",
        "Respiratory rate",
        "/min",
        0,
        40,
        10,
        (SeriesSpec("Respiratory rate", "respiratory_rate"),),
    ),
    ChartSpec(
        "chart-spo2",
        "SpO2 and oxygen",
        "% / L/min",
        0,
        100,
        20,
        (SeriesSpec("SpO2", "spo2"), SeriesSpec("O2 flow", oxygen_flow, "s2", step=True)),
    ),
    ChartSpec(
        "chart-news2",
        "NEWS2",
        "points",
        0,
        20,
        5,
        (SeriesSpec("NEWS2", "news2_total"),),
        lines=(
            (MEDIUM_MIN_TOTAL, "5: medium risk", "band-medium"),
            (HIGH_MIN_TOTAL, "7: high risk", "band-high"),
        ),
    ),
    ChartSpec(
        "chart-grades",
        "CRS and ICANS grade",
        "grade",
        0,
        4,
        1,
        (
            SeriesSpec("CRS grade", "crs_grade", step=True),
            SeriesSpec("ICANS grade", "icans_grade", "s2", step=True),
        ),
    ),
    ChartSpec(
        "chart-ice",
        "ICE score",
        "/10",
        0,
        10,
        2,
        (SeriesSpec("ICE", "ice_score", step=True),),
    ),
)


@dataclass
class Series:
    name: str
    css: str
    points: list[dict[str, Any]] = field(default_factory=list)
    path: str = ""


@dataclass
class Chart:
    id: str
    title: str
    unit: str
    series: list[Series]
    lines: list[dict[str, Any]]
    markers: list[dict[str, Any]]
    y_ticks: list[dict[str, Any]]
    x_ticks: list[dict[str, Any]]
    now: dict[str, Any] | None = None
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def point_count(self) -> int:
        return sum(len(s.points) for s in self.series)

    @property
    def not_assessed(self) -> bool:
        """Return whether no series has a single value (nothing was assessed)."""
        return self.point_count == 0

    @property
    def middle(self) -> dict[str, float]:
        return {"x": (self.left + self.right) / 2, "y": (self.top + self.bottom) / 2}


@dataclass(frozen=True)
class Axis:
    day0: datetime
    start: float
    end: float
    y_min: float = 0
    y_max: float = 1
    top: float = TOP

    def day(self, t: datetime) -> float:
        return (t - self.day0).total_seconds() / 86400

    def x(self, day: float) -> float:
        span = max(self.end, self.start + 0.5) - self.start
        return round(LEFT + (day - self.start) / span * (WIDTH - LEFT - RIGHT), 1)

    def y(self, value: float) -> float:
        value = min(max(value, self.y_min), self.y_max)
        span = self.y_max - self.y_min
        plot = HEIGHT - self.top - BOTTOM
        return round(HEIGHT - BOTTOM - (value - self.y_min) / span * plot, 1)


def svg_path(points: list[dict[str, Any]], step: bool) -> str:
    """Return SVG path data through ``points`` (steps hold until the next value)."""
    parts = []
    for i, p in enumerate(points):
        if i == 0:
            parts.append(f"M{p['x']},{p['y']}")
        elif step:
            parts.append(f"H{p['x']}V{p['y']}")
        else:
            parts.append(f"L{p['x']},{p['y']}")
    return " ".join(parts)


def build_series(spec: SeriesSpec, unit: str, rounds: list, axis: Axis) -> Series:
    series = Series(spec.name, spec.css)
    for r in rounds:
        value = spec.read(r)
        if value is None:
            continue
        d = axis.day(r.clinical_time)
        series.points.append(
            {
                "x": axis.x(d),
                "y": axis.y(value),
                "label": f"{spec.name} {value:g} {unit} on Day +{d:.1f} "
                f"({r.clinical_time:%d %b %H:%M})",
            }
        )
    series.path = svg_path(series.points, spec.step)
    return series


def label_rows(markers: list[dict[str, Any]]) -> int:
    """Give each marker a label row so that no two labels overlap; return the rows used."""
    row_ends: list[float] = []
    for m in sorted(markers, key=lambda m: m["x"]):
        half = len(m["label"]) * LABEL_UNITS_PER_CHAR / 2 + 3
        row = next((i for i, end in enumerate(row_ends) if end <= m["x"] - half), None)
        if row is None:
            row = min(len(row_ends), MAX_LABEL_ROWS - 1)
            if row == len(row_ends):
                row_ends.append(0)
        row_ends[row] = m["x"] + half
        m["row"] = row
        m["label_y"] = 16 + row * LABEL_ROW_HEIGHT
        # Kept inside the drawing, so a dose given just now is still labelled.
        m["label_x"] = min(max(m["x"], LEFT + half), WIDTH - RIGHT - half)
    return len(row_ends)


def build_chart(
    spec: ChartSpec, rounds: list, axis: Axis, markers: list, now: datetime | None = None
) -> Chart:
    """Return the geometry of one chart over ``axis`` (days since day 0)."""
    end = max(axis.end, axis.start + 0.5)
    placed = [
        {"x": axis.x(axis.day(t)), "label": label}
        for t, label in markers
        if axis.start <= axis.day(t) <= end
    ]
    rows = label_rows(placed)
    top = TOP + max(0, rows - 1) * LABEL_ROW_HEIGHT
    axis = Axis(axis.day0, axis.start, axis.end, spec.y_min, spec.y_max, top)
    y_ticks = []
    v = spec.y_min
    while v <= spec.y_max + 1e-9:
        y_ticks.append({"y": axis.y(v), "label": f"{v:g}"})
        v += spec.tick_every
    first = int(axis.start) if axis.start >= 0 else int(axis.start) - 1
    last = int(axis.end) + 1
    step_days = max(1, (last - first) // 10)
    x_ticks = [
        {"x": axis.x(d), "label": f"+{d}" if d >= 0 else str(d)}
        for d in range(first, last + 1, step_days)
        if axis.start <= d <= axis.end
    ]
    now_mark = None
    if now is not None and axis.start <= axis.day(now) <= end:
        now_mark = {"x": axis.x(axis.day(now)), "label": f"now {localtime(now):%H:%M}"}
    return Chart(
        spec.id,
        spec.title,
        spec.unit,
        series=[build_series(s, spec.unit, rounds, axis) for s in spec.series],
        lines=[{"y": axis.y(v), "label": label, "css": css} for v, label, css in spec.lines],
        markers=placed,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        now=now_mark,
        top=top,
    )


def patient_charts(
    rounds: list, interventions: list, day0: datetime, now: datetime | None = None
) -> list[Chart]:
    """Return the trend charts for ``rounds`` (final rounds, oldest first).

    With ``now``, the time axis runs to it and a "now" line marks it, so the
    gap since the last round shows.
    """
    if not rounds:
        return []
    days = [(r.clinical_time - day0).total_seconds() / 86400 for r in rounds]
    if now is not None:
        days.append((now - day0).total_seconds() / 86400)
    axis = Axis(day0, min(min(days), 0), max(days))
    markers = [
        (i.given_at, MARKED_KINDS[i.kind])
        for i in interventions
        if i.kind in MARKED_KINDS and i.status == "final"
    ]
    return [build_chart(spec, rounds, axis, markers, now) for spec in CHARTS]


def heat_map(
    rounds: list, flagged: set[tuple[int, str]], systems: tuple[str, ...]
) -> dict[str, Any]:
    """Return organ-system rows by round columns, each cell with its flag mark.

    ``flagged`` holds (round id, organ system) for every flag a round raised.
    """
    columns = [
        {"round": r.pk, "when": f"{localtime(r.clinical_time):%d %b %H:%M}"} for r in rounds
    ]
    rows = [
        {
            "label": system.capitalize(),
            "cells": [
                {
                    "round": r.pk,
                    "when": column["when"],
                    "severity": r.organ_severity.get(system),
                    "flag": (r.pk, system) in flagged,
                }
                for r, column in zip(rounds, columns, strict=True)
            ],
        }
        for system in systems
    ]
    return {"columns": columns, "rows": rows}
