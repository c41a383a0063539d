"""ICAHT: immune effector cell-associated haematotoxicity (REFERENCE k9).

Rejeski K et al., EHA/EBMT consensus, Blood 2023;142(10):865-877. The
neutrophil (N-ICAHT) numbers come from a published implementation of the
paper (Fred Hutch, emilyliangmd/automatedicahtgrading) and the platelet
analogue (T-ICAHT) from a published table: both single-source in the
reference, and labelled so wherever they are shown.

Counts are stored in 10^9/L: ANC 500/uL is 0.5, 100/uL is 0.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

SOURCE = (
    "Rejeski K et al., EHA/EBMT ICAHT consensus, Blood 2023;142(10):865-877 "
    "(N-ICAHT as implemented by Fred Hutch; T-ICAHT via ASH-SAP table; single-source, "
    "REFERENCE k9)"
)
STATUS = "single-source"
# Early ICAHT covers day 0 to +30; late ICAHT from day +31, graded here to
# day +100 (REFERENCE k9 implementation window).
EARLY_LAST_DAY = 30
LATE_LAST_DAY = 100
# A recovery of fewer than 3 days does not break a neutropenic run
# (CIBMTR: recovery is 3 consecutive days above 500/uL).
MAX_JOINED_GAP_DAYS = 2
DAY = timedelta(days=1)

ANC_500 = 0.5
ANC_100 = 0.1
# Late N-ICAHT: (threshold at or below which, grade), worst first.
LATE_ANC = ((0.1, 4), (0.5, 3), (1.0, 2), (1.5, 1))
PLT_50 = 50.0
PLT_20 = 20.0
# Late T-ICAHT grades 1-2: below these counts.
LATE_PLT = ((50.0, 2), (100.0, 1))

LINEAGES = {
    "neutrophil": ("anc_10e9_l", "ANC"),
    "platelet": ("platelets_10e9_l", "Platelets"),
}


@dataclass(frozen=True)
class IcahtGrade:
    lineage: str  # "neutrophil" or "platelet"
    phase: str  # "early" or "late"
    grade: int | None  # None: not gradable yet (no values in the phase)
    final: bool  # False while the phase is still running
    rule: str
    values: dict[str, Any] = field(default_factory=dict)
    source: str = SOURCE
    status: str = STATUS

    @property
    def key(self) -> str:
        return f"icaht:{self.lineage}:{self.phase}"

    @property
    def title(self) -> str:
        name = "N-ICAHT" if self.lineage == "neutrophil" else "T-ICAHT"
        grade = "not gradable" if self.grade is None else f"grade {self.grade}"
        return f"{self.phase.capitalize()} {name} {grade}" + ("" if self.final else " so far")

    def as_dict(self) -> dict[str, Any]:
        return {
            "lineage": self.lineage,
            "phase": self.phase,
            "grade": self.grade,
            "final": self.final,
            "title": self.title,
            "rule": self.rule,
            "values": self.values,
            "source": self.source,
            "status": self.status,
        }


def day_count(count: int) -> str:
    """Return a run's length as a reader writes it: "1 day", "6 days"."""
    return f"{count} day" if count == 1 else f"{count} days"


def _daily_lowest(
    series: list[tuple[datetime, float]], day0: datetime, first: int, last: int
) -> dict[int, float]:
    """Return the lowest value per day after day 0 within [first, last]."""
    days: dict[int, float] = {}
    for time, value in series:
        n = (time - day0) // DAY
        if first <= n <= last:
            days[n] = min(value, days.get(n, value))
    return days


def longest_run(days: dict[int, float], low: float, strict: bool = False) -> tuple[int, int, int]:
    """Return (length in days, first day, last day) of the longest low run.

    A day is low when its value is <= ``low`` (< when ``strict``). Low days
    separated only by unmeasured days, or by a measured recovery of at most
    ``MAX_JOINED_GAP_DAYS`` days, belong to one run.
    """
    is_low = {d: (v < low if strict else v <= low) for d, v in days.items()}
    best = (0, -1, -1)
    start = end = None
    for d in sorted(is_low):
        if not is_low[d]:
            continue
        if end is not None:
            recovered = [x for x in is_low if end < x < d and not is_low[x]]
            if recovered and d - end - 1 > MAX_JOINED_GAP_DAYS:
                start = None
        if start is None:
            start = d
        end = d
        length = end - start + 1
        if length > best[0]:
            best = (length, start, end)
    return best


def early_neutrophil(days: dict[int, float], through_day: int) -> tuple[int, str, dict]:
    run500 = longest_run(days, ANC_500)
    run100 = longest_run(days, ANC_100)
    d500, d100 = run500[0], run100[0]
    # Never above 500/uL through day +30 counts as >= 31 days (grade 4).
    never_recovered = (
        through_day >= EARLY_LAST_DAY and days and all(v <= ANC_500 for v in days.values())
    )
    if never_recovered:
        d500 = max(d500, EARLY_LAST_DAY + 1)
    grade_500 = 4 if d500 >= 31 else 3 if d500 >= 14 else 2 if d500 >= 7 else 1 if d500 else 0
    grade_100 = 4 if d100 >= 14 else 3 if d100 >= 7 else 0
    grade = max(grade_500, grade_100)
    rule = (
        f"Longest run with ANC <= 0.5 ×10⁹/L: {day_count(d500)}"
        + (f" (day +{run500[1]} to +{run500[2]})" if run500[0] else "")
        + f"; with ANC <= 0.1: {day_count(d100)}. Early N-ICAHT: <= 0.5 for 1-6 days grade 1, "
        "7-13 grade 2, 14-30 (or <= 0.1 for 7-13) grade 3, never above 0.5 (or <= 0.1 "
        "for 14+) grade 4; a recovery under 3 days does not break a run, and unmeasured "
        "days between low values count as low"
    )
    return grade, rule, {"days_anc_le_0_5": d500, "days_anc_le_0_1": d100}


