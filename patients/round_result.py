"""What the nurse sees right after saving a round, read from what was stored."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q

from .clinical import inputs
from .clinical.news2 import PARAMETERS, RED_SCORE, clinical_response
from .models import Exposure, ObservationRound, Patient
from .words import ACVPU_WORDS, WORDS, plain


def news2_rows(news2: dict[str, Any]) -> list[dict[str, Any]]:
    """Return one row per NEWS2 chart parameter: value entered and its points."""
    values = {}
    for finding in news2.get("basis", []):
        rule = finding.get("rule", "")
        for param in PARAMETERS:
            if rule == f"NEWS2 {param.replace('_', ' ')}":
                values[param] = next(iter(finding["values"].items()), (None, None))
    scores = news2.get("parameter_scores", {})
    rows = []
    for param in PARAMETERS:
        field, value = values.get(param, (None, None))
        points = scores.get(param)
        rows.append(
            {
                "parameter": WORDS[param] if param != "spo2" else WORDS.get(field, "SpO2"),
                "value": (
                    ACVPU_WORDS.get(value, plain(value)) if points is not None else "not recorded"
                ),
                "points": points,
                "red": points == RED_SCORE,
            }
        )
    return rows


def lab_entry(rnd: ObservationRound) -> dict[str, Any] | None:
    """Return what a labs-only entry recorded and what the labs found
    (ICAHT grades, the IEC-HS prompt); None for a bedside round.

    A lab entry has no vital signs, so NEWS2 and the response it calls for
    say nothing about it: the result speaks of the labs instead.
    """
    values = {n: getattr(rnd, n) for n in (*ObservationRound.BEDSIDE_FIELDS, *inputs.LABS)}
    if not inputs.holds_labs_only(values):
        return None
    followup = rnd.assessment.get("followup") or {}
    return {
        "entered": [(WORDS[n], plain(values[n])) for n in inputs.LABS if values[n] is not None],
        "icaht": followup.get("icaht") or [],
        "iec_hs": followup.get("iec_hs"),
    }


def round_response(rnd) -> Any:
    news2 = rnd.assessment.get("news2", {})
    return clinical_response(news2.get("total"), news2.get("clinical_risk"))


def lookalikes(patient: Patient) -> dict[str, list[dict[str, Any]]]:
    """Return the patients on the same ward sharing this one's surname or bed,
    as plain rows (all the banner shows)."""
    alike = Q(family_name__iexact=patient.family_name)
    if patient.bed:
        alike |= Q(bed=patient.bed)
    others = [
        {"family_name": family, "given_name": given, "mrn": mrn, "bed": bed}
        for family, given, mrn, bed in Patient.objects.filter(alike, ward=patient.ward)
        .exclude(pk=patient.pk)
        .values_list("family_name", "given_name", "mrn", "bed")
    ]
    surname = patient.family_name.lower()
    return {
        "same_name": [p for p in others if p["family_name"].lower() == surname],
        "same_bed": [p for p in others if patient.bed and p["bed"] == patient.bed],
    }


def banner(patient: Patient, today: date) -> dict[str, Any]:
    """Return the patient banner: identity, Day +N with its cause, look-alikes."""
    exposure: Exposure | None = patient.exposures.order_by("-day0", "-pk").first()
    return {
        "patient": patient,
        "exposure": exposure,
        "day_number": exposure.day_number(today) if exposure else None,
        **lookalikes(patient),
    }
