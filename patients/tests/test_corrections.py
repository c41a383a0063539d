"""Corrections: a wrong entry is marked, kept, and everything after re-assessed."""

from __future__ import annotations

import re
import uuid

from django.urls import reverse

from patients import recording
from patients.models import AuditEvent, Flag, Intervention, ObservationRound, PatientStatus
from patients.views import tocilizumab_counts

from .conftest import NORMAL, ago
from .test_course_after_therapy import bispecific_patient


def fever_then_treated_hypotension(patient, nurse, clinician):
    recording.record_round(
        patient,
        {"clinical_time": ago(hours=5), **NORMAL, "temperature_c": 38.6, "hypotension": True},
        nurse,
        uuid.uuid4(),
    )
    dose, _ = recording.record_intervention(
        patient,
        {
            "kind": "tocilizumab",
            "drug": "tocilizumab",
            "dose": "8 mg/kg",
            "given_at": ago(hours=4),
        },
        clinician,
        uuid.uuid4(),
    )
    later, _ = recording.record_round(
        patient,
        {"clinical_time": ago(hours=3), **NORMAL, "temperature_c": 37.0, "hypotension": True},
        nurse,
        uuid.uuid4(),
    )
    return dose, later


def test_a_wrong_dose_marked_in_error_leaves_the_ledger_and_the_grading(
    clinician_client, patient, nurse, clinician
) -> None:
    dose, later = fever_then_treated_hypotension(patient, nurse, clinician)
    assert tocilizumab_counts(patient) == (1, 1)
    graded_with_dose = ObservationRound.objects.get(pk=later.pk).crs_grade
    assert graded_with_dose and graded_with_dose >= 1  # fever masked by tocilizumab

    url = reverse("intervention_correct", args=[patient.pk, dose.pk])
    assert clinician_client.post(url, {"reason": ""}).status_code == 422  # reason required
    response = clinician_client.post(url, {"reason": "given to the patient in bed 5"})
    assert response.status_code == 302

    dose.refresh_from_db()
    assert dose.in_error and dose.error_by == clinician
    assert dose.error_reason == "given to the patient in bed 5"
    assert tocilizumab_counts(patient) == (0, 0)
    regraded = ObservationRound.objects.get(pk=later.pk).crs_grade
    assert regraded != graded_with_dose  # re-assessed without the dose
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    assert "given to the patient in bed 5" in page  # kept visible, marked
    assert Intervention.objects.filter(pk=dose.pk).exists()
    event = AuditEvent.objects.get(action="intervention_entered_in_error")
    assert (event.user, event.patient) == (clinician, patient)


def test_a_second_entered_in_error_is_answered_and_its_reason_kept(
    clinician_client, patient, nurse, clinician
) -> None:
    dose, _ = fever_then_treated_hypotension(patient, nurse, clinician)
    url = reverse("intervention_correct", args=[patient.pk, dose.pk])
    clinician_client.post(url, {"reason": "first reason"})
    response = clinician_client.post(url, {"reason": "second reason"}, follow=True)
    page = response.content.decode()
    assert "already marked entered in error by carl" in page and "first reason" in page
    dose.refresh_from_db()
    assert dose.error_reason == "first reason"
    second = AuditEvent.objects.get(action="second_submission")
    assert second.detail["reason"] == "second reason"


def test_a_second_round_correction_is_answered(clinician_client, patient, nurse) -> None:
    rnd, _ = recording.record_round(
        patient, {"clinical_time": ago(hours=1), **NORMAL}, nurse, uuid.uuid4()
    )
    url = reverse("round_correct", args=[patient.pk, rnd.pk])
    clinician_client.post(url, {"reason": "wrong patient"})
    page = clinician_client.post(url, {"reason": "typo"}, follow=True).content.decode()
    assert "already marked entered in error" in page and "wrong patient" in page
    assert AuditEvent.objects.filter(action="second_submission").count() == 1


