"""Escalation pages: the bedside card, the nurse's record, a nurse's concern.

``escalation_panel`` and ``round_escalations`` are the context functions a
template needs to show ``patients/_escalation.html`` (one card per
escalation): in a saved round's result and on the patient page.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_POST, require_safe

from . import escalation
from .models import (
    BEDSIDE_HOW,
    BedsideRecord,
    Escalation,
    EscalationState,
    EscalationStep,
    Notification,
    ObservationRound,
    Patient,
)

HOW = [("", "—"), *BEDSIDE_HOW.items()]
# Closed escalations stay on the patient page this long, then in the audit.
RECENT_HOURS = 24


class BedsideForm(forms.Form):
    informed = forms.CharField(
        label="Who was informed",
        required=False,
        max_length=200,
        help_text="Name and role, e.g. Dr Patel, haematology registrar",
    )
    how = forms.ChoiceField(label="How", choices=HOW, required=False)
    informed_at = forms.DateTimeField(
        label="When",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M"],
    )
    not_escalated_reason = forms.CharField(
        label="Or: reason for not escalating",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_informed_at(self):
        value = self.cleaned_data["informed_at"]
        if value and value > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError("This time is in the future.")
        return value

    def clean(self):
        data = super().clean()
        informed, reason = data.get("informed", "").strip(), data.get("not_escalated_reason", "")
        if not informed and not reason.strip():
            self.add_error(
                "informed", "Record who was informed, or give a reason for not escalating."
            )
        elif informed and reason.strip():
            self.add_error(
                "not_escalated_reason",
                "Either who was informed or a reason for not escalating, not both.",
            )
        elif informed and not data.get("how"):
            self.add_error("how", "Say how they were informed.")
        return data


class ConcernForm(forms.Form):
    reason = forms.CharField(
        label="Why are you worried?",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def cards(escalations) -> list[Escalation]:
    """Return escalations with everything a card shows, in a fixed few queries."""
    return list(
        escalations.select_related("patient", "acknowledged_by").prefetch_related(
            Prefetch(
                "steps",
                queryset=EscalationStep.objects.order_by("position").prefetch_related(
                    Prefetch(
                        "notifications",
                        queryset=Notification.objects.select_related("contact").prefetch_related(
                            "attempt_log"
                        ),
                    )
                ),
            ),
            Prefetch("bedside_records", queryset=BedsideRecord.objects.order_by("-recorded_at")),
        )
    )


def bedside_form(esc: Escalation, data=None) -> BedsideForm:
    # One form per card: the prefix keeps field ids unique on the page.
    return BedsideForm(data, prefix=f"e{esc.pk}")


def decorate(items: list[Escalation], now, form: BedsideForm | None = None) -> list[Escalation]:
    """Add what the card shows about now: overdue, missing records, no contact."""
    for esc in items:
        esc.form = form or bedside_form(esc)
        steps = list(esc.steps.all())
        esc.current_step = steps[-1] if steps else None
        esc.records = list(esc.bedside_records.all())
        esc.record_missing = esc.record_required and not esc.records
        esc.past_due = esc.state == EscalationState.OPEN and esc.due_at <= now
        esc.failed_notifications = sum(
            1 for s in steps for n in s.notifications.all() if n.state == "failed"
        )
        esc.no_contact = bool(esc.current_step) and not esc.current_step.notifications.all()
    return items


def round_escalations(rnd: ObservationRound | None) -> dict[str, Any]:
    """Context for a saved round's result: the escalations it opened."""
    if rnd is None:
        return {"round_escalations": [], "round_flag_count": 0}
    found = cards(Escalation.objects.filter(round=rnd))
    return {
        "round_escalations": decorate(found, timezone.now()),
        "round_flag_count": rnd.opened_flags.count(),
    }


# Everything a card shows that can change after the escalation is opened
# (its state and timer, each step, each message's state and attempts, each
# bedside record), read as plain rows: the panel's cache key.
CARD_CHANGES = (
    "pk",
    "state",
    "tier_position",
    "due_at",
    "closed_at",
    "acknowledged_by_id",
    "steps__pk",
    "steps__notifications__pk",
    "steps__notifications__state",
    "steps__notifications__attempts",
    "steps__notifications__sent_at",
    "steps__notifications__contact__name",
    "steps__notifications__attempt_log__pk",
    "bedside_records__pk",
)


NO_ESCALATIONS = "none"


def panel_key(shown, now) -> str:
    """Return a digest of what the panel's cards show: it changes with any
    write to an escalation, a step, a message or a bedside record, and when
    an open escalation's response time passes."""
    # Most patients have no escalation to show: one plain read says so,
    # without the joins through steps and messages.
    if not shown.exists():
        return NO_ESCALATIONS
    rows = sorted(shown.values_list(*CARD_CHANGES), key=repr)
    late = sorted(
        pk for pk, state, _, due_at, *_ in rows if state == EscalationState.OPEN and due_at <= now
    )
    return hashlib.sha256(repr((rows, late)).encode()).hexdigest()


