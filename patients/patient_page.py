"""What the patient page and its htmx regions show, read from stored results.

One context function per region. The heavy regions (charts, heat map,
organ panel, rounds) are computed lazily: the template caches them keyed on
the patient's status row, which every write path rewrites, so a cache hit
reads none of their data.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from .charts import heat_map, patient_charts
from .clinical.inputs import ORGAN_SYSTEMS
from .clinical.treatments import TOCILIZUMAB_MAX_24H, TOCILIZUMAB_MAX_TOTAL, dose_counts, expand
from .episode_data import patient_episodes
from .escalation_views import escalation_panel
from .models import (
    Exposure,
    Flag,
    FlagState,
    ObservationRound,
    Patient,
    PatientStatus,
    RoundStatus,
)
from .plans import current_exposure, dose_records, plan_position
from .round_result import lookalikes

CHART_NOW_STEP = 5  # minutes
ROUNDS_PAGE_SIZE = 10
HEAT_MAP_COLUMNS = 24
INTERVENTIONS_SHOWN = 50
# As long as the template's cached regions last.
CACHE_SECONDS = 3600
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


def current_rounds(patient: Patient, status: PatientStatus | None) -> tuple[Any, dict[str, Any]]:
    """Return the latest final round and the round each current grade came
    from (for its time and basis), in one query: the status row, which
    every write path rewrites, names them all."""
    if status is None or status.latest_round_id is None:
        return latest_round(patient), {}
    ids = {name: item["round"] for name, item in status.grades_at.items()}
    wanted = {status.latest_round_id, *ids.values()}
    found = {r.pk: r for r in ObservationRound.objects.filter(pk__in=wanted)}
    return found.get(status.latest_round_id), {name: found.get(pk) for name, pk in ids.items()}


def grade_boxes(
    status: PatientStatus | None, latest, rounds: dict[str, Any], infection: bool = False
) -> list[dict[str, Any]]:
    """Return the header's CRS, ICANS and NEWS2 boxes, each with its basis.

    ``rounds`` are the rounds the grades came from (``current_rounds``).
    For an infection exposure NEWS2 comes first and the CRS grade is
    labelled CRS-style: ASTCT grading is defined for immune effector cell
    therapy (REFERENCE k4).
    """

    def result(name: str) -> dict[str, Any]:
        r = rounds.get(name) or latest
        return r.assessment.get(name, {}) if r else {}

    def text(value) -> str:
        return "—" if value is None else str(value)

    def grade_text(name: str, value) -> str:
        # A grade from a partial round is a lower bound (clinical/known.py).
        known = (status.grades_at.get(name) or {}) if status else {}
        if value is None or not known.get("lower_bound"):
            return text(value)
        gaps = ", ".join(m.replace("_", " ") for m in known.get("missing", []))
        return f">= {value} ({gaps} not recorded)"

    ice = status.ice_score if status else None
    news2 = status.news2_total if status else None
    boxes = [
        {
            "label": "CRS-style grade" if infection else "CRS grade",
            "value": grade_text("crs", status and status.crs_grade),
            "r": rounds.get("crs"),
            "result": result("crs"),
            "when_label": "recorded",
        },
        {
            "label": "ICANS grade",
            "value": grade_text("icans", status and status.icans_grade),
            "detail": f"(ICE {ice}/10)" if ice is not None else "",
            "r": rounds.get("icans"),
            "result": result("icans"),
            "when_label": "recorded",
        },
        {
            "label": "NEWS2",
            "value": "incomplete" if news2 is None else str(news2),
            "band": status.news2_band if status else "",
            "r": rounds.get("news2"),
            "result": result("news2"),
            "when_label": "last full set",
            "monitoring": True,
        },
    ]
    return [boxes[2], *boxes[:2]] if infection else boxes


def latest_round(patient: Patient) -> ObservationRound | None:
    final = patient.rounds.filter(status=RoundStatus.FINAL)
    return final.order_by("-clinical_time", "-pk").first()


def page_patient(pk: int) -> Patient:
    """Return the patient with their status row, read in one query.

    The whole row: leaving out the queue's own fields (a few kilobytes of
    JSON) costs Django more to build the query than reading them does.
    """
    return get_object_or_404(Patient.objects.select_related("status"), pk=pk)


def status_of(patient: Patient) -> PatientStatus | None:
    # Read with the patient (page_patient), else read now.
    try:
        return patient.status
    except PatientStatus.DoesNotExist:
        return None


class Readings:
    """The final rounds behind the charts, heat map and organ panel, read once
    and only when a region is rendered (a cached region reads nothing)."""

    def __init__(
        self,
        patient: Patient,
        interventions: list,
        day0: datetime | None,
        latest,
        now: datetime | None = None,
    ):
        self.patient, self.interventions, self.day0, self.latest = (
            patient,
            interventions,
            day0,
            latest,
        )
        self.now = now

    @cached_property
    def course(self) -> list[ObservationRound]:
        final = self.patient.rounds.filter(status=RoundStatus.FINAL)
        return list(final.order_by("clinical_time", "pk").only(*CHART_FIELDS))

    @cached_property
    def charts(self) -> list:
        course = self.course
        day0 = self.day0 or (course[0].clinical_time if course else timezone.now())
        return patient_charts(course, self.interventions, day0, self.now)

    @cached_property
    def heat(self) -> dict[str, Any]:
        shown = self.course[-HEAT_MAP_COLUMNS:]
        # Flags raised by the shown rounds, open or not: a resolved flag
        # still marks where it was raised.
        flagged = Flag.objects.filter(
            patient_id=self.patient.pk, opened_by_round_id__in=[r.pk for r in shown]
        ).values_list("opened_by_round_id", "organ_system")
        return heat_map(shown, set(flagged), ORGAN_SYSTEMS)

    @cached_property
    def organ_panel(self) -> list[dict[str, Any]]:
        previous = self.course[-2] if len(self.course) > 1 else None
        return organ_panel(self.latest, previous)


def header_context(patient: Patient, now: datetime) -> dict[str, Any]:
    """Return the header's context. The grade boxes and the rounds behind
    them are read only if their cached region is missing."""
    today = timezone.localdate()
    exposure = current_exposure(patient)
    status = status_of(patient)
    found = SimpleLazyObject(lambda: current_rounds(patient, status))
    latest = SimpleLazyObject(lambda: found[0])
    infection = bool(exposure and exposure.kind == Exposure.Kind.INFECTION)
    followup = status.followup if status else {}
    return {
        "patient": patient,
        "exposure": exposure,
        "plan": plan_position(patient, now),
        "doses": dose_records(patient, exposure),
        "followup": followup or None,
        "followup_at": datetime.fromisoformat(followup["at"]) if followup else None,
        "day_number": exposure.day_number(today) if exposure else None,
        "risk_factors": patient.risk_factors(today, exposure),
        "latest": latest,
        "status": status,
        "grade_boxes": SimpleLazyObject(
            lambda: grade_boxes(status, found[0], found[1], infection)
        ),
        "overdue": status.overdue(now) if status else False,
        "now": now,
    }


def flag_item_context(flag: Flag, user, **forms: Any) -> dict[str, Any]:
    """Return what one flag (re-rendered after an htmx action) shows."""
    latest = latest_round(flag.patient)
    return {
        "flag": flag,
        "patient": flag.patient,
        "options": expand(latest.treatment_options) if latest else [],
        "perms_can_change_flag": user.has_perm("patients.change_flag"),
        **forms,
    }


def rounds_page(patient: Patient, page_number: str | None) -> Page:
    # Authors' names are stored on the rows: no user rows are read.
    rounds = patient.rounds.order_by("-clinical_time", "-pk")
    return Paginator(rounds, ROUNDS_PAGE_SIZE).get_page(page_number)


def rounds_context(patient: Patient, page_number: str | None) -> dict[str, Any]:
    """Return the rounds timeline's context (read only if not cached)."""
    status = status_of(patient)
    return {
        "patient": patient,
        "status": status,
        "page_number": page_number or "1",
        "page": SimpleLazyObject(lambda: rounds_page(patient, page_number)),
    }


