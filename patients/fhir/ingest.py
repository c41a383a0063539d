"""Ingest of a transaction or batch Bundle from a monitor gateway or the EHR.

Observations are checked element by element (code, unit, plausible value,
time, subject); one bad element rejects the whole Bundle with an
OperationOutcome naming each one, and nothing is stored. Accepted
Observations of one patient close in time become one round, stored through
the one write path so they are assessed and flagged as typed rounds are.
An Observation identifier already stored is not stored again.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .. import recording
from ..clinical import inputs
from ..clinical.ranges import PLAUSIBLE
from ..forms import CLOCK_SKEW, MAX_BACKDATE
from ..models import (
    IngestedObservation,
    Intervention,
    ObservationRound,
    Patient,
    RoundStatus,
    ServiceToken,
    Sex,
)
from ..models import choices as model_choices
from . import codes as c
from .export import mrn_system

# Identifiers of ingested rounds are derived from their Observations'.
ROUND_NAMESPACE = uuid.UUID("6f1c1f0e-2b8e-4d51-9a57-2f6d3c1b7a10")
STORED = {"final", "amended", "corrected"}
MAX_ENTRIES = 2000
ACVPU_CHOICES = dict(model_choices(inputs.ACVPU))


@dataclass(frozen=True)
class Issue:
    code: str
    diagnostics: str
    expression: str | None = None
    severity: str = "error"


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": i.severity,
                "code": i.code,
                "diagnostics": i.diagnostics,
                **({"expression": [i.expression]} if i.expression else {}),
            }
            for i in issues
        ],
    }


@dataclass
class Reading:
    """One accepted Observation: the round values it carries."""

    entry: int
    patient_key: str
    time: datetime
    values: dict[str, Any]
    element: str
    system: str
    identifier: str
    in_error: bool


@dataclass
class Given:
    entry: int
    patient_key: str
    values: dict[str, Any]
    client_key: uuid.UUID
    in_error: bool


@dataclass
class Result:
    status: int
    body: dict[str, Any]


@dataclass
class Parsed:
    issues: list[Issue] = field(default_factory=list)
    patients: dict[str, dict[str, Any]] = field(default_factory=dict)
    readings: list[Reading] = field(default_factory=list)
    given: list[Given] = field(default_factory=list)
    # (entry, MRN, baseline field, value)
    baselines: list[tuple[int, str, str, float]] = field(default_factory=list)
    responses: dict[int, dict[str, str]] = field(default_factory=dict)


class Parser:
    """Read a Bundle's entries into readings; collect every problem found."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.bundle = bundle
        self.out = Parsed()
        # Literal references inside the Bundle (fullUrl or Type/id) to MRNs.
        self.local_patients: dict[str, str] = {}

    def fail(self, path: str, message: str, code: str = "invalid") -> None:
        self.out.issues.append(Issue(code, message, path))

    def parse(self) -> Parsed:
        b = self.bundle
        if not isinstance(b, dict) or b.get("resourceType") != "Bundle":
            self.fail("Bundle", "Send a Bundle resource.", "structure")
            return self.out
        if b.get("type") not in ("transaction", "batch"):
            self.fail("Bundle.type", "Bundle.type must be transaction or batch.", "value")
        entries = b.get("entry")
        if not isinstance(entries, list) or not entries:
            self.fail("Bundle.entry", "The Bundle has no entries.", "required")
            return self.out
        if len(entries) > MAX_ENTRIES:
            self.fail("Bundle.entry", f"At most {MAX_ENTRIES} entries per Bundle.", "too-costly")
            return self.out
        # Patients first: Observations may refer to them by fullUrl.
        for i, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict) and resource.get("resourceType") == "Patient":
                self.patient(i, entry, resource)
        for i, entry in enumerate(entries):
            path = f"Bundle.entry[{i}]"
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                self.fail(f"{path}.resource", "Each entry carries a resource.", "required")
                continue
            kind = resource.get("resourceType")
            path += ".resource"
            if kind == "Observation":
                self.observation(i, path, resource)
            elif kind in ("MedicationAdministration", "Procedure"):
                self.intervention(i, path, resource, kind)
            elif kind == "Flag":
                # Flags are raised here, from the values: never taken in.
                self.out.responses[i] = {"status": "200 OK", "outcome": "derived here; ignored"}
            elif kind != "Patient":
                self.fail(
                    f"{path}.resourceType",
                    f"{str(kind)[:40]} is not accepted: send Observation, Patient, "
                    "MedicationAdministration or Procedure.",
                    "not-supported",
                )
        return self.out

    # Patients -----------------------------------------------------------

    def mrn_of(self, path: str, identifier: Any) -> str | None:
        if not isinstance(identifier, dict):
            self.fail(path, "The identifier must be an object with a value (the MRN).")
            return None
        system, value = identifier.get("system"), identifier.get("value")
        if system not in (None, mrn_system()):
            self.fail(
                f"{path}.system",
                f"Unknown identifier system; this hospital's MRN system is {mrn_system()}.",
                "code-invalid",
            )
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > 32:
            self.fail(f"{path}.value", "The MRN must be text of 1 to 32 characters.")
            return None
        return value.strip()

    def patient(self, i: int, entry: dict, resource: dict) -> None:
        path = f"Bundle.entry[{i}].resource"
        identifiers = resource.get("identifier")
        mrns = [
            ident
            for ident in identifiers
            if isinstance(ident, dict) and ident.get("system") in (None, mrn_system())
        ] if isinstance(identifiers, list) else []  # fmt: skip
        if not mrns:
            self.fail(f"{path}.identifier", "The Patient needs its MRN identifier.", "required")
            return
        mrn = self.mrn_of(f"{path}.identifier[0]", mrns[0])
        if mrn is None:
            return
        names = resource.get("name") if isinstance(resource.get("name"), list) else []
        name = names[0] if names and isinstance(names[0], dict) else {}
        given = name.get("given") if isinstance(name.get("given"), list) else []
        birth = resource.get("birthDate")
        details = {
            "given_name": str(given[0])[:100] if given else "",
            "family_name": str(name.get("family") or "")[:100],
            "birth_date": parse_date(birth) if isinstance(birth, str) else None,
            "sex": resource.get("gender") if resource.get("gender") in Sex.values else "unknown",
        }
        self.out.patients[mrn] = details
        for ref in (entry.get("fullUrl"), f"Patient/{resource.get('id')}"):
            if isinstance(ref, str):
                self.local_patients[ref] = mrn
        self.out.responses[i] = {"status": "200 OK", "mrn": mrn}

    def subject(self, path: str, resource: dict) -> str | None:
        subject = resource.get("subject")
        path += ".subject"
        if not isinstance(subject, dict):
            self.fail(path, "The subject must identify the patient by MRN.", "required")
            return None
        if "identifier" in subject:
            return self.mrn_of(f"{path}.identifier", subject["identifier"])
        ref = subject.get("reference")
        if isinstance(ref, str) and ref in self.local_patients:
            return self.local_patients[ref]
        self.fail(
            path,
            'Refer to the patient by MRN ({"identifier": {"value": MRN}}) or to a Patient '
            "entry of this Bundle.",
            "invalid",
        )
        return None

    # Observations -------------------------------------------------------

    def time_of(self, path: str, resource: dict, names: tuple[str, ...]) -> datetime | None:
        for name in names:
            if name in resource:
                raw = resource[name]
                value = parse_datetime(raw) if isinstance(raw, str) else None
                if value is None or timezone.is_naive(value):
                    self.fail(f"{path}.{name}", "Give a date and time with its time zone.")
                    return None
                now = timezone.now()
                if value > now + CLOCK_SKEW:
                    self.fail(f"{path}.{name}", "The time is in the future.")
                    return None
                if value < now - MAX_BACKDATE:
                    self.fail(f"{path}.{name}", "The time is more than 30 days ago.")
                    return None
                return value
        self.fail(f"{path}.{names[0]}", "The clinical time is required.", "required")
        return None

    def identifier_of(self, path: str, resource: dict) -> tuple[str, str] | None:
        idents = resource.get("identifier")
        if isinstance(idents, list):
            for ident in idents:
                if isinstance(ident, dict) and isinstance(ident.get("value"), str):
                    system = ident.get("system") or ""
                    value = ident["value"]
                    if 0 < len(value) <= 255 and isinstance(system, str) and len(system) <= 255:
                        return system, value
        self.fail(
            f"{path}.identifier",
            "An identifier is required, so that a resent Bundle stores nothing twice.",
            "required",
        )
        return None

    def quantity(self, path: str, holder: dict, measure: c.Measure) -> float | None:
        q = holder.get("valueQuantity")
        path += ".valueQuantity"
        if not isinstance(q, dict):
            self.fail(path, f"{measure.display}: a valueQuantity is required.", "required")
            return None
        value = q.get("value")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.fail(f"{path}.value", f"{measure.display}: the value must be a number.")
            return None
        if q.get("system") not in (None, c.UCUM):
            self.fail(f"{path}.system", "Units must be UCUM (http://unitsofmeasure.org).")
            return None
        unit = q.get("code") if q.get("code") is not None else q.get("unit")
        if unit == measure.unit:
            number = float(value)
        elif unit in measure.other_units:
            number = measure.other_units[unit](float(value))
        else:
            accepted = ", ".join([measure.unit, *measure.other_units])
            self.fail(
                f"{path}.code",
                f"{measure.display}: unit {str(unit)[:20]!r} is not accepted; send {accepted}.",
                "code-invalid",
            )
            return None
        low, high = PLAUSIBLE[measure.field]
        if not low <= number <= high:
            self.fail(
                f"{path}.value",
                f"{measure.display}: {number:g} {measure.unit} is outside the plausible "
                f"range {low:g} to {high:g}.",
                "value",
            )
            return None
        if measure.whole:
            if number != int(number):
                self.fail(f"{path}.value", f"{measure.display}: send a whole number.", "value")
                return None
            return int(number)
        return number

    def codes_of(self, concept: Any) -> list[tuple[str, str]]:
        if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
            return []
        return [
            (cd.get("system"), cd.get("code"))
            for cd in concept["coding"]
            if isinstance(cd, dict) and isinstance(cd.get("code"), str)
        ]

    def observation(self, i: int, path: str, resource: dict) -> None:
        found = self.codes_of(resource.get("code"))
        if any(code in c.DERIVED for code in found):
            # Scores and grades are derived here from the values: ignored.
            self.out.responses[i] = {"status": "200 OK", "outcome": "derived here; ignored"}
            return
        categories = resource.get("category")
        if isinstance(categories, list) and any(
            (c.BASELINE_CATEGORY[0], c.BASELINE_CATEGORY[1]) in self.codes_of(cat)
            for cat in categories
        ):
            self.baseline(i, path, resource, found)
            return
        status = resource.get("status")
        if status not in STORED and status != "entered-in-error":
            self.fail(
                f"{path}.status",
                "Only final, amended, corrected or entered-in-error results are taken.",
                "value",
            )
        mrn = self.subject(path, resource)
        time = self.time_of(path, resource, ("effectiveDateTime", "effectiveInstant"))
        ident = self.identifier_of(path, resource)
        values, element = self.values_of(path, resource, found)
        if None in (mrn, time, ident, values) or status not in STORED | {"entered-in-error"}:
            return
        self.out.readings.append(
            Reading(i, mrn, time, values, element, *ident, status == "entered-in-error")
        )

    def baseline(self, i: int, path: str, resource: dict, found: list) -> None:
        mrn = self.subject(path, resource)
        measure = next(
            (m for m in c.LABS if (c.LOINC, m.code) in found and m.field in inputs.BASELINE_LABS),
            None,
        )
        if measure is None:
            self.fail(
                f"{path}.code",
                "Baselines are taken for creatinine, ALT, AST and bilirubin only.",
                "code-unknown",
            )
            return
        value = self.quantity(path, resource, measure)
        if mrn is not None and value is not None:
            self.out.baselines.append((i, mrn, measure.field, value))

    def values_of(
        self, path: str, resource: dict, found: list[tuple[str, str]]
    ) -> tuple[dict[str, Any] | None, str]:
        loinc = [code for system, code in found if system == c.LOINC]
        measure = next((c.BY_LOINC[code] for code in loinc if code in c.BY_LOINC), None)
        if measure is not None:
            if measure is c.OXYGEN_FLOW and "valueQuantity" not in resource:
                values: dict[str, Any] | None = {}
            else:
                value = self.quantity(path, resource, measure)
                values = None if value is None else {measure.field: value}
            if values is not None and measure in (c.SPO2, c.OXYGEN_FLOW):
                extra = self.oxygen(path, resource)
                values = None if extra is None else {**values, **extra}
            if values == {}:
                self.fail(f"{path}.valueQuantity", "The oxygen flow has no value.", "required")
                values = None
            return values, measure.field
        if c.BLOOD_PRESSURE_PANEL[0] in loinc:
            return self.blood_pressure(path, resource), "blood_pressure"
        if (c.SNOMED, c.ACVPU_CODE[0]) in found:
            level = self.local_choice(path, resource, c.LOCAL_ACVPU, inputs.ACVPU)
            return (None if level is None else {"acvpu": level}), "acvpu"
        shown = ", ".join(f"{s}|{cd}" for s, cd in found)[:200] or "none"
        self.fail(
            f"{path}.code",
            f"Unknown observation code ({shown}): send LOINC vital signs or laboratory codes.",
            "code-unknown",
        )
        return None, ""

    def local_choice(
        self, path: str, holder: dict, system: str, allowed: tuple[str, ...]
    ) -> str | None:
        """Return the code of ``holder.valueCodeableConcept`` in ``system``."""
        found = [
            code
            for sys, code in self.codes_of(holder.get("valueCodeableConcept"))
            if sys == system
        ]
        if not found or found[0] not in allowed:
            self.fail(
                f"{path}.valueCodeableConcept",
                f"Send a {system} code: one of {', '.join(allowed)}.",
                "code-invalid",
            )
            return None
        return found[0]

    def oxygen(self, path: str, resource: dict) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        parts = resource.get("component") or []
        if not isinstance(parts, list):
            self.fail(f"{path}.component", "component must be a list.")
            return None
        ok = True
        for j, part in enumerate(parts):
            here = f"{path}.component[{j}]"
            found = self.codes_of(part.get("code") if isinstance(part, dict) else None)
            if (c.LOINC, c.OXYGEN_FLOW.code) in found:
                value = self.quantity(here, part, c.OXYGEN_FLOW)
                ok &= value is not None
                values["oxygen_flow_l_min"] = value
            elif (c.LOCAL_OBSERVATION, c.OXYGEN_DEVICE_CODE) in found:
                device = self.local_choice(
                    here, part, c.LOCAL_OXYGEN_DEVICE, inputs.OXYGEN_DEVICES
                )
                ok &= device is not None
                values["oxygen_device"] = device
            elif (c.LOINC, "3150-0") in found:
                continue  # FiO2: not part of a round yet; the flow and device are.
            else:
                self.fail(f"{here}.code", "Unknown component code.", "code-unknown")
                ok = False
        return values if ok else None

    def blood_pressure(self, path: str, resource: dict) -> dict[str, Any] | None:
        parts = resource.get("component")
        if not isinstance(parts, list):
            self.fail(f"{path}.component", "The blood pressure panel needs components.")
            return None
        values: dict[str, Any] = {}
        ok = True
        for j, part in enumerate(parts):
            here = f"{path}.component[{j}]"
            found = self.codes_of(part.get("code") if isinstance(part, dict) else None)
            measure = next(
                (m for m in (c.SYSTOLIC, c.DIASTOLIC) if (c.LOINC, m.code) in found), None
            )
            if measure is None:
                self.fail(f"{here}.code", "Unknown blood pressure component.", "code-unknown")
                ok = False
            elif "dataAbsentReason" in part and "valueQuantity" not in part:
                continue
            else:
                value = self.quantity(here, part, measure)
                ok &= value is not None
                values[measure.field] = value
        if ok and not values:
            self.fail(f"{path}.component", "No blood pressure value was sent.", "required")
        return values if ok and values else None

    # What was given -------------------------------------------------------

    def intervention(self, i: int, path: str, resource: dict, kind: str) -> None:
        concept_name = "code" if kind == "Procedure" else "medicationCodeableConcept"
        concept = resource.get(concept_name)
        found = [code for system, code in self.codes_of(concept) if system == c.LOCAL_INTERVENTION]
        status = resource.get("status")
        if status not in ("completed", "entered-in-error"):
            self.fail(f"{path}.status", "Only completed or entered-in-error is taken.", "value")
        if not found or found[0] not in dict(Intervention.KIND_CHOICES):
            self.fail(
                f"{path}.{concept_name}",
                f"Code what was given with {c.LOCAL_INTERVENTION} (e.g. tocilizumab).",
                "code-unknown",
            )
        mrn = self.subject(path, resource)
        time_name = "performedDateTime" if kind == "Procedure" else "effectiveDateTime"
        time = self.time_of(path, resource, (time_name,))
        ident = self.identifier_of(path, resource)
        if (
            None in (mrn, time, ident)
            or not found
            or found[0] not in dict(Intervention.KIND_CHOICES)
        ):
            return
        if status not in ("completed", "entered-in-error"):
            return
        label = dict(Intervention.KIND_CHOICES)[found[0]]
        text = concept.get("text") if isinstance(concept.get("text"), str) else ""
        dosage = resource.get("dosage") if isinstance(resource.get("dosage"), dict) else {}
        route = dosage.get("route") if isinstance(dosage.get("route"), dict) else {}
        notes = resource.get("note") if isinstance(resource.get("note"), list) else []
        reasons = (
            resource.get("reasonCode") if isinstance(resource.get("reasonCode"), list) else []
        )
        indication = [
            code
            for reason in reasons
            for system, code in self.codes_of(reason)
            if system == c.LOCAL_INDICATION
        ]
        if indication and indication[0] not in dict(Intervention.INDICATION_CHOICES):
            self.fail(f"{path}.reasonCode", "Unknown indication code.", "code-invalid")
            return
        values = {
            "kind": found[0],
            "indication": indication[0] if indication else "",
            "drug": "" if text in ("", label) else text[:100],
            "dose": str(dosage.get("text") or "")[:50],
            "route": str(route.get("text") or "")[:30],
            "given_at": time,
            "note": " ".join(str(n.get("text", "")) for n in notes if isinstance(n, dict))[:2000],
        }
        self.out.given.append(
            Given(i, mrn, values, client_key_of(*ident), status == "entered-in-error")
        )


