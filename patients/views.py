from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from . import recording
from .clinical.flags import SEVERITY_RANK
from .clinical.history import INTERVENTION_KINDS
from .clinical.icans import CAPD_MAX_AGE
from .clinical.sources import SOURCES
from .clinical.treatments import catalogue, dose_counts
from .drafts import current_draft, discard_draft, draft_initial, save_draft
from .escalation_views import round_escalations
from .export import audit_lines, csv_lines
from .forms import (
    AcknowledgeForm,
    AcknowledgeSeveralForm,
    AuditRangeForm,
    DoseForm,
    InterventionForm,
    LabForm,
    PatientForm,
    QueueFilterForm,
    ReasonForm,
    ResolveForm,
    RoundForm,
    SearchForm,
)
from .handover import handover_rows
from .identifiers import normalise_mrn
from .middleware import seconds_left, touch
from .models import (
    AuditEvent,
    DoseEvent,
    Flag,
    FlagState,
    Intervention,
    ObservationRound,
    Patient,
    PatientStatus,
    RoundStatus,
)
from .patient_page import flag_item_context, page_patient, patient_context, rounds_context
from .plans import current_exposure, late_neuro_asked, plan_position
from .queue_rows import QueuePage, change_stamp, queue_wards
from .round_result import banner, lab_entry, news2_rows, round_response
from .security import client_address, session_form_key

QUEUE_PAGE_SIZE = 50
SEVERITIES_WORST_FIRST = sorted(SEVERITY_RANK, key=SEVERITY_RANK.get, reverse=True)


def _audit_view(request: HttpRequest, patient: Patient, **detail) -> None:
    """Record that this user looked at this patient's record (HIPAA audit)."""
    recording.audit(
        request.user, "patient_viewed", patient, patient, client_address(request), **detail
    )


def _get_patient(request: HttpRequest, pk: int) -> Patient:
    """Return the patient; every signed-in clinical role may read any patient."""
    return get_object_or_404(Patient, pk=pk)


@login_not_required
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Return 200 for load balancers; also the benchmark's ceiling."""
    return HttpResponse("ok", content_type="text/plain")


@vary_on_headers("HX-Request")
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("patients.view_patient"):
        # Administrators land on what they may see: the audit trail.
        if request.user.has_perm("patients.view_auditevent"):
            return redirect("audit_log")
        raise PermissionDenied
    stamp = change_stamp()
    form = QueueFilterForm(request.GET or None, wards=queue_wards(stamp))
    chosen = form.cleaned_data if form.is_valid() else {}
    ward, severity = chosen.get("ward", ""), chosen.get("severity", "")
    sort = chosen.get("sort", "")
    context = {
        "stamp": stamp,
        "ward": ward,
        "severity": severity,
        "sort": sort,
        "queue": QueuePage(ward, severity, request.GET.get("page"), sort),
        "ward_choices": form.fields["ward"].choices,
        "severity_choices": form.fields["severity"].choices,
        "sort_choices": form.fields["sort"].choices,
        "severities": SEVERITIES_WORST_FIRST,
        "refresh_seconds": settings.CRS_WATCH["QUEUE_REFRESH_SECONDS"],
    }
    # The queue shows identities and grades: every display is audited,
    # self-refreshes included (marked, so they can be told apart).
    recording.audit(
        request.user,
        "queue_viewed",
        request.user,
        None,
        client_address(request),
        ward=ward,
        severity=severity,
        page=str(request.GET.get("page", ""))[:20],
        refresh=bool(request.htmx and request.htmx.trigger == "queue-rows"),
    )
    template = "patients/queue.html#queue-rows" if request.htmx else "patients/queue.html"
    return render(request, template, context)


