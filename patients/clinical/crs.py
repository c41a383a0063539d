"""ASTCT 2019 consensus grade for cytokine release syndrome (CRS)."""

from __future__ import annotations

from .basis import Finding, GradeResult, worst
from .inputs import Observation
from .sources import cite

SOURCE = cite("ASTCT2019")

# ASTCT 2019: fever is a temperature >= 38.0 °C (38.0 qualifies, 37.9 not).
FEVER_THRESHOLD_C = 38.0
# ASTCT 2019: low-flow nasal cannula is <= 6 L/min; above 6 L/min is
# high-flow. (Some drug labels say < 6 / >= 6; ASTCT grading does not.)
LOW_FLOW_MAX_L_MIN = 6.0
# ASTCT 2019 hypoxia column, by device.
LOW_FLOW_DEVICES = {"nasal_cannula", "blow_by"}
GRADE_3_DEVICES = {
    "high_flow_nasal_cannula",
    "simple_face_mask",
    "non_rebreather_mask",
    "venturi_mask",
}
POSITIVE_PRESSURE_DEVICES = {"cpap", "bipap", "invasive_mechanical_ventilation"}
# REFERENCE k3 (DERIVED prompt): ASTCT sets no number for hypotension; a
# systolic in the NEWS2 red band (<= 90 mmHg, also CARTOX's "SBP < 90"
# bolus rule) without the clinician's judgement leaves the grade open.
LOW_SYSTOLIC_MMHG = 90
# ASTCT 2019: vasopressin never counts towards "multiple vasopressors".
VASOPRESSIN = "vasopressin"


def hypotension_finding(obs: Observation) -> Finding | None:
    """Return the ASTCT hypotension tier, or None when there is none."""
    agents = sorted(set(obs.vasopressors))
    counted = [a for a in agents if a != VASOPRESSIN]
    values = {"vasopressors": agents, "hypotension": obs.hypotension}
    if len(counted) >= 2:
        return Finding(
            "Hypotension requiring multiple vasopressors (excluding vasopressin): grade 4",
            SOURCE,
            values,
            4,
        )
    if agents:
        return Finding(
            "Hypotension requiring one vasopressor, with or without vasopressin: grade 3",
            SOURCE,
            values,
            3,
        )
    if obs.hypotension:
        return Finding("Hypotension not requiring vasopressors: grade 2", SOURCE, values, 2)
    return None


def hypoxia_finding(obs: Observation) -> tuple[Finding | None, list[str]]:
    """Return the ASTCT hypoxia tier (by device and flow) and any gaps."""
    device, flow = obs.oxygen_device, obs.oxygen_flow_l_min
    values = {"oxygen_device": device, "oxygen_flow_l_min": flow}
    if device is None:
        return None, ["oxygen_device"]
    if device in POSITIVE_PRESSURE_DEVICES:
        return Finding("Hypoxia requiring positive pressure: grade 4", SOURCE, values, 4), []
    if device in GRADE_3_DEVICES:
        rule = "Hypoxia requiring high-flow nasal cannula, face mask, non-rebreather or Venturi"
        return Finding(f"{rule}: grade 3", SOURCE, values, 3), []
    if device == "nasal_cannula" and flow is not None and flow > LOW_FLOW_MAX_L_MIN:
        rule = f"Nasal cannula above {LOW_FLOW_MAX_L_MIN:g} L/min is high-flow: grade 3"
        return Finding(rule, SOURCE, values, 3), []
    if device in LOW_FLOW_DEVICES:
        gaps = ["oxygen_flow_l_min"] if device == "nasal_cannula" and flow is None else []
        rule = f"Hypoxia requiring low-flow nasal cannula (<= {LOW_FLOW_MAX_L_MIN:g} L/min)"
        rule += " or blow-by oxygen: grade 2"
        if gaps:
            rule += " (flow not recorded: taken as low-flow)"
        return Finding(rule, SOURCE, values, 2), gaps
    return None, []


