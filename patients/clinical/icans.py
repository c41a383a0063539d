"""ASTCT 2019 ICANS grade, from the ICE score (adults and older children) or
the CAPD (children 12 and under), and neurological signs."""

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
    # PMC8403007 Table 4 grade 4: "unarousable or requires vigorous or
    # repetitive tactile stimuli to arouse" (REFERENCE k2).
    "requires_vigorous_or_repetitive_tactile_stimuli": 4,
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
# Arousal states in which a patient counts as awake (ASTCT ICE-0 footnote).
AWAKE = {"alert", "awakens_spontaneously", "awakens_to_voice", "awakens_only_to_tactile_stimulus"}
# REFERENCE k7: ICE is for "adults and children over 12" (NCIt) or not
# for children "younger than 12" (MDEdge); the sources split at exactly
# 12, so at 12 the tool the clinician recorded is used.
ICE_MIN_AGE = 13
CAPD_MAX_AGE = 12
# ASTCT paediatric ICANS (MDEdge, NCIt C188936, ASCO): CAPD >= 9 is grade 3.
CAPD_GRADE_3_MIN = 9
SEDATION_RULE = (
    "Sedated: ICE and level of consciousness not gradable (ASTCT: depressed consciousness "
    "must be attributable to no other cause, e.g. no sedating medication); seizure, motor "
    "and ICP/oedema domains still graded (local policy, DERIVED)"
)
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
    aphasic = obs.global_aphasia is True
    awake = obs.consciousness in AWAKE
    if score is None and not aphasic:
        return None
    values = {"ice_score": score, "global_aphasia": obs.global_aphasia}
    if aphasic and (score in (None, 0)):
        # PMC8403007 Table 4 footnote: a globally aphasic patient scores 0
        # on every ICE item; "awake with global aphasia" is grade 3 (and
        # unarousable grade 4, through the consciousness domain).
        values["consciousness"] = obs.consciousness
        state = "awake" if awake else "arousal not recorded" if obs.consciousness is None else ""
        rule = "ICE 0 / not assessable because of global aphasia"
        rule += f" ({state})" if state else ""
        return Finding(f"{rule}: grade 3 (ASTCT footnote)", SOURCE, values, 3)
    grade = ice_grade(score)
    return Finding(f"ICE score {score}/10: grade {grade}", SOURCE, values, grade)


def capd_finding(obs: Observation) -> Finding | None:
    """Return the ASTCT paediatric grade from the CAPD (REFERENCE k7)."""
    values = {"capd_score": obs.capd_score, "age_years": obs.age_years}
    if obs.capd_not_assessable:
        return Finding("Unable to perform CAPD: grade 4", SOURCE, values, 4)
    score = obs.capd_score
    if score is None:
        return None
    if score >= CAPD_GRADE_3_MIN:
        return Finding(f"CAPD {score} (>= {CAPD_GRADE_3_MIN}): grade 3", SOURCE, values, 3)
    if score == 0:
        return Finding("CAPD 0: no delirium features", SOURCE, values, 0)
    rule = (
        f"CAPD {score} (< {CAPD_GRADE_3_MIN}): grade 1, grade 2 when the child awakens only "
        "to voice (consciousness domain); whether the primary table reads '1-8' or '< 9' "
        "is unverified"
    )
    return Finding(rule, SOURCE, values, 1)


def cognitive_tool(obs: Observation) -> str:
    """Return "capd" or "ice": which screening tool grades this patient."""
    age = obs.age_years
    if age is not None and age <= CAPD_MAX_AGE:
        if age >= CAPD_MAX_AGE and obs.capd_score is None and not obs.capd_not_assessable:
            return "ice"  # exactly 12: the sources split; the clinician chose ICE
        return "capd"
    # Over 12 the CAPD is used only when recorded (developmental delay).
    capd_recorded = obs.capd_score is not None or obs.capd_not_assessable
    ice_recorded = obs.ice_score is not None or obs.ice_not_assessable
    return "capd" if capd_recorded and not ice_recorded else "ice"


def grade_icans(obs: Observation) -> GradeResult:
    """Return the ASTCT 2019 ICANS grade (0-4) with its basis."""
    findings: list[Finding] = []
    missing: list[str] = []
    sedated = obs.sedated is True
    tool = cognitive_tool(obs)
    screen = None
    if sedated:
        findings.append(Finding(SEDATION_RULE, SOURCE, {"sedated": True}, None))
        missing.append("capd_score" if tool == "capd" else "ice_score")
    elif tool == "capd":
        screen = capd_finding(obs)
        if screen:
            findings.append(screen)
        else:
            missing.append("capd_score")
        if obs.ice_score is not None and (obs.age_years or 0) < CAPD_MAX_AGE:
            findings.append(
                Finding(
                    "ICE not used: not suitable for children 12 and under (CAPD instead)",
                    SOURCE,
                    {"ice_score": obs.ice_score, "age_years": obs.age_years},
                    None,
                )
            )
    else:
        screen = ice_finding(obs)
        if screen:
            findings.append(screen)
        elif obs.ice_not_assessable:
            findings.append(
                Finding(
                    "ICE not assessable (no global aphasia recorded): grade taken from level "
                    "of consciousness",
                    SOURCE,
                    {"ice_score": None, "global_aphasia": obs.global_aphasia},
                    None,
                )
            )
            if obs.consciousness is None:
                missing.append("consciousness")
        else:
            missing.append("ice_score")
        if obs.age_years == CAPD_MAX_AGE:
            findings.append(
                Finding(
                    "Age 12: sources differ on ICE or CAPD (< 12 vs <= 12); ICE used as recorded",
                    SOURCE,
                    {"age_years": obs.age_years},
                    None,
                )
            )

    domains = (
        ("consciousness", CONSCIOUSNESS_GRADE, "Depressed level of consciousness"),
        ("seizure", SEIZURE_GRADE, "Seizure"),
        ("motor_findings", MOTOR_GRADE, "Motor findings"),
        ("cerebral_edema", EDEMA_GRADE, "Raised intracranial pressure / cerebral oedema"),
    )
    graded_domains = [d for d in domains if not (sedated and d[0] == "consciousness")]
    if sedated:
        missing.append("consciousness")
    for name, table, label in graded_domains:
        value = getattr(obs, name)
        if value is None:
            if name not in missing:
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

    assessed = screen is not None or any(getattr(obs, d[0]) is not None for d in graded_domains)
    if not sedated and (obs.ice_not_assessable or obs.capd_not_assessable):
        assessed = assessed or obs.consciousness is not None
    if not assessed:
        return GradeResult(None, tuple(findings), tuple(missing))
    grade = worst(findings)
    if len([f for f in findings if f.grade]) > 1:
        findings.append(
            Finding("Grade is the most severe domain", SOURCE, {"grade": grade}, grade)
        )
    return GradeResult(grade, tuple(findings), tuple(missing))
