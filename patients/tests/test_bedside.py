"""The bedside moment in a real Chromium: nothing typed is lost, the round
screen is focused and usable on a ward PC, a tablet and a phone, and the
result of a save is in view."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from patients.clinical.news2 import RESPONSE
from patients.models import Exposure, ObservationRound, RoundDraft

from .conftest import log_in, make_patient, make_user

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = [(1366, 768), (820, 1180), (390, 844)]
NEWS2_ORDER = [
    "id_respiratory_rate",
    "id_spo2",
    "id_oxygen_device",
    "id_oxygen_flow_l_min",
    "id_systolic_bp",
    "id_diastolic_bp",
    "id_heart_rate",
    "id_acvpu",
    "id_temperature_c",
]


def open_round_screen(page, live_server, patient) -> None:
    page.goto(f"{live_server.url}/patients/{patient.pk}/rounds/new/")
    page.wait_for_load_state("load")


def tabs_to(page, element_id: str, limit: int = 60) -> int:
    """Press Tab from the top of the page until ``element_id`` has focus; return
    how many presses it took (what a keyboard user does, at this viewport)."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Home")
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return presses
    raise AssertionError(f"{element_id} not reached in {limit} Tab presses")


def test_typing_keeps_the_session_and_a_timed_out_round_comes_back_after_sign_in(
    live_server, page, settings
) -> None:
    settings.SESSION_IDLE_SECONDS = 12  # the warning shows in the last 4 s
    make_user("nina", "nurse")
    patient = make_patient(mrn="BS1", family_name="Nightingale")
    log_in(page, live_server, "nina")
    open_round_screen(page, live_server, patient)
    # Typing for longer than the idle limit is activity: no warning, no sign-out.
    temperature = page.get_by_label("Temperature (°C)")
    for digit in "38,4":
        temperature.press_sequentially(digit)
        time.sleep(2.2)
    page.get_by_label("Heart rate (/min)").fill("121")
    time.sleep(4)
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.locator("#autosave-state")).to_contain_text("Draft kept")
    # Left alone, the page warns and offers to stay signed in.
    expect(page.get_by_role("dialog")).to_contain_text("You will be signed out", timeout=12_000)
    page.screenshot(path=ARTIFACTS / "idle-warning.png")
    page.get_by_role("button", name="Stay signed in").click()
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_label("Heart rate (/min)")).to_have_value("121")
    # Left alone again, the session ends: the patient leaves the screen.
    expect(page).to_have_url(re.compile(r"/login/\?timed_out=1"), timeout=20_000)
    expect(page.get_by_role("status")).to_contain_text("what you typed was kept")
    assert "NIGHTINGALE" not in page.content()
    # Signing in again brings the round back as typed, ready to save.
    page.get_by_label("User name").fill("nina")
    page.get_by_label("Password").fill("correct-horse-battery-staple-42")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("status").first).to_contain_text("was kept when you were signed out")
    expect(page.get_by_label("Temperature (°C)")).to_have_value("38,4")
    expect(page.get_by_label("Heart rate (/min)")).to_have_value("121")
    page.get_by_role("button", name="Save round").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Round saved")).to_be_visible()
    rnd = ObservationRound.objects.get(patient=patient)
    assert (rnd.temperature_c, rnd.heart_rate) == (38.4, 121)
    assert not RoundDraft.objects.exists()  # nothing kept once saved


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_the_round_screen_is_focused_and_fits_the_device(live_server, page, width, height) -> None:
    page.set_viewport_size({"width": width, "height": height})
    make_user("nina", "nurse")
    patient = make_patient(mrn="BS2", family_name="Seacole", bed="7")
    make_patient(mrn="BS3", family_name="Seacole", bed="7", given_name="Mary")
    log_in(page, live_server, "nina")
    open_round_screen(page, live_server, patient)
    banner = page.locator("#patient-banner")
    expect(banner).to_contain_text("SEACOLE")
    expect(banner).to_contain_text("MRN BS2")
    expect(banner).to_contain_text("born 1 Mar 1950")
    expect(banner).to_contain_text("bed 7")
    expect(banner).to_contain_text("Day +3")
    expect(banner).to_contain_text("Same surname")
    expect(banner).to_contain_text("Bed 7 is also recorded for SEACOLE, Mary (BS3)")
    # NEWS2 chart order, then ICE/ICANS, then symptoms; labs elsewhere.
    ids = page.eval_on_selector_all(
        "#round-record input[id], #round-record select[id]", "els => els.map(e => e.id)"
    )
    positions = [ids.index(i) for i in NEWS2_ORDER]
    assert positions == sorted(positions)
    assert ids.index("id_temperature_c") < ids.index("id_ice_orientation")
    assert ids.index("id_cerebral_edema") < ids.index("id_symptom_fever")
    assert "id_crp_mg_l" not in ids
    expect(page.get_by_role("link", name="enter laboratory results")).to_be_visible()
    # A handful of Tab presses (skip link, menu, banner) reach the first field.
    stops = tabs_to(page, "id_clinical_time")
    assert 0 < stops <= 12
    # No sideways scrolling; every control a finger can hit.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    small = page.eval_on_selector_all(
        "#round-record input:not([type=hidden]):not([type=checkbox]), #round-record select,"
        " #round-record button, #round-record .button, #round-record label:has(input)",
        "els => els.filter(e => e.getBoundingClientRect().height < 44).map(e => e.id || e.name"
        " || e.textContent)",
    )
    assert small == []
    # The banner stays in view at the bottom of the form.
    page.get_by_label("Note").scroll_into_view_if_needed()
    box = banner.bounding_box()
    assert box is not None and 0 <= box["y"] < 20
    page.screenshot(path=ARTIFACTS / f"round-screen-{width}.png")


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_the_result_of_a_save_is_in_view_with_points_and_response(
    live_server, page, width, height
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    make_user("nina", "nurse")
    patient = make_patient(mrn="BS4", family_name="Barton")
    log_in(page, live_server, "nina")
    open_round_screen(page, live_server, patient)
    page.get_by_label("Respiration rate (/min)").fill("26")
    page.get_by_label("SpO2 (%)").fill("93")
    page.get_by_label("Air or oxygen").select_option("nasal_cannula")
    page.get_by_label("Oxygen flow (L/min)").fill("2,5")
    page.get_by_label("Systolic BP (mmHg)").fill("95")
    page.get_by_label("Hypotension (clinician judgement)").select_option("yes")
    page.get_by_label("Heart rate (/min)").fill("125")
    page.get_by_label("ACVPU").select_option("A")
    page.get_by_label("Temperature (°C)").fill("38,9")
    page.get_by_role("button", name="Save round").click()
    page.wait_for_load_state("load")
    heading = page.get_by_role("heading", name="Round saved")
    expect(heading).to_be_in_viewport()
    assert heading.bounding_box()["y"] < height / 2
    expect(page.locator(".result-grades")).to_contain_text("CRS grade 2")
    expect(page.locator(".result-grades")).to_contain_text("NEWS2 12")
    red = page.locator("tr.red-score")
    expect(red).to_have_count(1)
    expect(red).to_contain_text("Respiration rate")
    expect(red).to_contain_text("red score")
    expect(page.locator(".response")).to_contain_text(RESPONSE["high"][:60])
    expect(page.locator(".flags")).to_contain_text("CRS grade rose")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=ARTIFACTS / f"round-result-{width}.png")
    assert ObservationRound.objects.get(patient=patient).oxygen_flow_l_min == 2.5


