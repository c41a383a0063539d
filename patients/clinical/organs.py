"""Severity (0-4) of each organ system for one round, with its basis.

Each system takes the worst of its sources: the source article's symptoms
(none/mild/moderate/severe as CTCAE's generic grades 0-3), CTCAE v5.0 terms
for fever, hypotension, hypoxia, AKI and labs, the ASTCT oxygen-support
tiers and the ASTCT ICANS grade.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .basis import Finding, GradeResult, worst
from .crs import LOW_SYSTOLIC_MMHG, hypotension_finding, hypoxia_finding
from .inputs import ORGAN_SYSTEMS, SYMPTOM_SEVERITY, SYMPTOMS, Baseline, Observation
from .labs import grade_lab
from .sources import cite

CTCAE = cite("CTCAE5")
ARTICLE = cite("ARTICLE")

# CTCAE v5.0 Fever: G1 38.0-39.0, G2 >39.0-40.0, G3 >40.0 °C (G4 needs
# >24 h above 40.0, which one round cannot show).
FEVER_G1_MIN_C = 38.0
FEVER_G2_ABOVE_C = 39.0
FEVER_G3_ABOVE_C = 40.0
# CTCAE v5.0 Hypoxia G3: decreased saturation at rest, e.g. SpO2 < 88 %.
HYPOXIA_G3_SPO2_BELOW = 88
ORGAN_LABS = {
    "renal": ("creatinine_umol_l",),
    "hepatic": ("alt_u_l", "ast_u_l", "bilirubin_umol_l"),
}


@dataclass(frozen=True)
class OrganSeverity:
    system: str
    severity: int
    basis: tuple[Finding, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "basis": [f.as_dict() for f in self.basis]}


def fever_finding(temp: float) -> Finding | None:
    if temp > FEVER_G3_ABOVE_C:
        grade = 3
    elif temp > FEVER_G2_ABOVE_C:
        grade = 2
    elif temp >= FEVER_G1_MIN_C:
        grade = 1
    else:
        return None
    return Finding(f"Fever {temp} °C: CTCAE grade {grade}", CTCAE, {"temperature_c": temp}, grade)


def symptom_findings(obs: Observation, system: str) -> list[Finding]:
    found = []
    for name, severity in sorted(obs.symptoms.items()):
        if severity and SYMPTOMS[name][0] == system:
            label = SYMPTOMS[name][1]
            found.append(
                Finding(
                    f"{label} ({SYMPTOM_SEVERITY[severity]}), a CRS symptom of this system",
                    ARTICLE,
                    {name: SYMPTOM_SEVERITY[severity]},
                    severity,
                )
            )
    return found


def cardiovascular_findings(obs: Observation) -> list[Finding]:
    hypo = hypotension_finding(obs)
    if not hypo:
        sbp = obs.systolic_bp
        if obs.hypotension is None and sbp is not None and sbp <= LOW_SYSTOLIC_MMHG:
            # CTCAE grades hypotension by the intervention it needs: without
            # the judgement the severity is unknown, not normal.
            return [
                Finding(
                    f"Systolic BP {sbp:g} mmHg (<= {LOW_SYSTOLIC_MMHG}) and hypotension not "
                    "judged: severity unknown until it is answered",
                    CTCAE,
                    {"systolic_bp": sbp, "hypotension": None},
                    None,
                )
            ]
        return []
    # CTCAE v5.0 Hypotension is graded by the intervention it needs:
    # fluids (non-urgent) 2, a vasopressor 3, several vasopressors 4.
    return [
        Finding(
            f"Hypotension, CTCAE grade {hypo.grade} by intervention ({hypo.rule})",
            CTCAE,
            hypo.values,
            hypo.grade,
        )
    ]


def respiratory_findings(obs: Observation) -> list[Finding]:
    found = []
    support, _ = hypoxia_finding(obs)
    if support:
        found.append(
            Finding(
                f"Oxygen support: {support.rule}", support.source, support.values, support.grade
            )
        )
    if obs.spo2 is not None and obs.spo2 < HYPOXIA_G3_SPO2_BELOW:
        found.append(
            Finding(
                f"SpO2 below {HYPOXIA_G3_SPO2_BELOW} %: CTCAE hypoxia grade 3",
                CTCAE,
                {"spo2": obs.spo2},
                3,
            )
        )
    return found


def organ_severities(
    obs: Observation,
    baseline: Baseline,
    icans: GradeResult,
    on_dialysis: bool = False,
) -> dict[str, OrganSeverity]:
    """Return the severity of every organ system for this round."""
    found: dict[str, list[Finding]] = {s: symptom_findings(obs, s) for s in ORGAN_SYSTEMS}
    if obs.temperature_c is not None:
        fever = fever_finding(obs.temperature_c)
        if fever:
            found["general"].append(fever)
    found["cardiovascular"] += cardiovascular_findings(obs)
    found["respiratory"] += respiratory_findings(obs)
    if icans.grade:
        found["neurological"].append(
            Finding(f"ICANS grade {icans.grade}", cite("ASTCT2019"), {}, icans.grade)
        )
    for system, names in ORGAN_LABS.items():
        for name in names:
            value = obs.labs.get(name)
            if value is not None:
                finding = grade_lab(
                    name, value, baseline.labs.get(name), baseline.upper_limits.get(name)
                )
                measured = obs.lab_times.get(name)
                if measured is not None and measured != obs.time:
                    finding.values["measured_at"] = measured.isoformat()
                found[system].append(finding)
    if on_dialysis:
        found["renal"].append(
            Finding("Dialysis: CTCAE acute kidney injury grade 4", CTCAE, {"dialysis": True}, 4)
        )
    return {
        system: OrganSeverity(system, worst(items), tuple(items))
        for system, items in found.items()
    }
