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
from django.db.models import Count, F, Max, Value
from django.db.models.functions import Lower
from django.utils import timezone

from .clinical.flags import SEVERITY_RANK
from .models import QUEUE_ORDER, Patient, PatientStatus
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
    """One page of the queue, worst first (or next due first); read on first use."""

    def __init__(self, ward: str, severity: str, number: str | None, sort: str = ""):
        self.ward, self.severity, self.number, self.sort = ward, severity, number, sort

    @cached_property
    def page(self) -> Page:
        order = [*QUEUE_ORDER, "patient_id"]
        if self.sort == "due":
            order = [F("next_round_due_at").asc(nulls_last=True), *order]
        rows = (
            PatientStatus.objects.select_related("patient")
            .defer("open_flags", "organ_severity")
            .order_by(*order)
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
        statuses = list(self.page.object_list)
        names, beds = shared_names_and_beds({s.ward for s in statuses})
        return [
            {
                "status": s,
                "patient": s.patient,
                "day": (today - s.day0).days if s.day0 else None,
                "overdue": s.overdue(self.now),
                "plan": status_plan_summary(s, self.now),
                "same_name": (s.ward, s.patient.family_name.lower()) in names,
                "same_bed": bool(s.patient.bed) and (s.ward, s.patient.bed) in beds,
            }
            for s in statuses
        ]


def shared_names_and_beds(wards: set[str]) -> tuple[set, set]:
    """Return the (ward, surname) and (ward, bed) pairs held by more than one patient."""
    if not wards:
        return set(), set()
    on_wards = Patient.objects.filter(ward__in=wards).order_by()
    names = (
        on_wards.annotate(key=Lower("family_name"), kind=Value("name"))
        .values("ward", "key", "kind")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    beds = (
        on_wards.exclude(bed="")
        .annotate(key=F("bed"), kind=Value("bed"))
        .values("ward", "key", "kind")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    shared = list(names.union(beds, all=True))  # one query for both
    return (
        {(r["ward"], r["key"]) for r in shared if r["kind"] == "name"},
        {(r["ward"], r["key"]) for r in shared if r["kind"] == "bed"},
    )