def test_a_rejected_save_summarises_its_errors_at_the_top(live_server, page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    make_user("nina", "nurse")
    patient = make_patient(mrn="BS5", family_name="Cavell")
    log_in(page, live_server, "nina")
    open_round_screen(page, live_server, patient)
    page.get_by_label("Temperature (°C)").fill("3,7")
    page.get_by_label("Heart rate (/min)").fill("88")
    page.get_by_label("SpO2 (%)").fill("ninety")
    page.get_by_role("button", name="Save round").click()
    page.wait_for_load_state("load")
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    expect(summary).to_contain_text("Temperature 3.7 °C is below 25 °C")
    expect(summary).to_contain_text("SpO2 must be a number in %")
    summary.get_by_role("link", name="SpO2").click()
    expect(page.get_by_label("SpO2 (%)")).to_be_focused()
    expect(page.get_by_label("Heart rate (/min)")).to_have_value("88")
    expect(page.get_by_label("Temperature (°C)")).to_have_value("3,7")
    assert not ObservationRound.objects.exists()


def test_a_contradiction_is_asked_once_and_can_be_confirmed(live_server, page) -> None:
    make_user("nina", "nurse")
    patient = make_patient(mrn="BS6", family_name="Henderson")
    log_in(page, live_server, "nina")
    open_round_screen(page, live_server, patient)
    page.get_by_label("Temperature (°C)").fill("36.8")
    page.get_by_label("Fever").select_option(label="severe")
    page.get_by_role("button", name="Save round").click()
    page.wait_for_load_state("load")
    expect(page.locator("#error-summary")).to_contain_text("Fever is recorded as severe")
    assert not ObservationRound.objects.exists()
    page.get_by_label("I have checked").check()
    page.get_by_role("button", name="Save round").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Round saved")).to_be_visible()
    rnd = ObservationRound.objects.get()
    assert (rnd.temperature_c, rnd.symptoms) == (36.8, {"fever": 3})


TARGETS = (
    "main input:not([type=hidden]):not([type=checkbox]), main select, main textarea,"
    " main button, main .button, main form a, main label:has(input)"
)


@pytest.mark.parametrize("form", ["lab_create", "dose_create", "intervention_create"])
def test_the_lab_dose_and_treatment_forms_fit_a_phone(live_server, page, form) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    make_user("carl", "clinician")
    patient = make_patient(mrn="BS7", family_name="Fry", kind="bispecific")
    Exposure.objects.filter(patient=patient).update(agent="teclistamab", product="teclistamab")
    log_in(page, live_server, "carl")
    page.goto(f"{live_server.url}{reverse(form, args=[patient.pk])}")
    page.wait_for_load_state("load")
    expect(page.locator("main form button[type=submit]")).to_be_visible()
    # No sideways scrolling; every control a finger can hit is at least 44 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    small = page.eval_on_selector_all(
        TARGETS,
        "els => els.filter(e => e.offsetParent !== null"
        " && e.getBoundingClientRect().height < 44).map(e => e.id || e.name || e.textContent)",
    )
    assert small == []
    page.screenshot(path=ARTIFACTS / f"{form}-390.png", full_page=True)
