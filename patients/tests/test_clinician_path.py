"""A clinician's whole path in Chromium, accessibility checked with axe-core."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from patients.models import DoseEvent, Flag, Intervention, ObservationRound, Patient

from .conftest import log_in, make_user

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21aa']}})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in violations
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.fixture
def ward(db):
    call_command("seed_demo", "--patients", "10", "--no-users", "--force")
    return make_user("carl", "clinician")


def test_a_clinicians_whole_path(live_server, page, ward) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    csp_errors = []
    page.on(
        "console",
        lambda m: (
            csp_errors.append(f"{page.url} {m.location} {m.text[:60]}")
            if "Content Security Policy" in m.text
            else None
        ),
    )
    log_in(page, live_server, "carl")
    page.screenshot(path=ARTIFACTS / "queue.png", full_page=True)

    # Find a flagged patient in the queue: worst first.
    first = page.locator("#queue-rows tbody tr").first
    expect(first).to_contain_text("Urgent")
    name = first.locator("th a").inner_text()
    first.locator("th a").click()
    page.wait_for_load_state("load")
    patient = Patient.objects.get(
        family_name__iexact=name.split(",")[0].strip(), given_name=name.split(",")[1].strip()
    )

    # Read a flag's basis.
    flag = page.locator("#flag-list .flag").first
    flag.locator("summary", has_text="Basis").click()
    expect(flag.locator("dl.basis")).to_contain_text("Source")

    # The charts draw one point per recorded value.
    rounds = ObservationRound.objects.filter(patient=patient, status="final")
    temps = rounds.exclude(temperature_c=None).count()
    expect(page.locator("#chart-temperature circle.pt")).to_have_count(temps)
    expect(page.locator("#chart-news2 circle.pt")).to_have_count(
        rounds.exclude(news2_total=None).count()
    )
    expect(page.locator("#chart-temperature .refline")).to_have_count(1)  # fever line
    page.screenshot(path=ARTIFACTS / "patient.png", full_page=True)

    # A heat-map cell opens its round and basis in place.
    page.locator("table.heat tbody tr").first.locator("a").last.click()
    expect(page.locator("#round-detail")).to_contain_text("Organ systems")

    # Acknowledge the flag.
    open_flag = page.locator("#flag-list .flag.state-open").first
    open_flag.get_by_label("Acknowledgement note").fill("Reviewed at bedside")
    open_flag.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#flag-list")).to_contain_text("Acknowledged by carl")
    assert Flag.objects.filter(patient=patient, acknowledged_by__username="carl").exists()

    # Record a tocilizumab dose.
    before = Intervention.objects.filter(patient=patient, kind="tocilizumab").count()
    page.get_by_role("link", name="Record what was given").click()
    page.wait_for_load_state("load")
    page.get_by_label("Kind").select_option("tocilizumab")
    page.get_by_label("Drug").fill("tocilizumab")
    page.get_by_label("Dose").fill("8 mg/kg (640 mg)")
    page.get_by_label("Route").fill("IV")
    page.get_by_role("button", name="Record").click()
    page.wait_for_load_state("load")
    if page.get_by_text("Dose limit:").count():  # the demo patient may be at a limit
        page.get_by_label("I have reviewed the tocilizumab dose limit").check()
        page.get_by_role("button", name="Record").click()
        page.wait_for_load_state("load")
    expect(page.get_by_role("status")).to_contain_text("Recorded: Tocilizumab")
    assert Intervention.objects.filter(patient=patient, kind="tocilizumab").count() == before + 1

    # Print the handover sheet.
    page.get_by_role("link", name="Handover", exact=True).click()
    page.wait_for_load_state("load")
    expect(page.locator("table.handover-sheet")).to_contain_text(patient.mrn)
    page.emulate_media(media="print")
    page.pdf(path=str(ARTIFACTS / "handover.pdf"))
    page.screenshot(path=ARTIFACTS / "handover-print.png", full_page=True)
    expect(page.locator("header.top nav")).to_be_hidden()
    assert csp_errors == []  # htmx and the pages run under the strict CSP


PAGES = [
    "/",
    "/patients/",
    "/patients/new/",
    "/handover/",
    "/about/",
    "/programme/",
    "/programme/?who=crs",
    "PATIENT",
    "PATIENT/rounds/new/",
    "PATIENT/interventions/new/",
    "PATIENT/labs/new/",
    "RESULT",
]


def test_every_page_passes_axe(live_server, browser, ward) -> None:
    # axe is injected as an inline script, which the product's own CSP
    # rightly blocks; this context alone lifts it for the checker.
    page = browser.new_context(bypass_csp=True).new_page()
    patient = Patient.objects.get(mrn="DEMO-0001")
    log_in(page, live_server, "carl")
    found = {}
    latest = patient.rounds.order_by("-clinical_time").first()
    result = f"/patients/{patient.pk}/rounds/{latest.pk}/result/"
    for path in PAGES:
        url = path.replace("PATIENT", f"/patients/{patient.pk}").replace("RESULT", result)
        page.goto(live_server.url + url)
        page.wait_for_load_state("load")
        found[path] = axe_violations(page)
    # A teclistamab patient: the dose list, the dose form, a dose's correction.
    dosed = DoseEvent.objects.select_related("patient").first()
    for url in (
        dosed.patient.get_absolute_url(),
        f"/patients/{dosed.patient_id}/doses/new/",
        f"/patients/{dosed.patient_id}/doses/{dosed.pk}/entered-in-error/",
    ):
        page.goto(live_server.url + url)
        page.wait_for_load_state("load")
        found[url] = axe_violations(page)
    # The login page as an anonymous visitor, the audit trail as an admin.
    anonymous = browser.new_context(bypass_csp=True).new_page()
    anonymous.goto(live_server.url + "/login/")
    found["/login/"] = axe_violations(anonymous)
    make_user("ada", "admin")
    admin = browser.new_context(bypass_csp=True).new_page()
    log_in(admin, live_server, "ada")
    for url in ("/audit/", "/service-tokens/"):
        admin.goto(live_server.url + url)
        found[url] = axe_violations(admin)
    assert found == {k: [] for k in found}


def test_the_round_form_works_by_keyboard_alone_on_a_tablet(live_server, page, ward) -> None:
    page.set_viewport_size({"width": 768, "height": 1024})
    patient = Patient.objects.get(mrn="DEMO-0005")
    log_in(page, live_server, "carl")
    page.goto(f"{live_server.url}/patients/{patient.pk}/rounds/new/")
    page.wait_for_load_state("load")
    page.get_by_label("Temperature (°C)").focus()
    page.keyboard.type("37.6")
    page.keyboard.press("Tab")  # the fever symptom select
    page.keyboard.press("Tab")  # headache
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(page.get_by_label("Temperature (°C)")).to_be_focused()
    page.get_by_label("Heart rate (/min)").focus()
    page.keyboard.type("84")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Round saved")).to_be_visible()
    assert ObservationRound.objects.filter(patient=patient, heart_rate=84).exists()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 768, "the page must not scroll sideways on a 768 px tablet"
    page.screenshot(path=ARTIFACTS / "tablet-patient.png", full_page=True)
