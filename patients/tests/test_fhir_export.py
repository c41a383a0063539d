"""Patient/$everything: the record as FHIR R4, validated by the R4 models."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.management import call_command
from django.urls import reverse

from patients import recording
from patients.fhir import codes
from patients.fhir.tokens import create_token

from .conftest import NORMAL, ago
from .fhir_helpers import by_code, resources, validate_r4


@pytest.fixture
def course(patient, nurse, clinician):
    """A febrile, hypoxic course with a dose of tocilizumab and a bad entry."""
    recording.record_round(patient, {"clinical_time": ago(hours=6), **NORMAL}, nurse, uuid.uuid4())
    febrile = {
        **NORMAL,
        "temperature_c": 39.2,
        "heart_rate": 118,
        "spo2": 91,
        "oxygen_device": "nasal_cannula",
        "oxygen_flow_l_min": 3.0,
        "crp_mg_l": 180.0,
        "creatinine_umol_l": 150.0,
    }
    recording.record_round(
        patient, {"clinical_time": ago(hours=4), **febrile}, nurse, uuid.uuid4()
    )
    recording.record_intervention(
        patient,
        {"kind": "tocilizumab", "drug": "tocilizumab", "dose": "8 mg/kg", "route": "IV",
         "indication": "crs", "given_at": ago(hours=3, minutes=30)},
        clinician,
        uuid.uuid4(),
    )  # fmt: skip
    recording.record_intervention(
        patient, {"kind": "oxygen_escalation", "given_at": ago(hours=3)}, clinician, uuid.uuid4()
    )
    wrong, _ = recording.record_round(
        patient,
        {"clinical_time": ago(hours=2), **NORMAL, "heart_rate": 250},
        nurse,
        uuid.uuid4(),
    )
    recording.mark_round_in_error(wrong, clinician, "Wrong patient")
    return patient


@pytest.fixture
def reader(db):
    _, secret = create_token("ehr-reader", read_only=True)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def everything(client, patient, headers) -> dict:
    response = client.get(reverse("fhir_everything", args=[patient.pk]), **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.json()


def test_every_exported_resource_validates_against_the_r4_models(client, course, reader):
    bundle = everything(client, course, reader)
    validate_r4(bundle)
    for resource in resources(bundle):
        validate_r4(resource)
    kinds = {r["resourceType"] for r in resources(bundle)}
    assert kinds == {"Patient", "Observation", "Flag", "MedicationAdministration", "Procedure"}
    assert bundle["type"] == "searchset"


def test_the_patient_carries_the_mrn_in_the_hospital_system(client, course, reader, settings):
    settings.CRS_WATCH = {**settings.CRS_WATCH, "FHIR_MRN_SYSTEM": "https://hospital.example/mrn"}
    (patient,) = resources(everything(client, course, reader), "Patient")
    assert patient["identifier"][0]["system"] == "https://hospital.example/mrn"
    assert patient["identifier"][0]["value"] == "MRN001"


def test_vital_signs_are_loinc_coded_with_ucum_units(client, course, reader):
    bundle = everything(client, course, reader)
    (temp,) = [o for o in by_code(bundle, "8310-5") if o["valueQuantity"]["value"] == 39.2]
    assert temp["category"][0]["coding"][0]["code"] == "vital-signs"
    assert temp["valueQuantity"]["system"] == codes.UCUM
    assert temp["valueQuantity"]["code"] == "Cel"
    heart = [o["valueQuantity"]["value"] for o in by_code(bundle, "8867-4")]
    assert 118 in heart


def test_blood_pressure_is_a_panel_with_systolic_and_diastolic(client, course, reader):
    (panel, *_) = by_code(everything(client, course, reader), "85354-9")
    parts = {p["code"]["coding"][0]["code"]: p["valueQuantity"] for p in panel["component"]}
    assert parts["8480-6"] == {"value": 125, "unit": "mm[Hg]", "system": codes.UCUM,
                               "code": "mm[Hg]"}  # fmt: skip
    assert parts["8462-4"]["value"] == 75


def test_spo2_carries_the_oxygen_device_and_flow(client, course, reader):
    bundle = everything(client, course, reader)
    (spo2,) = [o for o in by_code(bundle, "59408-5") if o["valueQuantity"]["value"] == 91]
    assert {cd["code"] for cd in spo2["code"]["coding"]} == {"59408-5", "2708-6"}
    flow = [p for p in spo2["component"] if p["code"]["coding"][0]["code"] == "3151-8"]
    assert flow[0]["valueQuantity"]["value"] == 3.0
    device = [p for p in spo2["component"] if "valueCodeableConcept" in p]
    assert device[0]["valueCodeableConcept"]["coding"][0]["code"] == "nasal_cannula"


def test_labs_are_laboratory_observations_in_stored_units(client, course, reader):
    bundle = everything(client, course, reader)
    (crp,) = by_code(bundle, "1988-5")
    assert crp["category"][0]["coding"][0]["code"] == "laboratory"
    assert crp["valueQuantity"]["value"] == 180.0
    in_round, baseline = sorted(
        by_code(bundle, "14682-9"), key=lambda o: "effectiveDateTime" in o
    )[::-1]
    assert in_round["valueQuantity"] == {"value": 150.0, "unit": "umol/L", "system": codes.UCUM,
                                         "code": "umol/L"}  # fmt: skip
    # The patient's baseline, against which creatinine is graded, goes too.
    assert baseline["valueQuantity"]["value"] == 80.0
    assert baseline["category"][1]["coding"][0]["code"] == "baseline"


def test_news2_has_the_uk_core_early_warning_score_shape(client, course, reader):
    bundle = everything(client, course, reader)
    news2 = [o for o in by_code(bundle, codes.NEWS2_TOTAL[0]) if o["status"] == "final"]
    first = news2[0]
    assert first["category"][0]["coding"][0]["code"] == "survey"
    assert first["valueQuantity"]["code"] == "{ScoreOf}"
    assert (
        first["valueQuantity"]["value"] == course.rounds.order_by("clinical_time")[0].news2_total
    )
    components = {p["code"]["coding"][0]["code"] for p in first["component"]}
    assert components == {code for code, _ in codes.NEWS2_PARAMETERS.values()}
    ids = {f"Observation/{r['id']}" for r in resources(bundle, "Observation")}
    assert first["derivedFrom"] and {d["reference"] for d in first["derivedFrom"]} <= ids


def test_crs_grade_names_astct_2019_and_carries_its_basis(client, course, reader):
    bundle = everything(client, course, reader)
    grades = [o for o in by_code(bundle, codes.CRS_GRADE_CODE[0]) if o["status"] == "final"]
    febrile = grades[1]
    stored = course.rounds.order_by("clinical_time")[1].crs_grade
    assert stored >= 1
    assert febrile["valueInteger"] == stored
    assert febrile["method"]["coding"][0]["code"] == "ASTCT2019"
    assert "Lee DW" in febrile["note"][0]["text"]


def test_flags_are_exported_open_and_resolved(client, course, reader):
    flags = resources(everything(client, course, reader), "Flag")
    assert flags
    statuses = {f["status"] for f in flags}
    assert "active" in statuses
    assert all(f["code"]["text"] for f in flags)


def test_what_was_given_is_medication_or_procedure(client, course, reader):
    bundle = everything(client, course, reader)
    (toci,) = resources(bundle, "MedicationAdministration")
    assert toci["medicationCodeableConcept"]["coding"][0]["code"] == "tocilizumab"
    assert toci["dosage"]["text"] == "8 mg/kg"
    assert toci["reasonCode"][0]["coding"][0]["code"] == "crs"
    (oxygen,) = resources(bundle, "Procedure")
    assert oxygen["code"]["coding"][0]["code"] == "oxygen_escalation"


def test_a_round_entered_in_error_exports_as_entered_in_error(client, course, reader):
    bundle = everything(client, course, reader)
    (wrong,) = [o for o in by_code(bundle, "8867-4") if o["valueQuantity"]["value"] == 250]
    assert wrong["status"] == "entered-in-error"


def test_the_export_command_writes_the_same_bundle(course, tmp_path):
    out = tmp_path / "record.json"
    call_command("export_fhir", "--patient", course.mrn, "--output", str(out))
    bundle = json.loads(out.read_text())
    validate_r4(bundle)
    by_id = tmp_path / "by-id.json"
    call_command("export_fhir", "--patient", str(course.pk), "--output", str(by_id))
    assert len(json.loads(by_id.read_text())["entry"]) == len(bundle["entry"])


def test_the_export_command_names_an_unknown_patient(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No patient"):
        call_command("export_fhir", "--patient", "NOPE")
