"""ASTCT 2019 CRS grading, row by row (REFERENCE.md section a)."""

from __future__ import annotations

import pytest

from patients.clinical.crs import grade_crs
from patients.clinical.inputs import Observation


def obs(**kw) -> Observation:
    base = {"temperature_c": 38.5, "oxygen_device": "room_air", "hypotension": False}
    base.update(kw)
    return Observation(**base)


CASES = [
    ("a-grade1-fever-only", obs(), 1),
    ("a-rule1-fever-38.0-qualifies", obs(temperature_c=38.0), 1),
    ("a-rule1-fever-37.9-not-crs", obs(temperature_c=37.9, hypotension=True), 0),
    ("a-grade2-hypotension-no-vasopressor", obs(hypotension=True), 2),
    (
        "a-grade2-low-flow-nasal-cannula",
        obs(oxygen_device="nasal_cannula", oxygen_flow_l_min=2),
        2,
    ),
    ("a-rule4-6-l-min-is-low-flow", obs(oxygen_device="nasal_cannula", oxygen_flow_l_min=6), 2),
    (
        "a-rule4-6.5-l-min-is-high-flow",
        obs(oxygen_device="nasal_cannula", oxygen_flow_l_min=6.5),
        3,
    ),
    ("a-grade2-blow-by", obs(oxygen_device="blow_by"), 2),
    ("a-grade3-one-vasopressor", obs(vasopressors=("norepinephrine",)), 3),
    (
        "a-rule6-one-vasopressor-plus-vasopressin",
        obs(vasopressors=("norepinephrine", "vasopressin")),
        3,
    ),
    ("a-grade3-high-flow-nasal-cannula", obs(oxygen_device="high_flow_nasal_cannula"), 3),
    ("a-grade3-face-mask-any-flow", obs(oxygen_device="simple_face_mask", oxygen_flow_l_min=2), 3),
    ("a-grade3-non-rebreather", obs(oxygen_device="non_rebreather_mask"), 3),
    ("a-grade3-venturi", obs(oxygen_device="venturi_mask"), 3),
    ("a-grade4-multiple-vasopressors", obs(vasopressors=("norepinephrine", "phenylephrine")), 4),
    (
        "a-rule6-vasopressin-not-counted-for-multiple",
        obs(vasopressors=("vasopressin", "norepinephrine")),
        3,
    ),
    ("a-grade4-cpap", obs(oxygen_device="cpap"), 4),
    ("a-grade4-bipap", obs(oxygen_device="bipap"), 4),
    ("a-grade4-invasive-ventilation", obs(oxygen_device="invasive_mechanical_ventilation"), 4),
    (
        "a-rule3-worse-of-hypotension-and-hypoxia-paper-example",
        obs(
            temperature_c=39.5,
            vasopressors=("norepinephrine",),
            oxygen_device="nasal_cannula",
            oxygen_flow_l_min=3,
        ),
        3,
    ),
    (
        "a-rule3-not-the-sum",
        obs(hypotension=True, oxygen_device="nasal_cannula", oxygen_flow_l_min=2),
        2,
    ),
    (
        "a-rule2-treated-afebrile-hypoxia-still-graded",
        obs(temperature_c=37.0, crs_treated=True, oxygen_device="non_rebreather_mask"),
        3,
    ),
    (
        "a-rule2-untreated-afebrile-hypoxia-not-crs",
        obs(temperature_c=37.0, oxygen_device="non_rebreather_mask"),
        0,
    ),
    (
        "a-rule8-organ-toxicity-ignored",
        obs(labs={"creatinine_umol_l": 900.0}, symptoms={"kidney_problems": 3}),
        1,
    ),
]


@pytest.mark.parametrize(
    ("observation", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_it_grades_each_astct_row(observation: Observation, expected: int) -> None:
    assert grade_crs(observation).grade == expected


def test_it_cannot_grade_without_temperature_unless_treated() -> None:
    result = grade_crs(Observation(oxygen_device="cpap"))
    assert result.grade is None
    assert "temperature_c" in result.missing
    assert grade_crs(Observation(oxygen_device="cpap", crs_treated=True)).grade == 4


def test_it_explains_the_grade_with_rule_values_and_source() -> None:
    result = grade_crs(obs(vasopressors=("norepinephrine", "vasopressin")))
    rules = " ".join(f.rule for f in result.basis)
    assert "one vasopressor, with or without vasopressin" in rules
    assert all("Lee DW" in f.source for f in result.basis)
    assert any(
        f.values.get("vasopressors") == ["norepinephrine", "vasopressin"] for f in result.basis
    )


def test_it_says_when_nasal_cannula_flow_was_assumed_low() -> None:
    result = grade_crs(obs(oxygen_device="nasal_cannula"))
    assert result.grade == 2
    assert "oxygen_flow_l_min" in result.missing
