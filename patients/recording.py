"""The one write path for clinical data.

Each function runs in one transaction, holding the patient's row lock so
that concurrent rounds for the same patient are assessed in order and the
patient's flags and status row always end consistent.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.base import ModelState
from django.db.models.fields.json import KT
from django.utils import timezone

from . import escalation
from .clinical import flags as rules
from .clinical.basis import GradeResult
from .clinical.course import (
    Followup,
    assess_in_context,
    episode_through,
    graded_round,
)
from .clinical.episodes import EndRule, EpisodeRun, GradedRound
from .clinical.flags import SEVERITY_RANK, SEVERITY_SHAPES, FlagEvent, RoundState
from .clinical.followup import FOLLOWUP_LABS, followup_events, followup_findings, late_neuro_events
from .clinical.history import Given
from .clinical.inputs import ICE_ITEMS, Baseline
from .clinical.known import known_grade
from .clinical.lifecycle import OpenFlag, RoundChanges, after_clock, after_round
from .clinical.news2 import BAND_ORDER
from .clinical.presentation import presentation_of
from .clinical.products import ice_windows
from .clinical.sources import compact
from .clinical.treatments import match_options, stored
from .drafts import discard_draft
from .models import (
    AuditEvent,
    DoseEvent,
    Exposure,
    Flag,
    FlagState,
    Intervention,
    ObservationRound,
    Patient,
    PatientStatus,
    RoundStatus,
)
from .plans import current_exposure, plan_windows
from .words import WORDS


def persistence_limit() -> timedelta:
    return timedelta(hours=settings.CRS_WATCH["PERSISTENCE_HOURS"])


def history_window() -> timedelta:
    """Return how far back the flag rules look from the round that changed.

    Persistence needs its threshold plus a day to tell a new crossing from
    an old one; labs carry forward 36 h; everything else is shorter.
    """
    return persistence_limit() + timedelta(hours=24)


def resolve_period() -> timedelta:
    return timedelta(hours=settings.CRS_WATCH["FLAG_AUTO_RESOLVE_HOURS"])


def audit(
    user, action: str, obj, patient: Patient | None, address: str | None = None, **detail: Any
) -> None:
    audit_event(user, action, obj, patient, address, **detail).save()


def audit_event(
    user, action: str, obj, patient: Patient | None, address: str | None = None, **detail: Any
) -> AuditEvent:
    """Return an audit event not yet stored (several are stored in one INSERT)."""
    known = user if user and user.is_authenticated else None
    return AuditEvent(
        user=known,
        user_name=known.get_username() if known else "",
        action=action,
        object_type=type(obj).__name__,
        object_id=str(obj.pk),
        patient=patient,
        address=address,
        detail=detail,
    )


def day0_datetime(exposure: Exposure | None) -> datetime | None:
    return exposure.day0_start() if exposure else None


def cause_of(exposure: Exposure | None) -> str:
    return (
        "infection" if exposure and exposure.kind == Exposure.Kind.INFECTION else "immunotherapy"
    )


def given_for(patient: Patient) -> list[Given]:
    # Only what the rules read (``to_given``): notes and authors are not.
    final = patient.interventions.filter(status=RoundStatus.FINAL)
    return [i.to_given() for i in holding(final.order_by("given_at"), Intervention.GIVEN_FIELDS)]


def ice_interval() -> timedelta:
    return timedelta(hours=settings.CRS_WATCH["ICE_INTERVAL_HOURS"])


def episode_rule() -> EndRule:
    return EndRule(settings.CRS_WATCH["CRS_EPISODE_CLEAR_HOURS"])


@dataclass(frozen=True)
class KnownInput:
    """What the status row's last known values read from one round: its CRS
    and ICANS results, ICE score and NEWS2, and which round it was."""

    round_id: int
    time: datetime
    crs: GradeResult
    icans: GradeResult
    ice_score: int | None
    news2_total: int | None
    news2_band: str

    @classmethod
    def of(cls, rnd: ObservationRound, state: RoundState) -> KnownInput:
        a = state.assessment
        return cls(
            rnd.pk,
            state.time,
            a.crs,
            a.icans,
            state.obs.ice_score,
            a.news2.total,
            a.news2.clinical_risk or "",
        )

    def graded(self) -> GradedRound:
        return GradedRound(self.time, self.crs.grade, not self.crs.missing)


class Window(list):
    """The re-assessed rounds as ``(round, state)``, oldest first, with the
    rounds stored before them (``before``): no write re-assesses a round
    before its window, so their stored results are current."""

    def __init__(self, results=(), before: tuple[KnownInput, ...] = ()):
        super().__init__(results)
        self.before = before


ICE_FIELDS = [f"ice_{name}" for name in ICE_ITEMS]


def stored_rounds_before(rounds, start: datetime) -> tuple[KnownInput, ...]:
    """Return the final rounds before ``start`` as stored, oldest first: the
    CRS episodes they open or close reach into the re-assessed window, and a
    last known grade may come from any of them (``known.py``)."""
    rows = (
        rounds.filter(clinical_time__lt=start)
        .order_by("clinical_time", "pk")
        # As text: most lists are empty, and only the others are decoded.
        .annotate(
            crs_missing=KT("assessment__crs__missing"),
            icans_missing=KT("assessment__icans__missing"),
        )
        .values_list(
            "pk",
            "clinical_time",
            "crs_grade",
            "icans_grade",
            "news2_total",
            "news2_band",
            *ICE_FIELDS,
            "crs_missing",
            "icans_missing",
        )
    )
    out = []
    for pk, time, crs, icans, total, band, *ice, crs_missing, icans_missing in rows:
        out.append(
            KnownInput(
                pk,
                time,
                GradeResult(crs, (), names_in(crs_missing)),
                GradeResult(icans, (), names_in(icans_missing)),
                None if any(v is None for v in ice) else sum(ice),
                total,
                band,
            )
        )
    return tuple(out)


def names_in(listed: str | None) -> tuple[str, ...]:
    """Return the names in a JSON list read as text (None or "[]": none)."""
    return tuple(json.loads(listed) or ()) if listed and listed != "[]" else ()


def holding(rows, fields) -> list:
    """Return the model instances of ``rows`` holding only ``fields``, as
    ``only()`` gives them (any other field is read on first use), built from
    plain rows: Django's field-by-field set-up of each instance costs more
    than the rules reading it."""
    model = rows.model
    attnames = [model._meta.get_field(name).attname for name in fields]
    out = []
    for row in rows.values_list(*attnames):
        obj = model.__new__(model)
        obj._state = ModelState()
        obj._state.adding = False
        obj._state.db = rows.db
        obj.__dict__.update(zip(attnames, row, strict=True))
        out.append(obj)
    return out


def baseline_for(patient: Patient) -> Baseline:
    return Baseline(patient.baseline_labs(), settings.CRS_WATCH["LAB_UPPER_LIMITS"])


def reassess(
    patient: Patient,
    given: list[Given] | None = None,
    since: datetime | None = None,
    first_new: int | None = None,
) -> Window:
    """Assess the final rounds in time order; store those from ``since`` on.

    Assessments depend on what came before (treatment masks fever), so a
    back-dated round, an intervention or a correction re-assesses and stores
    everything after it. Earlier rounds are recomputed in memory, as far
    back as any rule looks (``history_window``). With ``since`` None nothing
    is stored: the window ends at the patient's latest round. ``first_new``
    names the first of newly recorded rounds at ``since``: rounds of the
    same time stored before it come before it in order and keep their
    results (two rounds typed for one minute).
    """
    given = given_for(patient) if given is None else given
    baseline = baseline_for(patient)
    exposure = current_exposure(patient)
    cause = cause_of(exposure)
    final = patient.rounds.filter(status=RoundStatus.FINAL)
    anchor = since or final.aggregate(last=Max("clinical_time"))["last"]
    if anchor is None:
        return Window()
    start = anchor - history_window()
    before = stored_rounds_before(final, start)
    prior = tuple(k.graded() for k in before)
    rule = episode_rule()
    # Only what the rules read: the window's other columns (authors, keys,
    # the stored results about to be rewritten) cost more to load than the
    # assessment itself.
    rounds = holding(
        final.filter(clinical_time__gte=start).order_by("clinical_time", "pk"),
        ObservationRound.OBSERVATION_FIELDS,
    )
    states: list[RoundState] = []
    changed = []
    out = Window(before=before)
    # The CRS episodes worked out once along the window, not again per round.
    episodes = EpisodeRun(rule)
    for graded in prior:
        episodes.add(graded)
    for rnd in rounds:
        rnd.patient = patient
        state = assess_in_context(
            rnd.to_observation(),
            rnd.clinical_time,
            states,
            given,
            baseline,
            cause=cause,
            episodes=episodes,
        )
        states.append(state)
        episodes.add(graded_round(state))
        if since is not None and (rnd.clinical_time, rnd.pk) >= (since, first_new or 0):
            episode = episode_through(states, given, rule, prior)
            presentation = presentation_of(states, given, cause, persistence_limit(), episode)
            options = match_options(presentation)
            store_assessment(rnd, state, [stored(o) for o in options])
            changed.append(rnd)
        out.append((rnd, state))
    followup = [r for r in changed if has_followup_labs(r)]
    if followup:
        course = followup_course(patient, {r.pk: graded_round(s) for r, s in out})
        for rnd in followup:
            rnd.assessment["followup"] = findings_at(patient, course, rnd.clinical_time)
    if len(changed) == 1:
        # One round (a typed round): a plain UPDATE; bulk_update's CASE
        # expressions cost more to build than the query saves.
        rnd = changed[0]
        ObservationRound.objects.filter(pk=rnd.pk).update(
            **{name: getattr(rnd, name) for name in STORED_FIELDS}
        )
    elif changed:
        ObservationRound.objects.bulk_update(changed, STORED_FIELDS)
    return out


FollowupCourse = tuple[list[tuple[datetime, dict[str, float]]], list[GradedRound]]


def has_followup_labs(rnd: ObservationRound) -> bool:
    return any(getattr(rnd, name) is not None for name in FOLLOWUP_LABS)


def followup_course(patient: Patient, graded: dict[int, GradedRound]) -> FollowupCourse:
    """Return the patient's follow-up labs and CRS grades since day 0, in one
    query; ``graded`` overrides the stored grades of rounds just re-assessed."""
    exposure = current_exposure(patient)
    final = patient.rounds.filter(status=RoundStatus.FINAL)
    if exposure is not None:
        final = final.filter(clinical_time__gte=exposure.day0_start())
    labs, crs = [], []
    rows = final.order_by("clinical_time", "pk").values_list(
        "pk", "clinical_time", "crs_grade", "assessment__crs__missing", *FOLLOWUP_LABS
    )
    for pk, time, grade, missing, *values in rows:
        crs.append(graded.get(pk) or GradedRound(time, grade, not missing))
        found = {n: v for n, v in zip(FOLLOWUP_LABS, values, strict=True) if v is not None}
        if found:
            labs.append((time, found))
    return labs, crs


def latest_followup(patient: Patient) -> dict[str, Any]:
    """Return the latest lab entry's follow-up findings with its time, or {}."""
    rnd = (
        patient.rounds.filter(status=RoundStatus.FINAL, assessment__has_key="followup")
        .order_by("-clinical_time", "-pk")
        .values_list("clinical_time", "assessment__followup")
        .first()
    )
    if rnd is None or not rnd[1]:
        return {}
    return {"at": rnd[0].isoformat(), **rnd[1]}


