"""WHO COVID-19 severity, for patients whose exposure is an infection.

ASTCT CRS grading is defined for immune effector cell therapy (REFERENCE
k1, k4): for an infection the product reads NEWS2 and organ severity first
and lists treatment by the WHO severity criteria instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from .crs import POSITIVE_PRESSURE_DEVICES
from .inputs import Observation

# WHO Therapeutics and COVID-19 living guideline (REFERENCE k4, CONFIRMED):
# severe = SpO2 < 90 % on room air, or RR > 30/min in adults (children:
# >= 60 under 2 months, >= 50 at 2-11 months, >= 40 at 1-5 years), or
# signs of severe respiratory distress; critical = needs life-sustaining
# treatment, ARDS, sepsis or septic shock.
SEVERE_SPO2_BELOW = 90
ADULT_RR_ABOVE = 30
CHILD_1_TO_5_RR_MIN = 40
INFANT_2_TO_11_MONTHS_RR_MIN = 50
ADULT_MIN_AGE = 16
SEVERE_SYMPTOM = 3  # "severe" on the symptom scale
# "possibly severe": on supplemental oxygen, so SpO2 on room air (the WHO
# criterion) cannot be checked; the severe-disease options are listed with
# that reason rather than hidden.
LEVELS = ("non-severe", "undetermined", "possibly severe", "severe", "critical")


@dataclass(frozen=True)
class WhoSeverity:
    level: str
    criteria: tuple[str, ...]

    def describe(self) -> str:
        return f"WHO {self.level} COVID-19 ({'; '.join(self.criteria)})"


def _rr_criterion(rate: float, age: int | None) -> tuple[bool | None, str]:
    if age is None or age >= ADULT_MIN_AGE:
        return rate > ADULT_RR_ABOVE, f"respiratory rate {rate:g} (> {ADULT_RR_ABOVE} in adults)"
    if 1 <= age <= 5:
        return rate >= CHILD_1_TO_5_RR_MIN, f"respiratory rate {rate:g} (>= 40 at 1-5 years)"
    if age < 1:
        # Age in whole years cannot tell 2-11 months from under 2 months;
        # the lower of the two infant thresholds is used.
        return rate >= INFANT_2_TO_11_MONTHS_RR_MIN, f"respiratory rate {rate:g} (>= 50 infant)"
    return None, "no WHO respiratory-rate threshold stated for ages 6-15"


def who_covid_severity(obs: Observation) -> WhoSeverity:
    """Return the WHO severity with the criteria met (or what is unknown)."""
    if obs.oxygen_device in POSITIVE_PRESSURE_DEVICES:
        device = obs.oxygen_device.replace("_", " ")
        return WhoSeverity("critical", (f"life-sustaining treatment: {device}",))
    if obs.vasopressors:
        return WhoSeverity("critical", ("septic shock: vasopressors running",))
    met: list[str] = []
    unknown: list[str] = []
    if obs.spo2 is None or obs.oxygen_device is None:
        unknown.append("SpO2 on room air not recorded")
    elif obs.oxygen_device == "room_air":
        if obs.spo2 < SEVERE_SPO2_BELOW:
            met.append(f"SpO2 {obs.spo2:g}% on room air (< {SEVERE_SPO2_BELOW}%)")
    else:
        unknown.append("SpO2 on room air not known: on supplemental oxygen")
    if obs.respiratory_rate is None:
        unknown.append("respiratory rate not recorded")
    else:
        severe, text = _rr_criterion(obs.respiratory_rate, obs.age_years)
        if severe:
            met.append(text)
        elif severe is None:
            unknown.append(text)
    if obs.symptoms.get("difficulty_breathing", 0) >= SEVERE_SYMPTOM:
        met.append("severe difficulty breathing recorded (sign of severe respiratory distress)")
    if met:
        return WhoSeverity("severe", tuple(met))
    if obs.oxygen_device not in (None, "room_air"):
        return WhoSeverity("possibly severe", tuple(unknown))
    if unknown:
        return WhoSeverity("undetermined", tuple(unknown))
    return WhoSeverity("non-severe", ("no criterion for severe or critical disease met",))
