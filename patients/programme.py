"""Programme figures: per product and period, CRS and ICANS, treatment, ICU
and observation compliance, for the CAR-T team and the quality lead.

Plain functions over ``Treated`` (one treatment in the cohort: the patient,
the product, day 0, the registry's episode summaries and the due rounds),
so the page, the CSV and the tests share the arithmetic; the episodes
come from ``episode_data.episode_summaries`` and are never re-derived here.
Chart geometry is computed here as data; the templates draw it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .clinical.compliance import ICE, ROUND, Due, OnTime, on_time

ALL_PRODUCTS = "All products"
CRS, ICANS = "crs", "icans"
# ASTCT 2019 grades 1-4 (REFERENCE a, b); a patient with no episode of the
# kind is "none", shown as a count like any grade.
GRADES = (1, 2, 3, 4)
NONE = "none"


@dataclass(frozen=True)
class Treated:
    """One treatment in the cohort: a patient's product with its day 0."""

    patient_id: int
    product: str  # the product's name, as shown
    day0: date
    product_id: str = ""  # the filter value that selects this product
    episodes: tuple[Any, ...] = ()  # EpisodeSummary items
    dues: tuple[Due, ...] = ()

    def episodes_of(self, kind: str) -> list[Any]:
        return [e for e in self.episodes if e.kind == kind]

    def max_grade(self, kind: str) -> int | str:
        """Return the highest grade of any episode of ``kind``, or "none"."""
        return max((e.max_grade for e in self.episodes_of(kind)), default=NONE)

    @property
    def crs_grade_text(self) -> str:
        return grade_text(self.max_grade(CRS), CRS)

    @property
    def icans_grade_text(self) -> str:
        return grade_text(self.max_grade(ICANS), ICANS)

    @property
    def rounds(self) -> OnTime:
        return on_time(self.dues, ROUND)

    @property
    def ice(self) -> OnTime:
        return on_time(self.dues, ICE)


def grade_text(grade: int | str, kind: str) -> str:
    """Return "Grade 2", or "No CRS" / "No ICANS" for a patient without one."""
    return f"Grade {grade}" if isinstance(grade, int) else f"No {kind.upper()}"


def grade_slug(grade: int | str) -> str:
    """Return a grade as it appears in a link and a style (``none``, ``3``)."""
    return str(grade)


@dataclass(frozen=True)
class Share:
    """How many patients of the row's cohort, and which."""

    count: int
    n: int
    patient_ids: tuple[int, ...] = ()

    @property
    def percent(self) -> int | None:
        return None if not self.n else round(100 * self.count / self.n)


@dataclass(frozen=True)
class Spread:
    """Median and range of some values (hours, days), with how many."""

    values: tuple[float, ...]
    of: int  # how many could have had a value (e.g. CRS episodes)
    patient_ids: tuple[int, ...] = ()

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def low(self) -> float | None:
        return min(self.values) if self.values else None

    @property
    def high(self) -> float | None:
        return max(self.values) if self.values else None


@dataclass(frozen=True)
class GradeCount:
    grade: int | str
    count: int
    patient_ids: tuple[int, ...]
    kind: str = CRS

    @property
    def label(self) -> str:
        return grade_text(self.grade, self.kind)

    @property
    def slug(self) -> str:
        return grade_slug(self.grade)

    @property
    def css(self) -> str:
        return f"grade-{self.slug}"


@dataclass(frozen=True)
class ProductRow:
    product: str
    product_id: str  # "" for the all-products row
    patients: tuple[int, ...]
    crs: Share
    icans: Share
    crs_grades: tuple[GradeCount, ...]
    icans_grades: tuple[GradeCount, ...]
    tocilizumab_hours: Spread
    steroids: Share
    steroid_days: Spread
    icu: Share
    rounds: OnTime
    ice: OnTime
    n: int  # treatments: a patient treated twice in the period counts twice
    is_total: bool = False


def _ids(items: Iterable[Treated]) -> tuple[int, ...]:
    return tuple(sorted({t.patient_id for t in items}))


def incidence(cohort: Sequence[Treated], kind: str) -> Share:
    """Return the patients with at least one episode of ``kind`` (CRS, ICANS)."""
    with_kind = [t for t in cohort if t.episodes_of(kind)]
    return Share(len(with_kind), len(cohort), _ids(with_kind))


def max_grades(cohort: Sequence[Treated], kind: str) -> tuple[GradeCount, ...]:
    """Return the patients by their highest grade of ``kind``: none, then 1-4."""
    by_grade: dict[int | str, list[Treated]] = {}
    for t in cohort:
        by_grade.setdefault(t.max_grade(kind), []).append(t)
    extra = sorted(g for g in by_grade if isinstance(g, int) and g not in GRADES)
    return tuple(
        GradeCount(g, len(by_grade.get(g, [])), _ids(by_grade.get(g, [])), kind)
        for g in (NONE, *GRADES, *extra)
    )


