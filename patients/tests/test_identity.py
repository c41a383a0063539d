"""Identities cannot be confused: look-alike MRNs, hidden direction controls."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import Patient

from .conftest import make_patient


def registration(**changes) -> dict:
    data = {
        "mrn": "NEW-1",
        "given_name": "Grace",
        "family_name": "Hopper",
        "birth_date": "1956-12-09",
        "sex": "female",
        "ward": "Haem A",
        "spo2_scale": "1",
        "exposure_kind": "car_t",
        "exposure_agent": "liso-cel",
        "day0": timezone.localdate().isoformat(),
    }
    data.update(changes)
    return data


LOOK_ALIKES = {
    "zero-width space": "DEMO-0001\u200b",
    "lower case": "demo-0001",
    "fullwidth letters": "\uff24\uff25\uff2d\uff2f\uff0d\uff10\uff10\uff10\uff11",
    "soft hyphen and spaces": " DEMO-\u00ad0001 ",
    "word joiner": "DEMO\u2060-0001",
}


@pytest.mark.parametrize("typed", LOOK_ALIKES.values(), ids=LOOK_ALIKES.keys())
def test_a_look_alike_mrn_does_not_register_a_second_patient(nurse_client, typed) -> None:
    existing = make_patient("DEMO-0001")
    response = nurse_client.post(reverse("patient_create"), registration(mrn=typed))
    assert response.status_code == 200
    page = response.content.decode()
    assert "already registered to LOVELACE, Ada" in page  # says with whom
    assert existing.get_absolute_url() in page
    assert Patient.objects.count() == 1


def test_users_who_cannot_see_patients_are_not_told_who_holds_an_mrn(admin_user) -> None:
    from patients.forms import PatientForm

    make_patient("DEMO-0001")
    form = PatientForm(registration(mrn="demo-0001"), viewer=admin_user)
    assert not form.is_valid()
    assert form.errors["mrn"] == ["MRN DEMO-0001 is already registered."]


def test_mrns_are_stored_in_one_spelling_by_every_write_path(db) -> None:
    patient = make_patient("\uff44\uff45\uff4d\uff4f-7\u200b")
    assert patient.mrn == "DEMO-7"


def test_search_finds_an_mrn_however_it_is_typed(nurse_client) -> None:
    make_patient("DEMO-0001")
    for typed in LOOK_ALIKES.values():
        page = nurse_client.get(reverse("patient_list"), {"q": typed}).content.decode()
        assert "DEMO-0001" in page, typed


@pytest.mark.parametrize("field", ["given_name", "family_name", "mrn", "ward", "bed"])
@pytest.mark.parametrize("control", ["\u202e", "\u2066", "\u200f"])
def test_names_with_hidden_direction_controls_are_refused(nurse_client, db, field, control):
    value = f"Ho{control}reppoh" if field != "mrn" else f"NEW{control}-1"
    response = nurse_client.post(reverse("patient_create"), registration(**{field: value}))
    assert response.status_code == 200
    assert "invisible text-direction character" in response.content.decode()
    assert not Patient.objects.exists()


def test_right_to_left_names_themselves_are_welcome(nurse_client, db) -> None:
    response = nurse_client.post(
        reverse("patient_create"), registration(given_name="\u05e9\u05e8\u05d4")
    )
    assert response.status_code == 302
    assert Patient.objects.get().given_name == "\u05e9\u05e8\u05d4"