def course_followup(exposure: Exposure | None) -> Followup | None:
    """Return what the pure course needs for ICAHT, IEC-HS and late neurotoxicity."""
    if exposure is None or exposure.kind == Exposure.Kind.INFECTION:
        return None
    return Followup(
        exposure.catalogue_product(),
        exposure.day0_start(),
        icaht=exposure.kind == Exposure.Kind.CAR_T,
        rises_needed=settings.CRS_WATCH["IEC_HS_FERRITIN_RISES"],
        rule=episode_rule(),
    )


def findings_at(patient: Patient, course: FollowupCourse, at: datetime) -> dict[str, Any]:
    """Return ICAHT (after CAR-T) and the IEC-HS prompt as they stand at ``at``."""
    exposure = current_exposure(patient)
    labs, crs = course
    if exposure is None or exposure.kind == Exposure.Kind.INFECTION:
        return {"icaht": [], "iec_hs": None}
    day0 = exposure.day0_start() if exposure.kind == Exposure.Kind.CAR_T else None
    rises = settings.CRS_WATCH["IEC_HS_FERRITIN_RISES"]
    return followup_findings(labs, crs, day0, at, rises, episode_rule())


def followup_flag_events(patient: Patient, rnd: ObservationRound) -> list[FlagEvent]:
    """Return the ICAHT, IEC-HS and late-neurotoxicity flags ``rnd`` raises."""
    exposure = current_exposure(patient)
    events = []
    if exposure is not None and rnd.late_neuro:
        events += late_neuro_events(
            exposure.catalogue_product(), exposure.day0_start(), rnd.clinical_time, rnd.late_neuro
        )
    if has_followup_labs(rnd) and "followup" in rnd.assessment:
        course = followup_course(patient, {})
        earlier = [t for t, _ in course[0] if t < rnd.clinical_time]
        before = findings_at(patient, course, earlier[-1]) if earlier else None
        events += followup_events(before, rnd.assessment["followup"])
    return events


