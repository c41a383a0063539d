"""Escalation: which tier responds to a flag, by when, and the cascade.

Flags open inside the recording transaction; ``on_flags_opened`` stores the
escalation, its first step and one pending notification per contact in that
same transaction (an outbox), and hands the sending to the worker only after
commit. Every state change is a conditional UPDATE or guarded by a unique
constraint, so however many workers run, each step happens once.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .clinical.flags import KINDS, SEVERITY_RANK
from .clinical.news2 import BAND_ORDER
from .models import (
    BedsideRecord,
    Escalation,
    EscalationContact,
    EscalationState,
    EscalationStep,
    EscalationTier,
    EscalationTrigger,
    Flag,
    FlagState,
    Notification,
    ObservationRound,
    Patient,
)
from .words import plain

CONCERN = "concern"
FLAG_KINDS = (*KINDS, CONCERN)
NEWS2_TRIGGERS = {"low-medium", "medium", "high", "red-score"}
GRADE_TRIGGER = re.compile(r"^(crs|icans)>=([1-4])$")


# -- trigger grammar (plain functions: the loader and the admin share them) --


def trigger_error(on: str) -> str | None:
    """Return why ``on`` is not a trigger, or None when it is one."""
    if on == CONCERN:
        return None
    kind, _, rest = on.partition(":")
    if kind == "news2":
        if rest in NEWS2_TRIGGERS:
            return None
        return f"unknown NEWS2 trigger {on!r}: use news2:low-medium, medium, high or red-score"
    if kind == "flag":
        flag_kind, _, severity = rest.partition(":")
        if flag_kind not in FLAG_KINDS:
            return f"unknown flag kind {flag_kind!r}: use one of {', '.join(FLAG_KINDS)}"
        if severity not in SEVERITY_RANK:
            return f"unknown severity {severity!r}: use urgent, high or medium"
        return None
    if GRADE_TRIGGER.match(on):
        return None
    return (
        f"unknown trigger {on!r}: use news2:BAND, news2:red-score, crs>=N, icans>=N "
        "(N 1-4), flag:KIND:SEVERITY or concern"
    )


def trigger_words(on: str) -> str:
    """Return trigger ``on`` as a nurse reads it ("crs>=2": "CRS grade 2 or higher")."""
    if on == CONCERN:
        return "a nurse's concern"
    kind, _, rest = on.partition(":")
    if kind == "news2":
        if rest == "red-score":
            return "NEWS2 score of 3 in one parameter"
        return f"NEWS2 {rest} risk{'' if rest == 'high' else ' or higher'}"
    if kind == "flag":
        flag_kind, _, severity = rest.partition(":")
        worse = "" if severity == "urgent" else " or worse"
        return f"{plain(flag_kind)} flag, {severity}{worse}"
    grade = GRADE_TRIGGER.match(on)
    if grade:
        return f"{grade.group(1).upper()} grade {grade.group(2)} or higher"
    return on


def _grade_after(flag: Flag) -> int:
    return int((flag.basis.get("after") or {}).get("grade") or 0)


def trigger_matches(on: str, flag: Flag) -> bool:
    """Return True when the newly opened ``flag`` calls for trigger ``on``.

    Triggers fire on entering a state (the flag that marks the transition),
    never on every round that stays there. Bands, grades and severities
    match at or above the named level, so a jump past a level nobody
    configured still escalates.
    """
    if on == CONCERN:
        return flag.kind == CONCERN
    kind, _, rest = on.partition(":")
    if kind == "news2":
        if rest == "red-score":
            return flag.key.startswith("grade_rise:news2_red:")
        if flag.key != "grade_rise:news2":
            return False
        band = (flag.basis.get("after") or {}).get("band")
        return band in BAND_ORDER and BAND_ORDER.index(band) >= BAND_ORDER.index(rest)
    if kind == "flag":
        flag_kind, _, severity = rest.partition(":")
        return flag.kind == flag_kind and SEVERITY_RANK.get(flag.severity, 0) >= SEVERITY_RANK.get(
            severity, 9
        )
    grade = GRADE_TRIGGER.match(on)
    if grade:
        name, level = grade.group(1), int(grade.group(2))
        return flag.key == f"grade_rise:{name}" and _grade_after(flag) >= level
    return False


@dataclass(frozen=True)
class Match:
    tier: EscalationTier
    minutes: int
    record_required: bool
    triggers: list[dict[str, Any]]
    flags: list[Flag]
    lead: Flag


def match_policy(flags: list[Flag], triggers: list[EscalationTrigger]) -> Match | None:
    """Return the highest tier the opened flags call for, or None."""
    hits = [(t, f) for t in triggers for f in flags if trigger_matches(t.on, f)]
    if not hits:
        return None
    tier = max((t.tier for t, _ in hits), key=lambda tier: tier.position)
    at_tier = [t for t, _ in hits if t.tier_id == tier.pk]
    matched_flags = list({f.pk: f for _, f in hits}.values())
    lead = max(matched_flags, key=lambda f: (SEVERITY_RANK.get(f.severity, 0), f.pk))
    seen: dict[str, dict[str, Any]] = {}
    for t, f in hits:
        seen.setdefault(
            t.on,
            {
                "on": t.on,
                "tier": t.tier.name,
                "tier_label": t.tier.label,
                "basis": t.basis,
                "flags": [],
            },
        )
        seen[t.on]["flags"].append(f.pk)
    return Match(
        tier=tier,
        minutes=min(t.minutes or tier.minutes for t in at_tier),
        record_required=any(t.record_required for t, _ in hits),
        triggers=list(seen.values()),
        flags=matched_flags,
        lead=lead,
    )


# -- opening, acknowledging, cascading ---------------------------------------


def active_triggers() -> list[EscalationTrigger]:
    return list(
        EscalationTrigger.objects.filter(active=True, tier__active=True).select_related("tier")
    )


def contacts_for(tier: EscalationTier, ward: str) -> list[EscalationContact]:
    return list(
        EscalationContact.objects.filter(tier=tier, active=True).filter(Q(ward=ward) | Q(ward="*"))
    )


def _audit(
    action: str, esc: Escalation, user=None, address: str | None = None, **detail: Any
) -> None:
    # Imported here: the recording module imports this one.
    from .recording import audit

    audit(user, action, esc, esc.patient, address, **detail)


def start_step(
    esc: Escalation, tier: EscalationTier, minutes: int, now: datetime, reason: str
) -> EscalationStep:
    """Store a step and its pending notifications; send them after commit."""
    step = EscalationStep.objects.create(
        escalation=esc,
        position=tier.position,
        tier=tier,
        tier_name=tier.name,
        tier_label=tier.display,
        minutes=minutes,
        minutes_confirmed=tier.minutes_confirmed,
        started_at=now,
        due_at=now + timedelta(minutes=minutes),
        reason=reason,
    )
    notes = []
    for contact in contacts_for(tier, esc.ward):
        for channel, address in (("email", contact.email), ("webhook", contact.webhook)):
            if address:
                notes.append(
                    Notification(
                        step=step,
                        contact=contact,
                        channel=channel,
                        address=address,
                        next_attempt_at=now,
                    )
                )
    Notification.objects.bulk_create(notes)
    ids = list(Notification.objects.filter(step=step).values_list("pk", flat=True))
    if ids:
        transaction.on_commit(lambda: enqueue_deliveries(ids))
    return step


def enqueue_deliveries(ids: list[int]) -> None:
    """Hand notifications to the worker; the scheduler's sweep is the backstop."""
    from django_q.tasks import async_task

    for pk in ids:
        async_task("patients.jobs.deliver", pk, task_name=f"notify-{pk}", group="notify")


