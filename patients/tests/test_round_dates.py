"""A round dated before registration or day 0 is questioned, never slotted in silently."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from patients.models import ObservationRound, Patient

from .conftest import make_patient


def post_round(client, patient: Patient, when, **extra):
    data = {
        "client_key": str(uuid.uuid4()),
        "clinical_time": timezone.localtime(when).strftime("%Y-%m-%dT%H:%M"),
        "heart_rate": "88",
        **extra,
    }
    return client.post(reverse("round_create", args=[patient.pk]), data)


def test_a_round_before_registration_asks_for_confirmation(nurse_client, db) -> None:
    patient = make_patient(day0=timezone.localdate() - timedelta(days=20))
    Patient.objects.filter(pk=patient.pk).update(created_at=timezone.now() - timedelta(days=2))
    response = post_round(nurse_client, patient, timezone.now() - timedelta(days=5))
    assert response.status_code == 422
    assert "before the patient was registered" in response.content.decode()
    assert not ObservationRound.objects.exists()
    confirmed = post_round(
        nurse_client, patient, timezone.now() - timedelta(days=5), confirm_early="on"
    )
    assert confirmed.status_code == 302
    assert ObservationRound.objects.count() == 1


def test_a_round_before_day_0_asks_for_confirmation(nurse_client, db) -> None:
    patient = make_patient(day0=timezone.localdate() + timedelta(days=2))
    response = post_round(nurse_client, patient, timezone.now() - timedelta(hours=2))
    assert response.status_code == 422
    assert "before day 0" in response.content.decode()
    assert (
        post_round(
            nurse_client, patient, timezone.now() - timedelta(hours=2), confirm_early="on"
        ).status_code
        == 302
    )


def test_a_round_after_registration_and_day_0_needs_no_question(nurse_client, patient):
    assert (
        post_round(nurse_client, patient, timezone.now() - timedelta(hours=1)).status_code == 302
    )


def test_the_confirmation_alone_is_not_an_observation(nurse_client, patient) -> None:
    response = nurse_client.post(
        reverse("round_create", args=[patient.pk]),
        {
            "client_key": str(uuid.uuid4()),
            "clinical_time": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "confirm_early": "on",
        },
    )
    assert response.status_code == 422
    assert "Record at least one observation" in response.content.decode()
