"""A patient's record as FHIR R4 resources (plain JSON-ready dicts).

Reads the stored rounds, grades, flags and interventions, never
recomputes them: the export says what the pages say.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.utils import timezone

from ..clinical.sources import citation
from ..models import (
    Flag,
    FlagState,
    IngestedObservation,
    Intervention,
    ObservationRound,
    Patient,
    RoundStatus,
)
from . import codes as c
from .codes import Measure


def mrn_system() -> str:
    return settings.CRS_WATCH["FHIR_MRN_SYSTEM"]


def instant(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds")


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if display:
        out["text"] = display
    return out


def category(code: str) -> list[dict[str, Any]]:
    labels = {c.VITAL_SIGNS: "Vital Signs", c.LABORATORY: "Laboratory", c.SURVEY: "Survey"}
    return [concept(c.OBSERVATION_CATEGORY, code, labels[code])]


def quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": c.UCUM, "code": unit}


def number(measure: Measure, value: float) -> float | int:
    return int(value) if measure.whole else value


def measure_code(measure: Measure) -> dict[str, Any]:
    codings = [coding(c.LOINC, measure.code, measure.display)]
    codings += [coding(c.LOINC, code, display) for code, display in measure.also]
    return {"coding": codings, "text": measure.display}


def data_absent(code: str = "unknown") -> dict[str, Any]:
    return concept(c.DATA_ABSENT, code, code.replace("-", " ").capitalize())


def derived_uuid(key: uuid.UUID, element: str) -> str:
    """Return a stable identifier for one element of a round or intervention."""
    return f"urn:uuid:{uuid.uuid5(key, element)}"


class RecordExport:
    """Build the resources of one patient's record."""

    def __init__(self, patient: Patient) -> None:
        self.patient = patient
        self.subject = {"reference": f"Patient/{patient.pk}"}

    def patient_resource(self) -> dict[str, Any]:
        p = self.patient
        return {
            "resourceType": "Patient",
            "id": str(p.pk),
            "identifier": [
                {
                    "use": "usual",
                    "type": concept(
                        "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "MR",
                        "Medical record number",
                    ),
                    "system": mrn_system(),
                    "value": p.mrn,
                }
            ],
            "name": [{"use": "official", "family": p.family_name, "given": [p.given_name]}],
            "gender": p.sex,
            "birthDate": p.birth_date.isoformat(),
        }

    def baselines(self) -> list[dict[str, Any]]:
        """Return the patient's baseline labs (grading compares against them)."""
        out = []
        for m in c.LABS:
            value = getattr(self.patient, f"baseline_{m.field}", None)
            if value is None:
                continue
            out.append(
                {
                    "resourceType": "Observation",
                    "id": f"baseline-{m.field.replace('_', '-')}",
                    "identifier": [
                        {
                            "system": c.BASELINE_CATEGORY[0],
                            "value": f"{self.patient.mrn}/{m.field}",
                        }
                    ],
                    "status": "final",
                    "category": [*category(m.category), concept(*c.BASELINE_CATEGORY)],
                    "code": measure_code(m),
                    "subject": self.subject,
                    "valueQuantity": quantity(value, m.unit),
                }
            )
        return out

    # Observations of one round -----------------------------------------

    def observation(
        self, rnd: ObservationRound, element: str, ids: dict[str, tuple[str, str]], **body: Any
    ) -> dict[str, Any]:
        system, value = ids.get(element) or (
            c.URN_IDENTIFIER,
            derived_uuid(rnd.client_key, element),
        )
        return {
            "resourceType": "Observation",
            "id": f"r{rnd.pk}-{element.replace('_', '-')}",
            "identifier": [{"system": system, "value": value}],
            "status": "entered-in-error" if rnd.in_error else "final",
            **body,
            "subject": self.subject,
            "effectiveDateTime": instant(rnd.clinical_time),
        }

    def round_resources(
        self, rnd: ObservationRound, ids: dict[str, tuple[str, str]]
    ) -> list[dict[str, Any]]:
        out = []
        for m in c.QUANTITIES:
            value = getattr(rnd, m.field)
            if value is None:
                continue
            body = {
                "category": category(m.category),
                "code": measure_code(m),
                "valueQuantity": quantity(number(m, value), m.unit),
            }
            if m is c.SPO2:
                components = self.oxygen_components(rnd)
                if components:
                    body["component"] = components
            out.append(self.observation(rnd, m.field, ids, **body))
        if rnd.spo2 is None and (rnd.oxygen_device or rnd.oxygen_flow_l_min is not None):
            # Oxygen given without a saturation: the flow stands alone.
            out.append(self.oxygen_alone(rnd, ids))
        if rnd.systolic_bp is not None or rnd.diastolic_bp is not None:
            out.append(self.blood_pressure(rnd, ids))
        if rnd.acvpu:
            out.append(
                self.observation(
                    rnd,
                    "acvpu",
                    ids,
                    category=category(c.SURVEY),
                    code=concept(c.SNOMED, *c.ACVPU_CODE),
                    valueCodeableConcept=concept(
                        c.LOCAL_ACVPU, rnd.acvpu, rnd.get_acvpu_display()
                    ),
                )
            )
        vitals = [{"reference": f"Observation/{o['id']}"} for o in out]
        out += self.derived(rnd, vitals, ids)
        return out

    def oxygen_components(self, rnd: ObservationRound) -> list[dict[str, Any]]:
        parts = []
        if rnd.oxygen_flow_l_min is not None:
            parts.append(
                {
                    "code": measure_code(c.OXYGEN_FLOW),
                    "valueQuantity": quantity(rnd.oxygen_flow_l_min, c.OXYGEN_FLOW.unit),
                }
            )
        if rnd.oxygen_device:
            parts.append(
                {
                    "code": concept(
                        c.LOCAL_OBSERVATION, c.OXYGEN_DEVICE_CODE, "Oxygen delivery device"
                    ),
                    "valueCodeableConcept": concept(
                        c.LOCAL_OXYGEN_DEVICE, rnd.oxygen_device, rnd.get_oxygen_device_display()
                    ),
                }
            )
        return parts

    def oxygen_alone(self, rnd: ObservationRound, ids) -> dict[str, Any]:
        body: dict[str, Any] = {
            "category": category(c.VITAL_SIGNS),
            "code": measure_code(c.OXYGEN_FLOW),
        }
        if rnd.oxygen_flow_l_min is not None:
            body["valueQuantity"] = quantity(rnd.oxygen_flow_l_min, c.OXYGEN_FLOW.unit)
        else:
            body["dataAbsentReason"] = data_absent()
        device = [p for p in self.oxygen_components(rnd) if "valueCodeableConcept" in p]
        if device:
            body["component"] = device
        return self.observation(rnd, "oxygen_flow_l_min", ids, **body)

    def blood_pressure(self, rnd: ObservationRound, ids) -> dict[str, Any]:
        parts = []
        for m in (c.SYSTOLIC, c.DIASTOLIC):
            value = getattr(rnd, m.field)
            part: dict[str, Any] = {"code": measure_code(m)}
            if value is None:
                part["dataAbsentReason"] = data_absent()
            else:
                part["valueQuantity"] = quantity(int(value), m.unit)
            parts.append(part)
        code, display = c.BLOOD_PRESSURE_PANEL
        return self.observation(
            rnd,
            "blood_pressure",
            ids,
            category=category(c.VITAL_SIGNS),
            code={"coding": [coding(c.LOINC, code, display)], "text": "Blood pressure"},
            component=parts,
        )

    # What the product derived from the round -----------------------------

    def derived(self, rnd: ObservationRound, vitals: list[dict], ids) -> list[dict[str, Any]]:
        stored = rnd.assessment or {}
        out = []
        news2 = stored.get("news2")
        if news2 and news2.get("parameter_scores"):
            out.append(self.news2(rnd, news2, vitals, ids))
        for key, code in (("crs", c.CRS_GRADE_CODE), ("icans", c.ICANS_GRADE_CODE)):
            result = stored.get(key)
            if result is not None:
                grade = rnd.crs_grade if key == "crs" else rnd.icans_grade
                out.append(self.grade(rnd, key, code, grade, result, vitals, ids))
        return out

    def news2(self, rnd, news2: dict, vitals: list[dict], ids) -> dict[str, Any]:
        components = []
        for name, score in news2["parameter_scores"].items():
            if name == "spo2" and rnd.patient.spo2_scale == 2:
                code: dict[str, Any] = {"text": c.NEWS2_SPO2_SCALE_2}
            else:
                code = concept(c.SNOMED, *c.NEWS2_PARAMETERS[name])
            components.append({"code": code, "valueQuantity": quantity(score, c.SCORE_UNIT)})
        body: dict[str, Any] = {
            "category": category(c.SURVEY),
            "code": concept(c.SNOMED, *c.NEWS2_TOTAL),
        }
        if rnd.news2_total is not None:
            body["valueQuantity"] = quantity(rnd.news2_total, c.SCORE_UNIT)
            body["interpretation"] = [{"text": f"{rnd.news2_band} clinical risk"}]
        else:
            body["dataAbsentReason"] = data_absent()
        body["note"] = [{"text": basis_text(news2)}]
        body["derivedFrom"] = vitals
        body["component"] = components
        return self.observation(rnd, "news2", ids, **body)

    def grade(self, rnd, key, code, grade, result: dict, vitals, ids) -> dict[str, Any]:
        body: dict[str, Any] = {
            "category": category(c.SURVEY),
            "code": concept(c.LOCAL_OBSERVATION, *code),
            "method": concept(c.LOCAL_GRADING, *c.GRADING_SYSTEM),
        }
        if grade is not None:
            body["valueInteger"] = grade
        else:
            body["dataAbsentReason"] = data_absent()
        body["note"] = [{"text": basis_text(result)}]
        body["derivedFrom"] = vitals
        return self.observation(rnd, f"{key}_grade", ids, **body)

    # Flags and what was given ------------------------------------------

    def flag(self, flag: Flag) -> dict[str, Any]:
        period = {"start": instant(flag.opened_at)}
        if flag.resolved_at:
            period["end"] = instant(flag.resolved_at)
        basis = flag.basis.get("rule") or flag.title
        return {
            "resourceType": "Flag",
            "id": f"flag-{flag.pk}",
            "extension": [
                {"url": c.FLAG_SEVERITY_EXTENSION, "valueCode": flag.severity},
                {"url": c.FLAG_BASIS_EXTENSION, "valueString": f"{basis} ({flag.source})"},
            ],
            "status": "inactive" if flag.state == FlagState.RESOLVED else "active",
            "category": [concept(c.FLAG_CATEGORY, "clinical", "Clinical")],
            "code": {
                "coding": [coding(c.LOCAL_FLAG, flag.key[:64])],
                "text": flag.title,
            },
            "subject": self.subject,
            "period": period,
        }

    def intervention(self, item: Intervention) -> dict[str, Any]:
        status_error = item.status == RoundStatus.ENTERED_IN_ERROR
        kind = concept(c.LOCAL_INTERVENTION, item.kind, item.get_kind_display())
        common = {
            "id": f"given-{item.pk}",
            "identifier": [{"system": c.URN_IDENTIFIER, "value": f"urn:uuid:{item.client_key}"}],
            "subject": self.subject,
        }
        note = [{"text": item.note}] if item.note else []
        if item.indication:
            # Why it was given decides whether it masks fever (ASTCT 2019).
            common["reasonCode"] = [
                concept(c.LOCAL_INDICATION, item.indication, item.get_indication_display())
            ]
        if item.kind in c.PROCEDURE_KINDS:
            out = {
                "resourceType": "Procedure",
                **common,
                "status": "entered-in-error" if status_error else "completed",
                "code": kind,
                "performedDateTime": instant(item.given_at),
            }
        else:
            medication = dict(kind)
            if item.drug:
                medication["text"] = item.drug
            out = {
                "resourceType": "MedicationAdministration",
                **common,
                "status": "entered-in-error" if status_error else "completed",
                "medicationCodeableConcept": medication,
                "effectiveDateTime": instant(item.given_at),
            }
            dosage: dict[str, Any] = {}
            if item.dose:
                dosage["text"] = item.dose
            if item.route:
                dosage["route"] = {"text": item.route}
            if dosage:
                out["dosage"] = dosage
        if note:
            out["note"] = note
        return out

    def resources(self) -> list[dict[str, Any]]:
        patient = self.patient
        rounds = list(patient.rounds.order_by("clinical_time", "pk"))
        known: dict[int, dict[str, tuple[str, str]]] = {}
        for row in IngestedObservation.objects.filter(round__patient=patient).values_list(
            "round_id", "element", "system", "value"
        ):
            known.setdefault(row[0], {})[row[1]] = (row[2], row[3])
        out = [self.patient_resource(), *self.baselines()]
        for rnd in rounds:
            rnd.patient = patient
            out += self.round_resources(rnd, known.get(rnd.pk, {}))
        out += [self.flag(f) for f in patient.flags.order_by("opened_at", "pk")]
        out += [self.intervention(i) for i in patient.interventions.order_by("given_at", "pk")]
        return out


def basis_text(result: dict) -> str:
    """Return the rules a stored result rests on, with sources, as one text."""
    parts = [
        f"{f['rule']} [{citation(f['source'])}]" if f.get("source") else f["rule"]
        for f in result.get("basis", [])
    ]
    if result.get("missing"):
        parts.append("Not recorded: " + ", ".join(result["missing"]))
    return "; ".join(parts) or "No finding."


def everything(patient: Patient, base_url: str) -> dict[str, Any]:
    """Return Patient/$everything as a searchset Bundle."""
    resources = RecordExport(patient).resources()
    base = base_url.rstrip("/")
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": instant(timezone.now()),
        "total": len(resources),
        "link": [{"relation": "self", "url": f"{base}/Patient/{patient.pk}/$everything"}],
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match" if r["resourceType"] == "Patient" else "include"},
            }
            for r in resources
        ],
    }
