"""Every signed-in page: times human-formatted in the hospital zone, no code words.

Issue 15 item 8: what a nurse, clinician or administrator reads on screen
never carries a raw ISO 8601 time or a code identifier (``crs_treated``,
``oxygen_support``, ``step_up_1``, snake_case choice values).
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from patients import recording
from patients.fhir.tokens import create_token
from patients.models import Escalation, Exposure, Flag, Intervention

from .conftest import NORMAL, ago, make_patient, make_user
from .test_course_after_therapy import bispecific_patient, cilta_patient
from .test_escalation import NEWS2_HIGH

pytestmark = pytest.mark.django_db

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d)?")
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# Class and enum names: ObservationRound, DoseEvent.
# The escalation policy's trigger grammar: news2:high, crs>=2, flag:red_flag:urgent.
POLICY_CODE = re.compile(r"\b(?:news2|flag):[a-z]|\b(?:crs|icans)>=")
CAMEL_CASE = re.compile(r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)+\b")
# A setting's name (ICE_INTERVAL_HOURS): a reader gets its meaning and value.
SETTING_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


class VisibleText(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts or styles."""

    HIDDEN = {"script", "style", "template"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag) -> None:
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def code_words(html: str) -> dict[str, list[str]]:
    text = visible_text(html)
    found = {
        "iso": ISO_TIME.findall(text),
        "snake": SNAKE_CASE.findall(text),
        "class": CAMEL_CASE.findall(text),
        "policy": POLICY_CODE.findall(text),
        "setting": SETTING_NAME.findall(text),
    }
    return {k: v for k, v in found.items() if v}


def give(patient, who, drug: str, dose: str, minutes: int) -> Intervention:
    kind = "tocilizumab" if drug == "tocilizumab" else "corticosteroid"
    values = {"kind": kind, "drug": drug, "dose": dose, "given_at": ago(minutes=minutes)}
    return recording.record_intervention(patient, values, who, uuid.uuid4())[0]


@pytest.fixture
def ward(nurse, clinician):
    """A ward with what the pages show: rounds, flags, an escalation with its
    bedside record, treatments (one entered in error), a bispecific course
    with step-up doses, a resolved flag, service tokens and audit rows."""
    car_t = make_patient(mrn="W1")
    recording.record_round(car_t, {"clinical_time": ago(hours=6), **NORMAL}, nurse, uuid.uuid4())
    sick = {**NEWS2_HIGH, "temperature_c": 39.1, "systolic_bp": 85}
    sick.update(oxygen_device="nasal_cannula", oxygen_flow_l_min=4)
    rnd, _ = recording.record_round(
        car_t, {"clinical_time": ago(minutes=30), **sick}, nurse, uuid.uuid4()
    )
    esc = Escalation.objects.filter(patient=car_t).first()
    toci = give(car_t, clinician, "tocilizumab", "8 mg/kg", minutes=20)
    wrong = give(car_t, clinician, "dexamethasone", "10 mg", minutes=15)
    recording.mark_intervention_in_error(wrong, clinician, "Wrong patient")
    flag = car_t.flags.first()
    recording.acknowledge_flag(flag, clinician, "Registrar reviewing")
    recording.resolve_flag(flag, clinician, "Settled after treatment")

    bispecific = bispecific_patient()
    # Dose dates typed at registration before doses were records of their own.
    legacy = [str(timezone.localdate() + timedelta(days=d)) for d in (2, 4)]
    Exposure.objects.filter(patient=bispecific).update(dose_dates=legacy)
    for step, hours in (("SUD1", 50), ("SUD2", 10)):
        premed = {"kind": "corticosteroid", "drug": "dexamethasone", "dose": "16 mg"}
        dose = {"step": step, "dose": "0.06 mg/kg", "given_at": ago(hours=hours)}
        premed["given_at"] = ago(hours=hours + 1)
        recording.record_dose(bispecific, dose, clinician, uuid.uuid4(), premedication=premed)
    recording.record_round(
        bispecific, {"clinical_time": ago(hours=1), **NORMAL}, nurse, uuid.uuid4()
    )
    cilta = cilta_patient(days=40)
    create_token("ward-monitors", by=make_user("ada", "admin"))
    revoked, _ = create_token("lab-interface", read_only=True)
    revoked.revoked_at = timezone.now()
    revoked.save()
    return {
        "car_t": car_t,
        "round": rnd,
        "escalation": esc,
        "toci": toci,
        "wrong": wrong,
        "bispecific": bispecific,
        "cilta": cilta,
    }


