"""Plain words for the stored codes, so no code identifier reaches a screen.

The codes (``cpap``, ``crs_treated``) are the public names of ``manage.py
assess`` and of the stored basis; these are what a nurse reads instead.
"""

from __future__ import annotations

from typing import Any

from .clinical.inputs import OXYGEN_DEVICE_WORDS

WORDS: dict[str, str] = {
    # Measurements and round fields.
    "temperature_c": "Temperature (°C)",
    "heart_rate": "Pulse (/min)",
    "systolic_bp": "Systolic BP (mmHg)",
    "diastolic_bp": "Diastolic BP (mmHg)",
    "respiratory_rate": "Respiration rate (/min)",
    "spo2": "SpO2 (%)",
    "spo2 (scale 1)": "SpO2 on scale 1 (%)",
    "spo2 (scale 2)": "SpO2 on scale 2 (%)",
    "spo2_scale": "SpO2 scale",
    "oxygen_device": "Air or oxygen",
    "oxygen_flow_l_min": "Oxygen flow (L/min)",
    "oxygen_support": "Oxygen support",
    "hypotension": "Hypotension (clinician judgement)",
    "vasopressors": "Vasopressors",
    "crs_treated": "CRS already treated",
    "acvpu": "ACVPU",
    "ice_score": "ICE score (of 10)",
    "ice_not_assessable": "ICE not assessable",
    "consciousness": "Level of consciousness",
    "global_aphasia": "Global aphasia",
    "seizure": "Seizure",
    "motor_findings": "Motor findings",
    "cerebral_edema": "Raised ICP / cerebral oedema",
    "total": "Total",
    "partial_total": "Total of the recorded values",
    "severity": "Severity",
    "time": "Time",
    "grade": "Grade",
    # NEWS2 chart rows (RCP 2017, chart 1).
    "respiration_rate": "Respiration rate",
    "air_or_oxygen": "Air or oxygen",
    "pulse": "Pulse",
    "temperature": "Temperature",
    # Labs.
    "crp_mg_l": "CRP (mg/L)",
    "ferritin_ug_l": "Ferritin (µg/L)",
    "il6_pg_ml": "IL-6 (pg/mL)",
    "creatinine_umol_l": "Creatinine (µmol/L)",
    "alt_u_l": "ALT (U/L)",
    "ast_u_l": "AST (U/L)",
    "bilirubin_umol_l": "Bilirubin (µmol/L)",
    "anc_10e9_l": "ANC (×10⁹/L; 0.5 = 500/µL)",
    "platelets_10e9_l": "Platelets (×10⁹/L)",
    "haemoglobin_g_l": "Haemoglobin (g/L)",
    "fibrinogen_g_l": "Fibrinogen (g/L)",
    "triglycerides_mmol_l": "Triglycerides (mmol/L)",
    **OXYGEN_DEVICE_WORDS,
    # Vasopressors.
    "norepinephrine": "Norepinephrine (noradrenaline)",
    "epinephrine": "Epinephrine (adrenaline)",
    "phenylephrine": "Phenylephrine",
    "dopamine": "Dopamine",
    "vasopressin": "Vasopressin",
    # ICANS level of consciousness (ASTCT 2019).
    "alert": "Alert",
    "awakens_spontaneously": "Awakens spontaneously",
    "awakens_to_voice": "Awakens to voice",
    "awakens_only_to_tactile_stimulus": "Awakens only to touch",
    "unarousable": "Unarousable",
    "stupor_or_coma": "Stupor or coma",
    # Seizures, motor findings, raised ICP.
    "resolved_rapidly": "Any seizure that resolved rapidly",
    "nonconvulsive_resolved_with_intervention": "Non-convulsive seizure, resolved with treatment",
    "prolonged_over_5_min": "Seizure longer than 5 minutes",
    "repetitive_without_return_to_baseline": "Repeated seizures without recovery in between",
    "tremor_or_myoclonus": "Tremor or myoclonus",
    "hemiparesis": "Hemiparesis",
    "paraparesis": "Paraparesis",
    "focal_edema_on_imaging": "Focal oedema on imaging",
    "diffuse_edema_on_imaging": "Diffuse oedema on imaging",
    "decerebrate_or_decorticate_posturing": "Decerebrate or decorticate posturing",
    "cranial_nerve_vi_palsy": "Cranial nerve VI palsy",
    "papilledema": "Papilloedema",
    "cushings_triad": "Cushing's triad",
    "intracranial_hemorrhage": "Intracranial haemorrhage",
    # Flag kinds and organ systems.
    "red_flag": "Red flag",
    "grade_rise": "Grade rise",
    "worsening": "Worsening",
    "persistence": "Lasting symptoms",
    "overdue": "Overdue round",
    "prompt": "IEC-HS prompt",
    "late_neuro": "Late neurotoxicity",
    "general": "General",
    "cardiovascular": "Heart and circulation",
    "respiratory": "Lungs and breathing",
    "neurological": "Brain and nerves",
    "renal": "Kidneys",
    "hepatic": "Liver",
    # Exposures.
    "car_t": "CAR-T infusion",
    "bispecific": "Bispecific antibody",
    "monoclonal": "Monoclonal antibody",
    "infection": "Infection",
}


# NEWS2 ACVPU (RCP 2017): C is new confusion.
ACVPU_WORDS = {
    "A": "A: alert",
    "C": "C: new confusion",
    "V": "V: responds to voice",
    "P": "P: responds to pain",
    "U": "U: unresponsive",
}


def plain(value: Any) -> str:
    """Return ``value`` as a nurse would write it."""
    if value is None or value == "":
        return "not recorded"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) or "none"
    text = str(value)
    if text in WORDS:
        return WORDS[text]
    return text.replace("_", " ").capitalize() if "_" in text else text


def plain_choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, plain(v)) for v in values]
