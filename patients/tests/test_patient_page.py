"""The patient page's regions: each htmx partial reads only what it shows,
and cached regions change with every write."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.urls import reverse
from django.utils import timezone

from patients.demo import demo_ward
from patients.management.commands.seed_demo import store_demo_patient
from patients.models import Flag, PatientStatus

from .conftest import ago, make_patient
from .test_recording import record


def rounds_recorded(patient, nurse, count: int) -> None:
    for h in range(count):
        record(patient, nurse, ago(hours=4 * (count - h)), temperature_c=37.0 + h / 10)


def test_it_pins_the_rounds_partial_query_count(
    clinician_client, patient, nurse, django_assert_num_queries
) -> None:
    rounds_recorded(patient, nurse, 14)
    url = patient.get_absolute_url()
    clinician_client.get(url)  # warm the session
    # session, user (its permissions come from the cache), patient, status,
    # rounds count, one page, the audit row (paging shows more of the
    # record: it is a view too)
    with django_assert_num_queries(7):
        part = clinician_client.get(url, {"page": 2}, HTTP_HX_REQUEST="true")
    html = part.content.decode()
    assert html.lstrip().startswith('<section class="card" id="rounds"')
    assert "Page 2 of 2" in html and "<html" not in html


def test_a_cached_patient_page_reads_none_of_the_chart_data(
    clinician_client, patient, nurse, django_assert_num_queries
) -> None:
    rounds_recorded(patient, nurse, 12)
    url = patient.get_absolute_url()
    first = clinician_client.get(url).content.decode()
    # session, user (its permissions come from the cache), patient with its
    # status row, audit, exposure, look-alikes on the ward, whether there
    # are escalation cards to show (the worker changes them): no rounds,
    # interventions, flags or pages (every other region comes from the cache)
    with django_assert_num_queries(7):
        again = clinician_client.get(url).content.decode()
    assert again.count('<circle class="pt') == first.count('<circle class="pt') > 0


def test_a_new_round_replaces_the_cached_charts(clinician_client, patient, nurse) -> None:
    rounds_recorded(patient, nurse, 3)
    url = patient.get_absolute_url()
    before = clinician_client.get(url).content.decode().count('<circle class="pt')
    record(patient, nurse, ago(minutes=30), temperature_c=38.4)
    after = clinician_client.get(url).content.decode().count('<circle class="pt')
    assert after > before


def test_an_acknowledged_flag_keeps_its_options_line(
    clinician_client, patient, nurse, django_assert_num_queries
) -> None:
    record(patient, nurse, ago(hours=4))
    record(patient, nurse, ago(hours=1), temperature_c=38.6)
    flag = Flag.objects.get(key="grade_rise:crs")
    url = reverse("flag_acknowledge", args=[patient.pk, flag.pk])
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    assert "Options the sources describe for the current presentation" in page
    response = clinician_client.post(url, {"note": "seen"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="flag-{flag.pk}"')
    assert "Acknowledged by carl" in html
    assert "Options the sources describe for the current presentation" in html


def test_it_pins_the_flag_item_partial_query_count(
    clinician_client, patient, nurse, django_assert_num_queries
) -> None:
    record(patient, nurse, ago(hours=2), acvpu="C")
    flag = Flag.objects.get(key="red_flag:confusion")
    url = reverse("flag_acknowledge", args=[patient.pk, flag.pk])
    clinician_client.get(patient.get_absolute_url())  # warm the session
    # session, user (permissions from the cache), flag, its patient, latest
    # round (for the options line); the invalid note writes nothing
    with django_assert_num_queries(5):
        response = clinician_client.post(url, {"note": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert 'class="error"' in response.content.decode()


def test_each_round_screen_carries_its_own_form_key_and_address(clinician_client, nurse) -> None:
    first, second = make_patient(mrn="F1"), make_patient(mrn="F2")
    pages = [
        clinician_client.get(reverse("round_create", args=[p.pk])).content.decode()
        for p in (first, second)
    ]
    again = clinician_client.get(reverse("round_create", args=[first.pk])).content.decode()
    keys = [re.search(r'name="client_key" value="([^"]+)"', p).group(1) for p in (*pages, again)]
    assert len(set(keys)) == 3  # a fresh one-time key on every view
    assert f'action="{reverse("round_create", args=[first.pk])}"' in pages[0]
    assert f'action="{reverse("round_create", args=[second.pk])}"' in pages[1]
    # One click from the patient page.
    detail = clinician_client.get(first.get_absolute_url()).content.decode()
    assert f'href="{reverse("round_create", args=[first.pk])}"' in detail
    token = clinician_client.cookies["csrftoken"].value
    assert token and 'name="csrfmiddlewaretoken"' in pages[1]


def episodes_section(html: str) -> str:
    start = html.index('<section class="card" aria-labelledby="episodes-h">')
    return html[start : html.index("</section>", start)]


def test_the_episodes_section_summarises_each_crs_and_icans_episode(
    clinician_client, nurse
) -> None:
    # REFERENCE k10 registry fields, derived from the stored rounds and the
    # ledger (clinical/registry.py); the end rule is local policy (k1).
    crs_demo, icans_demo = demo_ward(2, seed=11, now=datetime.now(UTC), days=10)
    patient = store_demo_patient(crs_demo, nurse)
    section = episodes_section(clinician_client.get(patient.get_absolute_url()).content.decode())
    assert "CRS episode from" in section
    assert "Day +2 after infusion" in section
    assert "Grade 3 (ASTCT 2019)" in section
    assert "2 doses" in section  # tocilizumab on days 3 and 4 (demo.cart_crs)
    assert "dexamethasone from" in section
    assert "1 at once (norepinephrine)" in section
    assert "Nasal cannula 3 L/min" in section
    assert "positive pressure: no" in section
    assert "local policy" in section and "DERIVED" in section
    # Every therapy class the registry CSV reports (therapy_given), with
    # the drugs recorded for it.
    assert "Antipyretic: paracetamol" in section
    icans_patient = store_demo_patient(icans_demo, nurse)
    section = episodes_section(
        clinician_client.get(icans_patient.get_absolute_url()).content.decode()
    )
    assert "ICANS episode from" in section and "Lowest ICE score" in section
    assert "2/10 at" in section  # ICE 8, 5, 2, 6 on days 4-7 (demo.cart_icans)
    assert "Anti-epileptic: levetiracetam" in section


def test_the_episodes_region_reads_its_data_once_then_comes_from_the_cache(
    clinician_client, patient, nurse, django_assert_num_queries
) -> None:
    record(patient, nurse, ago(hours=8), temperature_c=38.5)
    record(patient, nurse, ago(hours=4), temperature_c=37.0, oxygen_device="cpap")
    url = patient.get_absolute_url()
    page = clinician_client.get(url).content.decode()
    assert "positive pressure: yes" in episodes_section(page)
    # The cached page's 7 queries (test above), and no episode data.
    with django_assert_num_queries(7):
        again = clinician_client.get(url).content.decode()
    assert episodes_section(again) == episodes_section(page)
    # Only the episodes region missing from the cache: its rounds and the
    # ledger of what was given, once each (the exposure and doses are those
    # the page read).
    status = PatientStatus.objects.get(patient=patient)
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    cache.delete(make_template_fragment_key("episodes", [patient.pk, status.updated_at, hour]))
    with django_assert_num_queries(9):
        cold = clinician_client.get(url).content.decode()
    assert episodes_section(cold) == episodes_section(page)
