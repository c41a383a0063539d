"""The patient page's cached regions: each changes when what it shows
changes, and no one is served another's actions or forms."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from patients.models import Flag

from .conftest import ago
from .test_corrections import fever_then_treated_hypotension
from .test_recording import record


def flags_section(html: str) -> str:
    start = html.index('<section class="card" aria-labelledby="flags-h">')
    return html[start : html.index("</section>", start)]


def test_acknowledging_a_flag_shows_at_once_on_the_page(clinician_client, patient, nurse) -> None:
    record(patient, nurse, ago(hours=4))
    record(patient, nurse, ago(hours=1), temperature_c=38.6)
    flag = Flag.objects.get(key="grade_rise:crs")
    url = patient.get_absolute_url()
    before = flags_section(clinician_client.get(url).content.decode())
    assert f'id="ack-{flag.pk}"' in before and "Acknowledged by" not in before
    acknowledge = reverse("flag_acknowledge", args=[patient.pk, flag.pk])
    assert (
        clinician_client.post(acknowledge, {"note": "reviewed at the bedside"}).status_code == 302
    )
    after = flags_section(clinician_client.get(url).content.decode())
    assert "Acknowledged by carl" in after and "reviewed at the bedside" in after
    assert f'id="ack-{flag.pk}"' not in after


def test_a_new_round_changes_the_grades_and_the_options(clinician_client, patient, nurse) -> None:
    record(patient, nurse, ago(hours=4))
    url = patient.get_absolute_url()
    before = clinician_client.get(url).content.decode()
    assert "No options listed for the current presentation." in before
    fever = record(patient, nurse, ago(hours=1), temperature_c=38.6)
    after = clinician_client.get(url).content.decode()
    assert "No options listed for the current presentation." not in after
    assert '<details class="option"' in after
    when = fever.clinical_time.astimezone().strftime("%H:%M")
    assert re.search(rf"Last round \d+ \w+ {when}\.", after)
    assert not re.search(rf"Last round \d+ \w+ {when}\.", before)


def test_what_was_given_and_its_correction_show_at_once(
    clinician_client, patient, nurse, clinician
) -> None:
    url = patient.get_absolute_url()
    empty = clinician_client.get(url).content.decode()
    assert "<strong>0 of" in empty
    dose, _ = fever_then_treated_hypotension(patient, nurse, clinician)
    given = clinician_client.get(url).content.decode()
    assert "8 mg/kg" in given and "<strong>1 of" in given
    correct = reverse("intervention_correct", args=[patient.pk, dose.pk])
    assert f'href="{correct}"' in given
    clinician_client.post(correct, {"reason": "given to the patient in bed 5"})
    corrected = clinician_client.get(url).content.decode()
    assert "Entered in error</strong> by carl" in corrected
    assert "given to the patient in bed 5" in corrected
    assert f'href="{correct}"' not in corrected and "<strong>0 of" in corrected


def test_a_nurse_is_not_served_the_clinicians_cached_actions(
    client, clinician, nurse, patient
) -> None:
    record(patient, nurse, ago(hours=4))
    record(patient, nurse, ago(hours=1), temperature_c=38.6)
    fever_then_treated_hypotension(patient, nurse, clinician)
    client.force_login(clinician)
    url = patient.get_absolute_url()
    seen = client.get(url).content.decode()
    assert "Acknowledge" in flags_section(seen) and "Entered in error…" in seen
    client.force_login(nurse)
    html = client.get(url).content.decode()
    assert "<button" not in flags_section(html)  # flags are the clinicians' to answer
    assert "Entered in error…" not in html  # corrections too
    assert "8 mg/kg" in html  # the same record, read from the cache


def test_each_browser_is_served_forms_it_can_send(clinician, patient, nurse) -> None:
    # Two browsers of one clinician: each flag form carries a token for its
    # own browser's secret, so both can act, though the region is cached.
    record(patient, nurse, ago(hours=4))
    record(patient, nurse, ago(hours=1), temperature_c=38.6)
    flag = Flag.objects.get(key="grade_rise:crs")
    url = patient.get_absolute_url()
    browsers = [Client(enforce_csrf_checks=True) for _ in range(2)]
    tokens = []
    for browser in browsers:
        browser.force_login(clinician)
        html = flags_section(browser.get(url).content.decode())
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1))
    acknowledge = reverse("flag_acknowledge", args=[patient.pk, flag.pk])
    sent = browsers[1].post(acknowledge, {"note": "seen", "csrfmiddlewaretoken": tokens[1]})
    assert sent.status_code == 302
    flag.refresh_from_db()
    assert flag.state == "acknowledged"


def test_it_pins_the_patient_page_query_counts_cold_and_warm(
    clinician_client, patient, nurse, django_assert_num_queries
) -> None:
    record(patient, nurse, ago(hours=4))
    record(patient, nurse, ago(hours=1), temperature_c=38.6)
    url = patient.get_absolute_url()
    clinician_client.get(reverse("queue"))  # warm the session
    # session, user (its permissions come from the cache), patient with its
    # status row, audit, exposure, tocilizumab times, look-alikes, whether
    # there are escalation cards (the panel's key), escalations; then what the cached
    # regions show: the current rounds, what was given, open flags, past
    # flags, the charts' rounds, the episodes' rounds, heat-map flags, a
    # page of rounds and its count
    with django_assert_num_queries(18):
        first = clinician_client.get(url).content.decode()
    # Every region but the plan and the look-alikes comes from the cache;
    # the escalation panel's key is read.
    with django_assert_num_queries(7):
        again = clinician_client.get(url).content.decode()
    assert flags_section(again) == flags_section(first)


def escalation_section(html: str) -> str:
    start = html.index('<section class="card" aria-labelledby="escalations-h"')
    return html[start : html.index("</section>", start)]


def test_the_escalation_panel_follows_the_worker_the_nurse_and_the_clinician(
    client, nurse, clinician, settings
) -> None:
    from patients import notifications
    from patients.models import Notification
    from patients.policy import load

    from .conftest import free_port, make_patient
    from .test_escalation import policy
    from .test_escalation_bedside import escalate

    settings.CRS_WATCH = {**settings.CRS_WATCH, "NOTIFY_MAX_ATTEMPTS": 1}
    load(policy(webhook=f"http://127.0.0.1:{free_port()}/hook"), "p.toml")
    patient = make_patient()
    esc = escalate(patient, nurse)
    client.force_login(nurse)
    url = patient.get_absolute_url()
    panel = escalation_section(client.get(url).content.decode())
    assert "Escalated to" in panel and "could not be delivered" not in panel
    # The worker's failed delivery writes no status row.
    notifications.deliver(Notification.objects.get().pk)
    panel = escalation_section(client.get(url).content.decode())
    assert "1 notification could not be delivered: call them directly" in panel
    bedside = reverse("escalation_bedside", args=[patient.pk, esc.pk])
    client.post(bedside, {f"e{esc.pk}-informed": "Dr Patel", f"e{esc.pk}-how": "bleep"})
    panel = escalation_section(client.get(url).content.decode())
    assert "Informed Dr Patel (Bleep / pager)" in panel
    client.force_login(clinician)
    flag = esc.flags.first()
    acknowledge = reverse("flag_acknowledge", args=[patient.pk, flag.pk])
    client.post(acknowledge, {"note": "on my way"})
    panel = escalation_section(client.get(url).content.decode())
    assert "Escalation acknowledged by carl" in panel
