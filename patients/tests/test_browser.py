"""A real Chromium, driven through Playwright, against the live server."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from patients.models import ObservationRound

from .conftest import log_in, make_patient, make_user

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_nurse_logs_in_records_a_round_and_sees_it_on_the_timeline(live_server, page) -> None:
    make_user("nina", "nurse")
    patient = make_patient(mrn="BR1", family_name="Franklin")
    log_in(page, live_server, "nina")
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    page.get_by_role("link", name="FRANKLIN, Ada").click()
    page.wait_for_load_state("load")
    page.get_by_label("Temperature (°C)").fill("38.7")
    page.get_by_label("Heart rate (/min)").fill("121")
    page.get_by_label("Oxygen", exact=True).select_option("nasal_cannula")
    page.get_by_label("Oxygen flow (L/min)").fill("3")
    page.get_by_role("button", name="Save round").click()
    expect(page.get_by_role("status").filter(has_text="Round recorded")).to_be_visible()
    timeline = page.locator("#rounds")
    expect(timeline).to_contain_text("T 38.7")
    expect(timeline).to_contain_text("HR 121")
    expect(page.locator(".grade-box").first).to_contain_text("CRS grade 2")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "patient-after-round.png", full_page=True)
    assert ObservationRound.objects.filter(patient=patient).count() == 1
    # The fresh form has a new key: a second round is stored too.
    page.get_by_label("Heart rate (/min)").fill("99")
    page.get_by_role("button", name="Save round").click()
    expect(timeline).to_contain_text("HR 99")
    assert ObservationRound.objects.filter(patient=patient).count() == 2


def test_a_bad_value_keeps_what_was_typed(live_server, page) -> None:
    make_user("nina", "nurse")
    make_patient(mrn="BR2", family_name="Curie")
    log_in(page, live_server, "nina")
    page.get_by_role("link", name="CURIE, Ada").click()
    page.wait_for_load_state("load")
    page.get_by_label("Temperature (°C)").fill("3.7")
    page.get_by_label("Heart rate (/min)").fill("88")
    page.get_by_role("button", name="Save round").click()
    expect(page.locator("#round-form")).to_contain_text("not plausible")
    expect(page.get_by_label("Heart rate (/min)")).to_have_value("88")
    assert not ObservationRound.objects.exists()