def hours_to_tocilizumab(cohort: Sequence[Treated]) -> Spread:
    """Return hours from CRS onset to the first tocilizumab, per CRS episode given it."""
    values, ids, episodes = [], set(), 0
    for t in cohort:
        for e in t.episodes_of(CRS):
            episodes += 1
            if e.first_tocilizumab_at is not None:
                values.append((e.first_tocilizumab_at - e.onset).total_seconds() / 3600)
                ids.add(t.patient_id)
    return Spread(tuple(values), episodes, tuple(sorted(ids)))


def steroid_exposure(cohort: Sequence[Treated]) -> tuple[Share, Spread]:
    """Return the patients given corticosteroids for CRS or ICANS, and the
    days of corticosteroid per episode so treated."""
    days, ids, episodes = [], set(), 0
    for t in cohort:
        for e in t.episodes:
            episodes += 1
            if e.steroid_days is not None:
                days.append(e.steroid_days)
                ids.add(t.patient_id)
    patients = tuple(sorted(ids))
    return Share(len(patients), len(cohort), patients), Spread(tuple(days), episodes, patients)


def icu_transfers(cohort: Sequence[Treated]) -> Share:
    """Return the patients transferred to intensive care during an episode."""
    moved = [t for t in cohort if any(e.icu_at is not None for e in t.episodes)]
    return Share(len(moved), len(cohort), _ids(moved))


def compliance(cohort: Sequence[Treated], kind: str) -> OnTime:
    return on_time([d for t in cohort for d in t.dues], kind)


def row(product: str, cohort: Sequence[Treated], is_total: bool = False) -> ProductRow:
    steroids, steroid_days = steroid_exposure(cohort)
    return ProductRow(
        product=product,
        product_id="" if is_total else cohort[0].product_id,
        patients=_ids(cohort),
        crs=incidence(cohort, CRS),
        icans=incidence(cohort, ICANS),
        crs_grades=max_grades(cohort, CRS),
        icans_grades=max_grades(cohort, ICANS),
        tocilizumab_hours=hours_to_tocilizumab(cohort),
        steroids=steroids,
        steroid_days=steroid_days,
        icu=icu_transfers(cohort),
        rounds=compliance(cohort, ROUND),
        ice=compliance(cohort, ICE),
        n=len(cohort),
        is_total=is_total,
    )


def by_product(cohort: Sequence[Treated]) -> list[ProductRow]:
    """Return one row per product (by name), then the all-products row.

    The all-products row is left out when there is only one product: it
    would repeat that product's row.
    """
    products: dict[str, list[Treated]] = {}
    for t in cohort:
        products.setdefault(t.product, []).append(t)
    rows = [row(name, products[name]) for name in sorted(products, key=str.lower)]
    if len(rows) > 1:
        rows.append(row(ALL_PRODUCTS, cohort, is_total=True))
    return rows


# -- charts, as data -----------------------------------------------------------

LABEL_WIDTH = 300  # product names sit left of the bars
BAR_WIDTH = 420
ROW_HEIGHT = 30
BAR_HEIGHT = 20
TOP = 10
AXIS_HEIGHT = 34
# Tick steps for hours: the smallest giving at most about six ticks.
HOUR_STEPS = (1, 2, 3, 6, 12, 24, 48, 72, 168)


@dataclass(frozen=True)
class Segment:
    label: str
    css: str
    count: int
    x: float
    width: float

    @property
    def text_x(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass(frozen=True)
class StackedRow:
    product: str
    n: int
    y: float
    segments: tuple[Segment, ...]
    unit: str = ""

    @property
    def text_y(self) -> float:
        return round(self.y + BAR_HEIGHT / 2, 1)

    @property
    def summary(self) -> str:
        parts = ", ".join(f"{s.label.lower()} {s.count}" for s in self.segments if s.count)
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.product} (n = {self.n}{unit}): {parts or 'none'}"


@dataclass(frozen=True)
class Key:
    label: str
    css: str


@dataclass(frozen=True)
class StackedChart:
    """One 100 % bar per product, split into counted parts."""

    id: str
    title: str
    caption: str
    rows: tuple[StackedRow, ...]
    keys: tuple[Key, ...]
    unit: str = ""  # what n counts when it is not patients
    width: int = LABEL_WIDTH + BAR_WIDTH + 40
    left: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def height(self) -> int:
        return TOP + ROW_HEIGHT * len(self.rows) + 6


Part = tuple[Key, int]  # a part of one bar, and its count


def stacked(
    chart_id: str,
    title: str,
    caption: str,
    bars: Sequence[tuple[str, Sequence[Part]]],
    unit: str = "",
) -> StackedChart:
    """Return 100 % bars, one per (product, parts), as drawable geometry."""
    out = []
    for i, (product, parts) in enumerate(bars):
        n = sum(count for _, count in parts)
        x, segments = float(LABEL_WIDTH), []
        for key, count in parts:
            width = BAR_WIDTH * count / n if n else 0
            segments.append(Segment(key.label, key.css, count, round(x, 1), round(width, 1)))
            x += width
        out.append(StackedRow(product, n, TOP + i * ROW_HEIGHT, tuple(segments), unit))
    keys = tuple(key for key, _ in bars[-1][1]) if bars else ()
    return StackedChart(chart_id, title, caption, tuple(out), keys, unit)