STORED_FIELDS = [
    "crs_treated",
    "crs_grade",
    "icans_grade",
    "news2_total",
    "news2_band",
    "news2_monitoring",
    "organ_severity",
    "assessment",
    "treatment_options",
]


def store_assessment(rnd: ObservationRound, state: RoundState, options: list[dict]) -> None:
    """Copy an assessment onto its round."""
    a = state.assessment
    new = {
        "crs_treated": state.obs.crs_treated,
        "crs_grade": a.crs.grade,
        "icans_grade": a.icans.grade,
        "news2_total": a.news2.total,
        "news2_band": a.news2.clinical_risk or "",
        "news2_monitoring": a.news2.monitoring or "",
        "organ_severity": a.organ_levels(),
        "assessment": compact(a.as_dict()),
        "treatment_options": options,
    }
    for k, v in new.items():
        setattr(rnd, k, v)


def open_flags(patient: Patient) -> list[OpenFlag]:
    """Return the patient's open and acknowledged flags, as the rules see them."""
    return [f.as_open_flag() for f in patient.flags.exclude(state=FlagState.RESOLVED)]


def resolve(
    flag: Flag,
    at: datetime,
    reason: str,
    patient: Patient,
    user=None,
    address: str | None = None,
) -> bool:
    """Resolve a flag and audit it: every resolution, by a rule or a clinician."""
    if not flag.resolve(at, reason, user):
        return False
    audit(user, "flag_resolved", flag, patient, address, reason=reason)
    return True


