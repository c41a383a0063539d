"""Episode summaries read from stored rounds and the intervention ledger.

The pure summary (clinical/registry.py, the same one ``manage.py assess
--episodes`` prints) over what the database holds: final rounds with their
stored grades, final interventions, and the current exposure's doses. For
many patients at once in a fixed number of queries (the programme page
and the CSV read whole cohorts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from .clinical import products
from .clinical.history import Given
from .clinical.inputs import ICE_ITEMS
from .clinical.registry import (
    EpisodeSummary,
    RoundFacts,
    icans_screened,
    step_labels,
    summarise,
)
from .models import DoseEvent, Exposure, Intervention, ObservationRound, Patient, RoundStatus
from .plans import current_exposure, dose_events, has_schedule
from .recording import cause_of, episode_rule

ICE_FIELDS = [f"ice_{name}" for name in ICE_ITEMS]
ROUND_FIELDS = [
    "patient_id",
    "clinical_time",
    "crs_grade",
    "assessment__crs__missing",
    "icans_grade",
    "assessment__icans__missing",
    *ICE_FIELDS,
    "oxygen_device",
    "oxygen_flow_l_min",
    "vasopressors",
    "assessment__followup",
]


def current_exposures(ids: list[int]) -> dict[int, Exposure]:
    """Return each patient's current exposure (latest day 0), in one query."""
    found: dict[int, Exposure] = {}
    for exposure in Exposure.objects.filter(patient_id__in=ids).order_by(
        "patient_id", "-day0", "-pk"
    ):
        found.setdefault(exposure.patient_id, exposure)
    return found


def round_facts(row: tuple) -> RoundFacts:
    (
        _patient,
        time,
        crs_grade,
        crs_missing,
        icans_grade,
        icans_missing,
        *rest,
    ) = row
    ice_items, (device, flow, pressors, followup) = (
        rest[: len(ICE_FIELDS)],
        rest[len(ICE_FIELDS) :],
    )
    return RoundFacts(
        time=time,
        crs_grade=crs_grade,
        crs_complete=not crs_missing,
        icans_grade=icans_grade,
        icans_screened=icans_screened(icans_missing or []),
        ice_score=None if any(v is None for v in ice_items) else sum(ice_items),
        oxygen_device=device or None,
        oxygen_flow_l_min=flow,
        vasopressors=tuple(pressors or ()),
        followup=followup or None,
    )


def episode_summaries(
    patients: Iterable[Patient], now: datetime | None = None
) -> dict[int, list[EpisodeSummary]]:
    """Return every patient's CRS and ICANS episodes, by onset, keyed by id.

    At most four queries whatever the number of patients: exposures,
    rounds, interventions, and doses (only when a product schedules them).
    Rounds and interventions entered in error are left out.
    """
    patients = list(patients)
    ids = [p.pk for p in patients]
    if not ids:
        return {}
    now = now or timezone.now()
    exposures = current_exposures(ids)
    rounds: dict[int, list[RoundFacts]] = defaultdict(list)
    for row in (
        ObservationRound.objects.filter(patient_id__in=ids, status=RoundStatus.FINAL)
        .order_by("patient_id", "clinical_time", "pk")
        .values_list(*ROUND_FIELDS)
    ):
        rounds[row[0]].append(round_facts(row))
    given = defaultdict(list)
    for intervention in Intervention.objects.filter(
        patient_id__in=ids, status=RoundStatus.FINAL
    ).order_by("given_at", "pk"):
        given[intervention.patient_id].append(intervention.to_given())
    # As the plan (plans.dose_events): doses count only for a product whose
    # label schedules them.
    scheduled = [e.pk for e in exposures.values() if has_schedule(e)]
    doses = defaultdict(list)
    for dose in DoseEvent.objects.filter(
        exposure_id__in=scheduled, status=RoundStatus.FINAL
    ).order_by("given_at", "pk"):
        doses[dose.patient_id].append(dose.clock())
    return {
        patient.pk: course_summaries(
            patient,
            exposures.get(patient.pk),
            rounds.get(patient.pk, []),
            given.get(patient.pk, []),
            doses.get(patient.pk, []),
            now,
        )
        for patient in patients
    }


def course_summaries(
    patient: Patient,
    exposure: Exposure | None,
    rounds: list[RoundFacts],
    given: list[Given],
    doses: list[products.DoseClock],
    now: datetime,
) -> list[EpisodeSummary]:
    """Return one patient's episodes from what was read for them."""
    product = exposure.catalogue_product() if exposure else None
    return list(
        summarise(
            rounds,
            given,
            exposure.day0_start() if exposure else None,
            doses,
            step_labels(product, patient.jurisdiction()),
            episode_rule(),
            now=now,
            cause=cause_of(exposure),
        )
    )


def patient_episodes(
    patient: Patient, interventions: list[Intervention], now: datetime
) -> list[EpisodeSummary]:
    """Return one patient's episodes for the patient page, reusing what the
    page has read (exposure, doses, the ledger): one more query, the rounds."""
    exposure = current_exposure(patient)
    rows = (
        ObservationRound.objects.filter(patient=patient, status=RoundStatus.FINAL)
        .order_by("clinical_time", "pk")
        .values_list(*ROUND_FIELDS)
    )
    final = [i for i in interventions if i.status == RoundStatus.FINAL]
    return course_summaries(
        patient,
        exposure,
        [round_facts(row) for row in rows],
        [i.to_given() for i in sorted(final, key=lambda i: (i.given_at, i.pk))],
        [d.clock() for d in dose_events(patient, exposure)],
        now,
    )
