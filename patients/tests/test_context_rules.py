"""The rules around the grading tables: partial rounds, zero versus missing,
unassessable and sedated patients, unjudged low blood pressure, ACVPU
against ICANS consciousness, and age (REFERENCE k2, k3, k7)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from django.urls import reverse

from patients import recording
from patients.clinical.assessment import assess
from patients.clinical.inputs import Observation
from patients.forms import RoundForm
from patients.models import ObservationRound, PatientStatus

from .conftest import NORMAL, ago, make_patient
from .test_assess_command import run
from .test_recording import record
from .test_views import round_post

NEURO_NORMAL = {"seizure": "none", "motor_findings": "none", "cerebral_edema": "none"}


def assess_one(**values):
    status, out, err = run({**NORMAL, "hypotension": False, **values})
    assert status == 0, err
    return out


def assess_course(rounds, **course):
    status, out, err = run({"rounds": rounds, **course})
    assert status == 0, err
    return out


# -- partial rounds (D3) ------------------------------------------------------


def test_a_partial_round_never_lengthens_the_monitoring_interval() -> None:
    high = {
        **NORMAL,
        "temperature_c": 39.4,
        "heart_rate": 125,
        "systolic_bp": 95,
        "respiratory_rate": 25,
        "spo2": 93,
        "oxygen_device": "nasal_cannula",
        "oxygen_flow_l_min": 4,
        "hypotension": True,
    }
    out = assess_course(
        [
            {**high, "time": "2026-03-04T10:00:00Z"},
            {"time": "2026-03-04T10:30:00Z", "temperature_c": 38.9},
            {**high, "time": "2026-03-04T16:00:00Z"},
        ]
    )
    titles = [f["title"] for f in out[2]["flags"]]
    assert "Round overdue: continuous monitoring, due 2026-03-04T11:00:00+00:00" in titles


def test_a_grade_from_a_partial_round_is_shown_as_a_lower_bound() -> None:
    out = assess_course([{"time": "2026-03-04T10:30:00Z", "temperature_c": 38.9}])
    crs = out[0]["crs"]
    assert crs["grade"] == 1 and crs["lower_bound"] is True
    assert crs["display"] == ">= 1 (oxygen device, hypotension not recorded)"


def test_a_partial_round_never_replaces_a_higher_known_grade_in_the_queue(patient, nurse) -> None:
    record(
        patient,
        nurse,
        ago(hours=2),
        temperature_c=39.0,
        respiratory_rate=26,
        spo2=91,
        oxygen_device="cpap",
        hypotension=True,
        vasopressors=["norepinephrine", "epinephrine"],
    )
    recording.record_round(
        patient, {"clinical_time": ago(hours=1), "temperature_c": 37.6}, nurse, uuid.uuid4()
    )
    status = PatientStatus.objects.get(patient=patient)
    first = ObservationRound.objects.filter(patient=patient).order_by("clinical_time").first()
    assert first.news2_monitoring == "continuous"
    assert status.crs_grade == 4
    assert status.grades_at["crs"]["round"] == first.pk
    # The strictest interval in force (continuous: charted hourly at least),
    # not the 6 h a temperature-only round would fall back to.
    assert status.next_round_due_at == first.clinical_time + timedelta(hours=1)


ICE_2 = {
    "ice_orientation": 1,
    "ice_naming": 1,
    "ice_commands": 0,
    "ice_writing": 0,
    "ice_attention": 0,
    "consciousness": "alert",
}
ICE_10 = {**ICE_2, "ice_orientation": 4, "ice_naming": 3, "ice_commands": 1, "ice_writing": 1}


def test_a_grade_is_history_once_every_criterion_behind_it_was_assessed_again(
    patient, nurse
) -> None:
    # ASTCT ICANS (REFERENCE b): ICE 2 is grade 3. Seizures, motor findings
    # and raised pressure are never charted here, so every round is a lower
    # bound; the ICE of 10 two days later re-assesses all the grade-3 round
    # recorded, so the queue no longer shows grade 3.
    record(patient, nurse, ago(hours=50), **ICE_2)
    assert PatientStatus.objects.get(patient=patient).icans_grade == 3
    record(patient, nurse, ago(hours=2), **{**ICE_10, "ice_attention": 1})
    status = PatientStatus.objects.get(patient=patient)
    assert status.icans_grade == 0
    # A seizure charted once is not re-assessed by an ICE screen: it stays.
    record(patient, nurse, ago(hours=1), seizure="resolved_rapidly")
    record(patient, nurse, ago(hours=0.5), **{**ICE_10, "ice_attention": 1})
    assert PatientStatus.objects.get(patient=patient).icans_grade == 3


def test_a_news2_band_rise_compares_with_the_last_known_band() -> None:
    out = assess_course(
        [
            {**NORMAL, "time": "2026-03-04T10:00:00Z", "respiratory_rate": 25},
            {"time": "2026-03-04T10:30:00Z", "temperature_c": 37.0},
            {**NORMAL, "time": "2026-03-04T11:00:00Z", "respiratory_rate": 25},
        ]
    )
    assert out[0]["news2"]["clinical_risk"] == "low-medium"
    assert not [f for f in out[2]["flags"] if f["title"].startswith("NEWS2")]


# -- zero is a value ------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {f"ice_{n}": 0 for n in ("orientation", "naming", "commands", "writing", "attention")},
        {"oxygen_flow_l_min": 0, "oxygen_device": "nasal_cannula"},
        {"crp_mg_l": 0},
        {"il6_pg_ml": 0},
        {"symptom_fever": 0},
    ],
    ids=["ice-0-of-10", "flow-0", "crp-0", "il6-0", "symptom-none"],
)
def test_a_recorded_zero_counts_as_an_observation(values) -> None:
    form = RoundForm(round_post(**values))
    assert form.is_valid(), form.errors


def test_an_ice_only_round_of_0_saves_as_the_worst_result(nurse_client, patient) -> None:
    items = {f"ice_{n}": 0 for n in ("orientation", "naming", "commands", "writing", "attention")}
    response = nurse_client.post(reverse("round_create", args=[patient.pk]), round_post(**items))
    assert response.status_code == 302
    rnd = ObservationRound.objects.get(patient=patient)
    assert rnd.ice_score == 0 and rnd.icans_grade == 3


# -- unassessable and sedated patients (D4, D11, D16) ------------------------------


def test_ice_not_assessable_in_an_awake_patient_with_global_aphasia_is_icans_3() -> None:
    out = assess_one(ice_score=None, consciousness="alert", global_aphasia=True, **NEURO_NORMAL)
    assert out["icans"]["grade"] == 3
    assert "global aphasia" in out["icans"]["basis"][0]["rule"]


def test_global_aphasia_in_an_unarousable_patient_is_icans_4() -> None:
    out = assess_one(
        ice_score=None, consciousness="unarousable", global_aphasia=True, **NEURO_NORMAL
    )
    assert out["icans"]["grade"] == 4


def test_sedation_makes_ice_and_consciousness_not_gradable_and_lists_no_grade_4_options() -> None:
    out = assess_one(
        acvpu="U",
        oxygen_device="invasive_mechanical_ventilation",
        ice_score=None,
        consciousness="unarousable",
        sedated=True,
        **NEURO_NORMAL,
    )
    icans = out["icans"]
    assert icans["grade"] == 0 and icans["lower_bound"] is True
    assert {"ice_score", "consciousness"} <= set(icans["missing"])
    assert icans["basis"][0]["rule"].startswith("Sedated: ICE and level of consciousness")
    statements = [s["text"] for o in out["treatment_options"] for s in o["statements"]]
    assert not [t for t in statements if "methylprednisolone 1 g" in t]


def test_sedation_still_grades_seizures() -> None:
    out = assess_one(sedated=True, ice_score=None, seizure="prolonged_over_5_min")
    assert out["icans"]["grade"] == 4


def test_needing_vigorous_or_repetitive_stimuli_to_arouse_is_icans_4() -> None:
    out = assess_one(ice_score=2, consciousness="requires_vigorous_or_repetitive_tactile_stimuli")
    assert out["icans"]["grade"] == 4
    form = RoundForm()
    labels = dict(form.fields["consciousness"].choices)
    assert "Requires vigorous or repetitive tactile stimuli" in labels.values()


def test_the_form_records_sedation(nurse_client, patient) -> None:
    data = round_post(
        **NORMAL, sedated="yes", ice_not_assessable="on", consciousness="unarousable"
    )
    data["acvpu"] = "U"
    response = nurse_client.post(reverse("round_create", args=[patient.pk]), data)
    assert response.status_code == 302
    rnd = ObservationRound.objects.get(patient=patient)
    assert rnd.sedated is True and "consciousness" in rnd.assessment["icans"]["missing"]


# -- low blood pressure not judged (D5) ---------------------------------------------


def test_fever_with_a_low_systolic_and_no_hypotension_judgement_names_it_missing() -> None:
    status, out, _ = run(
        {
            "temperature_c": 38.6,
            "heart_rate": 124,
            "systolic_bp": 72,
            "diastolic_bp": 40,
            "respiratory_rate": 22,
            "spo2": 96,
            "oxygen_device": "room_air",
            "acvpu": "A",
        }
    )
    crs = out["crs"]
    assert crs["grade"] == 1 and "hypotension" in crs["missing"]
    assert crs["display"].startswith(">= 1")
    assert any("hypotension not judged" in f["rule"] for f in crs["basis"])
    cardio = out["organs"]["cardiovascular"]["basis"]
    assert any("severity unknown" in f["rule"] for f in cardio)


def test_the_form_asks_for_the_hypotension_judgement_when_the_systolic_is_low() -> None:
    form = RoundForm(round_post(temperature_c=38.6, systolic_bp=72, diastolic_bp=40))
    assert not form.is_valid()
    assert "judge whether the patient is hypotensive" in form.errors["hypotension"][0]
    answered = RoundForm(
        round_post(temperature_c=38.6, systolic_bp=72, diastolic_bp=40, hypotension="yes")
    )
    assert answered.is_valid(), answered.errors


# -- ACVPU and ICANS consciousness (D10) -----------------------------------------------


def test_news2_scores_a_not_alert_icans_level_even_when_acvpu_says_alert() -> None:
    out = assess_one(ice_score=3, consciousness="awakens_to_voice", **NEURO_NORMAL)
    assert out["news2"]["parameter_scores"]["consciousness"] == 3
    assert out["news2"]["clinical_risk"] == "low-medium"


def test_news2_scores_new_confusion_recorded_in_the_round() -> None:
    out = assess_one(symptoms={"confusion": "mild"})
    assert out["news2"]["parameter_scores"]["consciousness"] == 3


def test_the_form_asks_once_when_acvpu_and_icans_consciousness_disagree() -> None:
    data = round_post(**NORMAL, consciousness="awakens_to_voice")
    form = RoundForm(data)
    assert not form.is_valid()
    assert "disagree" in form.errors["confirm_consciousness"][0]
    assert RoundForm({**data, "confirm_consciousness": "on"}).is_valid()


# -- age (D13) ------------------------------------------------------------------------------


def test_news2_is_not_scored_under_16_and_says_why() -> None:
    a = assess(Observation(**{**NORMAL, "vasopressors": ()}, age_years=15))
    assert a.news2.total is None and a.news2.clinical_risk is None
    assert "should not be used in children under 16" in a.news2.basis[0].rule


@pytest.mark.parametrize(
    "capd, consciousness, grade",
    [
        ({"restless": "often"}, "awakens_spontaneously", 1),
        ({"restless": "often"}, "awakens_to_voice", 2),
        ({"restless": "always", "inconsolable": "always", "underactive": "sometimes"}, "alert", 3),
        ({}, "alert", 0),
    ],
    ids=["capd-under-9-spontaneous-g1", "capd-under-9-voice-g2", "capd-9-plus-g3", "capd-0"],
)
def test_children_12_and_under_are_graded_with_capd(capd, consciousness, grade) -> None:
    answers = {
        "eye_contact": "always",
        "purposeful_actions": "always",
        "aware_of_surroundings": "always",
        "communicates_needs": "always",
        "restless": "never",
        "inconsolable": "never",
        "underactive": "never",
        "slow_to_respond": "never",
        **capd,
    }
    out = assess_one(
        age_years=6, capd=answers, consciousness=consciousness, ice_score=9, **NEURO_NORMAL
    )
    assert out["icans"]["grade"] == grade
    assert any("ICE not used" in f["rule"] for f in out["icans"]["basis"])


def test_a_child_unable_to_perform_capd_is_icans_4() -> None:
    out = assess_one(age_years=6, capd_score=None, consciousness="alert", **NEURO_NORMAL)
    assert out["icans"]["grade"] == 4


def test_a_childs_round_is_assessed_for_age_from_the_birth_date(nurse, db) -> None:

    child = make_patient(
        mrn="MRN-CHILD", birth_date=date.today().replace(year=date.today().year - 6)
    )
    rnd = record(child, nurse, ago(hours=1))
    assert rnd.news2_total is None
    assert "under 16" in rnd.assessment["news2"]["basis"][0]["rule"]
