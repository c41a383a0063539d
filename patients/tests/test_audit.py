"""Audit trail: every write and every view of a record leaves one row."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from patients import recording
from patients.models import AuditEvent, Flag, ObservationRound, Patient

from .conftest import ago


def now_input(**delta) -> str:
    return timezone.localtime(ago(**delta)).strftime("%Y-%m-%dT%H:%M")


def actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


def test_each_write_path_leaves_its_audit_row(clinician_client, clinician) -> None:
    clinician_client.post(
        reverse("patient_create"),
        {
            "mrn": "AU1",
            "given_name": "Rosalind",
            "family_name": "Franklin",
            "birth_date": "1960-07-25",
            "sex": "female",
            "ward": "Haem A",
            "spo2_scale": "1",
            "exposure_kind": "car_t",
            "exposure_agent": "liso-cel",
            "day0": timezone.localdate().isoformat(),
        },
        REMOTE_ADDR="10.1.2.3",
    )
    patient = Patient.objects.get(mrn="AU1")
    clinician_client.get(patient.get_absolute_url())
    clinician_client.post(
        reverse("round_create", args=[patient.pk]),
        {
            "client_key": str(uuid.uuid4()),
            "clinical_time": now_input(hours=1),
            "confirm_early": "on",  # observed before registration here
            "acvpu": "C",
        },
    )
    clinician_client.post(
        reverse("intervention_create", args=[patient.pk]),
        {
            "client_key": str(uuid.uuid4()),
            "kind": "antipyretic",
            "drug": "paracetamol",
            "dose": "1 g",
            "route": "PO",
            "given_at": now_input(minutes=30),
        },
    )
    flag = Flag.objects.get(key="red_flag:confusion")
    clinician_client.post(
        reverse("flag_acknowledge", args=[patient.pk, flag.pk]), {"note": "seen"}
    )
    clinician_client.post(
        reverse("flag_resolve", args=[patient.pk, flag.pk]),
        {"reason": "delirium screen negative", "confirm": "on"},
    )
    rnd = ObservationRound.objects.get()
    clinician_client.post(
        reverse("round_correct", args=[patient.pk, rnd.pk]), {"reason": "wrong patient"}
    )
    done = actions()
    for action in [
        "patient_created",
        "patient_viewed",
        "round_recorded",
        "flag_opened",
        "intervention_recorded",
        "flag_acknowledged",
        "flag_resolved",
        "round_entered_in_error",
    ]:
        assert action in done, action
    created = AuditEvent.objects.get(action="patient_created")
    assert (created.user, created.address, created.patient) == (clinician, "10.1.2.3", patient)


def test_audit_rows_are_append_only(db) -> None:
    event = AuditEvent.objects.create(action="x", object_type="T", object_id="1")
    event.action = "changed"
    with pytest.raises(PermissionDenied):
        event.save()
    with pytest.raises(PermissionDenied):
        event.delete()
    with pytest.raises(PermissionDenied):
        AuditEvent.objects.all().delete()


def test_admins_read_and_filter_the_audit_trail(client, admin_user, nurse) -> None:
    AuditEvent.objects.create(
        user=nurse, action="patient_viewed", object_type="Patient", object_id="7"
    )
    AuditEvent.objects.create(
        user=nurse, action="round_recorded", object_type="Round", object_id="9"
    )
    client.force_login(admin_user)
    page = client.get(reverse("audit_log"), {"action": "round_recorded"}).content.decode()
    assert "Round 9" in page and "Patient 7" not in page
    by_user = client.get(reverse("audit_log"), {"user": "nina"}).content.decode()
    assert "Round 9" in by_user and "Patient 7" in by_user


def test_every_view_of_a_patient_record_is_audited(clinician_client, patient, nurse) -> None:
    rnd, _ = recording.record_round(
        patient, {"clinical_time": ago(hours=1), "heart_rate": 80}, nurse, uuid.uuid4()
    )
    for url in [
        patient.get_absolute_url(),
        reverse("patient_handover", args=[patient.pk]),
        reverse("round_detail", args=[patient.pk, rnd.pk]),
        reverse("flag_history", args=[patient.pk]),
    ]:
        before = AuditEvent.objects.filter(action="patient_viewed", patient=patient).count()
        assert clinician_client.get(url).status_code == 200
        after = AuditEvent.objects.filter(action="patient_viewed", patient=patient).count()
        assert after == before + 1, url


def test_admins_manage_users_and_others_cannot(client, admin_user, nurse) -> None:
    client.force_login(admin_user)
    assert client.get("/admin/auth/user/").status_code == 200
    assert client.get(f"/admin/auth/user/{nurse.pk}/change/").status_code == 200
    client.force_login(nurse)
    assert client.get("/admin/auth/user/").status_code == 302  # not staff: admin login


def test_rounds_export_as_csv_safely_and_audited(clinician_client, patient, nurse) -> None:
    recording.record_round(
        patient,
        {"clinical_time": ago(hours=1), "temperature_c": 38.3, "note": "=HYPERLINK(1)"},
        nurse,
        uuid.uuid4(),
    )
    response = clinician_client.get(reverse("rounds_csv", args=[patient.pk]))
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert response["Content-Type"].startswith("text/csv")
    assert len(rows) == 1
    row = rows[0]
    assert (row["mrn"], row["temperature_c"], row["crs_grade"]) == ("MRN001", "38.3", "1")
    assert row["note"] == "'=HYPERLINK(1)"  # never a live spreadsheet formula
    assert AuditEvent.objects.filter(action="patient_exported", patient=patient).exists()


def test_lists_queue_and_timeline_paging_are_audited(clinician_client, patient, nurse) -> None:
    for hours in range(1, 30):
        recording.record_round(
            patient, {"clinical_time": ago(hours=hours), "heart_rate": 80}, nurse, uuid.uuid4()
        )
    clinician_client.get(reverse("queue"), {"ward": "Haem A"})
    clinician_client.get(reverse("queue"), HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="queue-rows")
    clinician_client.get(reverse("patient_list"), {"q": "Lovelace"})
    before = AuditEvent.objects.filter(action="patient_viewed").count()
    clinician_client.get(patient.get_absolute_url(), {"page": 2}, HTTP_HX_REQUEST="true")
    queue = AuditEvent.objects.filter(action="queue_viewed").order_by("pk")
    assert [e.detail["refresh"] for e in queue] == [False, True]
    assert queue[0].detail["ward"] == "Haem A"
    listed = AuditEvent.objects.get(action="patient_list_viewed")
    assert listed.detail["search"] == "Lovelace" and listed.detail["shown"] == [patient.pk]
    paged = AuditEvent.objects.filter(action="patient_viewed").latest("pk")
    assert AuditEvent.objects.filter(action="patient_viewed").count() == before + 1
    assert paged.detail["page"] == "rounds" and paged.patient == patient