def entry_patients(parsed: Parsed) -> list[tuple[int, str]]:
    return [
        *((r.entry, r.patient_key) for r in parsed.readings),
        *((g.entry, g.patient_key) for g in parsed.given),
        *((b[0], b[1]) for b in parsed.baselines),
    ]


def client_key_of(system: str, value: str) -> uuid.UUID:
    if value.startswith("urn:uuid:"):
        try:
            return uuid.UUID(value[9:])
        except ValueError:
            pass
    return uuid.uuid5(ROUND_NAMESPACE, f"{system}|{value}")


def group_readings(readings: list[Reading], window: timedelta) -> list[list[Reading]]:
    """Group one patient's readings into rounds.

    A round spans at most ``window`` from its first reading and holds one
    value per measurement: a second heart rate starts the next round.
    """
    groups: list[list[Reading]] = []
    for r in sorted(readings, key=lambda r: (r.in_error, r.time, r.entry)):
        current = groups[-1] if groups else None
        if (
            current is None
            or current[0].in_error != r.in_error
            or r.time - current[0].time > window
            or any(set(r.values) & set(other.values) for other in current)
        ):
            groups.append([r])
        else:
            current.append(r)
    return groups


def check_round(values: dict[str, Any], group: list[Reading]) -> list[Issue]:
    """Apply the form's cross-field rules to one ingested round."""
    issues = []
    path = f"Bundle.entry[{group[-1].entry}].resource"
    if values.get("oxygen_flow_l_min") and values.get("oxygen_device") == "room_air":
        issues.append(Issue("business-rule", "Oxygen flow given on room air.", path))
    sbp, dbp = values.get("systolic_bp"), values.get("diastolic_bp")
    if sbp is not None and dbp is not None and dbp >= sbp:
        issues.append(Issue("business-rule", "Diastolic BP must be lower than systolic BP.", path))
    return issues


