"""A real Chromium, driven through Playwright, against the live server."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from patients import recording
from patients.models import ObservationRound

from .conftest import NORMAL, ago, log_in, make_patient, make_user

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_nurse_logs_in_records_a_round_and_sees_it_on_the_timeline(live_server, page) -> None:
    make_user("nina", "nurse")
    patient = make_patient(mrn="BR1", family_name="Franklin")
    log_in(page, live_server, "nina")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    page.get_by_role("link", name="FRANKLIN, Ada").click()
    page.wait_for_load_state("load")
    page.get_by_role("link", name="Record a round").click()
    page.wait_for_load_state("load")
    page.get_by_label("Temperature (°C)").fill("38.7")
    page.get_by_label("Heart rate (/min)").fill("121")
    page.get_by_label("Air or oxygen", exact=True).select_option("nasal_cannula")
    page.get_by_label("Oxygen flow (L/min)").fill("3")
    page.get_by_role("button", name="Save round").click()
    expect(page.get_by_role("heading", name="Round saved")).to_be_visible()
    page.get_by_role("link", name="Open the patient record").click()
    timeline = page.locator("#rounds")
    expect(timeline).to_contain_text("T 38.7")
    expect(timeline).to_contain_text("HR 121")
    # No blood pressure was recorded: the grade is a lower bound, and says so.
    expect(page.locator(".grade-box").first).to_contain_text(
        "CRS grade >= 2 (hypotension not recorded)"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "patient-after-round.png", full_page=True)
    assert ObservationRound.objects.filter(patient=patient).count() == 1
    # The fresh form has a new key: a second round is stored too.
    page.get_by_role("link", name="Record a round").click()
    page.get_by_label("Heart rate (/min)").fill("99")
    page.get_by_role("button", name="Save round").click()
    page.get_by_role("link", name="Open the patient record").click()
    expect(timeline).to_contain_text("HR 99")
    assert ObservationRound.objects.filter(patient=patient).count() == 2


def test_a_bad_value_keeps_what_was_typed(live_server, page) -> None:
    make_user("nina", "nurse")
    make_patient(mrn="BR2", family_name="Curie")
    log_in(page, live_server, "nina")
    page.get_by_role("link", name="CURIE, Ada").click()
    page.wait_for_load_state("load")
    page.get_by_role("link", name="Record a round").click()
    page.get_by_label("Temperature (°C)").fill("3.7")
    page.get_by_label("Heart rate (/min)").fill("88")
    page.get_by_role("button", name="Save round").click()
    expect(page.locator("#error-summary")).to_contain_text("not plausible")
    expect(page.get_by_label("Heart rate (/min)")).to_have_value("88")
    assert not ObservationRound.objects.exists()


def test_a_new_flag_appears_in_the_queue_and_is_acknowledged(live_server, page, settings) -> None:
    settings.CRS_WATCH = {**settings.CRS_WATCH, "QUEUE_REFRESH_SECONDS": 1}
    make_user("carl", "clinician")
    nurse = make_user("nina", "nurse")
    patient = make_patient(mrn="BR3", family_name="Meitner")
    log_in(page, live_server, "carl")
    expect(page.locator("#queue-rows")).to_contain_text("MEITNER")
    expect(page.locator("#queue-rows")).not_to_contain_text("Urgent")
    page.evaluate("window.scrollTo(0, 0); window.__marker = 'same page'")

    # A nurse records a worsening round elsewhere.
    recording.record_round(
        patient, {"clinical_time": ago(minutes=5), **NORMAL, "acvpu": "C"}, nurse, uuid.uuid4()
    )
    expect(page.locator("#queue-rows")).to_contain_text("Confusion", timeout=10_000)
    expect(page.locator("#queue-rows")).to_contain_text("▲ Urgent")
    assert page.evaluate("window.__marker") == "same page"  # refreshed in place

    page.get_by_role("link", name="MEITNER, Ada").click()
    page.wait_for_load_state("load")
    flag = page.locator(".flag", has_text="Confusion")
    flag.get_by_label("Acknowledgement note").fill("Seen at bedside, neuro obs hourly")
    flag.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".flag", has_text="Confusion")).to_contain_text("Acknowledged by carl")
    page.screenshot(path=ARTIFACTS / "flag-acknowledged.png", full_page=True)
