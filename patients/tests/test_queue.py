"""The review queue: worst first, filters, live refresh, constant queries."""

from __future__ import annotations

import time
import uuid
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from patients import recording
from patients.models import Patient, PatientStatus

from .conftest import NORMAL, ago, make_patient


def bulk_patients(n: int, start: int = 0) -> None:
    patients = Patient.objects.bulk_create(
        Patient(
            mrn=f"Q{start + i}",
            given_name="P",
            family_name=f"N{start + i:05d}",
            birth_date=date(1960, 1, 1),
            ward="Haem A" if i % 2 else "Haem B",
        )
        for i in range(n)
    )
    PatientStatus.objects.bulk_create(
        PatientStatus(
            patient=p,
            ward=p.ward,
            sort_name=p.family_name.lower(),
            news2_total=i % 9,
            news2_band="low",
            band_rank=0,
            worst_flag_rank=i % 4,
            flag_groups=[
                {
                    "organ": "Renal",
                    "severity": "medium",
                    "shape": "●",
                    "label": "Medium",
                    "title": "Renal worse",
                    "more": 0,
                    "all_acknowledged": False,
                }
            ]
            if i % 4
            else [],
            last_round_at=timezone.now(),
        )
        for i, p in enumerate(patients)
    )


def record(patient, user, hours, **values):
    recording.record_round(
        patient, {"clinical_time": ago(hours=hours), **{**NORMAL, **values}}, user, uuid.uuid4()
    )


def test_flagged_patients_come_first_worst_first(nurse_client, nurse) -> None:
    calm = make_patient(mrn="C1", family_name="Calm")
    worse = make_patient(mrn="W1", family_name="Worse")
    worst = make_patient(mrn="X1", family_name="Worst")
    record(calm, nurse, 1)
    record(worse, nurse, 2)
    record(worse, nurse, 1, symptoms={"cough": 1})  # medium worsening
    record(worst, nurse, 1, acvpu="C")  # urgent red flag
    page = nurse_client.get(reverse("queue")).content.decode()
    assert page.index("WORST") < page.index("WORSE,") < page.index("CALM")
    assert "▲ Urgent" in page and "● Medium" in page  # text and shape, not colour alone


def test_it_shows_grades_day_and_overdue(nurse_client, nurse) -> None:
    p = make_patient(mrn="D1", family_name="Dayplus")
    record(p, nurse, 20, temperature_c=38.4)
    page = nurse_client.get(reverse("queue")).content.decode()
    assert "Day +3" in page
    assert "Overdue" in page


def test_it_filters_by_ward_and_severity(nurse_client) -> None:
    bulk_patients(8)
    by_ward = nurse_client.get(reverse("queue"), {"ward": "Haem B"}).content.decode()
    assert "N00000" in by_ward and "N00001" not in by_ward
    urgent = nurse_client.get(reverse("queue"), {"severity": "urgent"}).content.decode()
    assert "N00003" in urgent and "N00002" not in urgent


def test_it_refreshes_itself_keeping_the_filters(nurse_client) -> None:
    bulk_patients(3)
    full = nurse_client.get(reverse("queue"), {"ward": "Haem A"}).content.decode()
    assert 'hx-trigger="every 30s"' in full
    assert 'hx-get="/?ward=Haem+A"' in full
    part = nurse_client.get(reverse("queue"), {"ward": "Haem A"}, HTTP_HX_REQUEST="true")
    assert part.content.decode().lstrip().startswith('<div id="queue-rows"')
    assert "<html" not in part.content.decode()


def start_of_a_minute() -> None:
    """Wait for a fresh clock minute when less than 15 s of this one is left.

    The queue's cached regions are keyed on the minute (overdue markers move
    with the clock), so requests that straddle a minute re-read them.
    """
    seconds_left = 60 - timezone.now().second
    if seconds_left < 15:
        time.sleep(seconds_left + 0.1)


@pytest.mark.parametrize("count", [5, 200, 500, 2000])
def test_the_queue_query_count_is_the_same_for_5_to_2000_patients(
    nurse_client, count, django_assert_num_queries
) -> None:
    bulk_patients(count)
    start_of_a_minute()
    nurse_client.get(reverse("queue"))  # warm the session
    # session, user (its permissions come from the cache), newest change,
    # count, one page, shared surnames and beds on its wards, the audit row
    # (the ward list was read by the first request and has not changed since)
    with django_assert_num_queries(7):
        response = nurse_client.get(reverse("queue"), {"ward": "Haem A"})
    assert response.status_code == 200
    # Unchanged since: the rendered page and ward list are reused (only the
    # newest change is read), and the view is audited: session, user, newest
    # change, audit row.
    with django_assert_num_queries(4):
        again = nurse_client.get(reverse("queue"), {"ward": "Haem A"})
    body = response.content.decode()
    rows = body[body.index("<tbody>") : body.index("</tbody>")]
    assert rows in again.content.decode()


@pytest.mark.parametrize("others", [200, 2000])
def test_the_patient_page_query_count_does_not_grow_with_the_hospital(
    clinician_client, nurse, others, django_assert_num_queries
) -> None:
    bulk_patients(others)
    patient = make_patient(mrn="PQ1")
    for hours in range(12):
        record(patient, nurse, 48 - 4 * hours, temperature_c=37.5 + hours / 10)
    # The same number at 200 and at 2,000 other patients: nothing is per-patient
    # (the look-alike check is one indexed query on the ward; the escalation
    # panel is one more, and one for its cache key; the episodes region reads
    # the patient's rounds once).
    with django_assert_num_queries(23):
        response = clinician_client.get(patient.get_absolute_url())
    assert response.status_code == 200
