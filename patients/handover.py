"""The handover sheet: one row per patient, read in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from .clinical.treatments import dose_counts
from .models import Intervention, PatientStatus, RoundStatus
from .plans import status_plan_summary

STEROID_WINDOW = timedelta(hours=48)


def handover_rows(statuses: list[PatientStatus], now: datetime) -> list[dict[str, Any]]:
    """Return each patient's handover line: grades, flags, doses, support, due times."""
    given = Intervention.objects.filter(
        patient_id__in=[s.patient_id for s in statuses],
        kind__in=["tocilizumab", "corticosteroid"],
        status=RoundStatus.FINAL,
    ).order_by("given_at")
    by_patient: dict[int, list[Intervention]] = defaultdict(list)
    for item in given:
        by_patient[item.patient_id].append(item)
    rows = []
    for status in statuses:
        items = by_patient[status.patient_id]
        toci_24h, toci_total = dose_counts(
            [i.given_at for i in items if i.kind == "tocilizumab"], now
        )
        rows.append(
            {
                "status": status,
                "toci_total": toci_total,
                "toci_24h": toci_24h,
                "steroids": [
                    i
                    for i in items
                    if i.kind == "corticosteroid" and now - i.given_at < STEROID_WINDOW
                ],
                "overdue": status.overdue(now),
                "plan": status_plan_summary(status, now),
            }
        )
    return rows
