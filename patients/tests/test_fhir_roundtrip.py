"""Export, ingest into an empty database, export again: the same clinical content."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from patients.fhir.tokens import create_token
from patients.models import ObservationRound, Patient

from .fhir_helpers import resources, validate_r4
from .test_fhir_export import course  # noqa: F401  (the fixture)

# What may differ between two databases: their own ids and references, and
# when the export ran. Everything else is clinical content.
LOCAL_KEYS = {"id", "fullUrl", "identifier", "derivedFrom", "subject", "timestamp", "link"}


def clinical(resource: dict) -> dict:
    out = {k: v for k, v in resource.items() if k not in LOCAL_KEYS}
    if resource["resourceType"] == "Flag":
        # A flag that a correction resolved carries the time it was done.
        out["period"] = {"start": resource["period"]["start"]}
    return out


def content(bundle: dict) -> list[str]:
    return sorted(json.dumps(clinical(r), sort_keys=True) for r in resources(bundle))


def as_transaction(bundle: dict) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": e["fullUrl"],
                "resource": e["resource"],
                "request": {"method": "POST", "url": e["resource"]["resourceType"]},
            }
            for e in bundle["entry"]
        ],
    }


@pytest.mark.django_db(transaction=True)
def test_a_round_trip_through_an_empty_database_keeps_the_clinical_content(
    client,
    course,  # noqa: F811
):
    _, secret = create_token("ehr")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    first = client.get(reverse("fhir_everything", args=[course.pk]), **auth).json()
    validate_r4(first)
    kinds = {r["resourceType"] for r in resources(first)}
    assert {"Flag", "MedicationAdministration", "Procedure", "Observation"} <= kinds
    rounds = ObservationRound.objects.count()

    call_command("flush", interactive=False, verbosity=0)  # an empty database
    assert not Patient.objects.exists()
    _, secret = create_token("ehr")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    response = client.post(
        reverse("fhir_bundle"),
        as_transaction(first),
        content_type="application/fhir+json",
        **auth,
    )
    assert response.status_code == 200, response.content
    assert ObservationRound.objects.count() == rounds

    patient = Patient.objects.get(mrn=course.mrn)
    second = client.get(reverse("fhir_everything", args=[patient.pk]), **auth).json()
    assert content(second) == content(first)
