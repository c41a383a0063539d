"""Doses out of the schedule's order are asked about once (issue 18.2).

The order is the label's (products.toml, REFERENCE k8: teclistamab step-up
dose 1, step-up dose 2, first treatment dose); asking is local policy.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from patients import recording
from patients.clinical.dose_order import next_step, odd_dose
from patients.models import AuditEvent, DoseEvent, Exposure

from .conftest import ago
from .test_course_after_therapy import bispecific_patient, form_time

pytestmark = pytest.mark.django_db

SCHEDULE = [
    ("SUD1", "Step-up dose 1"),
    ("SUD2", "Step-up dose 2"),
    ("TD1", "First treatment dose"),
]
LONDON = ZoneInfo("Europe/London")


def test_doses_in_order_are_not_asked_about() -> None:
    day0 = ago(days=3)
    recorded = [("SUD1", ago(days=3)), ("SUD2", ago(days=1))]
    assert odd_dose("TD1", ago(hours=1), SCHEDULE, recorded, day0, LONDON) == []
    assert odd_dose("other", ago(days=10), SCHEDULE, recorded, None, LONDON) == []


def test_each_oddity_is_named() -> None:
    day0 = ago(days=3)
    sud1, sud2 = ago(days=3) + timedelta(hours=1), ago(days=1)
    early = odd_dose("TD1", ago(days=5), SCHEDULE, [("SUD1", sud1)], day0, LONDON)
    assert early[0].startswith("it is before day 0")
    assert early[1].startswith("it is before Step-up dose 1, given")
    again = odd_dose(
        "SUD1", ago(hours=2), SCHEDULE, [("SUD1", sud1), ("SUD2", sud2)], day0, LONDON
    )
    assert again[0].startswith("Step-up dose 1 is already recorded")
    assert again[1].startswith("it is after Step-up dose 2, given")


def test_the_next_step_not_recorded_is_the_likely_one() -> None:
    assert next_step(SCHEDULE, set()) == "SUD1"
    assert next_step(SCHEDULE, {"SUD1", "SUD2"}) == "TD1"
    assert next_step(SCHEDULE, {"SUD1", "SUD2", "TD1"}) is None


def test_the_dose_form_asks_once_then_records_and_preselects_the_next_step(
    clinician_client, clinician
) -> None:
    patient = bispecific_patient()
    Exposure.objects.filter(patient=patient).update(day0=timezone.localdate() - timedelta(days=3))
    for step, hours in (("SUD1", 60), ("SUD2", 20)):
        dose = {"step": step, "dose": "0.3 mg/kg", "given_at": ago(hours=hours)}
        recording.record_dose(patient, dose, clinician, uuid.uuid4())
    url = reverse("dose_create", args=[patient.pk])
    form = clinician_client.get(url).content.decode()
    assert '<option value="TD1" selected>First treatment dose</option>' in form
    assert "I have checked" not in form  # the confirmation shows only when asked
    data = {
        "client_key": uuid.uuid4(),
        "step": "TD1",
        "dose": "1.5 mg/kg",
        "given_at": form_time(ago(days=5)),
    }
    asked = clinician_client.post(url, data)
    assert asked.status_code == 422
    page = asked.content.decode()
    assert "it is before day 0" in page and "it is before Step-up dose 1, given" in page
    assert 'value="1.5 mg/kg"' in page  # what was typed is kept
    assert DoseEvent.objects.count() == 2
    again = clinician_client.post(
        url, {**data, "step": "SUD1", "given_at": form_time(ago(hours=2))}
    )
    assert "Step-up dose 1 is already recorded" in again.content.decode()
    assert "it is after Step-up dose 2, given" in again.content.decode()
    confirmed = clinician_client.post(url, {**data, "confirm_order": "on"})
    assert confirmed.status_code == 302
    dose = DoseEvent.objects.get(step="TD1")
    event = AuditEvent.objects.get(action="dose_confirmed")
    assert event.object_id == str(dose.pk)
    assert event.detail["confirmed"][0].startswith("it is before day 0")
