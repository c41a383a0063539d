"""NEWS2 Chart 1 scoring, Chart 2 bands, Chart 3/4 monitoring (REFERENCE.md e)."""

from __future__ import annotations

import pytest

from patients.clinical import news2
from patients.clinical.inputs import Observation

ALL_ZERO = {
    "respiratory_rate": 16,
    "spo2": 97,
    "oxygen_device": "room_air",
    "systolic_bp": 120,
    "heart_rate": 70,
    "acvpu": "A",
    "temperature_c": 37.0,
}


def rows(fn, cases):
    return pytest.mark.parametrize(
        ("value", "expected"), cases, ids=[f"e-chart1-{fn}-{v}-scores-{s}" for v, s in cases]
    )


@rows("respiration", [(8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3)])
def test_it_scores_respiration_rate(value, expected) -> None:
    assert news2.score_respiration(value) == expected


@rows("spo2-scale1", [(91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)])
def test_it_scores_spo2_scale_1(value, expected) -> None:
    assert news2.score_spo2_scale_1(value) == expected


SCALE2 = [
    (83, False, 3),
    (84, False, 2),
    (85, False, 2),
    (86, False, 1),
    (87, False, 1),
    (88, False, 0),
    (92, False, 0),
    (93, False, 0),
    (99, False, 0),
    (88, True, 0),
    (92, True, 0),
    (93, True, 1),
    (94, True, 1),
    (95, True, 2),
    (96, True, 2),
    (97, True, 3),
]


@pytest.mark.parametrize(
    ("value", "on_o2", "expected"),
    SCALE2,
    ids=[f"e-chart1-spo2-scale2-{v}-{'oxygen' if o else 'air'}-scores-{s}" for v, o, s in SCALE2],
)
def test_it_scores_spo2_scale_2(value, on_o2, expected) -> None:
    assert news2.score_spo2_scale_2(value, on_o2) == expected


@rows("systolic", [(90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3)])
def test_it_scores_systolic_bp(value, expected) -> None:
    assert news2.score_systolic(value) == expected


@rows(
    "pulse",
    [(40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2), (130, 2), (131, 3)],
)
def test_it_scores_pulse(value, expected) -> None:
    assert news2.score_pulse(value) == expected


@rows(
    "temperature",
    [(35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0), (38.1, 1), (39.0, 1), (39.1, 2)],
)
def test_it_scores_temperature_to_one_decimal(value, expected) -> None:
    assert news2.score_temperature(value) == expected


@rows("consciousness", [("A", 0), ("C", 3), ("V", 3), ("P", 3), ("U", 3)])
def test_it_scores_acvpu_with_new_confusion_as_3(value, expected) -> None:
    assert news2.score_consciousness(value) == expected


def test_e_chart1_air_or_oxygen_adds_2_on_oxygen() -> None:
    r = news2.score_news2(Observation(**{**ALL_ZERO, "oxygen_device": "nasal_cannula"}))
    assert r.parameter_scores["air_or_oxygen"] == 2
    assert r.total == 2


BANDS = [
    ("e-chart2-total-0-low-12-hourly", {}, 0, "low", "12-hourly"),
    (
        "e-chart2-total-4-low-4-6-hourly",
        {"heart_rate": 115, "respiratory_rate": 22},
        4,
        "low",
        "4-6-hourly",
    ),
    ("e-chart2-single-red-3-low-medium-1-hourly", {"acvpu": "C"}, 3, "low-medium", "1-hourly"),
    (
        "e-chart2-total-5-medium-1-hourly",
        {"heart_rate": 115, "respiratory_rate": 22, "temperature_c": 38.5},
        5,
        "medium",
        "1-hourly",
    ),
    (
        "e-chart2-total-6-medium",
        {"heart_rate": 115, "respiratory_rate": 22, "spo2": 93},
        6,
        "medium",
        "1-hourly",
    ),
    (
        "e-chart2-total-7-high-continuous",
        {"heart_rate": 115, "respiratory_rate": 22, "spo2": 93, "temperature_c": 38.5},
        7,
        "high",
        "continuous",
    ),
]


@pytest.mark.parametrize(
    ("changes", "total", "band", "monitoring"), [b[1:] for b in BANDS], ids=[b[0] for b in BANDS]
)
def test_it_bands_and_sets_monitoring(changes, total, band, monitoring) -> None:
    r = news2.score_news2(Observation(**{**ALL_ZERO, **changes}))
    assert (r.total, r.clinical_risk, r.monitoring) == (total, band, monitoring)


def test_it_never_scores_an_incomplete_set_as_normal() -> None:
    r = news2.score_news2(Observation(temperature_c=37.0, heart_rate=70))
    assert r.total is None
    assert not r.complete
    assert r.clinical_risk is None
    assert {"respiratory_rate", "spo2", "systolic_bp", "acvpu"} <= set(r.missing)


def test_it_reports_the_floor_band_of_an_incomplete_set_with_a_red_score() -> None:
    r = news2.score_news2(Observation(respiratory_rate=30))
    assert r.total is None
    assert r.clinical_risk == "low-medium"


def test_it_uses_scale_2_only_when_prescribed() -> None:
    on_air_94 = {**ALL_ZERO, "spo2": 90}
    assert news2.score_news2(Observation(**on_air_94)).parameter_scores["spo2"] == 3
    assert news2.score_news2(Observation(**on_air_94, spo2_scale=2)).parameter_scores["spo2"] == 0