def on_flags_opened(
    patient: Patient, flags: list[Flag], rnd: ObservationRound | None, at: datetime
) -> Escalation | None:
    """Open an escalation when newly opened flags match the policy.

    Called inside the transaction that opened the flags: nothing is sent
    unless it commits.
    """
    if not flags:
        return None
    match = match_policy(flags, active_triggers())
    if match is None:
        return None
    # Response times run from when the product knew, even for a round
    # entered late with an earlier clinical time.
    now = timezone.now()
    esc = Escalation.objects.create(
        patient=patient,
        round=rnd,
        ward=patient.ward,
        bed=patient.bed,
        triggers=match.triggers,
        trigger_kind=match.lead.kind,
        trigger_severity=match.lead.severity,
        trigger_title=match.lead.title[:300],
        record_required=match.record_required,
        opened_at=now,
        tier_position=match.tier.position,
        due_at=now + timedelta(minutes=match.minutes),
    )
    esc.flags.set(match.flags)
    reason = "Triggered by " + ", ".join(trigger_words(t["on"]) for t in match.triggers)
    start_step(esc, match.tier, match.minutes, now, reason)
    _audit(
        "escalation_opened",
        esc,
        tier=match.tier.name,
        due_at=esc.due_at.isoformat(),
        triggers=[t["on"] for t in match.triggers],
    )
    return esc


def on_flag_acknowledged(flag: Flag, user, at: datetime) -> int:
    """Stop the timers of the open escalations this flag belongs to."""
    done = 0
    for esc in Escalation.objects.filter(flags=flag, state=EscalationState.OPEN):
        if acknowledge(esc, user, at):
            done += 1
    return done