def apply_changes(
    patient: Patient,
    flags: list[OpenFlag],
    changes: RoundChanges,
    at: datetime,
    rnd: ObservationRound | None,
    refreshed: dict[int, tuple[Flag, set[str]]] | None = None,
) -> list[Flag]:
    """Store what ``after_round`` or ``after_clock`` decided; return new flags.

    With ``refreshed``, the flags still active are only marked (flag id:
    the flag and its changed fields) for ``save_refreshed`` to write once
    after several rounds; resolutions and new flags are stored at once.
    """
    for o, reason in changes.resolved:
        resolve(o.ref, at, reason, patient)
    gone = {id(o) for o, _ in changes.resolved}
    latest = {id(o): event for o, event in changes.refreshed}
    for o in flags:
        # Keep last_active_at current: auto-resolution counts from it.
        if id(o) not in gone and (id(o) in latest or o.last_active_at != o.ref.last_active_at):
            if refreshed is None:
                o.ref.refresh(o.last_active_at, latest.get(id(o)))
            else:
                fields = o.ref.mark_active(o.last_active_at, latest.get(id(o)))
                refreshed.setdefault(o.ref.pk, (o.ref, set()))[1].update(fields)
    # One INSERT for every flag the round opens (``raised`` sets each field).
    created = Flag.objects.bulk_create(
        [Flag.raised(patient, event, at, rnd) for event in changes.opened]
    )
    AuditEvent.objects.bulk_create(
        [
            audit_event(None, "flag_opened", flag, patient, kind=flag.kind, key=flag.key)
            for flag in created
        ]
    )
    escalation.on_flags_opened(patient, created, rnd, at)
    return created


def still_open(
    flags: list[OpenFlag], changes: RoundChanges, created: list[Flag]
) -> list[OpenFlag]:
    """Return the open flags after ``changes``, in ``open_flags``' order."""
    gone = {id(o) for o, _ in changes.resolved}
    kept = [o for o in flags if id(o) not in gone] + [f.as_open_flag() for f in created]
    return sorted(kept, key=lambda o: (-SEVERITY_RANK[o.severity], -o.opened_at.timestamp()))


def save_refreshed(refreshed: dict[int, tuple[Flag, set[str]]]) -> None:
    """Write the flags ``apply_changes`` marked active: one UPDATE for all
    whose only change is the same ``last_active_at``, one per flag whose
    basis changed."""
    by_time: dict[datetime, list[int]] = {}
    for pk, (flag, fields) in refreshed.items():
        if fields == {"last_active_at"}:
            by_time.setdefault(flag.last_active_at, []).append(pk)
        else:
            flag.save(update_fields=sorted(fields))
    for at, pks in by_time.items():
        Flag.objects.filter(pk__in=pks).update(last_active_at=at)


def apply_flag_events(
    patient: Patient,
    events: list[FlagEvent],
    at: datetime,
    rnd: ObservationRound | None,
) -> list[Flag]:
    """Open or refresh flags for events raised outside a round (the clock, a
    nurse's concern); return the new flags."""
    flags = open_flags(patient)
    return apply_changes(patient, flags, after_clock(flags, events, at), at, rnd)


def flag_groups(flags: list[Flag], current: dict[int, bool]) -> list[dict[str, Any]]:
    """Return open flags grouped by organ system, worst first (for the queue).

    Each group is led by its worst flag that the latest values still bear
    out; one they no longer bear out leads only when no other is current.
    """
    ordered = sorted(flags, key=lambda f: (not current[f.pk], -f.severity_rank))
    groups: dict[str, dict[str, Any]] = {}
    for f in ordered:
        organ = f.organ_system or "overall"
        group = groups.get(organ)
        if group is None:
            acknowledged = f.state == FlagState.ACKNOWLEDGED
            groups[organ] = {
                "organ": WORDS.get(organ, organ.capitalize()),
                "severity": f.severity,
                "shape": SEVERITY_SHAPES[f.severity],
                "label": f.severity.capitalize(),
                "title": f.title,
                "more": 0,
                "current": current[f.pk],
                "acknowledged": acknowledged,
                "acknowledged_by": f.acknowledged_by_name if acknowledged else "",
                "acknowledged_at": f.acknowledged_at.isoformat() if acknowledged else "",
                "all_acknowledged": acknowledged,
            }
        else:
            group["more"] += 1
            group["all_acknowledged"] &= f.state == FlagState.ACKNOWLEDGED
    return sorted(
        groups.values(),
        key=lambda g: (not g["current"], -SEVERITY_RANK[g["severity"]]),
    )


