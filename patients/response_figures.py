"""Response figures: how fast escalations were acknowledged, per ward and tier.

The arithmetic is plain functions over ``Facts`` (no Django), so the page,
the CSV and the tests share it; ``facts_for`` reads them from the database.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

# Time-to-acknowledgement bands for the chart, in minutes.
CHART_EDGES = (0, 5, 10, 15, 30, 60, 120)


@dataclass(frozen=True)
class Facts:
    """One escalation as the figures see it."""

    escalation_id: int
    ward: str
    tier: str  # the tier the trigger called first
    opened_at: datetime
    target_at: datetime  # when that first tier had to respond by
    acknowledged_at: datetime | None
    cascades: int
    state: str
    trigger_kind: str
    trigger_severity: str
    notifications_sent: int
    notifications_failed: int
    failed_attempts: int
    bedside: str  # "informed", "not escalated", "missing" or "not required"

    @property
    def minutes_to_ack(self) -> float | None:
        if self.acknowledged_at is None:
            return None
        return (self.acknowledged_at - self.opened_at).total_seconds() / 60

    def within_target(self, now: datetime) -> bool | None:
        """Return whether it was acknowledged in time; None while it still may be."""
        if self.acknowledged_at is not None:
            return self.acknowledged_at <= self.target_at
        if self.state == "stood_down":
            return None  # the flags resolved before anyone had to answer
        return False if now > self.target_at else None


def percentile(values: list[float], share: float) -> float | None:
    """Return the nearest-rank percentile (0 < share <= 1), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


@dataclass(frozen=True)
class TierRow:
    tier: str
    escalations: int
    acknowledged: int
    median_minutes: float | None
    p90_minutes: float | None
    within_target: int
    judged: int
    cascades: int

    @property
    def share_within_target(self) -> float | None:
        return self.within_target / self.judged if self.judged else None


def by_tier(facts: list[Facts], now: datetime) -> list[TierRow]:
    tiers: dict[str, list[Facts]] = {}
    for f in facts:
        tiers.setdefault(f.tier, []).append(f)
    rows = []
    for tier, group in tiers.items():
        minutes = [m for m in (f.minutes_to_ack for f in group) if m is not None]
        verdicts = [v for v in (f.within_target(now) for f in group) if v is not None]
        rows.append(
            TierRow(
                tier=tier,
                escalations=len(group),
                acknowledged=len(minutes),
                median_minutes=statistics.median(minutes) if minutes else None,
                p90_minutes=percentile(minutes, 0.9),
                within_target=sum(verdicts),
                judged=len(verdicts),
                cascades=sum(f.cascades for f in group),
            )
        )
    return sorted(rows, key=lambda r: r.tier)


@dataclass(frozen=True)
class WardRow:
    ward: str
    escalations: int
    patient_days: int
    cascades: int
    notifications_failed: int

    @property
    def per_patient_day(self) -> float | None:
        return self.escalations / self.patient_days if self.patient_days else None


def by_ward(facts: list[Facts], patient_days: dict[str, int]) -> list[WardRow]:
    wards = sorted(set(patient_days) | {f.ward for f in facts})
    return [
        WardRow(
            ward=ward,
            escalations=sum(1 for f in facts if f.ward == ward),
            patient_days=patient_days.get(ward, 0),
            cascades=sum(f.cascades for f in facts if f.ward == ward),
            notifications_failed=sum(f.notifications_failed for f in facts if f.ward == ward),
        )
        for ward in wards
    ]


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float

    @property
    def count_y(self) -> float:
        return round(self.y - 4, 1)


CHART_WIDTH, CHART_HEIGHT, CHART_BASE = 560, 200, 170


def chart_bars(facts: list[Facts]) -> list[Bar]:
    """Return the time-to-acknowledgement histogram as drawable bars."""
    labels = [f"{a}-{b}" for a, b in zip(CHART_EDGES, CHART_EDGES[1:], strict=False)]
    labels += [f"{CHART_EDGES[-1]}+", "not ack."]
    counts = [0] * len(labels)
    for f in facts:
        m = f.minutes_to_ack
        if m is None:
            counts[-1] += 1
            continue
        index = next(
            (i for i, upper in enumerate(CHART_EDGES[1:]) if m < upper), len(CHART_EDGES) - 1
        )
        counts[index] += 1
    top = max(counts) or 1
    slot = CHART_WIDTH / len(labels)
    return [
        Bar(
            label=label,
            count=count,
            x=round(i * slot + 6, 1),
            y=round(CHART_BASE - count / top * (CHART_BASE - 20), 1),
            width=round(slot - 12, 1),
            height=round(count / top * (CHART_BASE - 20), 1),
        )
        for i, (label, count) in enumerate(zip(labels, counts, strict=True))
    ]


def day_bounds(start: date, end: date, zone) -> tuple[datetime, datetime]:
    """Return the instants that open ``start`` and close ``end`` in ``zone``."""
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )
