"""Response figures: per ward and period, time to acknowledgement, CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.escalation import raise_concern
from patients.models import Escalation, EscalationState
from patients.response_figures import Facts, by_tier, chart_bars, percentile

from .conftest import make_patient

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def fact(minutes: float | None, tier="Team", target=15, state=None, **extra) -> Facts:
    values = {
        "escalation_id": 1,
        "ward": "Haem A",
        "tier": tier,
        "opened_at": T0,
        "target_at": T0 + timedelta(minutes=target),
        "acknowledged_at": None if minutes is None else T0 + timedelta(minutes=minutes),
        "cascades": 0,
        "state": state or ("acknowledged" if minutes is not None else "open"),
        "trigger_kind": "grade_rise",
        "trigger_severity": "urgent",
        "notifications_sent": 1,
        "notifications_failed": 0,
        "failed_attempts": 0,
        "bedside": "informed",
    }
    values.update(extra)
    return Facts(**values)


def test_percentile_is_by_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(m) for m in range(1, 11)], 0.9) == 9.0
    assert percentile([float(m) for m in range(1, 11)], 0.5) == 5.0


def test_tier_figures_median_90th_centile_and_share_within_target() -> None:
    facts = [fact(m) for m in (2, 4, 6, 8, 10, 12, 14, 16, 30, 40)] + [
        fact(None),  # past its target, never acknowledged: a miss
        fact(None, target=120),  # still inside its time: not judged yet
        fact(None, state="stood_down"),  # flags resolved before anyone had to answer
    ]
    [row] = by_tier(facts, now=T0 + timedelta(minutes=60))
    assert (row.escalations, row.acknowledged) == (13, 10)
    assert row.median_minutes == 11
    assert row.p90_minutes == 30
    assert (row.within_target, row.judged) == (7, 12 - 1)
    assert row.share_within_target == 7 / 11


def test_the_chart_counts_each_escalation_in_one_band() -> None:
    bars = chart_bars([fact(1), fact(4.9), fact(5), fact(200), fact(None)])
    counts = {bar.label: bar.count for bar in bars}
    assert counts == {
        "0-5": 2,
        "5-10": 1,
        "10-15": 0,
        "15-30": 0,
        "30-60": 0,
        "60-120": 0,
        "120+": 1,
        "not ack.": 1,
    }
    tallest = max(bars, key=lambda b: b.count)
    assert tallest.height == max(b.height for b in bars) > 0


@pytest.mark.django_db
def test_the_page_shows_figures_per_ward_and_tier(clinician_client, nurse) -> None:
    patient = make_patient(ward="Haem A")
    for _ in range(3):
        raise_concern(patient, nurse, "worried")
    now = timezone.now()
    first, second, third = Escalation.objects.order_by("pk")
    Escalation.objects.filter(pk=first.pk).update(
        state=EscalationState.ACKNOWLEDGED, closed_at=first.opened_at + timedelta(minutes=10)
    )
    Escalation.objects.filter(pk=second.pk).update(
        state=EscalationState.ACKNOWLEDGED, closed_at=second.opened_at + timedelta(minutes=50)
    )
    third.steps.update(due_at=now - timedelta(minutes=1))  # past its time, unanswered
    response = clinician_client.get(reverse("response_figures"), {"ward": "Haem A"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Responsible medical team" in page
    assert "30.0" in page  # median of 10 and 50 minutes
    assert "33 % (1 of 3)" in page
    assert "<svg" in page and "not ack." in page


@pytest.mark.django_db
def test_the_csv_has_one_row_per_escalation_and_no_patient_identity(
    clinician_client, nurse
) -> None:
    patient = make_patient(ward="Haem A", given_name="Zelda")
    raise_concern(patient, nurse, "=HYPERLINK(1)")
    response = clinician_client.get(reverse("response_figures_csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:3] == ["escalation_id", "ward", "opened_at"]
    assert len(rows) == 2
    assert rows[1][1] == "Haem A"
    assert rows[1][5] == "Responsible medical team"
    assert rows[1][-1] == "missing"
    assert "Zelda" not in response.content.decode()
    assert patient.mrn not in response.content.decode()


@pytest.mark.django_db
def test_bad_dates_are_reported_on_the_field_not_as_an_error_page(clinician_client) -> None:
    response = clinician_client.get(
        reverse("response_figures"), {"start": "2026-11-20", "end": "2026-11-01"}
    )
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()
    assert 'value="2026-11-20"' in response.content.decode()
    garbage = clinician_client.get(reverse("response_figures"), {"start": "yesterday"})
    assert garbage.status_code == 200
    assert clinician_client.get(reverse("response_figures_csv"), {"start": "x"}).status_code == 400


@pytest.mark.django_db
def test_managers_in_the_admin_role_see_the_figures(client, admin_user) -> None:
    client.force_login(admin_user)
    assert client.get(reverse("response_figures")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 6])
def test_the_page_reads_a_fixed_number_of_queries(
    clinician_client, nurse, count, django_assert_num_queries
) -> None:
    for i in range(count):
        raise_concern(make_patient(mrn=f"F{i}", ward=f"Ward {i % 3}"), nurse, "worried")
    with django_assert_num_queries(12):
        clinician_client.get(reverse("response_figures"))
