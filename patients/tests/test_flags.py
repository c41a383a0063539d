"""Flag rules on hand-built trajectories (pure functions, time passed in)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from patients.clinical.course import assess_course
from patients.clinical.flags import worsening_events
from patients.clinical.history import Given
from patients.clinical.inputs import Baseline, Observation
from patients.clinical.products import DoseClock, catalogue, ice_windows, windows_of

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
NORMAL = {
    "temperature_c": 37.0,
    "heart_rate": 78,
    "systolic_bp": 124,
    "diastolic_bp": 74,
    "respiratory_rate": 16,
    "spo2": 97,
    "oxygen_device": "room_air",
    "acvpu": "A",
}


def course(*changes: dict, every: timedelta = timedelta(hours=4), **kwargs):
    rounds = [
        Observation(time=T0 + i * every, **{**NORMAL, **change})
        for i, change in enumerate(changes)
    ]
    steps, records = assess_course(rounds, **kwargs)
    return steps, records


def opened(step) -> list[tuple[str, str | None]]:
    return [(e.kind, e.organ_system) for e in step.opened]


def test_a_stable_patient_raises_no_flag() -> None:
    steps, records = course(*[{} for _ in range(20)])
    assert records == []


def test_a_fever_that_resolves_after_an_antipyretic_flags_nothing_more() -> None:
    steps, records = course(
        {},
        {"temperature_c": 38.4},
        {"temperature_c": 37.2},
        {"temperature_c": 37.0},
        *[{} for _ in range(8)],
        given=[Given(T0 + timedelta(hours=5), "antipyretic")],
    )
    assert ("grade_rise", None) in opened(steps[1])  # CRS grade 1 at onset
    assert all(step.opened == [] for step in steps[2:])
    assert all(r.resolved_at is not None for r in records)  # cleared itself after 24 h


def test_it_flags_new_oxygen_need_with_before_and_after() -> None:
    steps, _ = course({}, {"oxygen_device": "nasal_cannula", "oxygen_flow_l_min": 2})
    flag = next(e for e in steps[1].opened if e.kind == "worsening")
    assert flag.organ_system == "respiratory"
    assert "oxygen Room air -> Nasal cannula" in flag.basis["changes"]
    assert flag.basis["before"]["time"] == T0.isoformat()
    assert flag.basis["after"]["severity"] == 2


def test_it_flags_a_step_up_in_oxygen_device() -> None:
    prev, cur = states(
        {"oxygen_device": "nasal_cannula", "oxygen_flow_l_min": 2},
        {"oxygen_device": "non_rebreather_mask", "oxygen_flow_l_min": 2},
    )
    flag = next(e for e in worsening_events(prev, cur) if e.organ_system == "respiratory")
    assert "oxygen Nasal cannula -> Non-rebreather mask" in flag.basis["changes"]


def states(*changes: dict):
    steps, _ = course(*changes)
    return [s.state for s in steps]


def test_it_flags_an_added_vasopressor_even_when_the_grade_is_unchanged() -> None:
    prev, cur = states(
        {"temperature_c": 38.5, "vasopressors": ("norepinephrine",)},
        {"temperature_c": 38.5, "vasopressors": ("norepinephrine", "vasopressin")},
    )
    flag = next(e for e in worsening_events(prev, cur) if e.organ_system == "cardiovascular")
    assert "vasopressor added: vasopressin" in flag.basis["changes"]
    assert cur.assessment.crs.grade == prev.assessment.crs.grade == 3


def test_it_flags_a_fall_in_ice_score() -> None:
    prev, cur = states({"ice_score": 9}, {"ice_score": 8})
    flag = next(e for e in worsening_events(prev, cur) if e.organ_system == "neurological")
    assert "ICE score 9 -> 8" in flag.basis["changes"]


def test_an_escalation_supersedes_the_milder_open_flag() -> None:
    steps, records = course(
        {},
        {"oxygen_device": "nasal_cannula", "oxygen_flow_l_min": 2},
        {"oxygen_device": "non_rebreather_mask"},
    )
    resp = [r for r in records if r.event.key == "worsening:respiratory"]
    assert [r.event.severity for r in resp] == ["medium", "high"]
    assert resp[0].resolve_reason.startswith("Superseded")


def test_it_flags_creatinine_rising_against_baseline() -> None:
    steps, _ = course(
        {"labs": {"creatinine_umol_l": 85.0}},
        {"labs": {"creatinine_umol_l": 130.0}},
        baseline=Baseline({"creatinine_umol_l": 80.0}),
    )
    flag = next(e for e in steps[1].opened if e.organ_system == "renal")
    assert flag.basis["after"]["severity"] == 2


def test_it_flags_a_new_symptom_in_its_system() -> None:
    steps, _ = course({}, {"symptoms": {"cough": 1}})
    assert ("worsening", "respiratory") in opened(steps[1])


@pytest.mark.parametrize(
    ("change", "organ"),
    [
        ({"symptoms": {"difficulty_breathing": 1}}, "respiratory"),
        ({"acvpu": "C"}, "neurological"),
        ({"symptoms": {"confusion": 1}}, "neurological"),
        ({"heart_rate": 135}, "cardiovascular"),
        ({"symptoms": {"irregular_heartbeat": 1}}, "cardiovascular"),
        ({"seizure": "resolved_rapidly", "ice_score": 10}, "neurological"),
    ],
    ids=[
        "difficulty-breathing",
        "new-confusion-acvpu",
        "confusion-symptom",
        "heart-rate-135",
        "irregular-heartbeat",
        "seizure",
    ],
)
def test_red_flags_need_immediate_attention(change, organ) -> None:
    steps, _ = course({}, change)
    red = [e for e in steps[1].opened if e.kind == "red_flag"]
    assert red and red[0].organ_system == organ and red[0].severity == "urgent"
    assert "source article" in red[0].basis["rule"]


def test_a_red_flag_that_persists_is_not_raised_again() -> None:
    steps, records = course({}, {"acvpu": "C"}, {"acvpu": "C"}, {"acvpu": "C"})
    assert [r.event.key for r in records].count("red_flag:confusion") == 1


def test_grade_rise_for_crs_icans_and_news2() -> None:
    steps, _ = course(
        {"temperature_c": 38.3},
        {"temperature_c": 38.9, "vasopressors": ("norepinephrine",), "ice_score": 6},
    )
    kinds = {e.key: e for e in steps[1].opened}
    assert kinds["grade_rise:crs"].title == "CRS grade rose 1 -> 3"
    assert kinds["grade_rise:crs"].severity == "urgent"
    assert kinds["grade_rise:icans"].severity == "high"


def test_news2_band_rise_and_single_red_parameter() -> None:
    steps, _ = course({}, {"respiratory_rate": 26})
    keys = {e.key for e in steps[1].opened}
    assert "grade_rise:news2" in keys  # low -> low-medium
    assert "grade_rise:news2_red:respiration_rate" in keys


def test_persistence_of_fever_beyond_three_days_flags_once() -> None:
    steps, records = course(*[{"temperature_c": 38.2} for _ in range(24)])  # 4-hourly, 92 h
    persistence = [r for r in records if r.event.kind == "persistence"]
    assert len(persistence) == 1
    assert persistence[0].opened_at - T0 > timedelta(hours=72)
    assert persistence[0].opened_at - T0 <= timedelta(hours=76)


def test_persistence_threshold_is_a_setting() -> None:
    _, records = course(
        *[{"temperature_c": 38.2} for _ in range(8)], persistence=timedelta(hours=24)
    )
    assert any(r.event.kind == "persistence" for r in records)


def test_an_overdue_round_opens_an_overdue_flag() -> None:
    rounds = [
        Observation(time=T0, **NORMAL),
        Observation(time=T0 + timedelta(hours=13), **NORMAL),
    ]  # total 0: 12-hourly
    steps, _ = assess_course(rounds)
    flag = next(e for e in steps[1].opened if e.kind == "overdue")
    assert "12-hourly" in flag.title


def test_a_lab_result_entered_on_its_own_does_not_reset_the_round_clock() -> None:
    # A temperature alone reaches no NEWS2 band: the next round is due 6 h
    # later (4-6-hourly, RCP Chart 3). A CRP-only entry at 3 h is no
    # observation round, so the round at 7 h is an hour late.
    rounds = [
        Observation(time=T0, temperature_c=37.0),
        Observation(time=T0 + timedelta(hours=3), labs={"crp_mg_l": 40.0}),
        Observation(time=T0 + timedelta(hours=7), **NORMAL),
    ]
    steps, _ = assess_course(rounds)
    flag = next(e for e in steps[2].opened if e.kind == "overdue")
    assert flag.basis["before"]["time"] == T0.isoformat()


def test_a_medium_band_patient_is_overdue_after_an_hour() -> None:
    sick = {**NORMAL, "heart_rate": 115, "respiratory_rate": 22, "temperature_c": 38.5}
    rounds = [Observation(time=T0, **sick), Observation(time=T0 + timedelta(hours=2), **sick)]
    steps, _ = assess_course(rounds)
    assert any(e.kind == "overdue" and e.severity == "high" for e in steps[1].opened)


def test_ice_is_due_every_12_hours_in_the_car_t_window() -> None:
    rounds = [
        Observation(time=T0 + timedelta(hours=4 * i), **NORMAL, ice_score=10 if i == 0 else None)
        for i in range(5)
    ]
    steps, _ = assess_course(rounds, day0=T0 - timedelta(days=2), exposure_kind="car_t")
    ice = [e for s in steps for e in s.opened if e.key == "overdue:ice"]
    assert len(ice) == 1 and ice[0].organ_system == "neurological"


def test_a_later_step_up_dose_does_not_undo_an_ice_check_overdue_before_it() -> None:
    # Teclistamab US PI: 48 h in hospital after each step-up dose (REFERENCE
    # k8); ICE every 12 h in that window (ASCO 2021, local policy). No ICE
    # after SUD1: overdue from the round at T0+12 h, whatever came on day 3.
    plan = catalogue()["teclistamab"].plan_for("US")
    doses = [DoseClock("SUD1", T0), DoseClock("SUD2", T0 + timedelta(days=3))]
    windows = ice_windows(windows_of(plan, T0, doses))
    rounds = [Observation(time=T0 + timedelta(hours=h), **NORMAL) for h in (2, 14, 26, 38)]
    steps, _ = assess_course(rounds, day0=T0, exposure_kind="bispecific", windows=windows)
    assert [e.key for e in steps[1].opened] == ["overdue:ice"]


def test_no_ice_is_due_for_an_infection() -> None:
    rounds = [Observation(time=T0 + timedelta(hours=4 * i), **NORMAL) for i in range(6)]
    steps, _ = assess_course(rounds, day0=T0 - timedelta(days=2), exposure_kind="infection")
    assert not [e for s in steps for e in s.opened if e.key == "overdue:ice"]


def test_a_worsening_while_unacknowledged_merges_into_the_open_flag() -> None:
    _, records = course({}, {"symptoms": {"cough": 1}}, {"symptoms": {"cough": 2}})
    assert [r.event.key for r in records].count("worsening:respiratory") == 1


def test_a_masked_fever_still_grades_hypoxia_after_tocilizumab() -> None:
    steps, _ = course(
        {"temperature_c": 38.6},
        {"temperature_c": 37.1, "oxygen_device": "non_rebreather_mask"},
        given=[Given(T0 + timedelta(hours=1), "tocilizumab")],
    )
    assert steps[1].state.assessment.crs.grade == 3
    assert steps[1].state.obs.crs_treated


def test_a_system_not_assessed_recently_is_compared_with_baseline_and_says_so() -> None:
    baseline = Baseline({"alt_u_l": 25.0}, {"alt_u_l": 40.0})
    steps, _ = course({}, {}, {"labs": {"alt_u_l": 200.0}}, baseline=baseline)
    flag = next(e for e in steps[2].opened if e.organ_system == "hepatic")
    assert "not assessed in the recent rounds reviewed" in flag.title