def masked_fever_finding(obs: Observation) -> Finding:
    """Return the finding that fever is no longer required, naming why."""
    values: dict = {"temperature_c": obs.temperature_c, "crs_treated": True}
    if obs.crs_episode_onset is None:
        # Only the "crs_treated" input of manage.py assess gets here.
        rule = (
            "CRS stated as already treated (input crs_treated): fever no longer required; "
            "grade driven by hypotension and hypoxia"
        )
        return Finding(rule, SOURCE, values, 0)
    doses = "; ".join(obs.fever_masked_by)
    values.update(
        crs_episode_onset=obs.crs_episode_onset.isoformat(),
        fever_masked_by=list(obs.fever_masked_by),
        episode_end_rule=obs.crs_episode_rule,
    )
    rule = (
        f"CRS episode open since {obs.crs_episode_onset:%Y-%m-%d %H:%M} and treated after "
        f"its onset ({doses}): fever no longer required; grade driven by hypotension and hypoxia"
    )
    return Finding(rule, SOURCE, values, 0)


def grade_crs(obs: Observation) -> GradeResult:
    """Return the ASTCT 2019 CRS grade (0-4) with its basis.

    Organ toxicities never enter: ASTCT grades them separately (CTCAE).
    """
    findings: list[Finding] = []
    if obs.cause == "infection":
        findings.append(
            Finding(
                "CRS-style grade only: ASTCT grading is defined for immune effector cell "
                "therapy, not for infection; read NEWS2 and organ severity first, and treatment "
                "by the WHO COVID-19 severity criteria",
                SOURCE,
                {"cause": obs.cause},
                None,
            )
        )
    missing: list[str] = []
    hypo = hypotension_finding(obs)
    hypox, gaps = hypoxia_finding(obs)
    missing += gaps
    unjudged = obs.hypotension is None and not obs.vasopressors
    if obs.systolic_bp is None and unjudged:
        missing.append("hypotension")
    low_bp = None
    if unjudged and obs.systolic_bp is not None and obs.systolic_bp <= LOW_SYSTOLIC_MMHG:
        missing.append("hypotension")
        low_bp = Finding(
            f"Systolic BP {obs.systolic_bp:g} mmHg (<= {LOW_SYSTOLIC_MMHG}, NEWS2 red) and "
            "hypotension not judged: ASTCT sets no number and needs the clinician's "
            "judgement (IV fluids or a vasopressor count as hypotension); the grade is a "
            "lower bound until it is answered",
            f"{SOURCE}; {cite('NEWS2')}; {cite('CARTOX2018')}",
            {"systolic_bp": obs.systolic_bp, "hypotension": None},
            None,
        )

    temp = obs.temperature_c
    fever = temp is not None and temp >= FEVER_THRESHOLD_C
    if fever:
        findings.append(
            Finding(
                f"Fever: temperature >= {FEVER_THRESHOLD_C} °C",
                SOURCE,
                {"temperature_c": temp},
                1,
            )
        )
    elif obs.crs_treated:
        findings.append(masked_fever_finding(obs))
    elif temp is None:
        missing.insert(0, "temperature_c")
        return GradeResult(None, tuple(findings), tuple(missing))
    else:
        findings.append(
            Finding(
                f"No fever (temperature < {FEVER_THRESHOLD_C} °C) and no treated CRS episode "
                "open: criteria for CRS not met (fever is required unless a patient who has "
                "CRS was then treated for it)",
                SOURCE,
                {"temperature_c": temp, "crs_treated": False},
                0,
            )
        )
        return GradeResult(0, tuple(findings), tuple(missing))

    findings += [f for f in (hypo, hypox, low_bp) if f is not None]
    if hypo and hypox:
        findings.append(
            Finding(
                "Grade is the more severe of the hypotension and hypoxia events",
                SOURCE,
                {"hypotension_grade": hypo.grade, "hypoxia_grade": hypox.grade},
                max(hypo.grade or 0, hypox.grade or 0),
            )
        )
    return GradeResult(worst(findings), tuple(findings), tuple(missing))