def toci_given_at(patient: Patient, status: PatientStatus | None) -> list[datetime]:
    """Return when each tocilizumab dose was given (not entered in error).

    Kept in the cache until the status row changes: recording a dose or
    marking one entered in error rewrites it.
    """

    def read() -> list[datetime]:
        doses = patient.interventions.filter(kind="tocilizumab", status=RoundStatus.FINAL)
        return list(doses.values_list("given_at", flat=True))

    if status is None:
        return read()
    return cache.get_or_set(
        f"toci-given:{patient.pk}:{status.updated_at.isoformat()}", read, CACHE_SECONDS
    )


def patient_context(
    patient: Patient, page_number: str | None, user, form_key: str = ""
) -> dict[str, Any]:
    """Return the whole patient page's context.

    What the cached regions show (flags, options, what was given, grade
    boxes, charts) is read only when a region is missing from the cache;
    ``form_key`` names this session's CSRF secret, which the cached regions
    holding forms are keyed on.
    """
    now = timezone.now()
    # The charts' "now" line moves in steps, so their cached drawing lasts.
    chart_now = now.replace(
        minute=now.minute - now.minute % CHART_NOW_STEP, second=0, microsecond=0
    )
    context = header_context(patient, now)
    latest, exposure = context["latest"], context["exposure"]
    # All of them: the dose ledger and the chart markers must see every dose,
    # even when the list on the page shows only the latest.
    interventions = SimpleLazyObject(lambda: list(patient.interventions.all()))
    # The 24-hour count changes with the clock, so it is never cached.
    toci_24h, toci_total = dose_counts(toci_given_at(patient, context["status"]), now)
    open_flags = SimpleLazyObject(
        lambda: list(
            patient.flags.exclude(state=FlagState.RESOLVED).order_by(
                "-severity_rank", "-opened_at"
            )
        )
    )
    context.update(
        readings=Readings(
            patient, interventions, exposure and exposure.day0_start(), latest, chart_now
        ),
        chart_now=chart_now,
        open_flags=open_flags,
        unanswered_flags=SimpleLazyObject(
            lambda: [f for f in open_flags if f.state == FlagState.OPEN]
        ),
        past_flag_count=SimpleLazyObject(
            lambda: patient.flags.filter(state=FlagState.RESOLVED).count()
        ),
        page_number=page_number or "1",
        page=SimpleLazyObject(lambda: rounds_page(patient, page_number)),
        interventions=SimpleLazyObject(lambda: interventions[:INTERVENTIONS_SHOWN]),
        toci_24h=toci_24h,
        toci_total=toci_total,
        toci_max_24h=TOCILIZUMAB_MAX_24H,
        toci_max_total=TOCILIZUMAB_MAX_TOTAL,
        options=SimpleLazyObject(lambda: expand(latest.treatment_options) if latest else []),
        perms_can_change_flag=user.has_perm("patients.change_flag"),
        # What this user may do is in the key of every cached region that
        # offers actions, so no one is shown another's links or forms.
        permission_key=",".join(sorted(user.get_all_permissions())),
        form_key=form_key,
        **lookalikes(patient),
    )
    context.update(escalation_panel(patient))
    context.update(episodes_context(patient, exposure, interventions, now))
    return context


def episodes_context(
    patient: Patient, exposure: Exposure | None, interventions: list, now: datetime
) -> dict[str, Any]:
    """Return the episodes region's context, read only if not cached.

    An episode can end with no new write (its clear run lasts long enough),
    so the cached region also turns over on the hour.
    """
    kind = exposure.kind if exposure else None
    return {
        "episodes": SimpleLazyObject(lambda: patient_episodes(patient, interventions, now)),
        "episodes_hour": now.replace(minute=0, second=0, microsecond=0),
        "infection": kind == Exposure.Kind.INFECTION,
        "day0_word": {
            Exposure.Kind.CAR_T: "infusion",
            Exposure.Kind.BISPECIFIC: "the first dose",
        }.get(kind, "day 0"),
    }