def acknowledge(esc: Escalation, user, at: datetime) -> bool:
    closed = Escalation.objects.filter(pk=esc.pk, state=EscalationState.OPEN).update(
        state=EscalationState.ACKNOWLEDGED, closed_at=at, acknowledged_by=user
    )
    if closed:
        _audit("escalation_acknowledged", esc, user, at=at.isoformat())
    return bool(closed)


def next_tier(position: int) -> EscalationTier | None:
    return (
        EscalationTier.objects.filter(active=True, position__gt=position)
        .order_by("position", "pk")
        .first()
    )


def cascade_due(now: datetime) -> int:
    """Move every unacknowledged escalation past its due time up one tier.

    Returns the number of steps started. Before cascading, the flags are
    read again: an acknowledgement (or resolution) the hook missed still
    stops the timer.
    """
    started = 0
    due = Escalation.objects.filter(state=EscalationState.OPEN, due_at__lte=now)
    for esc in due.order_by("due_at")[:500]:
        with transaction.atomic():
            if cascade_one(esc, now):
                started += 1
    return started


def cascade_one(esc: Escalation, now: datetime) -> bool:
    flags = list(esc.flags.all())
    acked = [f for f in flags if f.acknowledged_at]
    if acked:
        first = min(acked, key=lambda f: f.acknowledged_at)
        acknowledge(esc, first.acknowledged_by, first.acknowledged_at)
        return False
    if flags and all(f.state == FlagState.RESOLVED for f in flags):
        if Escalation.objects.filter(pk=esc.pk, state=EscalationState.OPEN).update(
            state=EscalationState.STOOD_DOWN, closed_at=now
        ):
            _audit("escalation_stood_down", esc, reason="every flag it answered was resolved")
        return False
    tier = next_tier(esc.tier_position)
    if tier is None:
        if Escalation.objects.filter(
            pk=esc.pk, state=EscalationState.OPEN, due_at=esc.due_at
        ).update(state=EscalationState.UNANSWERED):
            _audit("escalation_unanswered", esc, tier_position=esc.tier_position)
        return False
    # The conditional UPDATE is the claim: of several workers reading the
    # same due escalation, one moves it; the others update nothing.
    moved = Escalation.objects.filter(
        pk=esc.pk,
        state=EscalationState.OPEN,
        tier_position=esc.tier_position,
        due_at=esc.due_at,
    ).update(tier_position=tier.position, due_at=now + timedelta(minutes=tier.minutes))
    if not moved:
        return False
    was = esc.steps.order_by("-position").first()
    try:
        with transaction.atomic():
            start_step(
                esc,
                tier,
                tier.minutes,
                now,
                f"Not acknowledged within {was.minutes} min by {was.tier_label}"
                if was
                else "Not acknowledged in time",
            )
    except IntegrityError:
        return False  # the step exists already (the unique constraint)
    _audit("escalation_cascaded", esc, tier=tier.name, from_position=esc.tier_position)
    return True


# -- the nurse's record and a nurse's concern --------------------------------


def raise_concern(patient: Patient, user, reason: str, address: str | None = None):
    """Open a "concern" flag (escalated if the policy names ``concern``)."""
    from . import recording
    from .clinical.flags import FlagEvent

    now = timezone.now()
    event = FlagEvent(
        kind=CONCERN,
        key=f"concern:{uuid.uuid4().hex}",
        organ_system=None,
        severity="high",
        title=f"Nurse worried about this patient: {reason}"[:300],
        source="The nurse's clinical judgement",
        basis={
            "rule": "A nurse recorded that they are worried about this patient",
            "reason": reason,
            "after": {"time": now.isoformat(), "recorded_by": user.get_username()},
        },
    )
    with transaction.atomic():
        patient = recording.lock(patient)
        [flag] = recording.apply_flag_events(patient, [event], now, None)
        recording.audit(user, "concern_raised", flag, patient, address, reason=reason)
        recording.refresh_status(patient)
    return Escalation.objects.filter(flags=flag).first()


def record_bedside(
    esc: Escalation,
    user,
    informed: str,
    how: str,
    informed_at: datetime | None,
    not_escalated_reason: str,
    address: str | None = None,
) -> BedsideRecord:
    with transaction.atomic():
        record = BedsideRecord.objects.create(
            escalation=esc,
            informed=informed,
            how=how,
            informed_at=informed_at,
            not_escalated_reason=not_escalated_reason,
            recorded_by=user,
        )
        _audit(
            "escalation_bedside_recorded",
            esc,
            user,
            address,
            informed=informed,
            how=how,
            not_escalated_reason=not_escalated_reason,
        )
    return record
