"""The codes and units of every FHIR element the product reads or writes.

LOINC and UCUM per the clinical reference, section i (FHIR R4 vital-signs
and US Core), with section j.4's corrections (bilirubin, NEWS2). A new lab
is one line in ``LABS``: export and ingest both read this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
# Identifiers of resources made here: RFC 3986 URNs (urn:uuid:...).
URN_IDENTIFIER = "urn:ietf:rfc:3986"
# The product's own codes, where no standard code was found (the
# reference tags none for oxygen device, ACVPU levels, CRS/ICANS grades).
LOCAL = "urn:crswatch"
LOCAL_OBSERVATION = f"{LOCAL}:observation"
LOCAL_OXYGEN_DEVICE = f"{LOCAL}:oxygen-device"
LOCAL_ACVPU = f"{LOCAL}:acvpu"
LOCAL_GRADING = f"{LOCAL}:grading-system"
LOCAL_FLAG = f"{LOCAL}:flag"
LOCAL_INTERVENTION = f"{LOCAL}:intervention"
LOCAL_INDICATION = f"{LOCAL}:indication"
FLAG_SEVERITY_EXTENSION = f"{LOCAL}:flag-severity"
FLAG_BASIS_EXTENSION = f"{LOCAL}:flag-basis"

# A patient's baseline lab (before treatment): a second category coding.
BASELINE_CATEGORY = (f"{LOCAL}:observation-category", "baseline", "Baseline before treatment")

VITAL_SIGNS = "vital-signs"
LABORATORY = "laboratory"
SURVEY = "survey"


def fahrenheit_to_celsius(value: float) -> float:
    return round((value - 32) * 5 / 9, 1)


@dataclass(frozen=True)
class Measure:
    """One quantity of a round: its round field, LOINC code and UCUM unit.

    ``other_units`` are UCUM units also accepted on ingest, each with its
    conversion into ``unit`` (the unit the round stores).
    """

    field: str
    code: str
    display: str
    unit: str
    category: str
    whole: bool = False
    other_units: dict[str, Callable[[float], float]] = field(default_factory=dict)
    # Further codings sent with the main one (US Core pulse oximetry).
    also: tuple[tuple[str, str], ...] = ()


# Section i: vital signs, LOINC and UCUM.
TEMPERATURE = Measure(
    "temperature_c",
    "8310-5",
    "Body temperature",
    "Cel",
    VITAL_SIGNS,
    other_units={"[degF]": fahrenheit_to_celsius},
)
HEART_RATE = Measure("heart_rate", "8867-4", "Heart rate", "/min", VITAL_SIGNS, whole=True)
RESPIRATORY_RATE = Measure(
    "respiratory_rate", "9279-1", "Respiratory rate", "/min", VITAL_SIGNS, whole=True
)
# US Core pulse oximetry carries 59408-5 and FHIR core's 2708-6 together.
SPO2 = Measure(
    "spo2",
    "59408-5",
    "Oxygen saturation in Arterial blood by Pulse oximetry",
    "%",
    VITAL_SIGNS,
    whole=True,
    also=(("2708-6", "Oxygen saturation in Arterial blood"),),
)
OXYGEN_FLOW = Measure(
    "oxygen_flow_l_min", "3151-8", "Inhaled oxygen flow rate", "L/min", VITAL_SIGNS
)
SYSTOLIC = Measure("systolic_bp", "8480-6", "Systolic blood pressure", "mm[Hg]", VITAL_SIGNS, True)
DIASTOLIC = Measure(
    "diastolic_bp", "8462-4", "Diastolic blood pressure", "mm[Hg]", VITAL_SIGNS, True
)
BLOOD_PRESSURE_PANEL = ("85354-9", "Blood pressure panel with all children optional")

# Section i and j.4: laboratory results in the units the rounds store.
# Creatinine and bilirubin are stored in umol/L: their molar LOINC codes.
LABS = (
    Measure("crp_mg_l", "1988-5", "C reactive protein [Mass/volume] in Serum or Plasma", "mg/L",
            LABORATORY),
    Measure("ferritin_ug_l", "2276-4", "Ferritin [Mass/volume] in Serum or Plasma", "ug/L",
            LABORATORY, other_units={"ng/mL": float}),
    Measure("il6_pg_ml", "26881-3", "Interleukin 6 [Mass/volume] in Serum or Plasma", "pg/mL",
            LABORATORY),
    Measure("creatinine_umol_l", "14682-9", "Creatinine [Moles/volume] in Serum or Plasma",
            "umol/L", LABORATORY),
    Measure("alt_u_l", "1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in "
            "Serum or Plasma", "U/L", LABORATORY),
    Measure("ast_u_l", "1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in "
            "Serum or Plasma", "U/L", LABORATORY),
    Measure("bilirubin_umol_l", "14631-6", "Bilirubin.total [Moles/volume] in Serum or Plasma",
            "umol/L", LABORATORY),
)  # fmt: skip

# Measurements sent as Observations of their own (BP and flow are parts of
# the BP panel and of SpO2 on export; ingest also takes them alone).
QUANTITIES = (TEMPERATURE, HEART_RATE, RESPIRATORY_RATE, SPO2, *LABS)
BY_LOINC = {m.code: m for m in (*QUANTITIES, OXYGEN_FLOW, SYSTOLIC, DIASTOLIC)}

# UK Core early-warning-score shape (SynaneticsLtd emergency-department-ig
# NEWS2 and ACVPU examples, cited in the reference section e/i): SNOMED CT
# codes for the total, each parameter score, and the ACVPU observation.
NEWS2_TOTAL = (
    "1104051000000101",
    "Royal College of Physicians NEWS2 (National Early Warning Score 2) total score",
)
NEWS2_PARAMETERS = {
    "respiration_rate": ("1104301000000104", "NEWS2 respiration rate score"),
    "spo2": ("1104311000000102", "NEWS2 oxygen saturation scale 1 score"),
    "air_or_oxygen": ("1104331000000105", "NEWS2 air or oxygen score"),
    "systolic_bp": ("1104341000000101", "NEWS2 systolic blood pressure score"),
    "pulse": ("1104351000000103", "NEWS2 pulse score"),
    "consciousness": ("1104361000000100", "NEWS2 consciousness score"),
    "temperature": ("1104371000000107", "NEWS2 temperature score"),
}
# No SNOMED code for the scale 2 SpO2 score was found: sent as text only.
NEWS2_SPO2_SCALE_2 = "NEWS2 oxygen saturation scale 2 score"
ACVPU_CODE = (
    "1104441000000107",
    "ACVPU (Alert Confusion Voice Pain Unresponsive) scale score",
)
SCORE_UNIT = "{ScoreOf}"
OXYGEN_DEVICE_CODE = "oxygen-device"
CRS_GRADE_CODE = ("crs-grade", "Cytokine release syndrome grade (ASTCT 2019)")
ICANS_GRADE_CODE = ("icans-grade", "ICANS grade (ASTCT 2019)")
GRADING_SYSTEM = ("ASTCT2019", "ASTCT consensus grading 2019 (Lee et al.)")
# Observations the product derives itself: never taken from outside.
DERIVED = {
    (SNOMED, NEWS2_TOTAL[0]),
    (LOCAL_OBSERVATION, CRS_GRADE_CODE[0]),
    (LOCAL_OBSERVATION, ICANS_GRADE_CODE[0]),
}

# What was given: MedicationAdministration for drugs and fluids,
# Procedure for supportive care done to the patient.
PROCEDURE_KINDS = ("oxygen_escalation", "transfusion", "dialysis", "icu_transfer")