def escalation_panel(patient: Patient) -> dict[str, Any]:
    """Context for the patient page: open and recent escalations.

    The cards are read only if the panel, keyed on ``escalations_key``, is
    not in the cache.
    """
    now = timezone.now()
    recent = now - timezone.timedelta(hours=RECENT_HOURS)
    shown = Escalation.objects.filter(patient=patient).filter(
        Q(state__in=[EscalationState.OPEN, EscalationState.UNANSWERED]) | Q(opened_at__gte=recent)
    )
    return {
        "escalations": SimpleLazyObject(
            lambda: decorate(cards(shown.order_by("-opened_at")[:20]), now)
        ),
        "escalations_key": panel_key(shown, now),
        "concern_form": ConcernForm(),
        # A saved round's own result shows its escalations; the panel skips them.
        "round_escalations": [],
    }


def _card_response(request: HttpRequest, esc: Escalation, form=None, status=200):
    [esc] = decorate(cards(Escalation.objects.filter(pk=esc.pk)), timezone.now(), form)
    return render(
        request, "patients/_escalation.html", {"esc": esc, "patient": esc.patient}, status=status
    )


@permission_required("patients.add_bedsiderecord", raise_exception=True)
@require_POST
def bedside_record(request: HttpRequest, pk: int, esc_pk: int) -> HttpResponse:
    esc = get_object_or_404(Escalation, pk=esc_pk, patient_id=pk)
    form = bedside_form(esc, request.POST)
    if not form.is_valid():
        if request.htmx:
            return _card_response(request, esc, form, status=422)
        messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
        return redirect(esc.patient)
    data = form.cleaned_data
    escalation.record_bedside(
        esc,
        request.user,
        data["informed"].strip(),
        data["how"],
        data["informed_at"] or (timezone.now() if data["informed"].strip() else None),
        data["not_escalated_reason"].strip(),
        request.META.get("REMOTE_ADDR"),
    )
    if request.htmx:
        return _card_response(request, esc)
    messages.success(request, "Escalation record saved.")
    return redirect(esc.patient)


@permission_required("patients.add_flag", raise_exception=True)
@require_POST
def raise_concern(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_object_or_404(Patient, pk=pk)
    form = ConcernForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why you are worried to raise a concern.")
        return redirect(patient)
    esc = escalation.raise_concern(
        patient, request.user, form.cleaned_data["reason"], request.META.get("REMOTE_ADDR")
    )
    if esc:
        step = esc.steps.order_by("position").first()
        messages.warning(
            request,
            f"Concern recorded and escalated to {step.tier_label}: respond by "
            f"{timezone.localtime(esc.due_at):%H:%M}.",
        )
    else:
        messages.warning(
            request,
            "Concern recorded as a flag. The escalation policy names no tier for a nurse's "
            "concern: call the responsible team yourself.",
        )
    return redirect(patient)


# -- response figures (clinicians and managers) ------------------------------

FIGURES_DEFAULT_DAYS = 30
FIGURES_MAX_DAYS = 366


class FiguresForm(forms.Form):
    ward = forms.ChoiceField(label="Ward", required=False)
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data, wards: list[str]):
        today = timezone.localdate()
        initial = {
            "start": today - timezone.timedelta(days=FIGURES_DEFAULT_DAYS - 1),
            "end": today,
        }
        super().__init__({**initial, **data.dict()} if data else initial)
        self.fields["ward"].choices = [("", "All wards"), *((w, w) for w in wards)]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end date is before the start date.")
            elif (end - start).days >= FIGURES_MAX_DAYS:
                self.add_error("end", f"Choose at most {FIGURES_MAX_DAYS} days.")
        return data


def figure_wards() -> list[str]:
    from .models import PatientStatus

    wards = set(PatientStatus.objects.values_list("ward", flat=True).distinct())
    wards |= set(Escalation.objects.values_list("ward", flat=True).distinct())
    return sorted(wards)


def facts_for(ward: str, begin, end) -> list:
    """Return the figures' facts for escalations opened in [begin, end)."""
    from django.db.models import Count

    from .response_figures import Facts

    found = Escalation.objects.filter(opened_at__gte=begin, opened_at__lt=end)
    if ward:
        found = found.filter(ward=ward)
    found = found.annotate(
        step_count=Count("steps", distinct=True),
        sent=Count(
            "steps__notifications",
            filter=Q(steps__notifications__state="sent"),
            distinct=True,
        ),
        failed=Count(
            "steps__notifications",
            filter=Q(steps__notifications__state="failed"),
            distinct=True,
        ),
        failed_attempts=Count(
            "steps__notifications__attempt_log",
            filter=Q(steps__notifications__attempt_log__ok=False),
            distinct=True,
        ),
        records=Count("bedside_records", distinct=True),
        informed_records=Count(
            "bedside_records", filter=~Q(bedside_records__informed=""), distinct=True
        ),
    ).order_by("opened_at", "pk")
    rows = list(found)
    first: dict[int, EscalationStep] = {}
    for step in EscalationStep.objects.filter(escalation__in=[e.pk for e in rows]).order_by(
        "escalation_id", "position"
    ):
        first.setdefault(step.escalation_id, step)
    facts = []
    for e in rows:
        step = first.get(e.pk)
        if e.informed_records:
            bedside = "informed"
        elif e.records:
            bedside = "not escalated"
        else:
            bedside = "missing" if e.record_required else "not required"
        facts.append(
            Facts(
                escalation_id=e.pk,
                ward=e.ward,
                tier=step.tier_label if step else "",
                opened_at=e.opened_at,
                target_at=step.due_at if step else e.due_at,
                acknowledged_at=e.closed_at if e.state == EscalationState.ACKNOWLEDGED else None,
                cascades=max(e.step_count - 1, 0),
                state=e.state,
                trigger_kind=e.trigger_kind,
                trigger_severity=e.trigger_severity,
                notifications_sent=e.sent,
                notifications_failed=e.failed,
                failed_attempts=e.failed_attempts,
                bedside=bedside,
            )
        )
    return facts