def last_known(course: list[KnownInput]) -> dict[str, tuple]:
    """Return the latest known CRS, ICANS, ICE and NEWS2, each with its round.

    A partial round (labs only, say) must not blank or lower the current
    grades: the queue and the header show the last known value, with its
    time (``known.py``). ``course`` is every final round, oldest first: the
    rounds before the re-assessed window as stored, then the window.
    """
    found: dict[str, tuple] = {}
    for name in ("crs", "icans"):
        known = known_grade([(k.time, getattr(k, name)) for k in course])
        found[name] = (known, course[known.index] if known.index is not None else None)
    for k in reversed(course):
        if "ice" not in found and k.ice_score is not None:
            found["ice"] = (k.ice_score, k)
        if "news2" not in found and k.news2_total is not None:
            found["news2"] = ((k.news2_total, k.news2_band), k)
        if "ice" in found and "news2" in found:
            break
    for name in ("ice", "news2"):
        found.setdefault(name, (None, None))
    return found


def refresh_status(
    patient: Patient,
    results: list[tuple[ObservationRound, RoundState]] | None = None,
    before: tuple[KnownInput, ...] | None = None,
    followup_changed: bool = True,
) -> PatientStatus:
    """Rewrite the patient's queue row from stored rounds and open flags.

    ``results`` are the latest rounds with their states (default: the
    window ``reassess`` returns); ``before`` the final rounds stored before
    them (default: those ``reassess`` carried, else read), so a last known
    grade older than the window is still found. ``followup_changed`` False:
    no round with follow-up labs was stored, so the row's follow-up
    findings stand (and are not read again).
    """
    exposure = current_exposure(patient)
    if results is None:
        results = reassess(patient)
    if before is None:
        before = getattr(results, "before", None)
    if before is None:
        final = patient.rounds.filter(status=RoundStatus.FINAL)
        before = stored_rounds_before(final, results[0][0].clinical_time) if results else ()
    states = [state for _, state in results]
    last = states[-1] if states else None
    # Ties (flags one round opened together) in the order they were raised,
    # so the queue's leading flag does not change between two rewrites.
    flags = list(
        patient.flags.exclude(state=FlagState.RESOLVED).order_by(
            "-severity_rank", "-opened_at", "pk"
        )
    )
    # A flag watching a value is current only while the latest round still
    # shows it; one the latest round no longer bears out is shown as such.
    current = {f.pk: not f.metric or last is None or f.last_active_at >= last.time for f in flags}
    worst_flag_rank = max((f.severity_rank for f in flags), default=0)
    windows = plan_windows(patient)
    values: dict[str, Any] = {
        "ward": patient.ward,
        "sort_name": f"{patient.family_name} {patient.given_name}".lower(),
        "day0": exposure.day0 if exposure else None,
        "open_flag_count": len(flags),
        "worst_flag_rank": worst_flag_rank,
        "worst_flag_unacknowledged": any(
            f.state == FlagState.OPEN and f.severity_rank == worst_flag_rank for f in flags
        ),
        "open_flags": [
            {
                "id": f.pk,
                "kind": f.kind,
                "organ_system": f.organ_system,
                "severity": f.severity,
                "title": f.title,
                "rule": f.basis.get("rule", ""),
                "state": f.state,
                "current": current[f.pk],
            }
            for f in flags
        ],
        "flag_groups": flag_groups(flags, current),
        "plan_windows": [w.as_dict() for w in windows],
        **({"followup": latest_followup(patient)} if followup_changed else {}),
        **(round_values(patient, results, before, exposure, windows) if last else NO_ROUNDS),
        "updated_at": timezone.now(),
    }
    # One UPDATE (every patient has a row from registration on), an INSERT
    # the first time.
    if not PatientStatus.objects.filter(patient=patient).update(**values):
        values["followup"] = latest_followup(patient)
        return PatientStatus.objects.create(patient=patient, **values)
    status = PatientStatus(patient=patient, **values)
    status._state.adding = False
    status._state.db = PatientStatus.objects.db
    if "followup" not in values:
        # Not rewritten: deferred, read from the row if anyone asks.
        del status.__dict__["followup"]
    return status


NO_ROUNDS: dict[str, Any] = {
    "crs_grade": None,
    "icans_grade": None,
    "ice_score": None,
    "news2_total": None,
    "news2_band": "",
    "band_rank": -1,
    "news2_rank": -1,
    "worst_grade": -1,
    "organ_severity": {},
    "last_round_at": None,
    "next_round_due_at": None,
    "next_ice_due_at": None,
    "latest_round": None,
    "grades_at": {},
}


