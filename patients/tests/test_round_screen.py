"""The bedside round screen, its draft, the lab form and the saved result."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.clinical.contradictions import contradictions
from patients.clinical.news2 import RESPONSE, clinical_response
from patients.forms import RoundForm
from patients.middleware import LAST_ACTIVITY
from patients.models import AuditEvent, ObservationRound, RoundDraft

from .conftest import make_user
from .test_time_and_words import visible_text
from .test_views import round_post

pytestmark = pytest.mark.django_db


def expire(client, settings) -> None:
    session = client.session
    session[LAST_ACTIVITY] = time.time() - settings.SESSION_IDLE_SECONDS - 1
    session.save()


def test_a_save_after_the_session_ended_keeps_the_round_for_the_same_nurse(
    nurse_client, nurse, patient, settings
) -> None:
    nurse_client.get(reverse("round_create", args=[patient.pk]))
    expire(nurse_client, settings)
    data = round_post(temperature_c="38,2", heart_rate=101, vasopressors="norepinephrine")
    response = nurse_client.post(reverse("round_create", args=[patient.pk]), data)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert f"next=%2Fpatients%2F{patient.pk}%2Frounds%2Fnew%2F" in response["Location"]
    assert not ObservationRound.objects.exists()
    # Someone else signing in on that PC sees an empty form.
    other = make_user("olga", "nurse")
    nurse_client.force_login(other)
    page = nurse_client.get(reverse("round_create", args=[patient.pk])).content.decode()
    assert 'value="38,2"' not in page
    # The nurse who typed it finds it as typed, and saving clears it.
    nurse_client.force_login(nurse)
    page = nurse_client.get(reverse("round_create", args=[patient.pk])).content.decode()
    assert 'value="38,2"' in page and 'value="101"' in page
    assert re.search(r'value="norepinephrine"[^>]*checked', page)
    draft = RoundDraft.objects.get(user=nurse)
    restored = {k: v[-1] for k, v in draft.data.items()}
    nurse_client.post(reverse("round_create", args=[patient.pk]), restored)
    assert ObservationRound.objects.get().temperature_c == 38.2
    assert not RoundDraft.objects.filter(user=nurse).exists()


def test_typing_saves_a_draft_and_counts_as_activity(nurse_client, patient) -> None:
    nurse_client.get(reverse("queue"))
    session = nurse_client.session
    session[LAST_ACTIVITY] = before = time.time() - 300
    session.save()
    response = nurse_client.post(
        reverse("round_draft", args=[patient.pk]), round_post(heart_rate=99)
    )
    assert response.json()["seconds_left"] > 0
    assert nurse_client.session[LAST_ACTIVITY] > before + 290
    assert RoundDraft.objects.get().data["heart_rate"] == ["99"]


def test_asking_how_long_is_left_is_not_activity(nurse_client, settings) -> None:
    nurse_client.get(reverse("queue"))
    session = nurse_client.session
    session[LAST_ACTIVITY] = time.time() - 300
    session.save()
    left = nurse_client.get(reverse("session_status")).json()["seconds_left"]
    assert settings.SESSION_IDLE_SECONDS - 302 <= left <= settings.SESSION_IDLE_SECONDS - 299
    assert nurse_client.post(reverse("session_keepalive")).json()["seconds_left"] == (
        settings.SESSION_IDLE_SECONDS
    )


def test_signed_in_pages_are_never_kept_in_the_browser_cache(nurse_client, patient) -> None:
    response = nurse_client.get(reverse("round_create", args=[patient.pk]))
    assert "no-store" in response["Cache-Control"]
    assert 'autocomplete="off"' in response.content.decode()


def test_a_discarded_draft_is_gone(nurse_client, nurse, patient) -> None:
    nurse_client.post(reverse("round_draft", args=[patient.pk]), round_post(heart_rate=99))
    nurse_client.post(reverse("round_draft_discard", args=[patient.pk]))
    assert not RoundDraft.objects.exists()


@pytest.mark.parametrize(
    ("typed", "stored"), [("37,5", 37.5), (" 38.1 ", 38.1), ("39", 39.0)], ids=str
)
def test_comma_decimals_are_accepted(nurse_client, patient, typed, stored) -> None:
    nurse_client.post(reverse("round_create", args=[patient.pk]), round_post(temperature_c=typed))
    assert ObservationRound.objects.get().temperature_c == stored


def test_the_fall_back_hour_can_be_entered_either_time(
    nurse_client, patient, settings, monkeypatch
) -> None:
    # Europe/London, 25 Oct 2026: 01:30 happens at 00:30 and at 01:30 UTC.
    monkeypatch.setattr("patients.forms.MAX_BACKDATE", timedelta(days=3650))
    url = reverse("round_create", args=[patient.pk])
    data = round_post(heart_rate=80)
    data["clinical_time"] = "2026-10-25T01:30"
    asked = nurse_client.post(url, data)
    page = asked.content.decode()
    assert asked.status_code == 422
    assert "happened twice (the clocks went back)" in page
    assert "The first 01:30 (BST" in page and "The second 01:30 (GMT" in page
    for fold, _utc_hour in (("0", 0), ("1", 1)):
        nurse_client.post(
            url,
            {
                **data,
                "client_key": str(uuid.uuid4()),
                "clinical_time_fold": fold,
                "confirm_early": "on",  # a year before day 0 in this fixture
            },
        )
    times = sorted(r.clinical_time for r in ObservationRound.objects.all())
    assert [t.astimezone(UTC).hour for t in times] == [0, 1]
    gap = nurse_client.post(url, {**data, "clinical_time": "2026-03-29T01:30"})
    assert "did not happen: the clocks went forward" in gap.content.decode()


def test_labs_have_their_own_form_and_save_a_labs_only_round(nurse_client, patient) -> None:
    url = reverse("lab_create", args=[patient.pk])
    page = nurse_client.get(url).content.decode()
    assert "CRP (mg/L)" in page and "Temperature" not in page
    bad = nurse_client.post(url, round_post(crp_mg_l="lots"))
    assert bad.status_code == 422 and 'value="lots"' in bad.content.decode()
    response = nurse_client.post(url, round_post(crp_mg_l="120,5", ferritin_ug_l=900))
    rnd = ObservationRound.objects.get()
    assert response["Location"] == reverse("round_result", args=[patient.pk, rnd.pk])
    assert (rnd.crp_mg_l, rnd.ferritin_ug_l, rnd.temperature_c) == (120.5, 900, None)


def test_the_round_screen_leaves_labs_out_but_shows_every_other_field(patient) -> None:
    form = RoundForm()
    shown = {f.name for _, _, fields in form.bedside_sections() for f in fields}
    assert not shown & {"crp_mg_l", "creatinine_umol_l"}
    assert shown | RoundForm.NOT_BEDSIDE == set(form.fields)


def test_a_new_form_field_is_shown_without_listing_it(patient) -> None:
    from django import forms

    class WithPupils(RoundForm):
        pupils_equal = forms.BooleanField(label="Pupils equal and reactive", required=False)

    sections = {key: fields for key, _, fields in WithPupils().bedside_sections()}
    assert [f.name for f in sections["more"]] == ["pupils_equal"]


@pytest.mark.parametrize(
    ("values", "asks"),
    [
        ({"temperature_c": 36.8, "symptoms": {"fever": 3}}, ["symptom_fever"]),
        ({"temperature_c": 37.9, "symptoms": {"fever": 2}}, ["symptom_fever"]),
        ({"temperature_c": 36.8, "symptoms": {"fever": 1}}, []),
        ({"temperature_c": 38.0, "symptoms": {"fever": 3}}, []),
        ({"symptoms": {"fever": 3}}, []),
    ],
    ids=lambda v: str(v),
)
def test_contradictory_entries_are_asked_about(values, asks) -> None:
    assert [c.field for c in contradictions(values)] == asks


def test_a_confirmed_contradiction_is_saved_and_audited(nurse_client, patient) -> None:
    data = round_post(temperature_c=36.8, symptom_fever=3)
    url = reverse("round_create", args=[patient.pk])
    asked = nurse_client.post(url, data)
    assert asked.status_code == 422
    assert "Fever is recorded as severe" in asked.content.decode()
    nurse_client.post(url, {**data, "confirm_contradictions": "on"})
    rnd = ObservationRound.objects.get()
    event = AuditEvent.objects.get(action="round_confirmed")
    assert event.object_id == str(rnd.pk) and "Fever" in event.detail["confirmed"][0]


@pytest.mark.parametrize(
    ("total", "band", "key", "at_least"),
    [
        (0, "low", "zero", False),
        (3, "low", "low", False),
        (3, "low-medium", "low-medium", False),
        (5, "medium", "medium", False),
        (7, "high", "high", False),
        (None, "medium", "medium", True),
    ],
)
def test_the_response_follows_news2_chart_4(total, band, key, at_least) -> None:
    response = clinical_response(total, band)
    assert (response.text, response.at_least) == (RESPONSE[key], at_least)


def test_the_result_shows_points_red_scores_and_no_code_words(nurse_client, patient) -> None:
    data = round_post(
        respiratory_rate=26,
        spo2=97,
        oxygen_device="cpap",
        systolic_bp=120,
        heart_rate=80,
        acvpu="A",
        temperature_c=37,
    )
    response = nurse_client.post(reverse("round_create", args=[patient.pk]), data, follow=True)
    page = response.content.decode()
    assert re.search(r'class="red-score"><th scope="row">Respiration rate</th><td>26</td>', page)
    assert "CPAP" in page and "Cpap" not in page and "cpap" not in page.replace('"cpap"', "")
    assert "crs_treated" not in page and "oxygen_device" not in page
    assert RESPONSE["medium"] in page


def test_every_page_names_the_hospital_time_zone(nurse_client, patient) -> None:
    for url in (reverse("queue"), reverse("round_create", args=[patient.pk])):
        assert "Times in GMT/BST" in nurse_client.get(url).content.decode()


def test_the_timeline_names_treatment_options_not_their_codes(
    clinician_client, patient, nurse
) -> None:
    from patients import recording

    hypoxic = {
        "clinical_time": timezone.now() - timedelta(hours=1),
        "temperature_c": 38.9,
        "spo2": 90,
        "oxygen_device": "nasal_cannula",
        "oxygen_flow_l_min": 3,
    }
    rnd, _ = recording.record_round(patient, hypoxic, nurse, uuid.uuid4())
    ids = [o["id"] for o in rnd.treatment_options]
    assert "oxygen_support" in ids
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    timeline = page[page.index('id="rounds"') :]
    assert "oxygen_support" not in timeline and "Oxygen" in timeline


def test_a_draft_older_than_a_shift_is_not_offered_and_is_deleted(
    nurse_client, nurse, patient
) -> None:
    nurse_client.post(reverse("round_draft", args=[patient.pk]), round_post(heart_rate=99))
    RoundDraft.objects.update(updated_at=timezone.now() - timedelta(hours=13))
    page = nurse_client.get(reverse("round_create", args=[patient.pk])).content.decode()
    assert 'value="99"' not in page
    assert not RoundDraft.objects.exists()


def test_capd_items_show_for_children_only(nurse_client, patient) -> None:
    from .conftest import make_patient

    child = make_patient(mrn="CH1", birth_date=timezone.localdate() - timedelta(days=365 * 8))
    adult_page = nurse_client.get(reverse("round_create", args=[patient.pk])).content.decode()
    child_page = nurse_client.get(reverse("round_create", args=[child.pk])).content.decode()
    assert "id_capd_eye_contact" not in adult_page
    assert "id_capd_eye_contact" in child_page


def test_every_contradiction_is_asked_on_the_first_save(nurse_client, patient) -> None:
    """Issue 15.3: a low systolic with no hypotension judgement, ACVPU against
    the ICANS level, and a severe fever at 36.8 °C are all asked at once; the
    second save (answered and confirmed) records the round."""
    data = round_post(
        systolic_bp=85,
        acvpu="A",
        consciousness="awakens_to_voice",
        temperature_c=36.8,
        symptom_fever=3,
    )
    url = reverse("round_create", args=[patient.pk])
    asked = nurse_client.post(url, data)
    assert asked.status_code == 422
    page = asked.content.decode()
    assert "judge whether the patient is hypotensive" in page
    assert "disagree: check both, then tick to confirm" in page
    assert "Fever is recorded as severe" in page
    answered = {
        **data,
        "hypotension": "yes",
        "confirm_consciousness": "on",
        "confirm_contradictions": "on",
    }
    saved = nurse_client.post(url, answered)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert ObservationRound.objects.get().temperature_c == 36.8


def test_a_lab_entry_result_speaks_of_the_labs_not_missing_vital_signs(
    nurse_client, patient
) -> None:
    """Issue 15.2/15.3: after entering labs only, the result names what was
    entered and what it changed (ICAHT grade, flags), and asks for no vital sign."""
    url = reverse("lab_create", args=[patient.pk])
    saved = nurse_client.post(url, round_post(crp_mg_l="120,5", anc_10e9_l="0.3"), follow=True)
    assert saved.status_code == 200
    text = visible_text(saved.content.decode())
    assert "Lab results saved" in text
    assert "CRP (mg/L) 120.5" in text and "ANC" in text
    # REFERENCE k9: early N-ICAHT, ANC <= 0.5 x10^9/L for 1-6 days is grade 1.
    assert "ICAHT" in text and "grade 1" in text
    assert "Flags these results opened" in text
    for bedside in ("NEWS2 incomplete", "record the missing", "Not recorded:", "NEWS2 points"):
        assert bedside not in text, bedside


def test_a_bedside_round_result_still_shows_news2(nurse_client, patient) -> None:
    url = reverse("round_create", args=[patient.pk])
    saved = nurse_client.post(url, round_post(temperature_c=37.2, heart_rate=80), follow=True)
    text = visible_text(saved.content.decode())
    assert "Round saved" in text and "NEWS2 points" in text and "Lab results saved" not in text
