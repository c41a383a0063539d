"""CSV export of a patient's rounds: values in SI units, grades, status."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import HttpResponse
from django.utils.timezone import localtime

from .clinical.inputs import LABS, MEASUREMENTS, SYMPTOMS
from .models import ObservationRound, Patient

VALUE_FIELDS = [
    *MEASUREMENTS,
    "oxygen_device",
    "hypotension",
    "acvpu",
    "consciousness",
    "global_aphasia",
    "seizure",
    "motor_findings",
    "cerebral_edema",
    *LABS,
]
GRADE_FIELDS = ["crs_grade", "icans_grade", "news2_total", "news2_band", "news2_monitoring"]
HEADER = (
    ["mrn", "clinical_time", "entered_by", "entered_at", "status", "error_reason"]
    + VALUE_FIELDS
    + ["vasopressors", "ice_score"]
    + [f"symptom_{s}" for s in SYMPTOMS]
    + GRADE_FIELDS
    + ["note"]
)
# Spreadsheet programs run cells that start with these: never let a note do so.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Where a spreadsheet may split a cell into several (";" in locales that use
# it as the list separator, line breaks): each piece is checked as a cell.
CELL_SPLITS = re.compile(r"[;,\r\n]")


class _Echo:
    def write(self, value: str) -> str:
        return value


def safe(value) -> str:
    # A number is never read as a formula, whatever its sign.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    pieces = [text, *(p.lstrip(" ") for p in CELL_SPLITS.split(text)[1:])]
    return "'" + text if any(p.startswith(FORMULA_START) for p in pieces) else text


def rows(patient: Patient) -> Iterator[list[str]]:
    yield HEADER
    rounds = patient.rounds.order_by("clinical_time", "pk")
    for r in rounds.iterator(chunk_size=500):
        yield [safe(v) for v in round_row(patient, r)]


def round_row(patient: Patient, r: ObservationRound) -> list:
    return (
        [
            patient.mrn,
            localtime(r.clinical_time).isoformat(),
            r.entered_by_name,
            localtime(r.entered_at).isoformat(),
            r.status,
            r.error_reason,
        ]
        + [getattr(r, f) for f in VALUE_FIELDS]
        + [" ".join(r.vasopressors), r.ice_score]
        + [r.symptoms.get(s) for s in SYMPTOMS]
        + [getattr(r, f) for f in GRADE_FIELDS]
        + [r.note]
    )


def csv_lines(patient: Patient) -> Iterator[str]:
    # Every cell quoted: a spreadsheet splitting on ";" keeps a note whole.
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    for row in rows(patient):
        yield writer.writerow(row)


AUDIT_HEADER = ["at", "user", "action", "object_type", "object_id", "mrn", "address", "detail"]


def audit_lines(events) -> Iterator[str]:
    """Yield the audit trail as CSV lines (times in the hospital's zone)."""
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    yield writer.writerow(AUDIT_HEADER)
    for e in events.iterator(chunk_size=1000):
        row = [
            localtime(e.at).isoformat(),
            e.user.get_username() if e.user else "system",
            e.action,
            e.object_type,
            e.object_id,
            e.patient.mrn if e.patient else "",
            e.address or "",
            json.dumps(e.detail, sort_keys=True, ensure_ascii=False),
        ]
        yield writer.writerow([safe(v) for v in row])


def table_download(
    filename: str, header: list[str], rows: Iterable[Iterable[Any]]
) -> HttpResponse:
    """Return a CSV attachment of figures, every cell quoted and spreadsheet-safe."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe(v) for v in row])
    return response


def filter_errors(form) -> HttpResponse:
    """Return 400 with a filter form's errors in plain text (a CSV link has no page)."""
    return HttpResponse(
        "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
        status=400,
        content_type="text/plain; charset=utf-8",
    )
