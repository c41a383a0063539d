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
from dataclasses import replace
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
from .plans import dose_events, exposures_of, has_schedule
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


def exposures_by_patient(ids: list[int]) -> dict[int, list[Exposure]]:
    """Return each patient's exposures, oldest day 0 first, in one query."""
    found: dict[int, list[Exposure]] = defaultdict(list)
    for exposure in Exposure.objects.filter(patient_id__in=ids).order_by(
        "patient_id", "day0", "pk"
    ):
        found[exposure.patient_id].append(exposure)
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
    exposures = exposures_by_patient(ids)
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
    scheduled = [e.pk for each in exposures.values() for e in each if has_schedule(e)]
    doses = defaultdict(list)
    if scheduled:
        for dose in DoseEvent.objects.filter(
            exposure_id__in=scheduled, status=RoundStatus.FINAL
        ).order_by("given_at", "pk"):
            doses[dose.exposure_id].append(dose.clock())
    return {
        patient.pk: course_summaries(
            patient,
            exposures.get(patient.pk, []),
            rounds.get(patient.pk, []),
            given.get(patient.pk, []),
            doses,
            now,
        )
        for patient in patients
    }


def course_summaries(
    patient: Patient,
    exposures: list[Exposure],
    rounds: list[RoundFacts],
    given: list[Given],
    doses: dict[int, list[products.DoseClock]],
    now: datetime,
) -> list[EpisodeSummary]:
    """Return one patient's episodes from what was read for them.

    Each treatment (exposure, oldest first) owns the rounds and ledger from
    its day 0 to the next one's (the first also what came before its day
    0): a registry reports episodes per treatment, a CAR-T course's
    episodes stay when an infection or a second product follows, and each
    onset counts from its own day 0 or dose. ``doses`` maps an exposure's
    id to its scheduled doses.
    """
    if not exposures:
        return list(summarise(rounds, given, rule=episode_rule(), now=now, cause=cause_of(None)))
    out: list[EpisodeSummary] = []
    for i, exposure in enumerate(exposures):
        begins = exposure.day0_start() if i else None
        ends = exposures[i + 1].day0_start() if i + 1 < len(exposures) else None

        def within(time: datetime, begins=begins, ends=ends) -> bool:
            return (begins is None or time >= begins) and (ends is None or time < ends)

        product = exposure.catalogue_product()
        summaries = summarise(
            [r for r in rounds if within(r.time)],
            [g for g in given if within(g.time)],
            exposure.day0_start(),
            doses.get(exposure.pk, []),
            step_labels(product, patient.jurisdiction()),
            episode_rule(),
            # A course that a later treatment ended is judged at that end.
            now=min(now, ends) if ends else now,
            cause=cause_of(exposure),
        )
        out.extend(replace(summary, exposure_id=exposure.pk) for summary in summaries)
    return out


def patient_episodes(
    patient: Patient, interventions: list[Intervention], now: datetime
) -> list[EpisodeSummary]:
    """Return one patient's episodes for the patient page, reusing what the
    page has read (exposure, doses, the ledger): one more query, the rounds."""
    rows = (
        ObservationRound.objects.filter(patient=patient, status=RoundStatus.FINAL)
        .order_by("clinical_time", "pk")
        .values_list(*ROUND_FIELDS)
    )
    final = [i for i in interventions if i.status == RoundStatus.FINAL]
    exposures = list(reversed(exposures_of(patient)))
    return course_summaries(
        patient,
        exposures,
        [round_facts(row) for row in rows],
        [i.to_given() for i in sorted(final, key=lambda i: (i.given_at, i.pk))],
        {e.pk: [d.clock() for d in scheduled_doses(e)] for e in exposures},
        now,
    )


def scheduled_doses(exposure: Exposure) -> list[DoseEvent]:
    """Return an exposure's doses that count, read only when its product
    schedules doses (the current exposure's are already read by the page)."""
    if not has_schedule(exposure):
        return []
    return dose_events(exposure.patient, exposure)
