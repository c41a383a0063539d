"""Login, patients and observation rounds as a ward nurse uses them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import AuditEvent, ObservationRound, Patient, PatientStatus

from .conftest import PASSWORD, make_patient


def round_post(**values) -> dict:
    data = {
        "client_key": str(uuid.uuid4()),
        "clinical_time": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    data.update({k: str(v) for k, v in values.items()})
    return data


@pytest.mark.django_db
class TestLogin:
    def test_it_sends_anonymous_users_to_login(self, client) -> None:
        response = client.get(reverse("queue"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_logs_in_and_out(self, client, nurse) -> None:
        response = client.post(reverse("login"), {"username": "nina", "password": PASSWORD})
        assert response.status_code == 302
        assert client.get(reverse("queue")).status_code == 200
        client.post(reverse("logout"))
        assert client.get(reverse("queue")).status_code == 302

    def test_it_says_clearly_when_credentials_are_wrong(self, client, nurse) -> None:
        response = client.post(reverse("login"), {"username": "nina", "password": "nope"})
        assert response.status_code == 200
        assert "did not match" in response.content.decode()

    def test_it_locks_the_account_after_repeated_failures(self, client, nurse) -> None:
        for _ in range(5):
            client.post(reverse("login"), {"username": "nina", "password": "wrong"})
        response = client.post(reverse("login"), {"username": "nina", "password": PASSWORD})
        assert response.status_code == 429
        assert "locked" in response.content.decode()


@pytest.mark.django_db
class TestPatients:
    def test_it_registers_a_patient_with_exposure_and_derived_risks(self, nurse_client) -> None:
        today = timezone.localdate()
        response = nurse_client.post(
            reverse("patient_create"),
            {
                "mrn": "H123",
                "given_name": "Grace",
                "family_name": "Hopper",
                "birth_date": (today - timedelta(days=365 * 70 + 30)).isoformat(),
                "sex": "female",
                "weight_kg": "120",
                "height_cm": "170",
                "ward": "Haem A",
                "bed": "3",
                "diabetes": "on",
                "spo2_scale": "1",
                "exposure_kind": "car_t",
                "exposure_agent": "axicabtagene ciloleucel",
                "day0": (today - timedelta(days=4)).isoformat(),
                "dose_dates": "",
            },
        )
        patient = Patient.objects.get(mrn="H123")
        assert response.status_code == 302
        page = nurse_client.get(patient.get_absolute_url()).content.decode()
        assert "Day +4" in page
        assert "Age over 65" in page
        assert "BMI 40 or more (41.5)" in page
        assert "Diabetes" in page
        assert "On immunotherapy" in page

    def test_it_keeps_typed_values_and_names_the_bad_field(self, nurse_client) -> None:
        response = nurse_client.post(
            reverse("patient_create"),
            {
                "mrn": "H9",
                "given_name": "Grace",
                "family_name": "Hopper",
                "birth_date": "2999-01-01",
                "sex": "female",
                "ward": "Haem A",
                "spo2_scale": "1",
                "exposure_kind": "car_t",
                "exposure_agent": "x",
                "day0": "not-a-date",
                "weight_kg": "9000",
            },
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert "Enter a birth date in the past 120 years." in page
        assert "Weight must be between" in page
        assert 'value="Hopper"' in page
        assert not Patient.objects.filter(mrn="H9").exists()

    def test_a_product_of_another_kind_is_refused_with_its_field_named(self, nurse_client) -> None:
        # The label's plan follows the product (REFERENCE k8): teclistamab
        # registered as CAR-T would time every window wrongly.
        today = timezone.localdate()
        response = nurse_client.post(
            reverse("patient_create"),
            {
                "mrn": "H10",
                "given_name": "Ada",
                "family_name": "Byron",
                "birth_date": "1960-01-01",
                "sex": "female",
                "ward": "Haem A",
                "spo2_scale": "1",
                "exposure_kind": "car_t",
                "exposure_agent": "teclistamab",
                "day0": today.isoformat(),
            },
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert "Teclistamab (Tecvayli) is a bispecific antibody, not CAR-T cell therapy" in page
        assert 'value="teclistamab"' in page
        assert not Patient.objects.filter(mrn="H10").exists()

    def test_it_searches_by_name_or_mrn(self, nurse_client) -> None:
        make_patient(mrn="AAA1", family_name="Turing")
        make_patient(mrn="BBB2", family_name="Noether")
        by_name = nurse_client.get(reverse("patient_list"), {"q": "turi"}).content.decode()
        by_mrn = nurse_client.get(reverse("patient_list"), {"q": "bbb2"}).content.decode()
        assert "TURING" in by_name and "NOETHER" not in by_name
        assert "NOETHER" in by_mrn and "TURING" not in by_mrn


@pytest.mark.django_db
class TestRounds:
    def test_it_records_a_round_and_shows_its_grades(self, nurse_client, patient) -> None:
        data = round_post(
            temperature_c=38.6,
            heart_rate=118,
            systolic_bp=95,
            diastolic_bp=50,
            respiratory_rate=22,
            spo2=93,
            oxygen_device="nasal_cannula",
            oxygen_flow_l_min=3,
            acvpu="A",
            hypotension="yes",
        )
        response = nurse_client.post(reverse("round_create", args=[patient.pk]), data)
        assert response.status_code == 302
        rnd = ObservationRound.objects.get(patient=patient)
        assert (rnd.crs_grade, rnd.news2_total, rnd.news2_band) == (2, 11, "high")
        page = nurse_client.get(patient.get_absolute_url()).content.decode()
        assert "CRS grade <strong>2</strong>" in page
        assert "low-flow nasal cannula" in page  # the basis, one click away

    def test_a_save_leads_to_its_result(self, nurse_client, patient) -> None:
        response = nurse_client.post(
            reverse("round_create", args=[patient.pk]), round_post(temperature_c=38.2)
        )
        rnd = ObservationRound.objects.get()
        assert response["Location"] == reverse("round_result", args=[patient.pk, rnd.pk])
        page = nurse_client.get(response["Location"]).content.decode()
        assert "Round saved" in page and "CRS grade <strong>1</strong>" in page

    def test_it_stores_one_round_on_double_submit(self, nurse_client, patient) -> None:
        data = round_post(temperature_c=37.2)
        nurse_client.post(reverse("round_create", args=[patient.pk]), data)
        second = nurse_client.post(reverse("round_create", args=[patient.pk]), data, follow=True)
        assert ObservationRound.objects.filter(patient=patient).count() == 1
        assert "already been recorded" in second.content.decode()

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("temperature_c", "370", "Temperature 370.0 °C is above 45 °C and not plausible"),
            ("temperature_c", "abc", "Temperature must be a number in °C, for example 37.5."),
            ("spo2", "20", "SpO2 20% is below 50% and not plausible"),
            ("heart_rate", "nan", "Heart rate must be a number in beats per minute"),
            ("oxygen_flow_l_min", "1e309", "Oxygen flow must be a number in L/min"),
        ],
    )
    def test_it_rejects_implausible_values_field_by_field(
        self, nurse_client, patient, field, value, message
    ) -> None:
        data = round_post(**{"respiratory_rate": 16, field: value})
        response = nurse_client.post(reverse("round_create", args=[patient.pk]), data)
        page = response.content.decode()
        assert response.status_code == 422
        assert message in page
        assert f'value="{value}"' in page  # what the nurse typed stays
        assert not ObservationRound.objects.exists()

    def test_it_requires_at_least_one_observation(self, nurse_client, patient) -> None:
        response = nurse_client.post(
            reverse("round_create", args=[patient.pk]), round_post(note="looked fine")
        )
        assert response.status_code == 422
        assert "Record at least one observation" in response.content.decode()

    def test_it_refuses_a_time_in_the_future(self, nurse_client, patient) -> None:
        data = round_post(heart_rate=80)
        data["clinical_time"] = (timezone.localtime() + timedelta(hours=2)).strftime(
            "%Y-%m-%dT%H:%M"
        )
        response = nurse_client.post(reverse("round_create", args=[patient.pk]), data)
        assert response.status_code == 422
        assert "cannot be in the future" in response.content.decode()

    def test_it_accepts_an_earlier_time_and_keeps_both_times(self, nurse_client, patient) -> None:
        data = round_post(heart_rate=80)
        earlier = timezone.localtime() - timedelta(hours=3)
        data["clinical_time"] = earlier.strftime("%Y-%m-%dT%H:%M")
        nurse_client.post(reverse("round_create", args=[patient.pk]), data)
        rnd = ObservationRound.objects.get()
        assert rnd.clinical_time < rnd.entered_at - timedelta(hours=2)

    def test_it_needs_all_five_ice_items(self, nurse_client, patient) -> None:
        response = nurse_client.post(
            reverse("round_create", args=[patient.pk]), round_post(ice_orientation=4, ice_naming=3)
        )
        assert response.status_code == 422
        assert "all five ICE items" in response.content.decode()

    def test_the_timeline_is_newest_first_with_who_and_when(
        self, nurse_client, patient, nurse
    ) -> None:
        for hours, hr in ((8, 71), (4, 72), (0, 73)):
            data = round_post(heart_rate=hr)
            data["clinical_time"] = (timezone.localtime() - timedelta(hours=hours)).strftime(
                "%Y-%m-%dT%H:%M"
            )
            nurse_client.post(reverse("round_create", args=[patient.pk]), data)
        page = nurse_client.get(patient.get_absolute_url()).content.decode()
        assert page.index("HR 73") < page.index("HR 72") < page.index("HR 71")
        assert "nina (Nurse)," in page  # who, and that a nurse typed it

    def test_the_timeline_paginates_with_htmx(self, nurse_client, patient) -> None:
        for hours in range(12):
            data = round_post(heart_rate=60 + hours)
            data["clinical_time"] = (timezone.localtime() - timedelta(hours=hours)).strftime(
                "%Y-%m-%dT%H:%M"
            )
            nurse_client.post(reverse("round_create", args=[patient.pk]), data)
        full = nurse_client.get(patient.get_absolute_url(), {"page": 2})
        part = nurse_client.get(patient.get_absolute_url(), {"page": 2}, HTTP_HX_REQUEST="true")
        assert "HR 71" in full.content.decode() and "Page 2 of 2" in full.content.decode()
        assert part.content.decode().lstrip().startswith('<section class="card" id="rounds"')
        assert "HR 71" in part.content.decode()

    def test_viewing_a_patient_is_audited(self, nurse_client, patient) -> None:
        nurse_client.get(patient.get_absolute_url())
        assert AuditEvent.objects.filter(action="patient_viewed", patient=patient).exists()


@pytest.mark.django_db
def test_a_partial_round_keeps_the_last_known_grades(nurse_client, patient) -> None:
    full = round_post(
        temperature_c=38.4,
        heart_rate=88,
        systolic_bp=120,
        diastolic_bp=70,
        respiratory_rate=18,
        spo2=96,
        oxygen_device="room_air",
        acvpu="A",
        ice_orientation=4,
        ice_naming=3,
        ice_commands=1,
        ice_writing=1,
        ice_attention=0,
    )
    full["clinical_time"] = (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    nurse_client.post(reverse("round_create", args=[patient.pk]), full)
    nurse_client.post(reverse("round_create", args=[patient.pk]), round_post(creatinine_umol_l=90))
    status = PatientStatus.objects.get(patient=patient)
    assert (status.crs_grade, status.icans_grade, status.ice_score, status.news2_total) == (
        1,
        1,
        9,
        1,
    )
    page = nurse_client.get(patient.get_absolute_url()).content.decode()
    assert "CRS grade <strong>1</strong>" in page
    assert "(ICE 9/10)" in page
    assert "last full set" in page and "incomplete set" in page


@pytest.mark.django_db
def test_registration_no_longer_asks_for_dose_dates_doses_are_records(nurse_client) -> None:
    page = nurse_client.get(reverse("patient_create")).content.decode()
    assert 'name="dose_dates"' not in page
    assert "recorded after registration, with its time" in page