def round_values(
    patient: Patient,
    results: list[tuple[ObservationRound, RoundState]],
    before: tuple[KnownInput, ...],
    exposure: Exposure | None,
    windows: list,
) -> dict[str, Any]:
    """Return the status row's grades, NEWS2 and due times after ``results``."""
    states = [state for _, state in results]
    last = states[-1]
    known = last_known([*before, *(KnownInput.of(r, s) for r, s in results)])
    crs, icans = known["crs"][0].grade, known["icans"][0].grade
    news2_total, news2_band = known["news2"][0] or (None, "")
    grades = [g for g in (crs, icans) if g is not None]
    grades_at = {
        name: {"at": k.time.isoformat(), "round": k.round_id}
        for name, (value, k) in known.items()
        if k is not None
    }
    for name in ("crs", "icans"):
        grade = known[name][0]
        if name in grades_at:
            grades_at[name].update(lower_bound=grade.lower_bound, missing=list(grade.missing))
    return {
        "crs_grade": crs,
        "icans_grade": icans,
        "ice_score": known["ice"][0],
        "news2_total": news2_total,
        "news2_band": news2_band,
        "band_rank": BAND_ORDER.index(news2_band) if news2_band else -1,
        "news2_rank": -1 if news2_total is None else news2_total,
        "worst_grade": max(grades, default=-1),
        "grades_at": grades_at,
        "organ_severity": last.assessment.organ_levels(),
        "last_round_at": last.time,
        "latest_round": results[-1][0],
        "next_round_due_at": rules.next_round_due(states)[0],
        "next_ice_due_at": rules.ice_due(
            states,
            day0_datetime(exposure),
            exposure.kind if exposure else None,
            ice_interval(),
            ice_windows(windows),
        ),
    }


def lock(patient: Patient) -> Patient:
    return Patient.objects.select_for_update().get(pk=patient.pk)


def record_round(
    patient: Patient,
    values: dict[str, Any],
    user,
    client_key: uuid.UUID,
    address: str | None = None,
    typed: bool = False,
) -> tuple[ObservationRound, bool]:
    """Store a round, assess it, update flags and status.

    Return (round, created); a repeated ``client_key`` returns the round
    already stored, so a double or replayed submit stores one round.
    ``typed``: the round was typed on the bedside screen; the copy kept
    while it was typed (``drafts.py``) goes in the same transaction.
    """
    return record_rounds(patient, [(values, client_key)], user, address, typed)[0]


def record_rounds(
    patient: Patient,
    rounds: list[tuple[dict[str, Any], uuid.UUID]],
    user,
    address: str | None = None,
    typed: bool = False,
) -> list[tuple[ObservationRound, bool]]:
    """Store several rounds of one patient as if recorded one by one in time order.

    Each round's flags are decided from the rounds up to it, exactly as when
    it is typed; only the re-assessment runs once, from the earliest new
    round, instead of once per round (a Bundle of rounds from a monitor).
    Return (round, created) for each ``(values, client_key)`` given.
    """
    keys = [key for _, key in rounds]
    # A Bundle may hold rounds already stored: they are looked up first. A
    # single round is stored straight away; a repeat of it breaks the
    # unique key and is answered below with the round already stored.
    found = (
        {
            r.client_key: r
            for r in ObservationRound.objects.filter(patient=patient, client_key__in=keys)
        }
        if len(keys) > 1
        else {}
    )
    new = sorted(
        [(values, key) for values, key in rounds if key not in found],
        key=lambda item: item[0]["clinical_time"],
    )
    if not new:
        return [(found[key], False) for key in keys]
    try:
        with transaction.atomic():
            patient = lock(patient)
            if typed:
                discard_draft(user, patient.pk)
            created = [
                ObservationRound.objects.create(
                    patient=patient,
                    entered_by=user,
                    entered_by_name=user.get_username(),
                    client_key=key,
                    **values,
                )
                for values, key in new
            ]
            # Rounds stored before at the first new round's time keep their
            # results, unless the new rounds bring follow-up labs: the
            # findings stored at that time count every lab taken then.
            labs = any(has_followup_labs(r) for r in created)
            results = reassess(
                patient,
                since=created[0].clinical_time,
                first_new=None if labs else created[0].pk,
            )
            states = [s for _, s in results]
            position = {r.pk: i for i, (r, _) in enumerate(results)}
            new_pks = {r.pk for r in created}
            last_old = max(
                (i for i, (r, _) in enumerate(results) if r.pk not in new_pks), default=-1
            )
            exposure = current_exposure(patient)
            window = history_window()
            # Read once and carried from round to round, in the order the
            # database gives (worst, then newest, first); refreshed flags
            # are written once, after the last round.
            flags = open_flags(patient)
            refreshed: dict[int, tuple[Flag, set[str]]] = {}
            for rnd in created:
                index = position[rnd.pk]
                # What the rules saw when this round was the newest stored.
                start = rnd.clinical_time - window
                history = [s for s in states[: index + 1] if s.time >= start]
                # Overdue flags are raised by the scan; the awaited round
                # clears them (only a round newer than every stored one
                # clears anything).
                changes = after_round(
                    flags,
                    history,
                    persistence_limit(),
                    resolve_period(),
                    newest=index > last_old,
                    extra=followup_flag_events(patient, results[index][0]),
                )
                new_flags = apply_changes(
                    patient, flags, changes, rnd.clinical_time, rnd, refreshed
                )
                flags = still_open(flags, changes, new_flags)
                audit(
                    user,
                    "round_recorded",
                    rnd,
                    patient,
                    address,
                    exposure=exposure.pk if exposure else None,
                )
            save_refreshed(refreshed)
            # The status row sees the window of the newest round, as when
            # typed one by one; what lies before it counts for the last
            # known grades.
            latest = created[-1].clinical_time - window
            earlier = [KnownInput.of(r, s) for r, s in results if r.clinical_time < latest]
            refresh_status(
                patient,
                [(r, s) for r, s in results if r.clinical_time >= latest],
                before=(*results.before, *earlier),
                followup_changed=any(
                    has_followup_labs(r)
                    for r, _ in results
                    if r.clinical_time >= created[0].clinical_time
                ),
            )
            for rnd in created:
                # The caller gets the whole round with its stored results.
                assessed = results[position[rnd.pk]][0]
                for name in STORED_FIELDS:
                    setattr(rnd, name, getattr(assessed, name))
            stored = {rnd.client_key: rnd for rnd in created}
            return [(stored[key], True) if key in stored else (found[key], False) for key in keys]
    except IntegrityError:
        # A repeated round (a double submit, a replayed Bundle) or two
        # identical submits that raced: the rounds are already stored.
        if typed:
            discard_draft(user, patient.pk)
        return [
            (ObservationRound.objects.get(patient=patient, client_key=key), False) for key in keys
        ]


