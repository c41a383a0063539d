"""The review queue: worst first and honest about what it shows."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients import recording
from patients.models import Flag, FlagState, PatientStatus

from .conftest import NORMAL, ago, make_patient

pytestmark = pytest.mark.django_db


def with_status(mrn: str, **fields) -> None:
    patient = make_patient(mrn=mrn, family_name=f"Q{mrn}")
    PatientStatus.objects.filter(patient=patient).update(**fields)


def queue_mrns(client, **params) -> list[str]:
    page = client.get(reverse("queue"), params).content.decode()
    return re.findall(r"<small>(Q\d)</small>", page)


def test_the_queue_is_worst_first_in_the_documented_order(clinician_client) -> None:
    now = timezone.now()
    due_later, due_earlier = now + timedelta(hours=2), now - timedelta(hours=2)
    # Urgent acknowledged, with the higher grade and NEWS2.
    with_status("Q1", worst_flag_rank=3, worst_flag_unacknowledged=False, worst_grade=3,
                news2_rank=9, next_round_due_at=due_later)  # fmt: skip
    # Urgent unanswered: above it, whatever its grade.
    with_status("Q2", worst_flag_rank=3, worst_flag_unacknowledged=True, worst_grade=1,
                news2_rank=5, next_round_due_at=due_later)  # fmt: skip
    # High: the grade first, then NEWS2 (11 above 8), then the most overdue.
    with_status("Q3", worst_flag_rank=2, worst_flag_unacknowledged=True, worst_grade=2,
                news2_rank=8, next_round_due_at=due_later)  # fmt: skip
    with_status("Q4", worst_flag_rank=2, worst_flag_unacknowledged=True, worst_grade=2,
                news2_rank=11, next_round_due_at=due_later)  # fmt: skip
    with_status("Q5", worst_flag_rank=2, worst_flag_unacknowledged=True, worst_grade=2,
                news2_rank=11, next_round_due_at=due_earlier)  # fmt: skip
    with_status("Q6", worst_flag_rank=2, worst_flag_unacknowledged=True, worst_grade=3,
                news2_rank=1, next_round_due_at=due_later)  # fmt: skip
    with_status("Q7", worst_flag_rank=0, worst_grade=0, news2_rank=1, next_round_due_at=due_later)
    assert queue_mrns(clinician_client) == ["Q2", "Q1", "Q6", "Q5", "Q4", "Q3", "Q7"]
    # Sorted by the next due time instead, the most overdue leads.
    assert queue_mrns(clinician_client, sort="due")[0] == "Q5"


def test_the_status_row_knows_an_unanswered_flag_and_the_worse_grade(nurse, clinician) -> None:
    patient = make_patient()
    recording.record_round(
        patient, {"clinical_time": ago(hours=1), **NORMAL, "acvpu": "C"}, nurse, uuid.uuid4()
    )
    status = PatientStatus.objects.get(patient=patient)
    assert status.worst_flag_rank == 3 and status.worst_flag_unacknowledged
    assert status.news2_rank == status.news2_total == 3
    for flag in Flag.objects.filter(patient=patient, severity_rank=3):
        recording.acknowledge_flag(flag, clinician, "seen")
    status.refresh_from_db()
    assert not status.worst_flag_unacknowledged
    group = status.flag_groups[0]
    assert group["acknowledged"] and group["acknowledged_by"] == "carl"


def test_an_acknowledged_flag_looks_answered_on_the_queue(clinician_client, nurse, clinician):
    patient = make_patient(mrn="Q1", family_name="Qfirst")
    recording.record_round(
        patient, {"clinical_time": ago(hours=1), **NORMAL, "acvpu": "C"}, nurse, uuid.uuid4()
    )
    flag = Flag.objects.filter(patient=patient, state=FlagState.OPEN).first()
    recording.acknowledge_flag(flag, clinician, "seen")
    page = clinician_client.get(reverse("queue")).content.decode()
    at = timezone.localtime(Flag.objects.get(pk=flag.pk).acknowledged_at)
    assert f"acknowledged by carl, {at.day} {at:%b %H:%M}" in page


def test_a_flag_the_latest_values_no_longer_bear_out_is_marked(clinician_client, nurse) -> None:
    patient = make_patient(mrn="Q1", family_name="Qfever")
    hot = {**NORMAL, "temperature_c": 39.4, "symptoms": {"fever": 3}}
    recording.record_round(patient, {"clinical_time": ago(hours=3), **hot}, nurse, uuid.uuid4())
    recording.record_round(patient, {"clinical_time": ago(hours=1), **NORMAL}, nurse, uuid.uuid4())
    status = PatientStatus.objects.get(patient=patient)
    stale = [f for f in status.open_flags if not f["current"]]
    assert stale, "the fever flag no longer holds on the latest values"
    page = clinician_client.get(reverse("queue")).content.decode()
    assert "not on the latest values" in page


def test_patients_sharing_a_surname_or_bed_are_marked(clinician_client) -> None:
    make_patient(mrn="Q1", family_name="Smith", bed="3")
    make_patient(mrn="Q2", family_name="smith", bed="4")
    make_patient(mrn="Q3", family_name="Jones", bed="4")
    make_patient(mrn="Q4", family_name="Smith", bed="3", ward="Other ward")
    page = clinician_client.get(reverse("queue")).content.decode()
    assert page.count("Same surname on ward") == 2
    assert page.count("Bed shared") == 2


def test_the_queue_says_when_it_was_updated_and_what_day_counts_from(clinician_client) -> None:
    make_patient()
    page = clinician_client.get(reverse("queue")).content.decode()
    assert re.search(r"Updated \d\d:\d\d:\d\d", page)
    assert "Day +N counts from day 0" in page
    assert 'id="refresh-failed"' in page and "could not be refreshed" in page


def test_a_round_is_one_click_from_the_queue(nurse_client) -> None:
    patient = make_patient(mrn="Q1")
    page = nurse_client.get(reverse("queue")).content.decode()
    assert f'href="{reverse("round_create", args=[patient.pk])}"' in page
