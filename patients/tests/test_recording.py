"""The write path: rounds, interventions, flags and corrections in the database."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from patients import recording
from patients.models import AuditEvent, Flag, FlagState, ObservationRound, Patient, PatientStatus

from .conftest import NORMAL, ago

FULL_ICE = {
    "ice_orientation": 4,
    "ice_naming": 3,
    "ice_commands": 1,
    "ice_writing": 1,
    "ice_attention": 1,
}


def record(patient, user, when, **values):
    rnd, _ = recording.record_round(
        patient, {"clinical_time": when, **{**NORMAL, **values}}, user, uuid.uuid4()
    )
    return rnd


def test_a_worsening_round_opens_an_explained_flag(patient, nurse) -> None:
    record(patient, nurse, ago(hours=4))
    rnd = record(patient, nurse, ago(hours=0), oxygen_device="nasal_cannula", oxygen_flow_l_min=2)
    flag = Flag.objects.get(patient=patient, kind="worsening")
    assert flag.organ_system == "respiratory"
    assert flag.opened_by_round == rnd
    assert flag.basis["changes"] == [
        "severity 0 -> 2",
        "oxygen Room air -> Nasal cannula",
    ]
    assert AuditEvent.objects.filter(action="flag_opened", object_id=str(flag.pk)).exists()


def test_acknowledge_then_worse_again_opens_a_new_flag(patient, nurse, clinician) -> None:
    record(patient, nurse, ago(hours=8))
    record(patient, nurse, ago(hours=4), symptoms={"cough": 1})
    first = Flag.objects.get(key="worsening:respiratory")
    assert recording.acknowledge_flag(first, clinician, "seen, chest X-ray ordered")
    record(patient, nurse, ago(hours=0), symptoms={"cough": 2})
    flags = Flag.objects.filter(key="worsening:respiratory").order_by("opened_at")
    assert [f.state for f in flags] == [FlagState.ACKNOWLEDGED, FlagState.OPEN]


def test_two_clinicians_acknowledging_at_once_record_one(
    patient, nurse, clinician, admin_user
) -> None:
    record(patient, nurse, ago(hours=1), acvpu="C")
    flag = Flag.objects.get(key="red_flag:confusion")
    stale_copy = Flag.objects.get(pk=flag.pk)
    assert recording.acknowledge_flag(flag, clinician, "first")
    assert not recording.acknowledge_flag(stale_copy, admin_user, "second")
    flag.refresh_from_db()
    assert (flag.acknowledged_by, flag.acknowledge_note) == (clinician, "first")


def test_a_flag_resolves_itself_after_its_condition_clears(patient, nurse, settings) -> None:
    settings.CRS_WATCH = {**settings.CRS_WATCH, "FLAG_AUTO_RESOLVE_HOURS": 8}
    record(patient, nurse, ago(hours=20))
    record(patient, nurse, ago(hours=16), symptoms={"cough": 1})
    record(patient, nurse, ago(hours=12), symptoms={"cough": 0})
    assert Flag.objects.get(key="worsening:respiratory").state == FlagState.OPEN
    record(patient, nurse, ago(hours=4), symptoms={"cough": 0})
    flag = Flag.objects.get(key="worsening:respiratory")
    assert flag.state == FlagState.RESOLVED
    assert "absent for 8 h" in flag.resolve_reason


def test_flags_and_rounds_are_never_deleted(patient, nurse) -> None:
    rnd = record(patient, nurse, ago(hours=1), acvpu="C")
    with pytest.raises(PermissionDenied):
        Flag.objects.filter(patient=patient).delete()
    with pytest.raises(PermissionDenied):
        rnd.delete()
    with pytest.raises(PermissionDenied):
        Patient.objects.all().delete()


def test_tocilizumab_makes_later_rounds_grade_without_fever(patient, nurse, clinician) -> None:
    record(patient, nurse, ago(hours=6), temperature_c=38.8)
    recording.record_intervention(
        patient,
        {
            "kind": "tocilizumab",
            "drug": "tocilizumab",
            "dose": "640 mg",
            "route": "IV",
            "given_at": ago(hours=5),
        },
        clinician,
        uuid.uuid4(),
    )
    rnd = record(
        patient, nurse, ago(hours=1), temperature_c=37.2, oxygen_device="simple_face_mask"
    )
    assert rnd.crs_treated and rnd.crs_grade == 3


def test_an_intervention_recorded_late_re_assesses_later_rounds(patient, nurse, clinician) -> None:
    record(patient, nurse, ago(hours=6), temperature_c=38.8)
    later = record(patient, nurse, ago(hours=1), temperature_c=37.2, oxygen_device="cpap")
    assert later.crs_grade == 0
    recording.record_intervention(
        patient,
        {
            "kind": "corticosteroid",
            "drug": "dexamethasone",
            "dose": "10 mg",
            "route": "IV",
            "given_at": ago(hours=4),
        },
        clinician,
        uuid.uuid4(),
    )
    later.refresh_from_db()
    assert later.crs_grade == 4


def test_entered_in_error_keeps_the_round_and_reassesses(patient, nurse, clinician) -> None:
    record(patient, nurse, ago(hours=8))
    wrong = record(patient, nurse, ago(hours=4), temperature_c=39.9, heart_rate=140)
    record(patient, nurse, ago(hours=1))
    assert PatientStatus.objects.get(patient=patient).crs_grade == 0
    raised = list(Flag.objects.filter(opened_by_round=wrong))
    assert raised
    recording.mark_round_in_error(wrong, clinician, "typed into the wrong patient")
    wrong.refresh_from_db()
    assert wrong.in_error and wrong.error_by == clinician and wrong.error_at
    assert ObservationRound.objects.filter(pk=wrong.pk).exists()
    assert all(f.state == FlagState.RESOLVED for f in Flag.objects.filter(opened_by_round=wrong))
    assert AuditEvent.objects.filter(action="round_entered_in_error").exists()


def test_correction_through_the_page(clinician_client, patient, nurse) -> None:
    wrong = record(patient, nurse, ago(hours=2), temperature_c=39.0)
    url = reverse("round_correct", args=[patient.pk, wrong.pk])
    missing = clinician_client.post(url, {"reason": ""})
    assert missing.status_code == 422
    clinician_client.post(url, {"reason": "wrong thermometer"})
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    assert "Entered in error" in page and "wrong thermometer" in page


def test_overdue_scan_opens_and_a_round_clears(patient, nurse) -> None:
    record(patient, nurse, ago(hours=20), **FULL_ICE)
    status = patient.status
    status.refresh_from_db()
    assert status.overdue(ago(hours=0))
    assert recording.scan_overdue(ago(hours=0)) >= 1
    overdue = Flag.objects.get(key="overdue:round")
    assert overdue.state == FlagState.OPEN
    assert recording.scan_overdue(ago(hours=0)) == 0  # no duplicate on the next scan
    record(patient, nurse, ago(hours=0), **FULL_ICE)
    overdue.refresh_from_db()
    assert overdue.state == FlagState.RESOLVED


def test_a_back_dated_round_is_assessed_in_its_place(patient, nurse) -> None:
    record(patient, nurse, ago(hours=2), temperature_c=38.5)
    record(patient, nurse, ago(hours=6), temperature_c=37.0)
    status = patient.status
    status.refresh_from_db()
    assert status.crs_grade == 1
    assert status.last_round_at > ago(hours=3)


def test_the_patient_page_pins_its_query_count(
    clinician_client, patient, nurse, django_assert_max_num_queries
) -> None:
    for h in range(30):
        record(patient, nurse, ago(hours=30 - h), temperature_c=38.1 + (h % 3) / 10)
    with django_assert_max_num_queries(25):
        response = clinician_client.get(patient.get_absolute_url())
    assert response.status_code == 200


def test_past_flags_load_on_demand_with_their_basis(
    clinician_client, patient, nurse, clinician
) -> None:
    record(patient, nurse, ago(hours=2), acvpu="C")
    flag = Flag.objects.get(key="red_flag:confusion")
    recording.resolve_flag(flag, clinician, "delirium screen negative")
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    assert "Show past flags (1)" in page
    url = reverse("flag_history", args=[patient.pk])
    full = clinician_client.get(url).content.decode()
    part = clinician_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" in full and "<html" not in part
    for html in (full, part):
        assert "Confusion: needs immediate attention" in html
        assert "delirium screen negative" in html
        assert "source article" in html


def test_the_cached_patient_view_changes_with_every_write(
    clinician_client, patient, nurse, clinician
) -> None:
    record(patient, nurse, ago(hours=2))
    assert (
        "CRS grade <strong>0</strong>"
        in clinician_client.get(patient.get_absolute_url()).content.decode()
    )
    record(patient, nurse, ago(hours=1), temperature_c=38.6)
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    assert "CRS grade <strong>1</strong>" in page
    flag = Flag.objects.get(key="grade_rise:crs")
    recording.acknowledge_flag(flag, clinician, "seen")
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    assert "Acknowledged by carl" in page
    # and its forms carry this session's CSRF token, never a placeholder
    assert "CSRF-PLACEHOLDER" not in page
    assert clinician_client.cookies["csrftoken"]


def test_the_heat_map_marks_flags_even_after_they_resolve(
    clinician_client, patient, nurse, clinician
) -> None:
    record(patient, nurse, ago(hours=3))
    rnd = record(patient, nurse, ago(hours=1), acvpu="C")
    for flag in Flag.objects.filter(opened_by_round=rnd):
        recording.resolve_flag(flag, clinician, "reviewed")
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    # the heat-map cell of that round, neurological row, still marked
    assert re.search(r'aria-label="Neurological [^"]*, flag raised"', page)


def test_re_assessment_reads_only_what_the_rules_read(
    patient, nurse, django_assert_num_queries
) -> None:
    # The window is loaded with OBSERVATION_FIELDS only: a field the rules
    # read but the list lacks would cost a query per round, and a round
    # read whole must give the same observation.
    record(patient, nurse, ago(hours=1), ferritin_ug_l=900, **FULL_ICE, symptoms={"fever": 2})
    whole = ObservationRound.objects.get(patient=patient)
    narrow = ObservationRound.objects.only(*ObservationRound.OBSERVATION_FIELDS).get(pk=whole.pk)
    narrow.patient = whole.patient = patient
    with django_assert_num_queries(0):
        observation = narrow.to_observation()
    assert observation == whole.to_observation()
    assert observation.ice_score == 10 and observation.labs["ferritin_ug_l"] == 900


@pytest.mark.parametrize(
    "second",
    [{"temperature_c": 38.9}, {"anc_10e9_l": 0.3, "platelets_10e9_l": 40, "ferritin_ug_l": 900}],
    ids=["observations", "follow-up labs"],
)
def test_two_rounds_of_one_minute_store_what_a_whole_reassessment_stores(
    patient, nurse, second
) -> None:
    """The second round of a minute comes after the first in order: the first
    keeps its stored results, except the follow-up findings stored at that
    time, which count the second round's labs (as importing the course does)."""
    when = ago(hours=2)
    record(patient, nurse, ago(hours=6), anc_10e9_l=1.2, platelets_10e9_l=90)
    first = record(patient, nurse, when, temperature_c=38.2, anc_10e9_l=0.8)
    record(patient, nurse, when, **second)
    fields = recording.STORED_FIELDS
    as_typed = {
        r.pk: [getattr(r, f) for f in fields]
        for r in ObservationRound.objects.filter(patient=patient)
    }
    recording.reassess(patient, since=ago(hours=7))  # stores every round again
    again = {
        r.pk: [getattr(r, f) for f in fields]
        for r in ObservationRound.objects.filter(patient=patient)
    }
    assert as_typed == again
    assert first.pk in again
