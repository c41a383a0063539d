"""The handover sheet: one block per patient, read in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q

from .clinical.treatments import dose_counts
from .models import Exposure, Flag, FlagState, Intervention, PatientStatus, RoundStatus
from .plans import status_plan_summary

# What a handover reports as "given": the last 24 hours (steroids for 48 h,
# as a course is often given once or twice a day).
GIVEN_WINDOW = timedelta(hours=24)
STEROID_WINDOW = timedelta(hours=48)


def handover_rows(
    statuses: list[PatientStatus], now: datetime, today: date
) -> list[dict[str, Any]]:
    """Return each patient's handover block: identity, grades, flags, doses, due times."""
    ids = [s.patient_id for s in statuses]
    given = Intervention.objects.filter(patient_id__in=ids, status=RoundStatus.FINAL).filter(
        Q(kind="tocilizumab")
        | Q(kind="corticosteroid", given_at__gte=now - STEROID_WINDOW)
        | Q(given_at__gte=now - GIVEN_WINDOW)
    )
    by_patient: dict[int, list[Intervention]] = defaultdict(list)
    for item in given.order_by("given_at"):
        by_patient[item.patient_id].append(item)
    flags: dict[int, list[Flag]] = defaultdict(list)
    open_flags = (
        Flag.objects.filter(patient_id__in=ids)
        .exclude(state=FlagState.RESOLVED)
        .order_by("-severity_rank", "-opened_at")
    )
    for flag in open_flags:
        flags[flag.patient_id].append(flag)
    exposures: dict[int, Exposure] = {}
    for exposure in Exposure.objects.filter(patient_id__in=ids).order_by("day0", "pk"):
        exposures[exposure.patient_id] = exposure  # the latest wins
    rows = []
    for status in statuses:
        items = by_patient[status.patient_id]
        toci_24h, toci_total = dose_counts(
            [i.given_at for i in items if i.kind == "tocilizumab"], now
        )
        exposure = exposures.get(status.patient_id)
        rows.append(
            {
                "status": status,
                "patient": status.patient,
                "exposure": exposure,
                "day_number": exposure.day_number(today) if exposure else None,
                "flags": flags[status.patient_id],
                "toci_total": toci_total,
                "toci_24h": toci_24h,
                "given": [
                    i
                    for i in items
                    if now - i.given_at < GIVEN_WINDOW
                    or (i.kind == "corticosteroid" and now - i.given_at < STEROID_WINDOW)
                ],
                "overdue": status.overdue(now),
                "plan": status_plan_summary(status, now),
            }
        )
    return rows