def clinical_pages(ward) -> list[str]:
    car_t, bispecific = ward["car_t"], ward["bispecific"]
    rnd = ward["round"]
    pages = [
        reverse("queue"),
        reverse("patient_list"),
        reverse("handover"),
        reverse("about"),
        reverse("response_figures"),
        reverse("response_figures")
        + f"?ward=Haem+A&start={timezone.localdate() - timedelta(days=7)}"
        + f"&end={timezone.localdate()}",
    ]
    for patient in (car_t, bispecific, ward["cilta"]):
        pages += [
            reverse("patient", args=[patient.pk]),
            reverse("patient_handover", args=[patient.pk]),
            reverse("flag_history", args=[patient.pk]),
            reverse("round_create", args=[patient.pk]),
            reverse("lab_create", args=[patient.pk]),
            reverse("intervention_create", args=[patient.pk]),
        ]
    pages += [
        reverse("dose_create", args=[bispecific.pk]),
        reverse("round_detail", args=[car_t.pk, rnd.pk]),
        reverse("round_result", args=[car_t.pk, rnd.pk]),
        reverse("round_correct", args=[car_t.pk, rnd.pk]),
        reverse("intervention_correct", args=[car_t.pk, ward["toci"].pk]),
        reverse("intervention_correct", args=[car_t.pk, ward["wrong"].pk]),
        reverse("password_change"),
    ]
    return pages


def test_clinical_pages_show_human_times_and_plain_words(client, ward, clinician) -> None:
    assert ward["escalation"] is not None, "the ward needs an escalation to show"
    client.force_login(clinician)
    esc = ward["escalation"]
    client.post(
        reverse("escalation_bedside", args=[ward["car_t"].pk, esc.pk]),
        {f"e{esc.pk}-informed": "Dr Patel, registrar", f"e{esc.pk}-how": "bleep"},
    )
    found = {}
    shown = {
        reverse("patient", args=[ward["car_t"].pk]): ["Informed Dr Patel", "Wrong patient"],
        reverse("patient", args=[ward["bispecific"].pk]): [
            "step-up dose 2",
            "further doses noted at registration, dates only:",
        ],
        reverse("flag_history", args=[ward["car_t"].pk]): ["Settled after treatment"],
    }
    for url in clinical_pages(ward):
        response = client.get(url)
        assert response.status_code == 200, url
        for text in shown.get(url, []):
            assert text in visible_text(response.content.decode()), (url, text)
        words = code_words(response.content.decode())
        if words:
            found[url] = words
    assert found == {}, "\n".join(f"{u}: {w}" for u, w in found.items())


def test_admin_pages_show_human_times_and_plain_words(client, ward, nurse) -> None:
    admin = make_user("root", "admin")
    client.force_login(admin)
    pages = [
        reverse("audit_log"),
        reverse("service_tokens"),
        reverse("admin:index"),
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_user_change", args=[nurse.pk]),
        reverse("admin:auth_user_add"),
    ]
    found = {}
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        if url == reverse("audit_log"):
            assert "Dose recorded" in visible_text(response.content.decode())
        if url == reverse("service_tokens"):
            assert "lab-interface" in visible_text(response.content.decode())
        words = code_words(response.content.decode())
        if words:
            found[url] = words
    assert found == {}, "\n".join(f"{u}: {w}" for u, w in found.items())