def test_a_second_resolve_is_answered_not_dropped(clinician_client, patient, nurse) -> None:
    recording.record_round(
        patient, {"clinical_time": ago(hours=1), **NORMAL, "acvpu": "C"}, nurse, uuid.uuid4()
    )
    flag = Flag.objects.get(key="red_flag:confusion")
    url = reverse("flag_resolve", args=[patient.pk, flag.pk])
    clinician_client.post(url, {"reason": "delirium screen negative", "confirm": "on"})
    full = clinician_client.post(
        url, {"reason": "seen by neuro", "confirm": "on"}, follow=True
    ).content.decode()
    assert "already resolved by carl" in full and "delirium screen negative" in full
    partial = clinician_client.post(
        url, {"reason": "third try", "confirm": "on"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "already resolved by carl" in partial
    reasons = [
        e.detail["reason"]
        for e in AuditEvent.objects.filter(action="second_submission").order_by("pk")
    ]
    assert reasons == ["seen by neuro", "third try"]


def step_up_dose_with_premedication(patient, clinician):
    # REFERENCE k8: Tecvayli US PI, hospitalise 48 h after each step-up dose.
    premed = {"kind": "corticosteroid", "drug": "dexamethasone", "dose": "16 mg"}
    premed.update(indication="premedication", given_at=ago(hours=11))
    values = {"step": "SUD1", "dose": "0.06 mg/kg", "given_at": ago(hours=10)}
    return recording.record_dose(patient, values, clinician, uuid.uuid4(), premedication=premed)[0]


def test_a_dose_marked_in_error_stays_struck_through_and_its_window_ends(
    clinician_client, clinician, nurse
) -> None:
    patient = bispecific_patient()
    recording.record_round(patient, {"clinical_time": ago(hours=2), **NORMAL}, nurse, uuid.uuid4())
    dose = step_up_dose_with_premedication(patient, clinician)
    window = "10 h of the 48 h in hospital after step-up dose 1"
    assert window in clinician_client.get(reverse("queue")).content.decode()

    url = reverse("dose_correct", args=[patient.pk, dose.pk])
    form = clinician_client.get(url).content.decode()
    assert "step-up dose 1 0.06 mg/kg" in form
    assert clinician_client.post(url, {"reason": ""}).status_code == 422  # reason required
    assert (
        clinician_client.post(url, {"reason": "recorded on the wrong patient"}).status_code == 302
    )

    dose.refresh_from_db()
    assert (dose.in_error, dose.error_by, dose.error_by_name) == (True, clinician, "carl")
    assert dose.error_reason == "recorded on the wrong patient" and dose.error_at is not None
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    assert re.search(r'<li class="in-error"><del>[^<]*<strong>Step-up dose 1</strong>', page)
    assert "recorded on the wrong patient" in page
    # Its window no longer counts: not on the patient page, the queue or the status row.
    assert window not in page
    assert window not in clinician_client.get(reverse("queue")).content.decode()
    assert PatientStatus.objects.get(patient=patient).plan_windows == []
    # The premedication is its own entry, still recorded.
    assert Intervention.objects.get(patient=patient).status == "final"
    event = AuditEvent.objects.get(action="dose_entered_in_error")
    assert (event.user, event.patient, event.detail["reason"]) == (
        clinician,
        patient,
        "recorded on the wrong patient",
    )


def test_a_second_dose_correction_is_answered_and_its_reason_kept(
    clinician_client, clinician
) -> None:
    patient = bispecific_patient()
    dose = step_up_dose_with_premedication(patient, clinician)
    url = reverse("dose_correct", args=[patient.pk, dose.pk])
    clinician_client.post(url, {"reason": "first reason"})
    page = clinician_client.post(url, {"reason": "second reason"}, follow=True).content.decode()
    assert "already marked entered in error by carl" in page and "first reason" in page
    dose.refresh_from_db()
    assert dose.error_reason == "first reason"
    assert AuditEvent.objects.get(action="second_submission").detail["reason"] == "second reason"