def mark_round_in_error(
    rnd: ObservationRound, user, reason: str, address: str | None = None
) -> ObservationRound:
    """Mark a round entered in error (kept, visible) and re-assess the rest."""
    with transaction.atomic():
        patient = lock(rnd.patient)
        rnd = ObservationRound.objects.select_for_update().get(pk=rnd.pk)
        if rnd.in_error:
            return rnd
        rnd.mark_entered_in_error(user, reason)
        now = rnd.error_at
        reassess(patient, since=rnd.clinical_time)
        why = f"The round that raised it was entered in error: {reason}"
        for flag in rnd.opened_flags.exclude(state=FlagState.RESOLVED):
            resolve(flag, now, why, patient, user, address)
        refresh_status(patient)
        audit(user, "round_entered_in_error", rnd, patient, address, reason=reason)
        return rnd


def record_intervention(
    patient: Patient,
    values: dict[str, Any],
    user,
    client_key: uuid.UUID,
    address: str | None = None,
) -> tuple[Intervention, bool]:
    existing = Intervention.objects.filter(patient=patient, client_key=client_key).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            patient = lock(patient)
            item = Intervention.objects.create(
                patient=patient,
                recorded_by=user,
                recorded_by_name=user.get_username(),
                client_key=client_key,
                **values,
            )
            refresh_status(patient, reassess(patient, since=item.given_at))
            audit(user, "intervention_recorded", item, patient, address, kind=item.kind)
            return item, True
    except IntegrityError:
        return Intervention.objects.get(patient=patient, client_key=client_key), False


def _mark_in_error(record, user, reason: str) -> tuple[Patient, Any, bool]:
    """Lock the patient and the record; mark it unless someone already had.

    Return (patient, record, marked); call inside a transaction.
    """
    patient = lock(record.patient)
    record = type(record).objects.select_for_update().get(pk=record.pk)
    if record.in_error:
        return patient, record, False
    record.mark_entered_in_error(user, reason)
    return patient, record, True


def mark_intervention_in_error(
    item: Intervention, user, reason: str, address: str | None = None
) -> tuple[Intervention, bool]:
    """Mark what was given entered in error (kept, visible); re-assess after it.

    A wrong dose changes grading (treatment lifts the fever requirement)
    and the tocilizumab ledger: every round from its time on is re-assessed
    without it. Return (item, True), or (item, False) when someone had
    already marked it: the first reason stands.
    """
    with transaction.atomic():
        patient, item, marked = _mark_in_error(item, user, reason)
        if not marked:
            return item, False
        reassess(patient, since=item.given_at)
        refresh_status(patient)
        audit(
            user,
            "intervention_entered_in_error",
            item,
            patient,
            address,
            kind=item.kind,
            reason=reason,
        )
        return item, True


def record_dose(
    patient: Patient,
    values: dict[str, Any],
    user,
    client_key: uuid.UUID,
    address: str | None = None,
    premedication: dict[str, Any] | None = None,
) -> tuple[DoseEvent, bool]:
    """Store a dose of the current exposure (and its premedication, recorded
    as such); its window and the ICE schedule follow from it."""
    existing = DoseEvent.objects.filter(client_key=client_key).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            patient = lock(patient)
            exposure = current_exposure(patient)
            dose = DoseEvent.objects.create(
                patient=patient,
                exposure=exposure,
                recorded_by=user,
                client_key=client_key,
                **values,
            )
            if premedication:
                item = Intervention.objects.create(
                    patient=patient,
                    recorded_by=user,
                    client_key=uuid.uuid5(client_key, "premedication"),
                    **premedication,
                )
                audit(user, "intervention_recorded", item, patient, address, kind=item.kind)
                # Premedication never masks fever, but the ledger feeds the
                # assessment: re-assess as any intervention does.
                refresh_status(patient, reassess(patient, since=item.given_at))
            else:
                refresh_status(patient)
            audit(user, "dose_recorded", dose, patient, address, step=dose.step)
            return dose, True
    except IntegrityError:
        return DoseEvent.objects.get(client_key=client_key), False


