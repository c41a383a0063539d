"""ASTCT 2019 ICANS grading, row by row (REFERENCE.md section b)."""

from __future__ import annotations

import pytest

from patients.clinical.icans import grade_icans
from patients.clinical.inputs import Observation
from patients.clinical.parse import parse_observation


def obs(**kw) -> Observation:
    return Observation(**kw)


CASES = [
    ("b-ice-10-grade-0", obs(ice_score=10, consciousness="alert"), 0),
    ("b-ice-9-grade-1", obs(ice_score=9), 1),
    ("b-ice-7-grade-1", obs(ice_score=7), 1),
    ("b-ice-6-grade-2", obs(ice_score=6), 2),
    ("b-ice-3-grade-2", obs(ice_score=3), 2),
    ("b-ice-2-grade-3", obs(ice_score=2), 3),
    ("b-ice-0-grade-3", obs(ice_score=0), 3),
    (
        "b-footnote-ice-0-awake-global-aphasia-grade-3",
        obs(ice_score=0, global_aphasia=True, consciousness="alert"),
        3,
    ),
    ("b-footnote-ice-0-unarousable-grade-4", obs(ice_score=0, consciousness="unarousable"), 4),
    (
        "b-ice-not-assessable-unarousable-grade-4",
        obs(ice_not_assessable=True, consciousness="unarousable"),
        4,
    ),
    (
        "b-consciousness-awakens-spontaneously-grade-1",
        obs(consciousness="awakens_spontaneously"),
        1,
    ),
    ("b-consciousness-awakens-to-voice-grade-2", obs(consciousness="awakens_to_voice"), 2),
    ("b-consciousness-tactile-grade-3", obs(consciousness="awakens_only_to_tactile_stimulus"), 3),
    ("b-consciousness-stupor-or-coma-grade-4", obs(consciousness="stupor_or_coma"), 4),
    ("b-seizure-resolved-rapidly-grade-3", obs(ice_score=10, seizure="resolved_rapidly"), 3),
    (
        "b-seizure-nonconvulsive-eeg-grade-3",
        obs(ice_score=10, seizure="nonconvulsive_resolved_with_intervention"),
        3,
    ),
    (
        "b-seizure-prolonged-over-5-min-grade-4",
        obs(ice_score=10, seizure="prolonged_over_5_min"),
        4,
    ),
    (
        "b-seizure-repetitive-grade-4",
        obs(ice_score=10, seizure="repetitive_without_return_to_baseline"),
        4,
    ),
    ("b-motor-hemiparesis-grade-4", obs(ice_score=10, motor_findings="hemiparesis"), 4),
    ("b-motor-paraparesis-grade-4", obs(ice_score=10, motor_findings="paraparesis"), 4),
    (
        "b-footnote-tremor-myoclonus-excluded",
        obs(ice_score=10, motor_findings="tremor_or_myoclonus"),
        0,
    ),
    ("b-edema-focal-grade-3", obs(ice_score=10, cerebral_edema="focal_edema_on_imaging"), 3),
    ("b-edema-diffuse-grade-4", obs(ice_score=10, cerebral_edema="diffuse_edema_on_imaging"), 4),
    (
        "b-edema-posturing-grade-4",
        obs(ice_score=10, cerebral_edema="decerebrate_or_decorticate_posturing"),
        4,
    ),
    ("b-edema-cn-vi-palsy-grade-4", obs(ice_score=10, cerebral_edema="cranial_nerve_vi_palsy"), 4),
    ("b-edema-papilledema-grade-4", obs(ice_score=10, cerebral_edema="papilledema"), 4),
    ("b-edema-cushings-triad-grade-4", obs(ice_score=10, cerebral_edema="cushings_triad"), 4),
    (
        "b-footnote-intracranial-haemorrhage-excluded",
        obs(ice_score=10, cerebral_edema="intracranial_hemorrhage"),
        0,
    ),
    (
        "b-paper-example-ice-3-with-seizure-grade-3",
        obs(ice_score=3, seizure="resolved_rapidly"),
        3,
    ),
    ("b-most-severe-domain-wins", obs(ice_score=8, consciousness="awakens_to_voice"), 2),
]


@pytest.mark.parametrize(
    ("observation", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_it_grades_each_icans_row(observation: Observation, expected: int) -> None:
    assert grade_icans(observation).grade == expected


def test_it_sums_the_ten_ice_items() -> None:
    o = parse_observation(
        {"ice": {"orientation": 3, "naming": 3, "commands": 1, "writing": 0, "attention": 1}}
    )
    assert o.ice_score == 8
    assert grade_icans(o).grade == 1


def test_it_reports_no_grade_when_nothing_neurological_was_recorded() -> None:
    result = grade_icans(Observation(temperature_c=37.0))
    assert result.grade is None
    assert "ice_score" in result.missing


def test_it_names_excluded_findings_in_the_basis() -> None:
    result = grade_icans(obs(ice_score=10, cerebral_edema="intracranial_hemorrhage"))
    assert any("not an ICANS feature" in f.rule for f in result.basis)
