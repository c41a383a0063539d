"""The queue, flag actions and trend charts in a real Chromium, at ward PC,
tablet and phone sizes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from patients import recording
from patients.models import Flag, FlagState

from .conftest import NORMAL, ago, log_in, make_patient, make_user

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
VIEWPORTS = [(1366, 768), (820, 1180), (390, 844)]


def flagged_patient(nurse, mrn: str, family_name: str, **extra):
    patient = make_patient(mrn=mrn, family_name=family_name, **extra)
    recording.record_round(patient, {"clinical_time": ago(hours=5), **NORMAL}, nurse, uuid.uuid4())
    worse = {
        **NORMAL,
        "clinical_time": ago(hours=1),
        "temperature_c": 39.1,
        "heart_rate": 125,
        "acvpu": "C",
        "symptoms": {"fever": 3},
    }
    recording.record_round(patient, worse, nurse, uuid.uuid4())
    return patient


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_the_queue_fits_the_screen_and_marks_acknowledged_flags(
    live_server, page, width, height
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    nurse, clinician = make_user("nina", "nurse"), make_user("carl", "clinician")
    first = flagged_patient(nurse, "QB1", "Smith", bed="2")
    flagged_patient(nurse, "QB2", "Smith", bed="3")
    for flag in Flag.objects.filter(patient=first, state=FlagState.OPEN):
        recording.acknowledge_flag(flag, clinician, "Seen, sepsis screen sent")
    log_in(page, live_server, "carl")
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(2)
    # Unacknowledged first within the same severity.
    expect(rows.first).to_contain_text("QB2")
    expect(rows.nth(1)).to_contain_text("acknowledged by carl")
    expect(rows.nth(1).locator(".sev-acked").first).to_be_visible()
    expect(rows.first).to_contain_text("Same surname on ward")
    expect(page.locator("#queue-rows")).to_contain_text("Updated")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if width < 700:  # a list of cards
        assert rows.first.evaluate("e => getComputedStyle(e).display") == "block"
    page.screenshot(path=ARTIFACTS / f"queue-{width}.png")


def test_a_failed_refresh_is_announced_and_cleared(live_server, page, settings) -> None:
    settings.CRS_WATCH = {**settings.CRS_WATCH, "QUEUE_REFRESH_SECONDS": 1}
    make_user("carl", "clinician")
    make_patient(mrn="QB3", family_name="Hopper")
    log_in(page, live_server, "carl")
    warning = page.locator("#refresh-failed")
    expect(warning).to_be_hidden()
    page.context.set_offline(True)
    expect(warning).to_be_visible(timeout=10_000)
    expect(warning).to_contain_text("could not be refreshed")
    page.context.set_offline(False)
    expect(warning).to_be_hidden(timeout=10_000)


def test_one_note_acknowledges_several_flags_and_resolving_asks_to_confirm(
    live_server, page
) -> None:
    nurse = make_user("nina", "nurse")
    make_user("carl", "clinician")
    patient = flagged_patient(nurse, "QB4", "Lovelace")
    open_flags = list(Flag.objects.filter(patient=patient, state=FlagState.OPEN))
    assert len(open_flags) >= 2
    log_in(page, live_server, "carl")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.wait_for_load_state("load")
    several = page.locator("#ack-several")
    several.get_by_label("Note for the ticked flags").fill("Reviewed together; hourly obs")
    several.get_by_role("button", name="Acknowledge ticked flags").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("status")).to_contain_text(f"Acknowledged {len(open_flags)} flags")
    assert not Flag.objects.filter(patient=patient, state=FlagState.OPEN).exists()
    assert {f.acknowledge_note for f in Flag.objects.filter(patient=patient)} == {
        "Reviewed together; hourly obs"
    }
    # Resolving is a different, guarded action.
    flag = page.locator("#flag-list .flag").first
    flag.get_by_text("Resolve (close) this flag").click()
    flag.get_by_label("Reason to resolve").fill("Fever settled")
    flag.get_by_role("button", name="Resolve flag").click()  # not confirmed: nothing sent
    assert Flag.objects.filter(patient=patient, state=FlagState.RESOLVED).count() == 0
    flag.get_by_label("Yes: the condition has resolved").check()
    flag.get_by_role("button", name="Resolve flag").click()
    expect(page.locator("#flag-list")).to_contain_text("Resolved by carl")
    assert Flag.objects.filter(patient=patient, state=FlagState.RESOLVED).count() == 1


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_trend_charts_can_be_read(live_server, page, width, height) -> None:
    page.set_viewport_size({"width": width, "height": height})
    nurse, clinician = make_user("nina", "nurse"), make_user("carl", "clinician")
    patient = flagged_patient(nurse, "QB5", "Franklin")
    for kind, minutes in (("tocilizumab", 100), ("corticosteroid", 95), ("vasopressor", 90)):
        recording.record_intervention(
            patient, {"kind": kind, "given_at": ago(minutes=minutes)}, clinician, uuid.uuid4()
        )
    log_in(page, live_server, "carl")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")
    page.wait_for_load_state("load")
    charts = page.locator(".chart svg")
    expect(charts).to_have_count(8)
    section = page.locator("section[aria-labelledby=trends-h] .charts").bounding_box()
    first = charts.first.bounding_box()
    assert first["width"] >= min(section["width"] * 0.95, 560)
    smallest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll('.chart text')].map(t => {
            const svg = t.ownerSVGElement;
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            return parseFloat(getComputedStyle(t).fontSize) * scale;
        }))"""
    )
    assert smallest >= 11
    overlaps = page.evaluate(
        """() => [...document.querySelectorAll('.chart')].some(c => {
            const r = [...c.querySelectorAll('.markerlabel')].map(t => t.getBoundingClientRect());
            return r.some((a, i) => r.slice(i + 1).some(b =>
                a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom));
        })"""
    )
    assert not overlaps
    expect(page.locator(".chart line.now")).to_have_count(8)
    expect(page.locator("#chart-ice")).to_contain_text("not assessed")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.locator("#chart-temperature").screenshot(path=ARTIFACTS / f"chart-{width}.png")