def patient_days(ward: str, begin, end) -> dict[str, int]:
    """Return patient-days per ward: patients with a round, counted per local day.

    The ward is the patient's ward now (rounds do not record a ward).
    """
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    from .models import RoundStatus

    rounds = ObservationRound.objects.filter(
        status=RoundStatus.FINAL, clinical_time__gte=begin, clinical_time__lt=end
    )
    if ward:
        rounds = rounds.filter(patient__ward=ward)
    per_day = (
        rounds.annotate(day=TruncDate("clinical_time", tzinfo=timezone.get_current_timezone()))
        .values("patient__ward", "day")
        .annotate(patients=Count("patient", distinct=True))
        .order_by()
    )
    days: dict[str, int] = {}
    for row in per_day:
        days[row["patient__ward"]] = days.get(row["patient__ward"], 0) + row["patients"]
    return days


def figures_context(form: FiguresForm) -> dict[str, Any]:
    from .response_figures import (
        CHART_BASE,
        CHART_HEIGHT,
        CHART_WIDTH,
        by_tier,
        by_ward,
        chart_bars,
        day_bounds,
    )

    if not form.is_valid():
        return {"form": form}
    data = form.cleaned_data
    begin, end = day_bounds(data["start"], data["end"], timezone.get_current_timezone())
    facts = facts_for(data["ward"], begin, end)
    now = timezone.now()
    return {
        "form": form,
        "facts": facts,
        "tiers": by_tier(facts, now),
        "wards": by_ward(facts, patient_days(data["ward"], begin, end)),
        "bars": chart_bars(facts),
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT, "base": CHART_BASE},
        "failed_notifications": sum(f.notifications_failed for f in facts),
        "failed_attempts": sum(f.failed_attempts for f in facts),
        "missing_records": sum(1 for f in facts if f.bedside == "missing"),
    }


@permission_required("patients.view_escalation", raise_exception=True)
@require_safe
def response_figures(request: HttpRequest) -> HttpResponse:
    form = FiguresForm(request.GET, figure_wards())
    context = figures_context(form)
    context["csv_query"] = request.GET.urlencode()
    return render(request, "patients/response_figures.html", context)


FIGURES_CSV_HEADER = [
    "escalation_id",
    "ward",
    "opened_at",
    "trigger_kind",
    "trigger_severity",
    "first_tier",
    "respond_by",
    "acknowledged_at",
    "minutes_to_acknowledgement",
    "within_target",
    "cascades",
    "state",
    "notifications_sent",
    "notifications_failed",
    "failed_attempts",
    "bedside_record",
]


def figures_csv_row(f, now) -> list:
    minutes = f.minutes_to_ack
    verdict = f.within_target(now)
    return [
        f.escalation_id,
        f.ward,
        timezone.localtime(f.opened_at).isoformat(),
        f.trigger_kind,
        f.trigger_severity,
        f.tier,
        timezone.localtime(f.target_at).isoformat(),
        timezone.localtime(f.acknowledged_at).isoformat() if f.acknowledged_at else "",
        f"{minutes:.1f}" if minutes is not None else "",
        "" if verdict is None else ("yes" if verdict else "no"),
        f.cascades,
        f.state,
        f.notifications_sent,
        f.notifications_failed,
        f.failed_attempts,
        f.bedside,
    ]


@permission_required("patients.view_escalation", raise_exception=True)
@require_safe
def response_figures_csv(request: HttpRequest) -> HttpResponse:
    from .export import filter_errors, table_download
    from .recording import audit

    form = FiguresForm(request.GET, figure_wards())
    context = figures_context(form)
    if "facts" not in context:
        return filter_errors(form)
    now = timezone.now()
    response = table_download(
        "escalation-response.csv",
        FIGURES_CSV_HEADER,
        (figures_csv_row(f, now) for f in context["facts"]),
    )
    data = form.cleaned_data
    audit(
        request.user,
        "response_figures_exported",
        request.user,
        None,
        ward=data["ward"],
        start=data["start"].isoformat(),
        end=data["end"].isoformat(),
    )
    return response
