"""Review-queue rows, formatted once in Python.

The queue is the page clinicians reload most; formatting each row here
(instead of template filters per cell) keeps it near Django's own ceiling.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from .clinical.flags import SEVERITY_RANK
from .models import PatientStatus

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
        overdue = ' <strong class="overdue">⏰ Overdue</strong>' if r["overdue"] else ""
        out.append(
            f'<tr class="{r["row_class"]}"><th scope="row"><a href="{r["url"]}">'
            f"{escape(r['name'])}</a> <small>{escape(r['mrn'])}</small></th>"
            f"<td>{escape(r['place'])}</td><td>{r['day']}</td><td>{r['crs']}</td>"
            f"<td>{r['icans']}</td><td>{r['news2']}{band}</td><td>{flags_html(r['flags'])}</td>"
            f"<td>{escape(r['last_round'])}{overdue}</td></tr>"
        )
    return mark_safe("".join(out))  # noqa: S308 - built from escaped values


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