def mark_dose_in_error(
    dose: DoseEvent, user, reason: str, address: str | None = None
) -> tuple[DoseEvent, bool]:
    """Mark a dose entered in error (kept, visible); re-assess after it.

    A dose starts its window's clock, the ICE schedule and the count of CRS
    onset from it: without it the plan position and every round from its
    time on are re-assessed, as for a treatment entered in error. Its
    premedication is its own entry. Return (dose, True), or (dose, False)
    when someone had already marked it: the first reason stands.
    """
    with transaction.atomic():
        patient, dose, marked = _mark_in_error(dose, user, reason)
        if not marked:
            return dose, False
        refresh_status(patient, reassess(patient, since=dose.given_at))
        audit(user, "dose_entered_in_error", dose, patient, address, step=dose.step, reason=reason)
        return dose, True


def acknowledge_flag(flag: Flag, user, note: str, address: str | None = None) -> bool:
    """Acknowledge an open flag; return False if someone already had."""
    now = timezone.now()
    with transaction.atomic():
        done = flag.acknowledge(user, note, now)
        if done:
            audit(user, "flag_acknowledged", flag, flag.patient, address, note=note)
            escalation.on_flag_acknowledged(flag, user, now)
            refresh_status(flag.patient)
    return done


def resolve_flag(flag: Flag, user, reason: str, address: str | None = None) -> bool:
    """Resolve a flag by a clinician's decision; False if already resolved."""
    with transaction.atomic():
        done = resolve(flag, timezone.now(), reason, flag.patient, user, address)
        if done:
            refresh_status(flag.patient)
    return done


def scan_overdue(now: datetime, ward: str | None = None) -> int:
    """Raise overdue flags for patients whose round or ICE check is late."""
    late = PatientStatus.objects.filter(next_round_due_at__lt=now) | PatientStatus.objects.filter(
        next_ice_due_at__lt=now
    )
    if ward:
        late = late.filter(ward=ward)
    count = 0
    for status in late.select_related("patient"):
        with transaction.atomic():
            patient = lock(status.patient)
            results = reassess(patient)
            exposure = current_exposure(patient)
            events = rules.overdue_events(
                [s for _, s in results],
                now,
                day0_datetime(exposure),
                exposure.kind if exposure else None,
                ice_interval(),
                ice_windows(plan_windows(patient)),
            )
            count += len(apply_flag_events(patient, events, now, None))
            refresh_status(patient, results)
    return count


def import_course(
    patient: Patient, rounds: list[ObservationRound], interventions: list[Intervention]
) -> list[Flag]:
    """Store a whole course at once (demo data, benchmarks, migrations).

    Runs the same pure assessment and flag lifecycle as ``record_round``,
    round by round, then writes everything in bulk.
    """
    from .clinical.course import assess_course

    with transaction.atomic():
        patient = lock(patient)
        for item in interventions:
            item.recorded_by_name = item.recorded_by_name or item.recorded_by.get_username()
        Intervention.objects.bulk_create(interventions)
        given = [i.to_given() for i in sorted(interventions, key=lambda i: i.given_at)]
        exposure = current_exposure(patient)
        rounds = sorted(rounds, key=lambda r: r.clinical_time)
        for r in rounds:
            r.patient = patient
            r.entered_by_name = r.entered_by_name or r.entered_by.get_username()
        steps, records = assess_course(
            [r.to_observation() for r in rounds],
            given=given,
            baseline=baseline_for(patient),
            day0=day0_datetime(exposure),
            exposure_kind=exposure.kind if exposure else None,
            windows=ice_windows(plan_windows(patient)),
            cause=cause_of(exposure),
            persistence=persistence_limit(),
            resolve_period=resolve_period(),
            followup=course_followup(exposure),
            episode_rule=episode_rule(),
            ice_interval=ice_interval(),
        )
        for rnd, step in zip(rounds, steps, strict=True):
            store_assessment(rnd, step.state, [stored(o) for o in step.options])
            if step.followup is not None:
                rnd.assessment["followup"] = step.followup
        ObservationRound.objects.bulk_create(rounds)
        flags = []
        for rec in records:
            rnd = rounds[rec.round_index] if rec.round_index is not None else None
            flag = Flag.raised(patient, rec.event, rec.opened_at, rnd)
            flag.last_active_at = rec.last_active_at
            if rec.latest_basis is not None:
                flag.basis = {**flag.basis, "latest": rec.latest_basis}
            if rec.resolved_at:
                flag.state = FlagState.RESOLVED
                flag.resolved_at = rec.resolved_at
                flag.resolve_reason = rec.resolve_reason
            flags.append(flag)
        Flag.objects.bulk_create(flags)
        refresh_status(patient, [(r, step.state) for r, step in zip(rounds, steps, strict=True)])
        return flags
