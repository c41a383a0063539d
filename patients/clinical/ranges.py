"""Plausibility ranges for input: values outside are typing errors, not data.

These reject impossible entries (a temperature of 3.7 or 370); they are not
clinical thresholds and never affect a grade.
"""

from __future__ import annotations

PLAUSIBLE: dict[str, tuple[float, float]] = {
    "temperature_c": (25.0, 45.0),
    "heart_rate": (20, 300),
    "systolic_bp": (30, 300),
    "diastolic_bp": (10, 200),
    "respiratory_rate": (0, 80),
    "spo2": (50, 100),
    "oxygen_flow_l_min": (0, 80),
    "crp_mg_l": (0, 1000),
    "ferritin_ug_l": (0, 500000),
    "il6_pg_ml": (0, 100000),
    "creatinine_umol_l": (5, 3000),
    "alt_u_l": (0, 20000),
    "ast_u_l": (0, 20000),
    "bilirubin_umol_l": (0, 1500),
    "anc_10e9_l": (0, 200),
    "platelets_10e9_l": (0, 3000),
    "haemoglobin_g_l": (10, 250),
    "fibrinogen_g_l": (0, 20),
    "triglycerides_mmol_l": (0, 100),
}
