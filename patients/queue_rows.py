"""Review-queue rows, formatted once in Python.

The queue is the page clinicians reload most; formatting each row here
(instead of template filters per cell) keeps it near Django's own ceiling.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Max
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from .clinical.flags import SEVERITY_RANK
from .models import PatientStatus
from .plans import status_plan_summary

RANK_NAMES = {rank: name for name, rank in SEVERITY_RANK.items()}


def day_text(day0: date | None, today: date) -> str:
    if day0 is None:
        return "—"
    n = (today - day0).days
    return f"Day +{n}" if n >= 0 else f"Day {n}"


def grade_text(value: int | None) -> str:
    return "—" if value is None else str(value)


def queue_rows(statuses: list[PatientStatus], now: datetime, today: date) -> list[dict[str, Any]]:
    """Return what each queue row shows, ready to print."""
    patient_url = reverse("patient", args=[0]).rsplit("0/", 1)[0]
    rows = []
    for s in statuses:
        p = s.patient
        rank = RANK_NAMES.get(s.worst_flag_rank, "")
        rows.append(
            {
                "url": f"{patient_url}{s.patient_id}/",
                "name": f"{p.family_name.upper()}, {p.given_name}",
                "mrn": p.mrn,
                "place": f"{s.ward} / {p.bed or '—'}",
                "day": day_text(s.day0, today),
                "crs": grade_text(s.crs_grade),
                "icans": grade_text(s.icans_grade),
                "news2": "incomplete" if s.news2_total is None else str(s.news2_total),
                "band": s.news2_band,
                "row_class": f"flagged rank-{rank}" if rank else "",
                "flags": s.flag_groups,
                "last_round": f"{localtime(s.last_round_at):%a %H:%M}"
                if s.last_round_at
                else "No rounds",
                "overdue": s.overdue(now),
                "plan": status_plan_summary(s, now),
            }
        )
    return rows


def flags_html(groups: list[dict[str, Any]]) -> str:
    if not groups:
        return "None"
    parts = []
    for g in groups:
        more = f" (+{g['more']} more)" if g["more"] else ""
        ack = " <em>(acknowledged)</em>" if g["all_acknowledged"] else ""
        parts.append(
            f'<span class="sev sev-{escape(g["severity"])}">{escape(g["shape"])} '
            f"{escape(g['label'])}</span> {escape(g['organ'])}: {escape(g['title'])}{more}{ack}"
        )
    return "<br>".join(parts)


def rows_html(rows: list[dict[str, Any]]) -> SafeString:
    """Return the queue's table rows; every value is escaped here."""
    out = []
    for r in rows:
        band = (
            f' <span class="band band-{escape(r["band"])}">{escape(r["band"])}</span>'
            if (r["band"])
            else ""
        )
        overdue = ' <strong class="overdue">Overdue</strong>' if r["overdue"] else ""
        out.append(
            f'<tr class="{r["row_class"]}"><th scope="row"><a href="{r["url"]}">'
            f"{escape(r['name'])}</a> <small>{escape(r['mrn'])}</small></th>"
            f"<td>{escape(r['place'])}</td><td>{r['day']}{plan_html(r['plan'])}</td>"
            f"<td>{r['crs']}</td>"
            f"<td>{r['icans']}</td><td>{r['news2']}{band}</td><td>{flags_html(r['flags'])}</td>"
            f"<td>{escape(r['last_round'])}{overdue}</td></tr>"
        )
    return mark_safe("".join(out))  # noqa: S308 - built from escaped values


def plan_html(summary: str) -> SafeString:
    """Return the label-plan line under the day (patients/includes/plan_summary.html)."""
    if not summary:
        return mark_safe("")  # noqa: S308 - empty
    return render_to_string("patients/includes/plan_summary.html", {"summary": summary})


def select_html(name: str, label: str, choices: list[tuple[str, str]], current: str) -> SafeString:
    """Return a labelled select (40 wards through widget templates cost ms)."""
    options = "".join(
        f'<option value="{escape(v)}"{" selected" if v == current else ""}>{escape(t)}</option>'
        for v, t in choices
    )
    return mark_safe(  # noqa: S308 - built from escaped values
        f'<label for="id_{name}">{escape(label)}</label> '
        f'<select name="{name}" id="id_{name}">{options}</select>'
    )


PAGE_SIZE = 50
CACHE_SECONDS = 60


def change_stamp() -> str:
    """Return a token that changes whenever any patient's status changes."""
    stamp = PatientStatus.objects.aggregate(m=Max("updated_at"))["m"]
    return f"{stamp and stamp.timestamp()}|{timezone.now():%Y%m%d%H%M}"


def queue_wards(stamp: str) -> list[str]:
    """Return the wards with patients (a scan of every status row: cached)."""
    key = "queue-wards:" + hashlib.sha256(stamp.encode()).hexdigest()
    wards = cache.get(key)
    if wards is None:
        wards = list(
            PatientStatus.objects.order_by("ward").values_list("ward", flat=True).distinct()
        )
        cache.set(key, wards, CACHE_SECONDS)
    return wards


def queue_page(
    ward: str, severity: str, page_number: str | None, stamp: str | None = None
) -> dict[str, Any]:
    """Return one page of the queue, cached until any patient's status changes.

    Every write rewrites a status row, so the newest ``updated_at`` keys the
    cache, with the filters, the page and the minute (overdue markers move
    with the clock).
    """
    stamp = stamp or change_stamp()
    raw = f"{stamp}|{ward}|{severity}|{page_number}"
    key = "queue:" + hashlib.sha256(raw.encode()).hexdigest()
    found = cache.get(key)
    if found is not None:
        return found
    rows = (
        PatientStatus.objects.select_related("patient")
        .defer("open_flags", "organ_severity")
        .order_by("-worst_flag_rank", "-band_rank", "sort_name", "patient_id")
    )
    if ward:
        rows = rows.filter(ward=ward)
    if severity:
        rows = rows.filter(worst_flag_rank__gte=SEVERITY_RANK[severity])
    page = Paginator(rows, PAGE_SIZE).get_page(page_number)
    formatted = queue_rows(page.object_list, timezone.now(), timezone.localdate())
    result = {
        "rows_html": rows_html(formatted),
        "row_count": len(formatted),
        "number": page.number,
        "num_pages": page.paginator.num_pages,
        "previous": page.previous_page_number() if page.has_previous() else None,
        "next": page.next_page_number() if page.has_next() else None,
    }
    cache.set(key, result, CACHE_SECONDS)
    return result
