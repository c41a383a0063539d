"""At the bedside: who responds and by when, and what the nurse recorded."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from patients import recording
from patients.models import AuditEvent, BedsideRecord, Escalation, Flag
from patients.policy import load

from .conftest import ago, make_patient
from .test_escalation import NEWS2_HIGH, policy
from .test_views import round_post

pytestmark = pytest.mark.django_db


def escalate(patient, nurse) -> Escalation:
    recording.record_round(
        patient, {"clinical_time": ago(minutes=5), **NEWS2_HIGH}, nurse, uuid.uuid4()
    )
    return Escalation.objects.get(patient=patient)


def test_the_saved_round_says_who_responds_and_by_when(nurse_client, patient) -> None:
    load(policy(email="haem-registrar@example.org"), "p.toml")
    response = nurse_client.post(
        reverse("round_create", args=[patient.pk]),
        round_post(**NEWS2_HIGH),
        follow=True,
    )
    page = response.content.decode()
    esc = Escalation.objects.get()
    assert "This round calls for escalation" in page
    assert "Escalated to Haematology registrar: respond by" in page
    assert "within 15 min" in page
    assert "not confirmed by the hospital" not in page  # loaded from the hospital's file
    assert "Round saved" in page  # the round's own result screen
    assert f'id="escalation-{esc.pk}"' in page
    assert "Save escalation record" in page
    assert page.count(f'id="escalation-{esc.pk}"') == 1


def test_the_shipped_default_minutes_are_shown_as_unconfirmed(nurse_client, nurse) -> None:
    patient = make_patient()
    escalate(patient, nurse)  # default policy: NEWS2 7+ calls critical-care outreach
    page = nurse_client.get(patient.get_absolute_url()).content.decode()
    assert "Escalated to Critical-care outreach" in page
    assert "local default, not confirmed by the hospital" in page
    assert "No contact is set up for Critical-care outreach on Haem A: call them directly" in page
    assert "RCP NEWS2 (2017) chart 4" in page


def test_a_round_whose_flags_the_policy_does_not_name_says_so(nurse_client, patient) -> None:
    load(policy(email="x@example.org").replace("news2:high", "crs>=4"), "p.toml")
    response = nurse_client.post(
        reverse("round_create", args=[patient.pk]),
        round_post(**NEWS2_HIGH),
        follow=True,
    )
    assert "No escalation: this hospital's escalation policy names no tier" in (
        response.content.decode()
    )


def test_the_nurse_records_who_was_informed(nurse_client, nurse) -> None:
    patient = make_patient()
    esc = escalate(patient, nurse)
    url = reverse("escalation_bedside", args=[patient.pk, esc.pk])
    response = nurse_client.post(
        url,
        {f"e{esc.pk}-informed": "Dr Patel, haematology registrar", f"e{esc.pk}-how": "bleep"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    record = BedsideRecord.objects.get()
    assert (record.informed, record.how, record.recorded_by) == (
        "Dr Patel, haematology registrar",
        "bleep",
        nurse,
    )
    assert record.informed_at is not None
    assert "Informed Dr Patel, haematology registrar (Bleep / pager)" in response.content.decode()
    assert AuditEvent.objects.filter(action="escalation_bedside_recorded").exists()


def test_a_reason_for_not_escalating_is_kept_and_shown(nurse_client, nurse) -> None:
    patient = make_patient()
    esc = escalate(patient, nurse)
    nurse_client.post(
        reverse("escalation_bedside", args=[patient.pk, esc.pk]),
        {f"e{esc.pk}-not_escalated_reason": "Team reviewed 10 min ago; plan in notes"},
    )
    page = nurse_client.get(patient.get_absolute_url()).content.decode()
    assert "Not escalated: Team reviewed 10 min ago; plan in notes" in page
    # Recording a decision does not silence the escalation: only a clinician's
    # acknowledgement stops the timer.
    esc.refresh_from_db()
    assert esc.state == "open"


def test_an_empty_record_is_refused_with_a_field_message_keeping_what_was_typed(
    nurse_client, nurse
) -> None:
    patient = make_patient()
    esc = escalate(patient, nurse)
    url = reverse("escalation_bedside", args=[patient.pk, esc.pk])
    response = nurse_client.post(url, {f"e{esc.pk}-how": "phone"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "Record who was informed, or give a reason" in response.content.decode()
    both = nurse_client.post(
        url,
        {f"e{esc.pk}-informed": "Dr Lee", f"e{esc.pk}-not_escalated_reason": "not needed"},
        HTTP_HX_REQUEST="true",
    )
    assert both.status_code == 422
    assert 'value="Dr Lee"' in both.content.decode()
    assert not BedsideRecord.objects.exists()


def test_delivery_attempts_and_failures_are_on_the_patient_page(
    nurse_client, nurse, settings
) -> None:
    from patients import notifications
    from patients.models import Notification

    from .conftest import free_port

    settings.CRS_WATCH = {**settings.CRS_WATCH, "NOTIFY_MAX_ATTEMPTS": 1}
    load(policy(webhook=f"http://127.0.0.1:{free_port()}/hook"), "p.toml")
    patient = make_patient()
    escalate(patient, nurse)
    notifications.deliver(Notification.objects.get().pk)
    page = nurse_client.get(patient.get_absolute_url()).content.decode()
    assert "1 notification could not be delivered: call them directly" in page
    assert "Attempt 1" in page
    assert "ConnectionRefusedError" in page


def test_a_nurse_who_is_worried_raises_a_concern_that_escalates(nurse_client, patient) -> None:
    response = nurse_client.post(
        reverse("raise_concern", args=[patient.pk]), {"reason": "Not herself, clammy"}, follow=True
    )
    flag = Flag.objects.get(patient=patient, kind="concern")
    assert "Not herself, clammy" in flag.title
    esc = Escalation.objects.get(flags=flag)
    assert esc.steps.get().tier_name == "team"  # default policy: concern -> team
    page = response.content.decode()
    assert "Concern recorded and escalated to Responsible medical team" in page
    assert AuditEvent.objects.filter(action="concern_raised").exists()


def test_a_concern_needs_a_reason(nurse_client, patient) -> None:
    nurse_client.post(reverse("raise_concern", args=[patient.pk]), {"reason": " "})
    assert not Flag.objects.filter(kind="concern").exists()


def test_the_admin_role_cannot_record_at_the_bedside(client, admin_user, nurse) -> None:
    patient = make_patient()
    esc = escalate(patient, nurse)
    client.force_login(admin_user)
    url = reverse("escalation_bedside", args=[patient.pk, esc.pk])
    assert (
        client.post(url, {f"e{esc.pk}-informed": "x", f"e{esc.pk}-how": "phone"}).status_code
        == 403
    )
    assert (
        client.post(reverse("raise_concern", args=[patient.pk]), {"reason": "x"}).status_code
        == 403
    )


@pytest.mark.parametrize("count", [1, 3])
def test_the_escalation_panel_reads_a_fixed_number_of_queries(
    clinician_client, nurse, count, django_assert_num_queries
) -> None:
    from patients.escalation import raise_concern

    patient = make_patient()
    escalate(patient, nurse)
    for i in range(count):
        raise_concern(patient, nurse, f"worry {i}")
    assert Escalation.objects.count() == count + 1
    # Seven of them read the panel (whether the patient has any escalation
    # to show; what its cards show, for its cache key; escalations, steps,
    # messages, attempts, bedside records), however many escalations there
    # are; one the episodes region's rounds.
    with django_assert_num_queries(27):
        clinician_client.get(patient.get_absolute_url())
