"""The course after CAR-T and bispecifics on the ward: label plan, doses,
premedication, ICAHT, late neurotoxicity (REFERENCE k1, k8, k9, k11)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients import recording
from patients.models import DoseEvent, Exposure, Flag, Intervention, PatientStatus

from .conftest import NORMAL, ago, make_patient


def bispecific_patient(**extra):
    patient = make_patient(mrn="B1", kind="bispecific", day0=timezone.localdate(), **extra)
    Exposure.objects.filter(patient=patient).update(agent="teclistamab", product="teclistamab")
    return patient


def cilta_patient(days: int):
    patient = make_patient(mrn="C1", day0=timezone.localdate() - timedelta(days=days))
    Exposure.objects.filter(patient=patient).update(agent="Carvykti", product="cilta-cel")
    return patient


def form_time(when) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def test_a_step_up_dose_starts_its_48_hour_window_shown_in_header_queue_and_handover(
    clinician_client, clinician
) -> None:
    # REFERENCE k8: Tecvayli US PI, hospitalise 48 h after each step-up dose.
    patient = bispecific_patient()
    given = ago(hours=10)
    # Day 0 is the day of step-up dose 1 (a dose before day 0 is asked about).
    Exposure.objects.filter(patient=patient).update(day0=timezone.localtime(given).date())
    recording.record_round(
        patient, {"clinical_time": ago(hours=11), **NORMAL}, clinician, uuid.uuid4()
    )
    # The step menu speaks the label's words, not the catalogue's ids.
    form = clinician_client.get(reverse("dose_create", args=[patient.pk])).content.decode()
    # The next step of the schedule not yet recorded is picked already.
    assert '<option value="SUD1" selected>Step-up dose 1</option>' in form
    assert ">SUD1" not in form
    response = clinician_client.post(
        reverse("dose_create", args=[patient.pk]),
        {
            "client_key": uuid.uuid4(),
            "step": "SUD1",
            "dose": "0.06 mg/kg",
            "given_at": form_time(given),
            "premed_kind": "corticosteroid",
            "premed_drug": "dexamethasone",
            "premed_dose": "16 mg",
            "premed_given_at": form_time(given - timedelta(hours=2)),
        },
    )
    assert response.status_code == 302
    dose = DoseEvent.objects.get()
    assert dose.step == "SUD1"
    premed = Intervention.objects.get()
    assert (premed.kind, premed.indication) == ("corticosteroid", "premedication")
    status = PatientStatus.objects.get(patient=patient)
    assert status.plan_windows[0]["kind"] == "after_dose"
    # No ICE yet: due 12 h after the window opened (local policy, ASCO 2021).
    assert status.next_ice_due_at == dose.given_at + timedelta(hours=12)
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    assert "10 h of the 48 h in hospital after step-up dose 1" in page
    assert "Dexamethasone 16 mg" in page
    queue = clinician_client.get(reverse("queue")).content.decode()
    assert "10 h of the 48 h in hospital after step-up dose 1" in queue
    handover = clinician_client.get(reverse("handover")).content.decode()
    assert "10 h of the 48 h in hospital after step-up dose 1" in handover


def test_premedication_before_a_step_up_dose_never_masks_fever(clinician, nurse) -> None:
    # REFERENCE k1: premedication must not open "fever no longer required".
    patient = bispecific_patient()
    recording.record_dose(
        patient,
        {"step": "SUD1", "dose": "", "given_at": ago(hours=6), "note": ""},
        clinician,
        uuid.uuid4(),
        premedication={
            "kind": "corticosteroid",
            "drug": "dexamethasone",
            "dose": "16 mg",
            "route": "IV",
            "indication": "premedication",
            "given_at": ago(hours=7),
            "note": "",
        },
    )
    rnd, _ = recording.record_round(
        patient,
        {
            "clinical_time": ago(hours=1),
            **NORMAL,
            "spo2": 91,
            "oxygen_device": "nasal_cannula",
            "oxygen_flow_l_min": 2,
        },
        nurse,
        uuid.uuid4(),
    )
    assert rnd.crs_grade == 0
    assert rnd.crs_treated is False


def test_a_dose_with_premedication_but_no_time_is_refused_with_the_typing_kept(
    clinician_client,
) -> None:
    patient = bispecific_patient()
    response = clinician_client.post(
        reverse("dose_create", args=[patient.pk]),
        {
            "client_key": uuid.uuid4(),
            "step": "SUD1",
            "dose": "0.06 mg/kg",
            "given_at": form_time(ago(hours=1)),
            "premed_kind": "corticosteroid",
            "premed_drug": "dexamethasone",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Enter when the premedication was given." in body
    assert 'value="dexamethasone"' in body
    assert not DoseEvent.objects.exists()


def test_low_anc_after_car_t_is_graded_as_early_icaht_and_flagged(nurse) -> None:
    # REFERENCE k9: early N-ICAHT, ANC <= 0.5 x10^9/L for 1-6 days is grade 1.
    patient = make_patient(day0=timezone.localdate() - timedelta(days=5))
    rnd, _ = recording.record_round(
        patient, {"clinical_time": ago(hours=1), "anc_10e9_l": 0.3}, nurse, uuid.uuid4()
    )
    rnd.refresh_from_db()
    grades = {g["lineage"]: g for g in rnd.assessment["followup"]["icaht"]}
    assert grades["neutrophil"]["grade"] == 1
    assert grades["neutrophil"]["status"] == "single-source"
    flag = Flag.objects.get(key="icaht:neutrophil:early")
    assert "single-source" in flag.title
    assert "Blood 2023" in flag.source
    # The same grade again does not raise a second flag.
    recording.record_round(
        patient, {"clinical_time": ago(minutes=30), "anc_10e9_l": 0.4}, nurse, uuid.uuid4()
    )
    assert Flag.objects.filter(key__startswith="icaht").count() == 1


def test_late_neurotoxicity_questions_appear_in_the_window_and_a_yes_raises_a_flag(
    nurse_client,
) -> None:
    # REFERENCE k11: Santomasso 2023 (days 1-30), Carvykti boxed warning.
    patient = cilta_patient(days=20)
    page = nurse_client.get(reverse("round_create", args=[patient.pk])).content.decode()
    assert "Change in handwriting? (single-source)" in page
    response = nurse_client.post(
        reverse("round_create", args=[patient.pk]),
        {
            "client_key": uuid.uuid4(),
            "clinical_time": form_time(ago(minutes=5)),
            "late_neuro_handwriting": "yes",
            "late_neuro_movement": "no",
        },
    )
    assert response.status_code == 302
    flag = Flag.objects.get(key="late_neuro:handwriting")
    assert flag.organ_system == "neurological"
    assert "Day +20" in flag.title
    assert "Santomasso" in flag.source
    assert not Flag.objects.filter(key="late_neuro:movement").exists()


@pytest.mark.parametrize("product,days", [("axi-cel", 20), ("cilta-cel", 40)])
def test_no_late_neurotoxicity_questions_outside_a_bcma_window(nurse_client, product, days):
    patient = cilta_patient(days=days)
    Exposure.objects.filter(patient=patient).update(product=product)
    page = nurse_client.get(reverse("round_create", args=[patient.pk])).content.decode()
    assert "Change in handwriting?" not in page