@permission_required("patients.view_patient", raise_exception=True)
@require_safe
def patient_list(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    patients = Patient.objects.select_related("status").order_by("family_name", "given_name")
    if form.is_valid() and form.cleaned_data["q"]:
        q = form.cleaned_data["q"].strip()
        patients = patients.filter(
            Q(mrn=normalise_mrn(q))
            | Q(mrn__iexact=q)
            | Q(family_name__icontains=q)
            | Q(given_name__icontains=q)
        )
    page = Paginator(patients, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    recording.audit(
        request.user,
        "patient_list_viewed",
        request.user,
        None,
        client_address(request),
        search=form.cleaned_data.get("q", "") if form.is_valid() else "",
        page=page.number,
        shown=[p.pk for p in page],
    )
    return render(request, "patients/patient_list.html", {"form": form, "page": page})


@permission_required("patients.add_patient", raise_exception=True)
@require_http_methods(["GET", "POST"])
def patient_create(request: HttpRequest) -> HttpResponse:
    form = PatientForm(request.POST or None, viewer=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            patient = form.save(commit=False)
            patient.created_by = request.user
            patient.save()
            patient.exposures.create(**form.exposure_values())
            recording.refresh_status(patient, [])
            recording.audit(
                request.user, "patient_created", patient, patient, client_address(request)
            )
        messages.success(request, f"Registered {patient.name}.")
        return redirect(patient)
    return render(request, "patients/patient_form.html", {"form": form})


@permission_required("patients.view_patient", raise_exception=True)
@vary_on_headers("HX-Request")
@require_safe
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    page_number = request.GET.get("page")
    if request.htmx and page_number:
        patient = _get_patient(request, pk)
        context = rounds_context(patient, page_number)
        _audit_view(request, patient, page="rounds", rounds_page=str(page_number)[:20])
        return render(request, "patients/patient_detail.html#rounds", context)
    patient = page_patient(pk)
    _audit_view(request, patient)
    context = patient_context(patient, page_number, request.user, session_form_key(request))
    return render(request, "patients/patient_detail.html", context)


def _record(
    request: HttpRequest, patient: Patient, form, typed: bool = False
) -> tuple[ObservationRound, bool]:
    return recording.record_round(
        patient,
        form.round_values(),
        request.user,
        form.cleaned_data["client_key"],
        client_address(request),
        typed,
    )


def _round_screen(request: HttpRequest, patient: Patient, form, status: int = 200, **extra):
    if patient.age_on(timezone.localdate()) > CAPD_MAX_AGE:
        form.not_applicable.update([*RoundForm.CAPD_FIELDS, "capd_not_assessable"])
    form.fields["spo2"].help_text = (
        "Scale 2: a clinician has prescribed a target of 88-92 %."
        if patient.spo2_scale == 2
        else "Scale 1 (the usual scale)."
    )
    context = {
        **banner(patient, timezone.localdate()),
        "round_form": form,
        "autosave_url": reverse("round_draft", args=[patient.pk]),
        **extra,
    }
    return render(request, "patients/round_record.html", context, status=status)


@permission_required("patients.add_observationround", raise_exception=True)
@require_http_methods(["GET", "POST"])
def round_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a round on its own bedside screen; the result follows the save."""
    patient = _get_patient(request, pk)
    late_neuro = late_neuro_asked(patient, timezone.now())
    form = RoundForm(request.POST or None, late_neuro=late_neuro, patient=patient)
    if request.method == "POST" and form.is_valid():
        rnd, created = _record(request, patient, form, typed=True)
        if created and form.contradictions:
            recording.audit(
                request.user,
                "round_confirmed",
                rnd,
                patient,
                client_address(request),
                confirmed=[c.question for c in form.contradictions],
            )
        if not created:
            messages.info(request, "This round had already been recorded.")
        return redirect("round_result", patient.pk, rnd.pk)
    status = 422 if request.method == "POST" else 200
    restored = None
    if request.method == "GET":
        restored = current_draft(request.user, patient.pk)
        if restored:
            form = RoundForm(initial=draft_initial(restored, RoundForm), late_neuro=late_neuro)
    return _round_screen(request, patient, form, status, restored=restored)


@permission_required("patients.add_observationround", raise_exception=True)
@require_POST
def round_draft(request: HttpRequest, pk: int) -> HttpResponse:
    """Keep what is typed so far; typing is activity, so the session stays."""
    patient = _get_patient(request, pk)
    save_draft(request.user, patient.pk, request.POST)
    return JsonResponse({"seconds_left": touch(request)})


@permission_required("patients.add_observationround", raise_exception=True)
@require_POST
def round_draft_discard(request: HttpRequest, pk: int) -> HttpResponse:
    patient = _get_patient(request, pk)
    discard_draft(request.user, patient.pk)
    messages.info(request, "The kept round was discarded.")
    return redirect("round_create", patient.pk)


@permission_required("patients.view_patient", raise_exception=True)
@require_safe
def round_result(request: HttpRequest, pk: int, round_pk: int) -> HttpResponse:
    """Show what a saved round found, at the top of the screen."""
    patient = _get_patient(request, pk)
    rnd = get_object_or_404(
        ObservationRound.objects.select_related("entered_by"), pk=round_pk, patient=patient
    )
    _audit_view(request, patient, page="round result", round=rnd.pk)
    news2 = rnd.assessment.get("news2", {})
    context = {
        **banner(patient, timezone.localdate()),
        "round": rnd,
        "news2": news2,
        "news2_rows": news2_rows(news2),
        "response": round_response(rnd),
        "labs": lab_entry(rnd),
        "opened_flags": list(rnd.opened_flags.order_by("-severity_rank", "pk")),
        **round_escalations(rnd),
    }
    return render(request, "patients/round_result.html", context)


@permission_required("patients.add_observationround", raise_exception=True)
@require_http_methods(["GET", "POST"])
def lab_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Laboratory results: their own form, saved as a round of labs only."""
    patient = _get_patient(request, pk)
    form = LabForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rnd, created = _record(request, patient, form)
        if not created:
            messages.info(request, "These results had already been recorded.")
        return redirect("round_result", patient.pk, rnd.pk)
    context = {**banner(patient, timezone.localdate()), "form": form}
    return render(
        request,
        "patients/lab_form.html",
        context,
        status=422 if request.method == "POST" else 200,
    )


@require_POST
def session_keepalive(request: HttpRequest) -> JsonResponse:
    """Stay signed in: a request the user asked for, so it counts as activity."""
    return JsonResponse({"seconds_left": touch(request)})


@require_safe
def session_status(request: HttpRequest) -> JsonResponse:
    """Return how long the session has left; asking does not count as activity."""
    return JsonResponse({"seconds_left": seconds_left(request)})


def entered_in_error_view(model, url_arg: str, mark, action: str, template: str, done: str):
    """Return the view that marks one ``model`` record (its pk the URL's
    ``url_arg``) entered in error.

    It asks for a reason; ``mark(record, user, reason, address)`` returns
    (record, marked): the record stays visible, marked, with who/when/why,
    and the course is re-assessed. A second submission is answered
    (``action`` names what it tried), never silently dropped. ``template``
    shows the record as ``record`` beside the reason form.
    """

    @permission_required("patients.correct_record", raise_exception=True)
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest, pk: int, **record_pk: int) -> HttpResponse:
        patient = _get_patient(request, pk)
        record = get_object_or_404(model, pk=record_pk[url_arg], patient=patient)
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            reason = form.cleaned_data["reason"]
            record, marked = mark(record, request.user, reason, client_address(request))
            if marked:
                messages.success(request, done)
            else:
                _refuse_second_submission(request, record, patient, action, reason)
            return redirect(patient)
        return render(
            request,
            template,
            {"patient": patient, "record": record, "form": form},
            status=422 if request.method == "POST" else 200,
        )

    return view


def _mark_round(rnd: ObservationRound, user, reason: str, address: str | None):
    was_in_error = rnd.in_error
    rnd = recording.mark_round_in_error(rnd, user, reason, address)
    # Marked now, by this user, for this reason (else someone was first).
    return rnd, not was_in_error and (rnd.error_by_id, rnd.error_reason) == (user.pk, reason)


round_correct = entered_in_error_view(
    ObservationRound,
    "round_pk",
    _mark_round,
    "round_entered_in_error",
    "patients/round_correct.html",
    "Round marked entered in error; later rounds re-assessed.",
)


@permission_required("patients.add_intervention", raise_exception=True)
@require_http_methods(["GET", "POST"])
def intervention_create(request: HttpRequest, pk: int) -> HttpResponse:
    patient = _get_patient(request, pk)
    counts = tocilizumab_counts(patient)
    form = InterventionForm(
        request.POST or None,
        dose_counts=counts,
        weight_kg=float(patient.weight_kg) if patient.weight_kg else None,
        dose_times=tuple(
            Intervention.objects.filter(
                patient=patient, kind="tocilizumab", status="final"
            ).values_list("given_at", flat=True)
        ),
    )
    if request.method == "POST" and form.is_valid():
        item, created = recording.record_intervention(
            patient,
            form.intervention_values(),
            request.user,
            form.cleaned_data["client_key"],
            client_address(request),
        )
        messages.success(
            request,
            f"Recorded: {item.get_kind_display()}."
            if created
            else "This entry had already been recorded.",
        )
        return redirect(patient)
    return render(
        request,
        "patients/intervention_form.html",
        {"patient": patient, "form": form, "toci_24h": counts[0], "toci_total": counts[1]},
        status=422 if request.method == "POST" else 200,
    )


intervention_correct = entered_in_error_view(
    Intervention,
    "item_pk",
    recording.mark_intervention_in_error,
    "intervention_entered_in_error",
    "patients/intervention_correct.html",
    "Marked entered in error; rounds from its time on re-assessed.",
)


@permission_required("patients.add_intervention", raise_exception=True)
@require_http_methods(["GET", "POST"])
def dose_create(request: HttpRequest, pk: int) -> HttpResponse:
    patient = _get_patient(request, pk)
    position = plan_position(patient, timezone.now())
    if position is None:
        messages.error(request, "Doses are recorded for CAR-T and bispecific exposures only.")
        return redirect(patient)
    steps = position.product.step_choices() if position.product else []
    exposure = current_exposure(patient)
    # This exposure's doses: a dose of an earlier treatment has no place in its schedule.
    doses = (
        exposure.doses.filter(status=RoundStatus.FINAL) if exposure else DoseEvent.objects.none()
    )
    recorded = [(d.step, d.given_at) for d in doses.only("step", "given_at")]
    form = DoseForm(
        request.POST or None,
        steps=steps,
        recorded=recorded,
        day0_start=exposure.day0_start() if exposure else None,
    )
    if request.method == "POST" and form.is_valid():
        dose, created = recording.record_dose(
            patient,
            form.dose_values(),
            request.user,
            form.cleaned_data["client_key"],
            client_address(request),
            premedication=form.premedication_values(),
        )
        if created and form.order_questions:
            recording.audit(
                request.user,
                "dose_confirmed",
                dose,
                patient,
                client_address(request),
                confirmed=form.order_questions,
            )
        messages.success(
            request,
            f"Recorded {dict(steps).get(dose.step, dose.step)} at "
            f"{timezone.localtime(dose.given_at):%d %b %H:%M}."
            if created
            else "This dose had already been recorded.",
        )
        return redirect(patient)
    return render(
        request,
        "patients/dose_form.html",
        {"patient": patient, "form": form, "plan": position},
        status=422 if request.method == "POST" else 200,
    )


dose_correct = entered_in_error_view(
    DoseEvent,
    "dose_pk",
    recording.mark_dose_in_error,
    "dose_entered_in_error",
    "patients/dose_correct.html",
    "Dose marked entered in error; its window no longer counts and rounds from its time on "
    "are re-assessed.",
)


def _already_done(record, by: str, at, reason: str) -> str:
    when = timezone.localtime(at).strftime("%d %b %H:%M") if at else "earlier"
    return f"{record} was already {by}, {when}: “{reason}”. Your reason was not applied; it is kept in the audit trail."


def _refuse_second_submission(
    request: HttpRequest, record, patient: Patient, action: str, reason: str
) -> str:
    """Tell the user a second correction changed nothing; keep their reason.

    A second entered-in-error or resolve is never silently dropped: the
    user is told who did it first and why, and what they wrote is audited.
    """
    recording.audit(
        request.user,
        "second_submission",
        record,
        patient,
        client_address(request),
        refused=action,
        reason=reason,
    )
    if isinstance(record, Flag):
        text = _already_done(
            "This flag",
            f"resolved by {record.resolved_by_name or 'the system'}",
            record.resolved_at,
            record.resolve_reason,
        )
    else:
        text = _already_done(
            "This entry",
            f"marked entered in error by {record.error_by_name}",
            record.error_at,
            record.error_reason,
        )
    messages.warning(request, text)
    return text


def tocilizumab_counts(patient: Patient) -> tuple[int, int]:
    doses = Intervention.objects.filter(patient=patient, kind="tocilizumab", status="final")
    return dose_counts(list(doses.values_list("given_at", flat=True)), timezone.now())


def _flag_response(request: HttpRequest, flag: Flag, notice: str = "") -> HttpResponse:
    if request.htmx:
        flag.refresh_from_db()
        # htmx swaps only the flag: a notice goes inside it, not in messages.
        if notice:
            list(messages.get_messages(request))  # shown here, not on the next page
        context = flag_item_context(flag, request.user, notice=notice)
        return render(request, "patients/patient_detail.html#flag-item", context)
    return redirect(flag.patient)


def _flag_form_invalid(
    request: HttpRequest, flag: Flag, name: str, form, message: str
) -> HttpResponse:
    """Re-render the flag with its form's errors (htmx), or redirect with a message."""
    if request.htmx:
        context = flag_item_context(flag, request.user, **{name: form})
        return render(request, "patients/patient_detail.html#flag-item", context, status=422)
    messages.error(request, message)
    return redirect(flag.patient)


@permission_required("patients.change_flag", raise_exception=True)
@require_POST
def flag_acknowledge(request: HttpRequest, pk: int, flag_pk: int) -> HttpResponse:
    flag = get_object_or_404(Flag, pk=flag_pk, patient_id=pk)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        return _flag_form_invalid(
            request, flag, "ack_form", form, "Write a note to acknowledge the flag."
        )
    if not recording.acknowledge_flag(
        flag, request.user, form.cleaned_data["note"], client_address(request)
    ):
        messages.info(request, "This flag had already been acknowledged.")
    return _flag_response(request, flag)


@permission_required("patients.change_flag", raise_exception=True)
@require_POST
def flags_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """Acknowledge several of a patient's open flags with one note."""
    patient = _get_patient(request, pk)
    open_flags = list(patient.flags.filter(state=FlagState.OPEN))
    form = AcknowledgeSeveralForm(request.POST, open_flags=open_flags)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(patient)
    chosen = [f for f in open_flags if f.pk in form.cleaned_data["flags"]]
    done = sum(
        recording.acknowledge_flag(
            flag, request.user, form.cleaned_data["note"], client_address(request)
        )
        for flag in chosen
    )
    messages.success(request, f"Acknowledged {done} flag{'s' if done != 1 else ''}.")
    return redirect(patient)


@permission_required("patients.change_flag", raise_exception=True)
@require_POST
def flag_resolve(request: HttpRequest, pk: int, flag_pk: int) -> HttpResponse:
    flag = get_object_or_404(Flag, pk=flag_pk, patient_id=pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return _flag_form_invalid(
            request,
            flag,
            "resolve_form",
            form,
            "To resolve a flag, give a reason and tick to confirm.",
        )
    reason = form.cleaned_data["reason"]
    if not recording.resolve_flag(flag, request.user, reason, client_address(request)):
        flag.refresh_from_db()
        notice = _refuse_second_submission(request, flag, flag.patient, "flag_resolved", reason)
        return _flag_response(request, flag, notice)
    return _flag_response(request, flag)


@permission_required("patients.view_patient", raise_exception=True)
@require_safe
def about(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "patients/about.html",
        {"sources": SOURCES, "options": catalogue(), "kinds": INTERVENTION_KINDS},
    )


@permission_required("patients.view_auditevent", raise_exception=True)
@require_safe
def audit_log(request: HttpRequest, range_form: AuditRangeForm | None = None) -> HttpResponse:
    events = AuditEvent.objects.select_related("user", "patient")
    action = request.GET.get("action", "")
    user = request.GET.get("user", "")
    if action:
        events = events.filter(action=action)
    if user:
        # The name at the time, or the account's current name.
        events = events.filter(Q(user_name=user) | Q(user__username=user))
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    actions = AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct()
    return render(
        request,
        "patients/audit_log.html",
        {
            "page": page,
            "actions": actions,
            "action": action,
            "user_filter": user,
            "range_form": range_form or AuditRangeForm(initial=default_audit_range()),
        },
        status=422 if range_form else 200,
    )


def default_audit_range() -> dict[str, date]:
    today = timezone.localdate()
    return {"start": today - timedelta(days=7), "end": today}


@permission_required("patients.view_auditevent", raise_exception=True)
@require_safe
def audit_csv(request: HttpRequest) -> HttpResponse:
    """Stream the audit trail between two dates (inclusive) as CSV."""
    given = {k: request.GET[k] for k in ("start", "end") if k in request.GET}
    form = AuditRangeForm(given or {k: v.isoformat() for k, v in default_audit_range().items()})
    if not form.is_valid():
        return audit_log(request, range_form=form)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    zone = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    events = (
        AuditEvent.objects.filter(at__gte=since, at__lt=until)
        .select_related("user", "patient")
        .order_by("at", "pk")
    )
    recording.audit(
        request.user,
        "audit_exported",
        request.user,
        None,
        client_address(request),
        start=start.isoformat(),
        end=end.isoformat(),
    )
    response = StreamingHttpResponse(audit_lines(events), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audit-{start}-{end}.csv"'
    return response


@permission_required("patients.view_patient", raise_exception=True)
@vary_on_headers("HX-Request")
@require_safe
def round_detail(request: HttpRequest, pk: int, round_pk: int) -> HttpResponse:
    patient = _get_patient(request, pk)
    rnd = get_object_or_404(
        ObservationRound.objects.select_related("entered_by"), pk=round_pk, patient=patient
    )
    _audit_view(request, patient, page="round", round=rnd.pk)
    template = (
        "patients/round_detail.html#round-detail"
        if request.htmx
        else ("patients/round_detail.html")
    )
    return render(request, template, {"patient": patient, "round": rnd})


HANDOVER_ROWS = PatientStatus.objects.select_related("patient", "latest_round").order_by(
    "ward", "-worst_flag_rank", "-band_rank", "sort_name"
)


@permission_required("patients.view_patient", raise_exception=True)
@require_safe
def handover(request: HttpRequest) -> HttpResponse:
    ward = request.GET.get("ward", "")
    wards = list(PatientStatus.objects.order_by("ward").values_list("ward", flat=True).distinct())
    statuses = HANDOVER_ROWS.all()
    if ward:
        statuses = statuses.filter(ward=ward)
    now = timezone.now()
    recording.audit(
        request.user, "handover_viewed", request.user, None, client_address(request), ward=ward
    )
    return render(
        request,
        "patients/handover.html",
        {
            "rows": handover_rows(list(statuses), now, timezone.localdate()),
            "ward": ward,
            "wards": wards,
            "now": now,
            "today": timezone.localdate(),
        },
    )


@permission_required("patients.view_patient", raise_exception=True)
@require_safe
def patient_handover(request: HttpRequest, pk: int) -> HttpResponse:
    patient = _get_patient(request, pk)
    now = timezone.now()
    _audit_view(request, patient, page="handover")
    return render(
        request,
        "patients/handover.html",
        {
            "rows": handover_rows(
                list(HANDOVER_ROWS.filter(patient=patient)), now, timezone.localdate()
            ),
            "single": patient,
            "now": now,
            "today": timezone.localdate(),
        },
    )


@permission_required("patients.view_patient", raise_exception=True)
@vary_on_headers("HX-Request")
@require_safe
def flag_history(request: HttpRequest, pk: int) -> HttpResponse:
    patient = _get_patient(request, pk)
    _audit_view(request, patient, page="past flags")
    flags = (
        patient.flags.filter(state=FlagState.RESOLVED)
        .select_related("acknowledged_by", "resolved_by")
        .order_by("-opened_at")
    )
    context = {"patient": patient, "flags": flags, "perms_can_change_flag": False}
    template = (
        "patients/flag_history.html#past-flag-list"
        if request.htmx
        else ("patients/flag_history.html")
    )
    return render(request, template, context)


@permission_required("patients.view_patient", raise_exception=True)
@require_safe
def rounds_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    patient = _get_patient(request, pk)
    recording.audit(
        request.user,
        "patient_exported",
        patient,
        patient,
        client_address(request),
        format="csv",
    )
    response = StreamingHttpResponse(csv_lines(patient), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rounds-{patient.pk}.csv"'
    return response