def early_platelet(days: dict[int, float]) -> tuple[int, str, dict]:
    run50 = longest_run(days, PLT_50, strict=True)
    run20 = longest_run(days, PLT_20, strict=True)
    d50, d20 = run50[0], run20[0]
    if d20 >= 14:
        grade = 4
    elif d20:
        grade = 3
    elif d50 >= 7:
        grade = 2
    elif d50:
        grade = 1
    else:
        grade = 0
    rule = (
        f"Longest run with platelets < 50 ×10⁹/L: {day_count(d50)}; < 20: {day_count(d20)}. "
        "Early T-ICAHT: < 50 for 1-6 days grade 1, 7+ grade 2; < 20 for 1-13 days "
        "grade 3, 14+ grade 4"
    )
    return grade, rule, {"days_plt_lt_50": d50, "days_plt_lt_20": d20}


def _late_grade(value: float, table: tuple[tuple[float, int], ...], strict: bool) -> int:
    for threshold, grade in table:
        if (value < threshold) if strict else (value <= threshold):
            return grade
    return 0


def late_neutrophil(days: dict[int, float]) -> tuple[int | None, str, dict]:
    ordered = [days[d] for d in sorted(days)]
    if len(ordered) < 2:
        return None, "Late N-ICAHT needs two values after day +30", {"values": ordered}
    # Two consecutive values (non-transient): the milder of the last two.
    grade = min(_late_grade(v, LATE_ANC, strict=False) for v in ordered[-2:])
    rule = (
        f"Last two ANC values after day +30: {ordered[-2]:g}, {ordered[-1]:g} ×10⁹/L. "
        "Late N-ICAHT (both values): <= 1.5 grade 1, <= 1.0 grade 2, <= 0.5 grade 3, "
        "<= 0.1 grade 4"
    )
    return grade, rule, {"last_two": ordered[-2:]}


def late_platelet(days: dict[int, float]) -> tuple[int | None, str, dict]:
    ordered = [days[d] for d in sorted(days)]
    if len(ordered) < 2:
        return None, "Late T-ICAHT needs two values after day +30", {"values": ordered}
    run20 = longest_run(days, PLT_20, strict=True)[0]
    both = ordered[-2:]
    if all(v < PLT_20 for v in both):
        grade = 4 if run20 >= 14 else 3
    else:
        grade = min(_late_grade(v, LATE_PLT, strict=True) for v in both)
    rule = (
        f"Last two platelet values after day +30: {both[0]:g}, {both[1]:g} ×10⁹/L; "
        f"< 20 for {day_count(run20)}. Late T-ICAHT: < 100 grade 1, < 50 grade 2, < 20 for "
        "1-13 days grade 3, 14+ grade 4"
    )
    return grade, rule, {"last_two": both, "days_plt_lt_20": run20}


def grade_icaht(
    lineage: str, series: list[tuple[datetime, float]], day0: datetime, at: datetime
) -> IcahtGrade | None:
    """Return the ICAHT grade of ``lineage`` at ``at`` from the values so far.

    Early ICAHT is graded from day 0 to +30 and is provisional ("so far")
    until day +30 has passed; late ICAHT from day +31 to +100. Outside
    those days (or before day 0) there is no grade.
    """
    series = [(t, v) for t, v in series if t <= at]
    today = (at - day0) // DAY
    if today < 0 or today > LATE_LAST_DAY:
        return None
    if today <= EARLY_LAST_DAY:
        days = _daily_lowest(series, day0, 0, EARLY_LAST_DAY)
        if not days:
            return None
        if lineage == "neutrophil":
            grade, rule, values = early_neutrophil(days, today)
        else:
            grade, rule, values = early_platelet(days)
        values["through_day"] = today
        return IcahtGrade(lineage, "early", grade, today >= EARLY_LAST_DAY, rule, values)
    days = _daily_lowest(series, day0, EARLY_LAST_DAY + 1, LATE_LAST_DAY)
    if not days:
        return None
    if lineage == "neutrophil":
        grade, rule, values = late_neutrophil(days)
    else:
        grade, rule, values = late_platelet(days)
    values["through_day"] = today
    return IcahtGrade(lineage, "late", grade, today >= LATE_LAST_DAY, rule, values)


def icaht_grades(
    labs: list[tuple[datetime, dict[str, float]]], day0: datetime | None, at: datetime
) -> list[IcahtGrade]:
    """Return the N- and T-ICAHT grades at ``at`` from a course of lab entries."""
    if day0 is None:
        return []
    out = []
    for lineage, (name, _label) in LINEAGES.items():
        series = [(t, values[name]) for t, values in labs if name in values]
        result = grade_icaht(lineage, series, day0, at)
        if result is not None:
            out.append(result)
    return out
