"""The review queue: one page of status rows, read only when not cached.

The template caches the rows region keyed on ``change_stamp()``: every
write path rewrites a status row, so the newest ``updated_at`` changes with
any patient's state; the minute is in the stamp because overdue markers
move with the clock.
"""

from __future__ import annotations

from functools import cached_property

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Max
from django.utils import timezone

from .clinical.flags import SEVERITY_RANK
from .models import PatientStatus
from .plans import status_plan_summary

PAGE_SIZE = 50
CACHE_SECONDS = 60


def change_stamp() -> str:
    """Return a token that changes whenever any patient's status changes."""
    stamp = PatientStatus.objects.aggregate(m=Max("updated_at"))["m"]
    return f"{stamp and stamp.timestamp()}|{timezone.now():%Y%m%d%H%M}"


def queue_wards(stamp: str) -> list[str]:
    """Return the wards with patients (a scan of every status row: cached)."""
    key = f"queue-wards:{stamp}"
    wards = cache.get(key)
    if wards is None:
        wards = list(
            PatientStatus.objects.order_by("ward").values_list("ward", flat=True).distinct()
        )
        cache.set(key, wards, CACHE_SECONDS)
    return wards


class QueuePage:
    """One page of the queue, worst first; read on first use."""

    def __init__(self, ward: str, severity: str, number: str | None):
        self.ward, self.severity, self.number = ward, severity, number

    @cached_property
    def page(self) -> Page:
        rows = (
            PatientStatus.objects.select_related("patient")
            .defer("open_flags", "organ_severity")
            .order_by("-worst_flag_rank", "-band_rank", "sort_name", "patient_id")
        )
        if self.ward:
            rows = rows.filter(ward=self.ward)
        if self.severity:
            rows = rows.filter(worst_flag_rank__gte=SEVERITY_RANK[self.severity])
        return Paginator(rows, PAGE_SIZE).get_page(self.number)

    @cached_property
    def now(self):
        return timezone.now()

    @cached_property
    def rows(self) -> list[dict]:
        today = timezone.localdate()
        return [
            {
                "status": s,
                "patient": s.patient,
                "day": (today - s.day0).days if s.day0 else None,
                "overdue": s.overdue(self.now),
                "plan": status_plan_summary(s, self.now),
            }
            for s in self.page.object_list
        ]