def test_the_checker_sees_what_a_reader_would() -> None:
    html = (
        '<p data-x="crs_treated">Given <time datetime="2026-11-25T14:05">25 Nov 14:05</time>'
        "</p><script>var oxygen_support = 1;</script>"
    )
    assert code_words(html) == {}
    assert code_words("<p>crs_treated = True at 2026-11-25T14:05:00+00:00</p>") == {
        "iso": ["2026-11-25T14:05"],
        "snake": ["crs_treated"],
    }


def test_a_flag_title_from_the_rules_reads_as_words(clinician_client, ward) -> None:
    # Guards the fixture: a resolved flag exists for the history page.
    assert Flag.objects.filter(patient=ward["car_t"], state="resolved").exists()
    assert Intervention.objects.filter(status="entered_in_error").exists()


def test_closed_basis_sections_show_human_times_and_settings_in_words(
    clinician_client, nurse, clinician
) -> None:
    """What a closed "Basis" or "How these are derived" section holds is read too:
    overdue round and ICE flags (open and past), and a CRS and ICANS episode."""
    patient = make_patient(mrn="OD1")
    sick = {**NORMAL, "temperature_c": 39.2, "ice_orientation": 2, "ice_naming": 3}
    sick.update(ice_commands=1, ice_writing=1, ice_attention=1)
    rnd, _ = recording.record_round(
        patient, {"clinical_time": ago(hours=30), **sick}, nurse, uuid.uuid4()
    )
    assert recording.scan_overdue(ago(hours=0)) >= 1
    opened = {f.key: f for f in patient.flags.filter(kind="overdue")}
    assert {"overdue:round", "overdue:ice"} <= set(opened)
    # One overdue flag closed, so the past-flags page shows an overdue basis too.
    recording.resolve_flag(opened["overdue:round"], clinician, "Round done on paper")
    recording.scan_overdue(ago(hours=0))
    pages = [
        reverse("patient", args=[patient.pk]),
        reverse("flag_history", args=[patient.pk]),
        reverse("round_detail", args=[patient.pk, rnd.pk]),
        reverse("round_result", args=[patient.pk, rnd.pk]),
    ]
    found = {}
    for url in pages:
        response = clinician_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        if url in pages[:2]:
            assert "<details" in html, url
        if url == pages[0]:
            text = visible_text(html)
            assert "How these are derived" in text and "ICE assessment overdue" in text
            assert "the ICE interval, 12 h (a setting" in text
        words = code_words(html)
        if words:
            found[url] = words
    assert found == {}, "\n".join(f"{u}: {w}" for u, w in found.items())


def test_iec_hs_and_icaht_read_as_words_with_units_and_counts(clinician_client, nurse) -> None:
    """An IEC-HS prompt is named like other flags; lab units are written as a
    clinician writes them (µg/L, ×10⁹/L) and a one-day run is "1 day"."""
    patient = make_patient(mrn="IEC1", day0=timezone.localdate() - timedelta(days=8))
    fever = {**NORMAL, "temperature_c": 39.0, "ferritin_ug_l": 800}
    rounds = [
        (ago(hours=150), fever),
        (ago(hours=140), {**NORMAL, "ferritin_ug_l": 900, "anc_10e9_l": 0.3}),
        (ago(hours=30), {"ferritin_ug_l": 1500, "anc_10e9_l": 1.2}),
        (ago(hours=2), {"ferritin_ug_l": 3000}),
    ]
    for when, values in rounds:
        recording.record_round(patient, {"clinical_time": when, **values}, nurse, uuid.uuid4())
    assert Flag.objects.filter(patient=patient, key="iec_hs").exists()
    text = visible_text(
        clinician_client.get(reverse("patient", args=[patient.pk])).content.decode()
    )
    assert "IEC-HS prompt ·" in text
    assert "prompt · overall" not in text.replace("IEC-HS prompt · overall", "")
    assert "µg/L" in text and "ug/L" not in text.replace("µg/L", "")
    assert "×10⁹/L" in text and "x10^9" not in text
    assert "1 day" in text and "1 days" not in text
