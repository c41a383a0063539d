"""The programme's episode CSV: one row per CRS or ICANS episode whose onset
falls in a date range, with the fields registries ask for.

Columns serve CIBMTR form 4100 and the EBMT MED-A Day-100 form (REFERENCE
k10); the README's column table says which registry field each serves and
which are [unverified] as named fields. The column names are a public
interface (``manage.py episode_summary`` and the clinicians' download):
add columns, never rename or drop one.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from .clinical.registry import EpisodeSummary
from .episode_data import episode_summaries, exposures_by_patient
from .export import _Echo, safe
from .models import Exposure, ObservationRound, Patient, RoundStatus, day_start

COLUMNS = [
    "mrn",
    "product",
    "day0",
    "kind",
    "onset_date",
    "onset_day",
    "onset_reference",
    "grading_system",
    "max_grade",
    "max_grade_date",
    "resolved",
    "resolved_date",
    "duration_days",
    "therapy_given",
    "tocilizumab_doses",
    "first_tocilizumab_date",
    "corticosteroid_agent",
    "corticosteroid_start_date",
    "corticosteroid_days",
    "other_anticytokine",
    "vasopressors",
    "highest_oxygen",
    "positive_pressure",
    "positive_pressure_start_date",
    "icu_transfer",
    "icu_transfer_date",
    "lowest_ice",
    "iec_hs_prompt_date",
    "icaht",
]
# A range longer than this is almost certainly a typing slip.
MAX_RANGE_DAYS = 366 * 10
OTHER_PRODUCTS = "other"  # the filter value of products not in the catalogue


class RangeError(ValueError):
    """A date range that cannot be exported, with a message naming the field."""


def parse_range(start: str | None, end: str | None) -> tuple[date, date]:
    """Return the inclusive dates ``start`` to ``end`` (YYYY-MM-DD)."""
    found = []
    for name, text in (("from", start), ("to", end)):
        if not text:
            raise RangeError(f"{name}: a date is required (YYYY-MM-DD)")
        try:
            found.append(date.fromisoformat(text))
        except (TypeError, ValueError):
            raise RangeError(f"{name}: {text[:40]!r} is not a date (YYYY-MM-DD)") from None
    first, last = found
    if last < first:
        raise RangeError("to: the end date is before the start date")
    if (last - first).days > MAX_RANGE_DAYS:
        raise RangeError(f"to: the range is longer than {MAX_RANGE_DAYS} days")
    return first, last


def _date(value: datetime | None) -> str:
    return timezone.localtime(value).date().isoformat() if value else ""


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def product_key(exposure: Exposure | None) -> str:
    """Return the product filter value of a treatment: its catalogue id, or
    ``OTHER_PRODUCTS`` for a product not in the catalogue."""
    product = exposure.catalogue_product() if exposure else None
    return product.id if product else OTHER_PRODUCTS


def episodes_in(start: date, end: date, now: datetime | None = None, product: str = ""):
    """Yield (patient, exposure, summary) for each episode with its onset on
    ``start`` to ``end`` (hospital dates), by onset; with ``product``, only
    that product's episodes (``product_key``)."""
    since, until = day_start(start), day_start(end + timedelta(days=1))
    # An onset is a round graded 1 or more: only those patients can have one.
    onset_rounds = ObservationRound.objects.filter(
        status=RoundStatus.FINAL, clinical_time__gte=since, clinical_time__lt=until
    ).filter(Q(crs_grade__gte=1) | Q(icans_grade__gte=1))
    patients = list(Patient.objects.filter(pk__in=onset_rounds.values("patient_id")))
    summaries = episode_summaries(patients, now)
    exposures = {
        e.pk: e for each in exposures_by_patient([p.pk for p in patients]).values() for e in each
    }
    found = [
        (patient, exposures.get(summary.exposure_id), summary)
        for patient in patients
        for summary in summaries[patient.pk]
        if since <= summary.onset < until
        and (not product or product_key(exposures.get(summary.exposure_id)) == product)
    ]
    return sorted(found, key=lambda item: (item[2].onset, item[0].mrn, item[2].kind))


def product_name(exposure: Exposure | None) -> str:
    if exposure is None:
        return ""
    product = exposure.catalogue_product()
    return product.label if product else exposure.agent


def episode_row(patient: Patient, exposure: Exposure | None, e: EpisodeSummary) -> list:
    return [
        patient.mrn,
        product_name(exposure),
        exposure.day0.isoformat() if exposure else "",
        e.name,
        _date(e.onset),
        e.onset_day,
        e.onset_reference or "",
        e.grading,
        e.max_grade,
        _date(e.max_grade_at),
        _yes(not e.ongoing),
        _date(e.resolved_at),
        e.duration_days,
        "; ".join(e.therapy_words),
        e.tocilizumab_count,
        _date(e.first_tocilizumab_at),
        "; ".join(a for a in e.steroid_agents if a),
        _date(e.steroid_start),
        e.steroid_days,
        "; ".join(e.other_anticytokine),
        e.vasopressors_band,
        e.oxygen_words,
        _yes(e.positive_pressure_at is not None),
        _date(e.positive_pressure_at),
        _yes(e.icu_at is not None),
        _date(e.icu_at),
        e.lowest_ice,
        _date(e.iec_hs_prompt_at),
        "; ".join(e.icaht),
    ]


def episode_csv_lines(
    start: date, end: date, now: datetime | None = None, product: str = ""
) -> Iterator[str]:
    """Yield the CSV lines: the header, then one row per episode."""
    # Every cell quoted and formula-safe, as the other CSV exports.
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    yield writer.writerow(COLUMNS)
    for patient, exposure, summary in episodes_in(start, end, now, product):
        yield writer.writerow([safe(v) for v in episode_row(patient, exposure, summary)])