class Rejected(Exception):
    def __init__(self, issues: list[Issue]) -> None:
        super().__init__(issues)
        self.issues = issues


def ingest_bundle(bundle: Any, token: ServiceToken, address: str | None) -> Result:
    """Store a Bundle all or nothing; return the FHIR response."""
    try:
        parsed = Parser(bundle).parse()
        if parsed.issues:
            raise Rejected(parsed.issues)
        with transaction.atomic():
            responses = store(parsed, token, address)
    except Rejected as error:
        recording.audit(
            token.account,
            "fhir_write_rejected",
            token,
            None,
            address,
            token=token.name,
            issues=len(error.issues),
        )
        return Result(422, operation_outcome(error.issues))
    kind = "transaction-response" if bundle.get("type") == "transaction" else "batch-response"
    entries = [
        {"response": responses.get(i, {"status": "200 OK"})} for i in range(len(bundle["entry"]))
    ]
    return Result(200, {"resourceType": "Bundle", "type": kind, "entry": entries})


def store(parsed: Parsed, token: ServiceToken, address: str | None) -> dict[int, dict]:
    responses = dict(parsed.responses)
    mrns = {r.patient_key for r in parsed.readings} | {g.patient_key for g in parsed.given}
    mrns |= set(parsed.patients) | {b[1] for b in parsed.baselines}
    patients = {p.mrn: p for p in Patient.objects.filter(mrn__in=mrns)}
    issues = []
    for mrn in sorted(mrns - set(patients)):
        details = parsed.patients.get(mrn)
        if details is None:
            entry = next(
                r.entry for r in [*parsed.readings, *parsed.given] if r.patient_key == mrn
            )
            issues.append(
                Issue(
                    "not-found",
                    f"No patient with MRN {mrn!r}.",
                    f"Bundle.entry[{entry}].resource.subject",
                )
            )
            continue
        if not (details["given_name"] and details["family_name"] and details["birth_date"]):
            issues.append(
                Issue("required", f"New patient {mrn!r} needs name and birthDate.", "Patient")
            )
            continue
        patient = Patient.objects.create(
            mrn=mrn, ward="Unassigned", created_by=token.account, **details
        )
        recording.audit(
            token.account,
            "patient_created",
            patient,
            patient,
            address,
            token=token.name,
            via="fhir",
        )
        recording.refresh_status(patient, [])
        patients[mrn] = patient
    for entry, mrn, name, value in parsed.baselines:
        patient = patients.get(mrn)
        stored = getattr(patient, f"baseline_{name}", None) if patient else None
        if patient is not None and stored is not None and stored != value:
            issues.append(
                Issue(
                    "business-rule",
                    f"The baseline differs from the one recorded ({stored:g}); "
                    "change baselines in CRS Watch, where the change is audited.",
                    f"Bundle.entry[{entry}].resource.valueQuantity.value",
                )
            )
        elif patient is not None and stored is None:
            setattr(patient, f"baseline_{name}", value)
            patient.save(update_fields=[f"baseline_{name}"])
            recording.audit(
                token.account, "baseline_set", patient, patient, address, lab=name, via="fhir"
            )
    if issues:
        raise Rejected(issues)

    user = token.account
    for item in sorted(parsed.given, key=lambda g: g.values["given_at"]):
        patient = patients[item.patient_key]
        stored, created = recording.record_intervention(
            patient, item.values, user, item.client_key, address
        )
        if stored.patient_id != patient.pk:
            raise Rejected([another_patient(item.entry)])
        if item.in_error and stored.status != RoundStatus.ENTERED_IN_ERROR:
            mark_intervention_in_error(stored, user)
        responses[item.entry] = {
            "status": "201 Created" if created else "200 OK",
            "location": f"{type_of(stored)}/given-{stored.pk}",
        }

    known = {
        (row[0], row[1]): (row[2], row[3])
        for row in IngestedObservation.objects.filter(
            value__in=[r.identifier for r in parsed.readings]
        ).values_list("system", "value", "round_id", "round__patient_id")
    }
    new: dict[str, list[Reading]] = {}
    for r in parsed.readings:
        round_id, owner = known.get((r.system, r.identifier), (None, None))
        if round_id is None:
            new.setdefault(r.patient_key, []).append(r)
            continue
        if owner != patients[r.patient_key].pk:
            raise Rejected([another_patient(r.entry)])
        if r.in_error:
            rnd = ObservationRound.objects.get(pk=round_id)
            if not rnd.in_error:
                recording.mark_round_in_error(rnd, user, in_error_reason(r), address)
        responses[r.entry] = {"status": "200 OK", "location": f"Observation/r{round_id}"}
    window = timedelta(minutes=settings.CRS_WATCH["FHIR_ROUND_WINDOW_MINUTES"])
    for mrn, readings in new.items():
        patient = patients[mrn]
        ready: list[tuple[list[Reading], dict[str, Any], uuid.UUID]] = []
        for group in group_readings(readings, window):
            values: dict[str, Any] = {}
            for r in group:
                values.update(r.values)
            problems = check_round(values, group)
            if problems:
                issues += problems
                continue
            key = uuid.uuid5(
                ROUND_NAMESPACE, "\n".join(sorted(f"{r.system}|{r.identifier}" for r in group))
            )
            values["clinical_time"] = group[0].time
            values["source"] = token.source
            ready.append((group, values, key))
        if issues:
            continue  # The Bundle is rejected: store no more.
        # Rounds sent as final are stored together (assessed once); each one
        # sent entered-in-error is stored then marked, in turn, as before.
        final = [item for item in ready if not item[0][0].in_error]
        stored = recording.record_rounds(
            patient, [(values, key) for _, values, key in final], user, address
        )
        in_error = [item for item in ready if item[0][0].in_error]
        for group, values, key in in_error:
            rnd, _ = recording.record_round(patient, values, user, key, address)
            recording.mark_round_in_error(rnd, user, in_error_reason(group[0]), address)
            stored.append((rnd, True))
        IngestedObservation.objects.bulk_create(
            [
                IngestedObservation(
                    system=r.system, value=r.identifier, round=rnd, element=r.element
                )
                for (group, _, _), (rnd, _) in zip(final + in_error, stored, strict=True)
                for r in group
            ]
        )
        for (group, _, _), (rnd, _) in zip(final + in_error, stored, strict=True):
            for r in group:
                responses[r.entry] = {
                    "status": "201 Created",
                    "location": f"Observation/r{rnd.pk}",
                }
    if issues:
        raise Rejected(issues)
    return responses


def another_patient(entry: int) -> Issue:
    return Issue(
        "conflict",
        "This identifier is already stored for another patient.",
        f"Bundle.entry[{entry}].resource.identifier",
    )


def in_error_reason(reading: Reading) -> str:
    return f"Entered in error in the sending system (Observation {reading.identifier[:80]})."


def type_of(item: Intervention) -> str:
    return "Procedure" if item.kind in c.PROCEDURE_KINDS else "MedicationAdministration"


def mark_intervention_in_error(item: Intervention, user) -> None:
    item.status = RoundStatus.ENTERED_IN_ERROR
    item.error_reason = "Entered in error in the sending system."
    item.error_by = user
    item.error_at = timezone.now()
    item.save(update_fields=["status", "error_reason", "error_by", "error_at"])
    recording.refresh_status(item.patient, recording.reassess(item.patient, since=item.given_at))
    recording.audit(
        user, "intervention_entered_in_error", item, item.patient, reason=item.error_reason
    )
