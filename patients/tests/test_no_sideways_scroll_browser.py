"""No page scrolls sideways on a tablet or a phone (issue 15): wide tables
scroll inside their own box or reflow, the page itself stays the width of
the screen. Measured in Chromium on demo-ward data, whose names, due times
and bases are as long as a real ward's."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.urls import reverse

from patients.models import Patient

from .conftest import log_in, make_user
from .test_clinician_path import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.fixture
def ward(db):
    call_command("seed_demo", "--patients", "10", "--no-users", "--force")
    return make_user("carl", "clinician")


def busiest_patient(page, live_server) -> Patient | None:
    """A patient with flags, rounds (organ panel) and an episode, like the demo's sickest."""
    for patient in Patient.objects.annotate(n=Count("flags")).filter(n__gt=0).order_by("-n"):
        page.goto(f"{live_server.url}{reverse('patient', args=[patient.pk])}")
        if page.get_by_text("How these are derived").count():
            return patient
    return None


def test_pages_fit_the_screen_width(live_server, browser, ward) -> None:
    # axe-core is injected as a script: the page's own CSP would refuse it.
    page = browser.new_context(bypass_csp=True).new_page()
    log_in(page, live_server, "carl")
    patient = busiest_patient(page, live_server)
    assert patient is not None
    wide, axe = {}, {}
    checks = [
        (820, reverse("queue")),
        (390, reverse("queue")),
        (390, reverse("patient", args=[patient.pk])),
        (390, reverse("response_figures")),
    ]
    for width, url in checks:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("load")
        if page_width(page) > width:
            wide[f"{url} at {width}"] = page_width(page)
        # A table that scrolls in its own box must still be reachable by keyboard.
        if violations := axe_violations(page):
            axe[f"{url} at {width}"] = violations
    assert wide == {}
    assert axe == {}
