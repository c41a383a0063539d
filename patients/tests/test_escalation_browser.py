"""The escalation at the bedside in Chromium, accessibility checked with axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from patients.models import BedsideRecord, Escalation

from .conftest import log_in, make_patient, make_user
from .test_clinician_path import ARTIFACTS, axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_nurse_sees_who_responds_and_records_who_she_informed(live_server, browser) -> None:
    # The default policy (migrations) is flushed by transactional tests: load one.
    from patients.policy import load

    from .test_escalation import policy

    load(policy(email="haem-registrar@example.org"), "p.toml")
    make_user("nina", "nurse")
    patient = make_patient(mrn="BE1", family_name="Nightingale")
    page = browser.new_context(bypass_csp=True).new_page()
    log_in(page, live_server, "nina")
    page.goto(f"{live_server.url}/patients/{patient.pk}/rounds/new/")
    page.wait_for_load_state("load")
    page.get_by_label("Respiration rate (/min)").fill("26")
    page.get_by_label("SpO2 (%)").fill("90")
    page.get_by_label("Heart rate (/min)").fill("120")
    page.get_by_label("Systolic BP (mmHg)").fill("125")
    page.get_by_label("Temperature (°C)").fill("37.0")
    page.get_by_role("button", name="Save round").click()
    page.wait_for_load_state("load")
    result = page.locator(".escalation-result")
    expect(result).to_contain_text("This round calls for escalation")
    expect(result).to_contain_text("Escalated to Haematology registrar: respond by")
    assert axe_violations(page) == []
    esc = Escalation.objects.get()
    card = page.locator(f"#escalation-{esc.pk}")
    card.get_by_label("Who was informed").fill("Dr Okafor, registrar")
    card.get_by_label("How").select_option("phone")
    card.get_by_role("button", name="Save escalation record").click()
    expect(page.locator(f"#escalation-{esc.pk}")).to_contain_text(
        "Informed Dr Okafor, registrar (Phone)"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "escalation-bedside.png", full_page=True)
    assert BedsideRecord.objects.get().informed == "Dr Okafor, registrar"


def test_the_response_figures_page_passes_axe(live_server, browser) -> None:
    make_user("carl", "clinician")
    page = browser.new_context(bypass_csp=True).new_page()
    log_in(page, live_server, "carl")
    page.goto(f"{live_server.url}/escalations/figures/")
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Escalation response figures")).to_be_visible()
    assert axe_violations(page) == []
    page.screenshot(path=ARTIFACTS / "response-figures.png", full_page=True)
