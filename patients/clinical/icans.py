"""ASTCT 2019 ICANS grade (adults), from the ICE score and neurological signs."""

from __future__ import annotations

from .basis import Finding, GradeResult, worst
from .inputs import Observation
from .sources import cite

SOURCE = cite("ASTCT2019")

# ASTCT 2019 ICE score bands: 7-9 grade 1, 3-6 grade 2, 0-2 grade 3.
ICE_GRADE_1_MIN = 7
ICE_GRADE_2_MIN = 3
ICE_MAX = 10

CONSCIOUSNESS_GRADE = {
    "alert": 0,
    "awakens_spontaneously": 1,
    "awakens_to_voice": 2,
    "awakens_only_to_tactile_stimulus": 3,
    "unarousable": 4,
    "stupor_or_coma": 4,
}
SEIZURE_GRADE = {
    "none": 0,
    "resolved_rapidly": 3,
    "nonconvulsive_resolved_with_intervention": 3,
    "prolonged_over_5_min": 4,
    "repetitive_without_return_to_baseline": 4,
}
# ASTCT 2019: tremor and myoclonus are graded by CTCAE, not ICANS.
MOTOR_GRADE = {"none": 0, "tremor_or_myoclonus": 0, "hemiparesis": 4, "paraparesis": 4}
# ASTCT 2019: intracranial haemorrhage is not an ICANS feature.
EDEMA_GRADE = {
    "none": 0,
    "focal_edema_on_imaging": 3,
    "diffuse_edema_on_imaging": 4,
    "decerebrate_or_decorticate_posturing": 4,
    "cranial_nerve_vi_palsy": 4,
    "papilledema": 4,
    "cushings_triad": 4,
    "intracranial_hemorrhage": 0,
}
EXCLUDED = {
    "tremor_or_myoclonus": "Tremor and myoclonus do not affect the ICANS grade (CTCAE)",
    "intracranial_hemorrhage": "Intracranial haemorrhage is not an ICANS feature (CTCAE)",
}


def ice_grade(score: int) -> int:
    if score >= ICE_MAX:
        return 0
    if score >= ICE_GRADE_1_MIN:
        return 1
    if score >= ICE_GRADE_2_MIN:
        return 2
    return 3


def ice_finding(obs: Observation) -> Finding | None:
    score = obs.ice_score
    if score is None:
        return None
    values = {"ice_score": score, "global_aphasia": obs.global_aphasia}
    grade = ice_grade(score)
    if score == 0 and obs.global_aphasia:
        rule = "ICE 0 in a patient awake with global aphasia: grade 3"
    else:
        rule = f"ICE score {score}/10: grade {grade}"
    return Finding(rule, SOURCE, values, grade)


def grade_icans(obs: Observation) -> GradeResult:
    """Return the ASTCT 2019 ICANS grade (0-4) with its basis."""
    findings: list[Finding] = []
    missing: list[str] = []
    ice = ice_finding(obs)
    if ice:
        findings.append(ice)
    elif obs.ice_not_assessable:
        findings.append(
            Finding(
                "ICE not assessable: grade taken from level of consciousness",
                SOURCE,
                {"ice_score": None},
                None,
            )
        )
        if obs.consciousness is None:
            missing.append("consciousness")
    else:
        missing.append("ice_score")

    domains = (
        ("consciousness", CONSCIOUSNESS_GRADE, "Depressed level of consciousness"),
        ("seizure", SEIZURE_GRADE, "Seizure"),
        ("motor_findings", MOTOR_GRADE, "Motor findings"),
        ("cerebral_edema", EDEMA_GRADE, "Raised intracranial pressure / cerebral oedema"),
    )
    for name, table, label in domains:
        value = getattr(obs, name)
        if value is None:
            missing.append(name)
            continue
        if value in EXCLUDED:
            findings.append(Finding(EXCLUDED[value], SOURCE, {name: value}, 0))
        elif table[value]:
            text = value.replace("_", " ")
            findings.append(
                Finding(
                    f"{label}: {text}: grade {table[value]}", SOURCE, {name: value}, table[value]
                )
            )

    assessed = ice is not None or any(getattr(obs, d[0]) is not None for d in domains)
    if not assessed:
        return GradeResult(None, tuple(findings), tuple(missing))
    grade = worst(findings)
    if len([f for f in findings if f.grade]) > 1:
        findings.append(
            Finding("Grade is the most severe domain", SOURCE, {"grade": grade}, grade)
        )
    return GradeResult(grade, tuple(findings), tuple(missing))
