"""Tocilizumab dose against the label, with the patient's weight
(REFERENCE k6), and the configurable ICE interval."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from patients.clinical.dosing import check_tocilizumab_dose
from patients.models import Intervention

from .conftest import ago
from .test_assess_command import run

T0 = datetime(2026, 1, 3, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "dose, weight, mismatch",
    [
        ("640 mg", 80, False),  # 8 mg/kg
        ("8 mg/kg", 80, False),
        ("800 mg", 120, False),  # 960 mg capped at 800
        ("960 mg", 120, True),  # above the cap
        ("400 mg", 80, True),  # 5 mg/kg
        ("300 mg", 25, False),  # under 30 kg: 12 mg/kg
        ("200 mg", 25, True),  # 8 mg/kg is too little under 30 kg
    ],
    ids=["8mgkg", "8mgkg-text", "cap-800", "over-cap", "low", "under-30kg-12mgkg", "under-30kg-8"],
)
def test_a_tocilizumab_dose_is_checked_against_the_label_by_weight(dose, weight, mismatch):
    check = check_tocilizumab_dose(dose, weight, T0)
    assert bool(check.warnings) == mismatch


def test_a_repeat_tocilizumab_dose_sooner_than_8_hours_is_a_mismatch():
    check = check_tocilizumab_dose("640 mg", 80, T0, [T0 - timedelta(hours=5)])
    assert "at least 8 h between doses" in check.warnings[0]


def test_assess_reports_each_tocilizumab_dose_check_with_the_patients_weight():
    status, out, err = run(
        {
            "patient": {"weight_kg": 80},
            "rounds": [
                {"time": "2026-01-03T10:00:00Z", "temperature_c": 38.9, "oxygen_device": "cpap"}
            ],
            "interventions": [
                {"time": "2026-01-03T09:00:00Z", "kind": "tocilizumab", "dose": "1000 mg"}
            ],
        }
    )
    assert status == 0, err
    check = out[0]["tocilizumab_dose_checks"][0]
    assert check["expected_mg"] == 640 and "above the 800 mg" in check["warnings"][0]
    toci = next(o for o in out[0]["treatment_options"] if o["id"] == "tocilizumab")
    assert any("Dose 1000 mg" in c for c in toci["cautions"])


def test_a_dose_mismatch_needs_confirmation_and_is_shown_in_the_ledger(
    clinician_client, patient
) -> None:
    patient.weight_kg = 80
    patient.save()
    url = reverse("intervention_create", args=[patient.pk])
    form = {
        "client_key": str(uuid.uuid4()),
        "kind": "tocilizumab",
        "drug": "tocilizumab",
        "dose": "400 mg",
        "route": "IV",
        "indication": "crs",
        "given_at": ago(minutes=5).strftime("%Y-%m-%dT%H:%M"),
    }
    response = clinician_client.post(url, form)
    assert response.status_code == 422
    assert "differs from the label dose" in response.content.decode()
    assert not Intervention.objects.exists()
    clinician_client.post(url, {**form, "confirm_dose": "on"})
    item = Intervention.objects.get()
    assert "differs from the label dose" in item.dose_check
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    assert "Dose check (confirmed by recorder)" in page
    assert "for: Treatment of CRS" in page


def test_the_ice_interval_follows_its_setting(settings):
    settings.CRS_WATCH = {**settings.CRS_WATCH, "ICE_INTERVAL_HOURS": 8}
    rounds = [
        {"time": "2026-03-02T08:00:00Z", "temperature_c": 37.0, "ice_score": 10},
        {"time": "2026-03-02T17:00:00Z", "temperature_c": 37.0},
    ]
    status, out, err = run({"rounds": rounds, "exposure": {"kind": "car_t", "day0": "2026-03-01"}})
    assert status == 0, err
    ice = [f for f in out[1]["flags"] if f["title"].startswith("ICE assessment overdue")]
    assert ice and "every 8 hours" in ice[0]["basis"]["rule"]