def grade_chart(chart_id: str, title: str, rows: Sequence[ProductRow], kind: str) -> StackedChart:
    """Return the stacked bars of patients by highest grade of ``kind``."""
    return stacked(
        chart_id,
        title,
        "each bar is 100 % of the product's patients",
        [
            (
                r.product,
                [
                    (Key(g.label, g.css), g.count)
                    for g in (r.crs_grades if kind == CRS else r.icans_grades)
                ],
            )
            for r in rows
        ],
    )


ON_TIME = Key("On time", "on-time")
LATE = Key("Late", "late")
MISSED = Key("Never recorded", "missed")


def compliance_chart(
    chart_id: str, title: str, rows: Sequence[ProductRow], kind: str
) -> StackedChart:
    """Return the stacked bars of due rounds (or ICE checks): on time, late, never."""
    bars = []
    for r in rows:
        figure = r.rounds if kind == ROUND else r.ice
        bars.append(
            (r.product, [(ON_TIME, figure.on_time), (LATE, figure.late), (MISSED, figure.missed)])
        )
    return stacked(chart_id, title, "each bar is 100 % of the product's due times", bars, "due")


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class DotRow:
    product: str
    y: float
    dots: tuple[Dot, ...]
    n: int
    of: int
    median_x: float | None
    median: float | None

    @property
    def label_y(self) -> float:
        return round(self.y + 4, 1)


@dataclass(frozen=True)
class DotChart:
    """Hours from CRS onset to the first tocilizumab: a dot per episode."""

    rows: tuple[DotRow, ...]
    ticks: tuple[Tick, ...]
    left: int = LABEL_WIDTH
    right: int = LABEL_WIDTH + BAR_WIDTH
    width: int = LABEL_WIDTH + BAR_WIDTH + 40
    values: int = 0

    @property
    def axis_y(self) -> int:
        return TOP + ROW_HEIGHT * len(self.rows)

    @property
    def height(self) -> int:
        return self.axis_y + AXIS_HEIGHT

    @property
    def tick_label_y(self) -> int:
        return self.axis_y + 16


def hour_scale(values: Sequence[float]) -> tuple[float, float, int]:
    """Return the axis start, end and tick step (hours) for ``values``."""
    low = min([0.0, *values])
    high = max([1.0, *values])
    step = next((s for s in HOUR_STEPS if (high - low) / s <= 6), HOUR_STEPS[-1])
    start = (low // step) * step
    end = -(-high // step) * step
    return start, max(end, start + step), step


def tocilizumab_chart(rows: Sequence[ProductRow]) -> DotChart:
    """Return the dot plot of onset-to-tocilizumab hours, a row per product."""
    every = [v for r in rows if not r.is_total for v in r.tocilizumab_hours.values]
    start, end, step = hour_scale(every)

    def x_of(hours: float) -> float:
        return round(LABEL_WIDTH + (hours - start) / (end - start) * BAR_WIDTH, 1)

    out = []
    for i, r in enumerate(rows):
        spread = r.tocilizumab_hours
        y = TOP + i * ROW_HEIGHT + ROW_HEIGHT / 2
        out.append(
            DotRow(
                product=r.product,
                y=y,
                dots=tuple(Dot(x_of(v), y, f"{v:.1f} h") for v in sorted(spread.values)),
                n=spread.n,
                of=spread.of,
                median_x=None if spread.median is None else x_of(spread.median),
                median=spread.median,
            )
        )
    ticks = []
    value = start
    while value <= end:
        ticks.append(Tick(x_of(value), f"{value:g} h"))
        value += step
    return DotChart(tuple(out), tuple(ticks), values=len(every))


@dataclass(frozen=True)
class Figures:
    rows: list[ProductRow]
    grade_charts: tuple[StackedChart, ...] = ()
    tocilizumab: DotChart | None = None
    compliance_charts: tuple[StackedChart, ...] = ()
    cohort: list[Treated] = field(default_factory=list)

    @property
    def open_episodes(self) -> int:
        """Episodes not yet resolved: their grade, treatment and length may change."""
        return sum(e.resolved_at is None for t in self.cohort for e in t.episodes)


def figures(cohort: Sequence[Treated]) -> Figures:
    """Return the table rows and charts for a cohort."""
    rows = by_product(cohort)
    if not rows:
        return Figures(rows, cohort=list(cohort))
    return Figures(
        rows,
        (
            grade_chart("crs-chart", "Patients by highest CRS grade", rows, CRS),
            grade_chart("icans-chart", "Patients by highest ICANS grade", rows, ICANS),
        ),
        tocilizumab_chart(rows),
        (
            compliance_chart("rounds-chart", "Rounds by when they came", rows, ROUND),
            compliance_chart("ice-chart", "ICE checks by when they came", rows, ICE),
        ),
        list(cohort),
    )
