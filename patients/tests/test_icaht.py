"""ICAHT grading: Rejeski et al., EHA/EBMT, Blood 2023 (REFERENCE k9).

N-ICAHT as implemented by Fred Hutch (emilyliangmd/automatedicahtgrading),
T-ICAHT from the ASH-SAP table: both single-source.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from patients.clinical.icaht import grade_icaht

DAY0 = datetime(2026, 11, 1, tzinfo=UTC)


def series(values: dict[int, float]) -> list[tuple[datetime, float]]:
    return [(DAY0 + timedelta(days=d, hours=6), v) for d, v in values.items()]


def low_days(first: int, last: int, value: float, total: int = 30) -> dict[int, float]:
    return {d: (value if first <= d <= last else 2.0) for d in range(total + 1)}


@pytest.mark.parametrize(
    ("values", "grade"),
    [
        (low_days(0, -1, 0.3), 0),
        (low_days(3, 8, 0.3), 1),  # <= 500/uL for 6 days
        (low_days(3, 9, 0.3), 2),  # 7 days
        (low_days(3, 16, 0.3), 3),  # 14 days
        (low_days(3, 9, 0.05), 3),  # <= 100/uL for 7 days
        (low_days(3, 16, 0.05), 4),  # <= 100/uL for 14 days
        (low_days(0, 30, 0.3), 4),  # never above 500/uL to day +30
    ],
    ids=["none", "G1-6d", "G2-7d", "G3-14d", "G3-le100-7d", "G4-le100-14d", "G4-never-recovered"],
)
def test_early_n_icaht_grade_by_longest_neutropenic_run(values, grade) -> None:
    result = grade_icaht("neutrophil", series(values), DAY0, DAY0 + timedelta(days=30, hours=7))
    assert result.phase == "early"
    assert result.grade == grade
    assert result.final
    assert result.status == "single-source"


def test_a_recovery_under_3_days_does_not_break_a_run() -> None:
    values = {**low_days(2, 5, 0.3, 12), 6: 0.8, 7: 0.9, 8: 0.3, 9: 0.3, 10: 0.3}
    result = grade_icaht("neutrophil", series(values), DAY0, DAY0 + timedelta(days=12, hours=7))
    assert result.values["days_anc_le_0_5"] == 9  # day +2 to +10 joined
    assert result.grade == 2
    assert not result.final  # day +30 not reached: "so far"
    assert "so far" in result.title


def test_a_recovery_of_3_days_breaks_the_run() -> None:
    values = {**low_days(2, 5, 0.3, 13), 6: 0.8, 7: 0.9, 8: 0.9, 9: 0.3, 10: 0.3}
    result = grade_icaht("neutrophil", series(values), DAY0, DAY0 + timedelta(days=13, hours=7))
    assert result.values["days_anc_le_0_5"] == 4
    assert result.grade == 1


@pytest.mark.parametrize(
    ("last_two", "grade"),
    [((1.4, 1.2), 1), ((0.9, 1.4), 1), ((0.9, 0.8), 2), ((0.4, 0.3), 3), ((0.05, 0.08), 4)],
    ids=["G1", "milder-of-two", "G2", "G3", "G4"],
)
def test_late_n_icaht_needs_two_values_and_takes_the_milder(last_two, grade) -> None:
    values = {35: last_two[0], 42: last_two[1]}
    result = grade_icaht("neutrophil", series(values), DAY0, DAY0 + timedelta(days=43))
    assert (result.phase, result.grade) == ("late", grade)


def test_late_n_icaht_from_one_value_is_not_graded() -> None:
    result = grade_icaht("neutrophil", series({35: 0.3}), DAY0, DAY0 + timedelta(days=36))
    assert result.grade is None
    assert "two values" in result.rule


@pytest.mark.parametrize(
    ("values", "grade"),
    [
        (low_days(3, 5, 40), 1),  # < 50 for 3 days
        (low_days(3, 9, 40), 2),  # < 50 for 7 days
        (low_days(3, 5, 15), 3),  # < 20 for 3 days
        (low_days(3, 16, 15), 4),  # < 20 for 14 days
    ],
    ids=["G1", "G2", "G3", "G4"],
)
def test_early_t_icaht_grade_by_platelet_run(values, grade) -> None:
    values = {d: (v if v != 2.0 else 150.0) for d, v in values.items()}
    result = grade_icaht("platelet", series(values), DAY0, DAY0 + timedelta(days=30, hours=7))
    assert result.grade == grade


def test_no_icaht_before_day_0_or_after_day_100() -> None:
    assert grade_icaht("neutrophil", series({1: 0.2}), DAY0, DAY0 - timedelta(hours=1)) is None
    assert grade_icaht("neutrophil", series({50: 0.2}), DAY0, DAY0 + timedelta(days=101)) is None
