"""Everything the patient page shows, read from stored results."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.context_processors import PermWrapper
from django.core.cache import cache
from django.core.paginator import Paginator
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from .charts import heat_map, patient_charts
from .clinical.inputs import ORGAN_SYSTEMS
from .clinical.treatments import TOCILIZUMAB_MAX_24H, TOCILIZUMAB_MAX_TOTAL, dose_counts, expand
from .models import FlagState, Patient, PatientStatus, RoundStatus
from .plans import current_exposure, plan_position

ROUNDS_PAGE_SIZE = 10
HEAT_MAP_COLUMNS = 24
INTERVENTIONS_SHOWN = 50
# What the charts and heat map read: never the large basis JSON.
CHART_FIELDS = [
    "id",
    "patient_id",
    "clinical_time",
    "temperature_c",
    "heart_rate",
    "systolic_bp",
    "diastolic_bp",
    "respiratory_rate",
    "spo2",
    "oxygen_device",
    "oxygen_flow_l_min",
    "news2_total",
    "crs_grade",
    "icans_grade",
    "ice_orientation",
    "ice_naming",
    "ice_commands",
    "ice_writing",
    "ice_attention",
    "organ_severity",
    "status",
]


def organ_panel(latest, previous) -> list[dict[str, Any]]:
    rows = []
    for system in ORGAN_SYSTEMS:
        now = latest.organ_severity.get(system) if latest else None
        before = previous.organ_severity.get(system) if previous else None
        basis = (
            latest.assessment.get("organs", {}).get(system, {}).get("basis", []) if latest else []
        )
        change = None if now is None or before is None else now - before
        rows.append(
            {"system": system, "severity": now, "before": before, "change": change, "basis": basis}
        )
    return rows


def grade_rounds(status: PatientStatus | None, latest) -> dict[str, Any]:
    """Return the round each current grade came from (for its time and basis)."""
    if status is None or not status.grades_at:
        return {}
    ids = {name: item["round"] for name, item in status.grades_at.items()}
    rounds = {r.pk: r for r in patient_rounds(ids.values(), latest)}
    return {name: rounds.get(pk) for name, pk in ids.items()}


def patient_rounds(pks, latest) -> list:
    from .models import ObservationRound

    wanted = set(pks) - ({latest.pk} if latest else set())
    found = list(ObservationRound.objects.filter(pk__in=wanted)) if wanted else []
    return found + ([latest] if latest else [])


def heat_flags(patient: Patient, course: list) -> list:
    """Return the flags (open or not) raised by the rounds the heat map shows."""
    shown = [r.pk for r in course[-HEAT_MAP_COLUMNS:]]
    return list(
        patient.flags.filter(opened_by_round_id__in=shown).only(
            "opened_by_round_id", "organ_system"
        )
    )


def patient_context(patient: Patient, page_number: str | None, user) -> dict[str, Any]:
    today = timezone.localdate()
    now = timezone.now()
    exposure = current_exposure(patient)
    final = patient.rounds.filter(status=RoundStatus.FINAL)
    course = list(final.order_by("clinical_time", "pk").only(*CHART_FIELDS))
    latest = final.order_by("-clinical_time", "-pk").first()
    previous = course[-2] if len(course) > 1 else None
    rounds = patient.rounds.select_related("entered_by", "error_by").order_by(
        "-clinical_time", "-pk"
    )
    page = Paginator(rounds, ROUNDS_PAGE_SIZE).get_page(page_number)
    flags = list(
        patient.flags.exclude(state=FlagState.RESOLVED)
        .select_related("acknowledged_by")
        .order_by("-severity_rank", "-opened_at")
    )
    # All of them: the dose ledger and the chart markers must see every dose,
    # even when the list on the page shows only the latest.
    interventions = list(patient.interventions.select_related("recorded_by"))
    toci_24h, toci_total = dose_counts(
        [
            i.given_at
            for i in interventions
            if i.kind == "tocilizumab" and i.status == RoundStatus.FINAL
        ],
        now,
    )
    status = PatientStatus.objects.filter(patient=patient).first()
    followup_round = (
        final.filter(assessment__has_key="followup")
        .order_by("-clinical_time", "-pk")
        .only("clinical_time", "assessment")
        .first()
    )
    day0 = (exposure and exposure.day0_start()) or (course[0].clinical_time if course else now)
    return {
        "charts": patient_charts(course, interventions, day0),
        "heat": heat_map(
            course[-HEAT_MAP_COLUMNS:],
            heat_flags(patient, course),
            ORGAN_SYSTEMS,
            reverse("round_detail", args=[patient.pk, 0]),
        ),
        "patient": patient,
        "exposure": exposure,
        "plan": plan_position(patient, now),
        "followup": followup_round.assessment["followup"] if followup_round else None,
        "followup_at": followup_round.clinical_time if followup_round else None,
        "day_number": exposure.day_number(today) if exposure else None,
        "risk_factors": patient.risk_factors(today, exposure),
        "latest": latest,
        "status": status,
        "grade_rounds": grade_rounds(status, latest),
        "overdue": status.overdue(now) if status else False,
        "open_flags": flags,
        "past_flag_count": patient.flags.filter(state=FlagState.RESOLVED).count(),
        "organ_panel": organ_panel(latest, previous),
        "page": page,
        "interventions": interventions[:INTERVENTIONS_SHOWN],
        "toci_24h": toci_24h,
        "toci_total": toci_total,
        "toci_max_24h": TOCILIZUMAB_MAX_24H,
        "toci_max_total": TOCILIZUMAB_MAX_TOTAL,
        "options": expand(latest.treatment_options) if latest else [],
        "perms_can_change_flag": user.has_perm("patients.change_flag"),
        "now": now,
    }


CSRF_PLACEHOLDER = "CSRF-PLACEHOLDER-VALUE"
# Pages show "now"-relative facts (overdue, doses in the last 24 h), so a
# cached rendering lives at most until the minute changes.
CACHE_SECONDS = 60


def patient_main_html(request, patient: Patient, page_number: str | None) -> str:
    """Return the patient view's main region, cached until anything changes.

    Every write path (round, intervention, flag action, correction) rewrites
    the patient's status row, so its ``updated_at`` keys the cache; the key
    also carries the minute, the user's relevant permissions and the page.
    """
    user = request.user
    stamp = (
        PatientStatus.objects.filter(patient=patient).values_list("updated_at", flat=True).first()
    )
    perms = "".join(
        "1" if user.has_perm(p) else "0"
        for p in ("patients.change_flag", "patients.add_intervention", "patients.correct_record")
    )
    minute = timezone.now().strftime("%Y%m%d%H%M")
    raw = f"{patient.pk}|{stamp and stamp.timestamp()}|{page_number}|{perms}|{minute}"
    key = "patient-main:" + hashlib.sha256(raw.encode()).hexdigest()
    html = cache.get(key)
    if html is None:
        context = patient_context(patient, page_number, user)
        context["csrf_token"] = CSRF_PLACEHOLDER
        context.update(perms=PermWrapper(user), user=user)
        html = render_to_string("patients/patient_detail.html#patient-main", context)
        cache.set(key, html, CACHE_SECONDS)
    return mark_safe(html.replace(CSRF_PLACEHOLDER, get_token(request)))  # noqa: S308
