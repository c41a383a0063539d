"""A patient's place in their product's label plan, read from stored rows."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from .clinical import products
from .models import DoseEvent, Exposure, Patient, PatientStatus, RoundStatus


def exposures_of(patient: Patient) -> list[Exposure]:
    """Return the patient's exposures, newest day 0 first.

    Read once per patient instance: the write path asks several times, and
    the episode summary follows every treatment, not only the latest.
    """
    if not hasattr(patient, "_exposures"):
        patient._exposures = list(patient.exposures.order_by("-day0", "-pk"))
    return patient._exposures


def current_exposure(patient: Patient) -> Exposure | None:
    exposures = exposures_of(patient)
    return exposures[0] if exposures else None


def has_schedule(exposure: Exposure | None) -> bool:
    """Return True when the exposure's product label schedules its doses."""
    product = exposure.catalogue_product() if exposure else None
    return product is not None and any(plan.steps for plan in product.plans)


def dose_records(patient: Patient, exposure: Exposure | None) -> list[DoseEvent]:
    """Return the exposure's doses, those entered in error too (shown struck
    through), read once and only when its plan has dose windows."""
    if not has_schedule(exposure):
        return []
    read = patient.__dict__.setdefault("_dose_records", {})
    if exposure.pk not in read:
        read[exposure.pk] = list(
            DoseEvent.objects.filter(exposure=exposure)
            .select_related("exposure", "recorded_by")
            .order_by("given_at", "pk")
        )
    return read[exposure.pk]


def dose_events(patient: Patient, exposure: Exposure | None) -> list[DoseEvent]:
    """Return the exposure's doses that count: none entered in error."""
    return [d for d in dose_records(patient, exposure) if d.status == RoundStatus.FINAL]


def plan_position(patient: Patient, now: datetime) -> products.PlanPosition | None:
    """Return where the patient is in the label plan, or None without an exposure."""
    exposure = current_exposure(patient)
    if exposure is None or exposure.kind not in (
        Exposure.Kind.CAR_T,
        Exposure.Kind.BISPECIFIC,
    ):
        return None
    return products.plan_position(
        exposure.catalogue_product(),
        patient.jurisdiction(),
        exposure.day0_start(),
        [d.clock() for d in dose_events(patient, exposure)],
        now,
    )


def plan_windows(patient: Patient) -> list[products.Window]:
    """Return the windows of the patient's plan (independent of the time)."""
    exposure = current_exposure(patient)
    if exposure is None:
        return []
    product = exposure.catalogue_product()
    plan = product.plan_for(patient.jurisdiction()) if product else None
    if plan is None:
        return []
    return products.windows_of(
        plan, exposure.day0_start(), [d.clock() for d in dose_events(patient, exposure)]
    )


def late_neuro_asked(patient: Patient, now: datetime) -> products.LateNeuro | None:
    """Return the product's late-neurotoxicity questions when due at ``now``."""
    exposure = current_exposure(patient)
    if exposure is None or exposure.kind != Exposure.Kind.CAR_T:
        return None
    product = exposure.catalogue_product()
    if not products.late_neuro_due(product, exposure.day0_start(), now):
        return None
    return product.late_neuro


def status_plan_summary(status: PatientStatus, now: datetime) -> str:
    """Return the queue's one-line plan position from the status row alone."""
    if not status.plan_windows:
        return ""
    day0 = (
        timezone.make_aware(datetime.combine(status.day0, datetime.min.time()))
        if status.day0
        else None
    )
    windows = [products.Window.from_dict(w) for w in status.plan_windows]
    return products.summary_text(windows, day0, now)
