"""Infection as the cause, fever that keeps coming back, and the smaller
rules: labs without a ULN, oxygen flow rises, catalogue conditions
(REFERENCE k4, k5; audit D6-D8, D12, D15, D18)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from patients.clinical.assessment import assess
from patients.clinical.flags import RoundState, worsening_events
from patients.clinical.inputs import Baseline, Observation

from .conftest import NORMAL
from .test_assess_command import run

ROUND = {**NORMAL, "hypotension": False, "vasopressors": []}
COVID = {"kind": "infection", "day0": "2026-03-01"}


def course(rounds, **extra) -> list[dict]:
    status, out, err = run({"rounds": rounds, **extra})
    assert status == 0, err
    return out


def options(step: dict) -> dict[str, dict]:
    return {o["id"]: o for o in step["treatment_options"]}


def test_infection_fever_alone_is_labelled_crs_style_and_lists_no_steroids_or_il6_blockers():
    out = course(
        [{**ROUND, "time": "2026-03-03T10:00:00Z", "temperature_c": 38.3}], exposure=COVID
    )
    crs = out[0]["crs"]
    assert crs["basis"][0]["rule"].startswith("CRS-style grade only: ASTCT grading is defined")
    found = options(out[0])
    assert not {"tocilizumab", "siltuximab", "corticosteroids"} & set(found)
    assert "infection_workup" in found


def test_severe_covid_lists_what_who_lists_with_the_criteria_met():
    out = course(
        [{**ROUND, "time": "2026-03-03T10:00:00Z", "temperature_c": 38.3, "spo2": 88}],
        exposure=COVID,
    )
    found = options(out[0])
    assert {"tocilizumab", "corticosteroids"} <= set(found)
    assert "siltuximab" not in found
    reason = found["corticosteroids"]["reason"]
    assert "WHO" in reason and "SpO2 88% on room air (< 90%)" in reason
    assert found["corticosteroids"]["sources"] == ["WHO2021"]


def test_critical_covid_on_positive_pressure_lists_who_options():
    out = course(
        [{**ROUND, "time": "2026-03-03T10:00:00Z", "oxygen_device": "cpap", "spo2": 93}],
        exposure=COVID,
    )
    assert "life-sustaining treatment: cpap" in options(out[0])["tocilizumab"]["reason"]


def test_crs_grade_1_fever_lists_the_asco_infection_work_up():
    out = course([{**ROUND, "time": "2026-03-03T10:00:00Z", "temperature_c": 38.4}])
    workup = options(out[0])["infection_workup"]
    texts = " ".join(s["text"] for s in workup["statements"])
    assert "consider empiric broad-spectrum antibiotics and G-CSF" in texts
    assert "blood and urine cultures and chest X-ray" in texts
    assert ">= 38.3 °C" in texts  # IDSA febrile neutropenia, shown apart


def test_fever_that_keeps_coming_back_between_lowered_readings_is_one_persistent_fever():
    rounds = []
    for day in range(5):
        rounds.append({**ROUND, "time": f"2026-03-0{day + 2}T08:00:00Z", "temperature_c": 38.6})
        rounds.append({**ROUND, "time": f"2026-03-0{day + 2}T14:00:00Z", "temperature_c": 37.2})
    out = course(rounds, exposure={"kind": "car_t", "day0": "2026-03-01"})
    flags = [f for f in out[8]["flags"] if f["kind"] == "persistence"]
    assert flags and flags[0]["title"] == "Fever for 96 h (more than 72 h)"
    assert "less than 48 h apart belong to one fever episode" in flags[0]["basis"]["episode_rule"]
    assert {"tocilizumab", "siltuximab"} <= set(options(out[8]))


def test_labs_are_never_graded_against_a_normal_baseline_without_a_uln():
    out = run({"bilirubin_umol_l": 16, "alt_u_l": 35, "baseline": {"bilirubin_umol_l": 10}})[1]
    hepatic = out["organs"]["hepatic"]
    assert hepatic["severity"] == 0
    assert all("ULN not configured" in f["rule"] for f in hepatic["basis"])
    assert not out["flags"]


def test_creatinine_still_grades_against_baseline_without_a_uln():
    a = assess(
        Observation(labs={"creatinine_umol_l": 200.0}), Baseline({"creatinine_umol_l": 80.0})
    )
    assert a.organs["renal"].severity >= 2


def test_a_rise_in_nasal_cannula_flow_is_a_respiratory_worsening():
    t0 = datetime(2026, 3, 2, 8, tzinfo=UTC)

    def state(hours: float, flow: float) -> RoundState:
        obs = Observation(
            **{**NORMAL, "oxygen_device": "nasal_cannula", "oxygen_flow_l_min": flow}
        )
        return RoundState(t0 + timedelta(hours=hours), obs, assess(obs))

    first, second = state(0, 1), state(4, 6)
    events = worsening_events(first, second, [first])
    respiratory = [e for e in events if e.organ_system == "respiratory"]
    assert respiratory
    assert "oxygen flow 1 -> 6 L/min on nasal cannula" in respiratory[0].title


def test_cartox_grade_2_3_hypotension_statements_are_not_listed_at_grade_4():
    out = course(
        [
            {
                **ROUND,
                "time": "2026-01-03T10:00:00Z",
                "temperature_c": 38.9,
                "oxygen_device": "cpap",
                "hypotension": True,
            }
        ]
    )
    found = options(out[0])
    assert "siltuximab" not in found
    cartox = [s for s in found["tocilizumab"]["statements"] if s["source"] == "CARTOX2018"]
    assert not [s for s in cartox if "2-3" in s["text"]]
    # "if hypotension persists after anti-IL-6 therapy" waits for a dose.
    steroid_texts = [s["text"] for s in found["corticosteroids"]["statements"]]
    assert not [t for t in steroid_texts if "persists after 1-2 doses" in t]


def test_an_infection_patients_header_shows_news2_first_and_a_crs_style_grade(
    clinician_client, nurse, db
) -> None:
    from .conftest import ago, make_patient
    from .test_recording import record

    patient = make_patient(mrn="MRN-COVID", kind="infection")
    record(patient, nurse, ago(hours=1), temperature_c=38.4)
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    news2, crs = page.find("NEWS2 <strong>"), page.find("CRS-style grade")
    assert news2 != -1 and crs != -1 and news2 < crs
