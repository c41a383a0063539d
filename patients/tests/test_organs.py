"""Organ-system severity and CTCAE v5 lab grades (REFERENCE.md d and j.3)."""

from __future__ import annotations

import pytest

from patients.clinical.assessment import assess
from patients.clinical.inputs import Baseline, Observation
from patients.clinical.labs import grade_lab

LABS = [
    ("d-creatinine-1.4x-baseline-grade-0", "creatinine_umol_l", 112, 80, None, 0),
    ("d-creatinine-1.6x-baseline-grade-2", "creatinine_umol_l", 128, 80, None, 2),
    ("d-creatinine-3.1x-baseline-grade-3", "creatinine_umol_l", 248, 80, None, 3),
    ("d-creatinine-over-6x-uln-grade-4", "creatinine_umol_l", 700, 80, 100, 4),
    ("d-creatinine-1.2x-uln-grade-1", "creatinine_umol_l", 120, 110, 100, 1),
    ("d-alt-normal-baseline-4x-uln-grade-2", "alt_u_l", 160, 20, 40, 2),
    ("d-alt-normal-baseline-21x-uln-grade-4", "alt_u_l", 840, 20, 40, 4),
    ("d-alt-abnormal-baseline-1.5x-grade-1", "alt_u_l", 120, 80, 40, 1),
    ("d-alt-abnormal-baseline-6x-grade-3", "alt_u_l", 480, 80, 40, 3),
    ("d-bilirubin-normal-baseline-2x-uln-grade-2", "bilirubin_umol_l", 42, 10, 21, 2),
    ("d-bilirubin-abnormal-baseline-11x-grade-4", "bilirubin_umol_l", 330, 30, 21, 4),
]


@pytest.mark.parametrize(
    ("name", "value", "baseline", "uln", "expected"),
    [c[1:] for c in LABS],
    ids=[c[0] for c in LABS],
)
def test_it_grades_labs_by_ctcae(name, value, baseline, uln, expected) -> None:
    assert grade_lab(name, value, baseline, uln).grade == expected


def test_it_says_when_no_uln_is_configured() -> None:
    f = grade_lab("alt_u_l", 100, 25, None)
    assert "ULN not configured" in f.rule


def test_it_grades_each_organ_system() -> None:
    a = assess(
        Observation(
            temperature_c=39.5,
            vasopressors=("norepinephrine",),
            oxygen_device="non_rebreather_mask",
            ice_score=5,
            symptoms={"diarrhea": 1},
            labs={"creatinine_umol_l": 260.0, "alt_u_l": 30.0},
        ),
        Baseline({"creatinine_umol_l": 80.0, "alt_u_l": 25.0}),
    )
    assert a.organ_levels() == {
        "general": 2,
        "cardiovascular": 3,
        "respiratory": 3,
        "neurological": 2,
        "renal": 3,
        "hepatic": 0,
    }
    assert a.crs.grade == 3  # organ toxicity never raises the CRS grade


def test_dialysis_is_renal_grade_4() -> None:
    a = assess(Observation(temperature_c=37.0), on_dialysis=True)
    assert a.organs["renal"].severity == 4
