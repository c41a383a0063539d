"""The programme page in a real Chromium: from the menu to the charts, and
from a count to the patients behind it, on a ward PC and a phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from .conftest import log_in, make_user

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = [(1366, 768), (390, 844)]


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_a_clinician_goes_from_a_count_to_the_patients_behind_it(
    live_server, page, width, height
) -> None:
    call_command("seed_demo", "--patients", "5", "--no-users", "--force")
    make_user("carl", "clinician")
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server, "carl")
    page.get_by_role("link", name="Programme figures").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Programme figures", level=1)).to_be_visible()
    # Each chart is an image with its own name; its figures are in the tables.
    for name in ("Patients by highest CRS grade", "Hours from CRS onset", "Rounds by when"):
        expect(page.get_by_role("img", name=name).first).to_be_visible()
    # Axis and bar text is at least 11 px on screen, as on the trend charts.
    smallest = page.evaluate(
        "Math.min(...[...document.querySelectorAll('.programme-chart svg text')]"
        ".map(t => t.getBoundingClientRect().height))"
    )
    sizes = page.evaluate(
        "[...document.querySelectorAll('.programme-chart svg')].map(s => {"
        " const t = s.querySelector('text'); if (!t) return 99;"
        " const units = parseFloat(getComputedStyle(t).fontSize);"
        " return units * s.getBoundingClientRect().width / s.viewBox.baseVal.width; })"
    )
    assert smallest > 0 and min(sizes) >= 11, sizes
    # The page never scrolls sideways; wide tables and charts scroll in their box.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"programme-{width}.png", full_page=True)
    crs = page.locator("section[aria-labelledby=episodes-h] tr.total td").nth(1)
    if not crs.count():  # one product: its own row is the total
        crs = page.locator("section[aria-labelledby=episodes-h] tbody tr td").nth(1)
    count = crs.get_by_role("link").inner_text()
    crs.get_by_role("link").click()
    page.wait_for_load_state("load")
    listed = page.locator("#patients tbody tr")
    expect(listed).to_have_count(int(count))
    name = listed.first.locator("th a").inner_text()
    listed.first.locator("th a").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
