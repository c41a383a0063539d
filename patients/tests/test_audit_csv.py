"""The audit trail as CSV for a date range (admin role)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from patients.models import AuditEvent

from .conftest import make_user


def download(client, **params) -> list[list[str]]:
    response = client.get(reverse("audit_csv"), params)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_it_exports_only_the_events_in_the_date_range(client, patient):
    admin = make_user("ada", "admin")
    client.force_login(admin)
    client.get(reverse("audit_log"))  # nothing audited by reading the trail
    old = AuditEvent.objects.create(user=admin, action="patient_viewed", object_type="Patient",
                                    object_id=str(patient.pk), patient=patient)  # fmt: skip
    AuditEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=40))
    AuditEvent.objects.create(
        user=admin, action="=cmd|' /C calc'!A0", object_type="Patient", object_id="1"
    )
    today = timezone.localdate().isoformat()
    rows = download(client, start=today, end=today)
    assert rows[0][:3] == ["at", "user", "action"]
    actions = [r[2] for r in rows[1:]]
    assert "patient_viewed" not in actions
    assert "'=cmd|' /C calc'!A0" in actions  # formula-safe
    assert AuditEvent.objects.filter(action="audit_exported").exists()


def test_a_reversed_range_is_answered_with_a_field_message(client, db):
    client.force_login(make_user("ada", "admin"))
    response = client.get(reverse("audit_csv"), {"start": "2026-11-20", "end": "2026-11-01"})
    assert response.status_code == 422
    assert "before the start date" in response.content.decode()
    bad = client.get(reverse("audit_csv"), {"start": "yesterday", "end": "x" * 500})
    assert bad.status_code == 422


def test_clinical_roles_cannot_export_the_audit_trail(client, clinician):
    client.force_login(clinician)
    assert client.get(reverse("audit_csv")).status_code == 403
