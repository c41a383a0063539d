"""Escalation end to end: a real SMTP server and a real HTTP receiver.

Nothing is sent inside the web request; the worker sends each step once,
signs webhooks, retries after a receiver error, cascades when a tier does
not acknowledge in time and stops when the flag is acknowledged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from pydoc import locate

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.signing import SignedPackage

from patients import escalation, notifications, recording
from patients.models import (
    AuditEvent,
    Escalation,
    EscalationState,
    EscalationStep,
    Notification,
    NotificationAttempt,
    NotificationState,
    Patient,
)
from patients.policy import load

from .conftest import NORMAL, ago, make_patient, make_user
from .test_concurrency import in_threads

# NEWS2 8 (respiration 3, SpO2 3, pulse 2): the high band.
NEWS2_HIGH = {**NORMAL, "respiratory_rate": 26, "spo2": 90, "heart_rate": 120}
SECRET = "a-shared-secret"


def policy(webhook: str = "", email: str = "", identity: bool = False) -> str:
    contact = 'ward = "*"\ntier = "team"\n'
    if email:
        contact += f'email = "{email}"\n'
    if webhook:
        contact += f'webhook = "{webhook}"\nsecret = "{SECRET}"\n'
    if identity:
        contact += "include_identity = true\n"
    return (
        '[[tiers]]\nname = "ward"\nminutes = 30\n'
        '[[tiers]]\nname = "team"\nlabel = "Haematology registrar"\nminutes = 15\n'
        '[[tiers]]\nname = "outreach"\nminutes = 10\n'
        '[[triggers]]\non = "news2:high"\ntier = "team"\n'
        f"[[contacts]]\n{contact}"
        '[[contacts]]\nward = "*"\ntier = "outreach"\nemail = "outreach@example.org"\n'
    )


def run_queued() -> int:
    """Run what the web request queued, the way a worker takes it off the queue."""
    broker = get_broker()
    ran = 0
    while broker.queue_size():
        for ack_id, package in broker.dequeue() or []:
            task = SignedPackage.loads(package)
            locate(task["func"])(*task["args"], **task["kwargs"])
            broker.acknowledge(ack_id)
            ran += 1
    return ran


def high_round(patient: Patient, user) -> None:
    recording.record_round(
        patient, {"clinical_time": ago(minutes=5), **NEWS2_HIGH}, user, uuid.uuid4()
    )


@pytest.mark.django_db
def test_a_saved_round_queues_the_notification_and_sends_nothing_in_the_request(
    nurse_client, patient, smtp_server, django_capture_on_commit_callbacks
) -> None:
    load(policy(email="haem-registrar@example.org"), "p.toml")
    with django_capture_on_commit_callbacks(execute=True):
        response = nurse_client.post(
            reverse("round_create", args=[patient.pk]),
            {
                "clinical_time": timezone.localtime(ago(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
                "client_key": uuid.uuid4(),
                **NEWS2_HIGH,
            },
        )
    assert response.status_code == 302
    esc = Escalation.objects.get(patient=patient)
    assert esc.steps.get().tier_name == "team"
    assert smtp_server.messages == []  # nothing sent inside the request
    assert Notification.objects.get().state == NotificationState.PENDING

    assert run_queued() == 1
    [message] = smtp_server.messages
    assert message["To"] == "haem-registrar@example.org"
    assert "Haematology registrar" in message["Subject"]
    body = message.get_content()
    assert "NEWS2 risk rose" in body
    assert f"/patients/{patient.pk}/" in body
    assert patient.mrn not in body  # identity only where the hospital turns it on
    note = Notification.objects.get()
    assert note.state == NotificationState.SENT
    assert note.attempt_log.get().ok


@pytest.mark.django_db
def test_one_step_is_notified_once_however_often_the_job_runs(nurse, smtp_server) -> None:
    load(policy(email="haem-registrar@example.org"), "p.toml")
    patient = make_patient()
    high_round(patient, nurse)
    note = Notification.objects.get()
    assert notifications.deliver(note.pk)
    assert not notifications.deliver(note.pk)
    assert not notifications.deliver(note.pk, timezone.now() + timedelta(hours=1))
    assert len(smtp_server.messages) == 1
    assert NotificationAttempt.objects.count() == 1


@pytest.mark.django_db
def test_the_webhook_is_signed_and_carries_the_documented_fields(nurse, webhook_receiver) -> None:
    load(policy(webhook=webhook_receiver.url), "p.toml")
    patient = make_patient(ward="Haem B", bed="12")
    high_round(patient, nurse)
    esc = Escalation.objects.get()
    assert notifications.deliver(Notification.objects.get().pk)
    [(headers, body)] = webhook_receiver.posts
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-CRS-Watch-Signature"] == f"sha256={expected}"
    # Spelt exactly as documented (the lookup above ignores case).
    assert "X-CRS-Watch-Signature" in headers.keys()  # noqa: SIM118
    assert headers["Content-Type"] == "application/json"
    data = json.loads(body)
    assert data["event"] == "escalation.opened"
    assert data["escalation_id"] == esc.pk
    assert data["tier"] == "team"
    assert data["attempt"] == 1
    assert (data["ward"], data["bed"]) == ("Haem B", "12")
    assert data["trigger"] == {
        "kind": "grade_rise",
        "severity": "urgent",
        "title": "NEWS2 risk rose low -> high",
    }
    assert data["opened_at"] == esc.opened_at.isoformat()
    assert data["url"].endswith(f"/patients/{patient.pk}/")
    assert "patient" not in data


@pytest.mark.django_db
def test_a_contact_trusted_with_identity_gets_the_patient_name_and_mrn(
    nurse, webhook_receiver
) -> None:
    load(policy(webhook=webhook_receiver.url, identity=True), "p.toml")
    patient = make_patient()
    high_round(patient, nurse)
    notifications.deliver(Notification.objects.get().pk)
    data = json.loads(webhook_receiver.posts[0][1])
    assert data["patient"] == {"mrn": patient.mrn, "name": patient.name}


@pytest.mark.django_db
def test_a_receiver_error_is_stored_and_retried_after_a_back_off(
    nurse, webhook_receiver, settings
) -> None:
    settings.CRS_WATCH = {**settings.CRS_WATCH, "NOTIFY_RETRY_SECONDS": 60}
    load(policy(webhook=webhook_receiver.url), "p.toml")
    high_round(make_patient(), nurse)
    note = Notification.objects.get()
    webhook_receiver.answers = [500]
    now = timezone.now()
    assert not notifications.deliver(note.pk, now)
    note.refresh_from_db()
    assert note.state == NotificationState.PENDING
    assert note.next_attempt_at == now + timedelta(seconds=60)
    failed = note.attempt_log.get()
    assert (failed.ok, failed.outcome) == (False, "HTTP 500 Internal Server Error")
    # Not before the back-off...
    assert not notifications.deliver(note.pk, now + timedelta(seconds=30))
    assert notifications.due_ids(now + timedelta(seconds=30)) == []
    # ...then the scheduler's sweep finds it and the second attempt succeeds.
    assert notifications.due_ids(now + timedelta(seconds=61)) == [note.pk]
    assert notifications.deliver(note.pk, now + timedelta(seconds=61))
    assert [json.loads(b)["attempt"] for _, b in webhook_receiver.posts] == [1, 2]
    assert list(note.attempt_log.values_list("ok", flat=True)) == [False, True]


@pytest.mark.django_db
def test_an_unreachable_receiver_is_given_up_after_the_last_attempt(nurse, settings) -> None:
    settings.CRS_WATCH = {**settings.CRS_WATCH, "NOTIFY_MAX_ATTEMPTS": 2}
    from .conftest import free_port

    load(policy(webhook=f"http://127.0.0.1:{free_port()}/hook"), "p.toml")
    high_round(make_patient(), nurse)
    note = Notification.objects.get()
    later = timezone.now()
    for _ in range(2):
        notifications.deliver(note.pk, later)
        later += timedelta(hours=1)
    note.refresh_from_db()
    assert note.state == NotificationState.FAILED
    assert [a.ok for a in note.attempt_log.all()] == [False, False]
    assert "ConnectionRefusedError" in note.attempt_log.first().outcome


@pytest.mark.django_db
def test_an_unacknowledged_escalation_cascades_to_the_next_tier_after_its_minutes(
    nurse, smtp_server
) -> None:
    load(policy(email="haem-registrar@example.org"), "p.toml")
    high_round(make_patient(), nurse)
    esc = Escalation.objects.get()
    first = esc.steps.get()
    assert first.due_at == esc.opened_at + timedelta(minutes=15)
    assert escalation.cascade_due(first.due_at - timedelta(seconds=1)) == 0
    assert escalation.cascade_due(first.due_at) == 1
    assert escalation.cascade_due(first.due_at + timedelta(minutes=1)) == 0
    esc.refresh_from_db()
    second = esc.steps.get(tier_name="outreach")
    assert "Not acknowledged within 15 min" in second.reason
    assert esc.due_at == first.due_at + timedelta(minutes=10)
    note = Notification.objects.get(step=second)
    assert notifications.deliver(note.pk, first.due_at)
    message = smtp_server.messages[-1]
    assert message["To"] == "outreach@example.org"
    assert "This is a cascade" in message.get_content()
    assert AuditEvent.objects.filter(action="escalation_cascaded", object_id=str(esc.pk)).exists()
    # Past the last tier it is marked unanswered, and stays on show.
    escalation.cascade_due(esc.due_at)
    esc.refresh_from_db()
    assert esc.state == EscalationState.UNANSWERED


@pytest.mark.django_db
def test_acknowledging_the_flag_stops_the_cascade(nurse, clinician) -> None:
    load(policy(email="haem-registrar@example.org"), "p.toml")
    high_round(make_patient(), nurse)
    esc = Escalation.objects.get()
    flag = esc.flags.first()
    assert recording.acknowledge_flag(flag, clinician, "Seen, plan made")
    esc.refresh_from_db()
    assert esc.state == EscalationState.ACKNOWLEDGED
    assert esc.acknowledged_by == clinician
    assert escalation.cascade_due(esc.due_at + timedelta(hours=2)) == 0
    assert esc.steps.count() == 1


@pytest.mark.django_db
def test_a_round_that_triggers_nothing_in_the_policy_opens_no_escalation(nurse) -> None:
    load(policy(email="x@example.org").replace("news2:high", "crs>=3"), "p.toml")
    high_round(make_patient(), nurse)
    assert not Escalation.objects.exists()


@pytest.mark.django_db
def test_the_scheduled_tick_cascades_and_raises_overdue_flags(nurse) -> None:
    from patients import jobs

    load(policy(email="haem-registrar@example.org"), "p.toml")
    patient = make_patient()
    recording.record_round(
        patient, {"clinical_time": ago(hours=3), **NEWS2_HIGH}, nurse, uuid.uuid4()
    )
    Escalation.objects.update(due_at=ago(minutes=1))
    summary = jobs.tick()
    assert summary["cascaded"] == 1
    assert summary["overdue_flags"] >= 1  # NEWS2 high: continuous monitoring, 1 h at most
    assert patient.flags.filter(kind="overdue").exists()


# -- several workers at once (PostgreSQL) ------------------------------------

# SQLite serialises every writer, so there is no race to lose there; the
# sequential tests above pin the same guards on both databases.
needs_parallel_writers = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs real parallel connections (PostgreSQL)"
)


def race(job, workers: int = 4) -> None:
    assert in_threads([job] * workers) == []


@pytest.mark.django_db(transaction=True)
@needs_parallel_writers
def test_two_workers_racing_on_one_notification_send_it_once(webhook_receiver) -> None:
    load(policy(webhook=webhook_receiver.url), "p.toml")
    nurse = make_user("nina", "nurse")
    high_round(make_patient(), nurse)
    pk = Notification.objects.get().pk
    race(lambda: notifications.deliver(pk))
    assert len(webhook_receiver.posts) == 1
    assert NotificationAttempt.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@needs_parallel_writers
def test_two_workers_racing_on_one_due_escalation_cascade_it_once(webhook_receiver) -> None:
    load(policy(webhook=webhook_receiver.url), "p.toml")
    nurse = make_user("nina", "nurse")
    high_round(make_patient(), nurse)
    due = Escalation.objects.get().due_at
    race(lambda: escalation.cascade_due(due))
    assert EscalationStep.objects.filter(tier_name="outreach").count() == 1
    assert AuditEvent.objects.filter(action="escalation_cascaded").count() == 1
