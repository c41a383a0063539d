"""The bedside data one assessment reads, as plain frozen dataclasses.

Field names and units are the public names of ``manage.py assess``.
``None`` always means "not recorded", never "normal".
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

OXYGEN_DEVICES = (
    "room_air",
    "nasal_cannula",
    "blow_by",
    "simple_face_mask",
    "venturi_mask",
    "non_rebreather_mask",
    "high_flow_nasal_cannula",
    "cpap",
    "bipap",
    "invasive_mechanical_ventilation",
)
# How a nurse writes each device (flag titles and screens show these).
OXYGEN_DEVICE_WORDS = {
    "room_air": "Room air",
    "nasal_cannula": "Nasal cannula",
    "blow_by": "Blow-by oxygen",
    "simple_face_mask": "Simple face mask",
    "venturi_mask": "Venturi mask",
    "non_rebreather_mask": "Non-rebreather mask",
    "high_flow_nasal_cannula": "High-flow nasal cannula",
    "cpap": "CPAP",
    "bipap": "BiPAP",
    "invasive_mechanical_ventilation": "Invasive mechanical ventilation",
}
VASOPRESSORS = ("norepinephrine", "epinephrine", "phenylephrine", "dopamine", "vasopressin")
ACVPU = ("A", "C", "V", "P", "U")
CONSCIOUSNESS = (
    "alert",
    "awakens_spontaneously",
    "awakens_to_voice",
    "awakens_only_to_tactile_stimulus",
    "requires_vigorous_or_repetitive_tactile_stimuli",
    "unarousable",
    "stupor_or_coma",
)
SEIZURE = (
    "none",
    "resolved_rapidly",
    "nonconvulsive_resolved_with_intervention",
    "prolonged_over_5_min",
    "repetitive_without_return_to_baseline",
)
MOTOR_FINDINGS = ("none", "tremor_or_myoclonus", "hemiparesis", "paraparesis")
CEREBRAL_EDEMA = (
    "none",
    "focal_edema_on_imaging",
    "diffuse_edema_on_imaging",
    "decerebrate_or_decorticate_posturing",
    "cranial_nerve_vi_palsy",
    "papilledema",
    "cushings_triad",
    "intracranial_hemorrhage",
)
# CAPD (Traube 2014, REFERENCE k7): 8 items scored 0-4 (Never 0 ... Always
# 4 for the last four; the first four are reverse-scored, so the form asks
# for the item's points directly). Total 0-32.
CAPD_ITEMS = (
    "eye_contact",
    "purposeful_actions",
    "aware_of_surroundings",
    "communicates_needs",
    "restless",
    "inconsolable",
    "underactive",
    "slow_to_respond",
)
CAPD_ITEM_LABELS = {
    "eye_contact": "Makes eye contact with caregiver",
    "purposeful_actions": "Actions are purposeful",
    "aware_of_surroundings": "Aware of surroundings",
    "communicates_needs": "Communicates needs and wants",
    "restless": "Restless",
    "inconsolable": "Inconsolable",
    "underactive": "Underactive (very little movement while awake)",
    "slow_to_respond": "Takes a long time to respond to interactions",
}
CAPD_SCALE = ("never", "rarely", "sometimes", "often", "always")
# Items 1-4 are reverse-scored: "always" makes eye contact scores 0.
CAPD_REVERSED = frozenset(CAPD_ITEMS[:4])
CAPD_ITEM_MAX = 4
# ASTCT 2019 ICE score: points available per item (10 in all).
ICE_ITEMS = {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 1}

ORGAN_SYSTEMS = ("general", "cardiovascular", "respiratory", "neurological", "renal", "hepatic")

# Source article: symptoms of CRS by the organ system they affect.
SYMPTOMS: dict[str, tuple[str, str]] = {
    "fever": ("general", "Fever"),
    "headache": ("general", "Headache"),
    "nausea": ("general", "Nausea"),
    "vomiting": ("general", "Vomiting"),
    "diarrhea": ("general", "Diarrhoea"),
    "fatigue": ("general", "Fatigue"),
    "body_aches": ("general", "Body aches"),
    "increased_heart_rate": ("cardiovascular", "Increased heart rate"),
    "irregular_heartbeat": ("cardiovascular", "Irregular heartbeat"),
    "low_blood_pressure": ("cardiovascular", "Drop in blood pressure"),
    "reduced_heart_function": ("cardiovascular", "Reduced heart function"),
    "edema": ("cardiovascular", "Oedema"),
    "cough": ("respiratory", "Cough"),
    "reduced_lung_function": ("respiratory", "Reduced lung function"),
    "shortness_of_breath": ("respiratory", "Shortness of breath"),
    "difficulty_breathing": ("respiratory", "Difficulty breathing"),
    "confusion": ("neurological", "Confusion"),
    "dizziness": ("neurological", "Dizziness"),
    "coordination_problems": ("neurological", "Coordination and movement problems"),
    "difficulty_swallowing": ("neurological", "Difficulty swallowing"),
    "seizures": ("neurological", "Seizures"),
    "hallucinations": ("neurological", "Hallucinations"),
    "kidney_problems": ("renal", "Kidney function problems"),
    "liver_problems": ("hepatic", "Liver function problems"),
}
SYMPTOM_SEVERITY = ("none", "mild", "moderate", "severe")

# The numeric bedside measurements, in the units their names carry.
MEASUREMENTS = (
    "temperature_c",
    "heart_rate",
    "systolic_bp",
    "diastolic_bp",
    "respiratory_rate",
    "spo2",
    "oxygen_flow_l_min",
)
LABS = (
    "crp_mg_l",
    "ferritin_ug_l",
    "il6_pg_ml",
    "creatinine_umol_l",
    "alt_u_l",
    "ast_u_l",
    "bilirubin_umol_l",
    # Blood counts and the labs an IEC-HS / HLH evaluation and ICAHT read
    # (REFERENCE k9): counts in 10^9/L (ANC 0.5 = 500/uL).
    "anc_10e9_l",
    "platelets_10e9_l",
    "haemoglobin_g_l",
    "fibrinogen_g_l",
    "triglycerides_mmol_l",
)
BASELINE_LABS = ("creatinine_umol_l", "alt_u_l", "ast_u_l", "bilirubin_umol_l")
# Flags stored as False when nothing was said (unlike a "no" answer).
_UNSET_WHEN_FALSE = ("ice_not_assessable", "capd_not_assessable")


def holds_labs_only(values: dict[str, object]) -> bool:
    """Return True when a round's values hold labs and nothing bedside.

    ``values`` maps field names (``LABS`` and bedside fields, as the round
    or the stored row names them) to what was recorded.
    """

    def recorded(name: str, value: object) -> bool:
        if name in _UNSET_WHEN_FALSE:
            return bool(value)
        return value is not None and value not in ("", [], (), {})

    has_labs = any(values.get(name) is not None for name in LABS)
    bedside = any(recorded(n, v) for n, v in values.items() if n not in LABS)
    return has_labs and not bedside


@dataclass(frozen=True)
class Observation:
    """One observation round. Every measurement may be missing."""

    time: datetime | None = None
    temperature_c: float | None = None
    heart_rate: float | None = None
    systolic_bp: float | None = None
    diastolic_bp: float | None = None
    respiratory_rate: float | None = None
    spo2: float | None = None
    spo2_scale: int = 1
    oxygen_device: str | None = None
    oxygen_flow_l_min: float | None = None
    hypotension: bool | None = None
    vasopressors: tuple[str, ...] = ()
    crs_treated: bool = False
    # Set from the course (episodes.py): the open CRS episode's onset and
    # the doses given for it that mask fever.
    crs_episode_onset: datetime | None = None
    fever_masked_by: tuple[str, ...] = ()
    crs_episode_rule: str = ""
    # Age at the round (whole years), when known: NEWS2 and ICE apply to
    # older patients only (REFERENCE k7).
    age_years: int | None = None
    # What the patient was exposed to: ASTCT grading is defined for immune
    # effector cell therapy, not for infection (REFERENCE k4).
    cause: str = "immunotherapy"
    acvpu: str | None = None
    ice_score: int | None = None
    ice_not_assessable: bool = False
    # Sedating medication running (ASTCT: depressed consciousness must be
    # attributable to no other cause, e.g. no sedating medication).
    sedated: bool | None = None
    # CAPD total 0-32 (children), or not assessable.
    capd_score: int | None = None
    capd_not_assessable: bool = False
    consciousness: str | None = None
    global_aphasia: bool | None = None
    seizure: str | None = None
    motor_findings: str | None = None
    cerebral_edema: str | None = None
    symptoms: dict[str, int] = field(default_factory=dict)
    labs: dict[str, float] = field(default_factory=dict)
    # When each lab was measured, when it was carried from an earlier round.
    lab_times: dict[str, datetime] = field(default_factory=dict)
    # Answers to the product's late-neurotoxicity questions (products.toml).
    late_neuro: dict[str, bool] = field(default_factory=dict)

    @property
    def lab_only(self) -> bool:
        """Return True for a lab result entered on its own (no bedside values)."""
        return holds_labs_only({**self.labs, **{n: getattr(self, n) for n in BEDSIDE_INPUTS}})


# What only a bedside observation records: a lab result entered on its own
# (the lab form, a laboratory feed) is not an observation round, so it
# never counts as a round done or sets when the next one is due.
BEDSIDE_INPUTS = tuple(
    f.name
    for f in fields(Observation)
    if f.name
    not in (
        "time",
        "spo2_scale",
        "crs_treated",
        "crs_episode_onset",
        "fever_masked_by",
        "crs_episode_rule",
        "age_years",
        "cause",
        "labs",
        "lab_times",
    )
)


@dataclass(frozen=True)
class Baseline:
    """The patient's baseline labs and the laboratory's upper limits."""

    labs: dict[str, float] = field(default_factory=dict)
    upper_limits: dict[str, float] = field(default_factory=dict)
