"""CTCAE v5.0 grades for the laboratory terms REFERENCE confirms.

Upper limits of normal (ULN) belong to the hospital's laboratory and are
configured, never assumed; without one, a lab is graded against the
patient's baseline only, and the basis says so.
"""

from __future__ import annotations

from .basis import Finding
from .sources import cite

SOURCE = cite("CTCAE5")

# CTCAE v5.0 cut-offs, as (lower multiple, grade): grade applies above it.
CREATININE_ULN = ((6.0, 4), (3.0, 3), (1.5, 2), (1.0, 1))
CREATININE_BASELINE = ((3.0, 3), (1.5, 2))
TRANSAMINASE_ULN = ((20.0, 4), (5.0, 3), (3.0, 2), (1.0, 1))
# Baseline-abnormal transaminase grade 1 starts AT 1.5 x baseline.
TRANSAMINASE_BASELINE = ((20.0, 4), (5.0, 3), (3.0, 2))
TRANSAMINASE_BASELINE_G1 = 1.5
BILIRUBIN_ULN = ((10.0, 4), (3.0, 3), (1.5, 2), (1.0, 1))
BILIRUBIN_BASELINE = ((10.0, 4), (3.0, 3), (1.5, 2), (1.0, 1))

TERMS = {
    "creatinine_umol_l": "Creatinine increased",
    "alt_u_l": "ALT increased",
    "ast_u_l": "AST increased",
    "bilirubin_umol_l": "Blood bilirubin increased",
}


def _above(ratio: float, table: tuple[tuple[float, int], ...]) -> int:
    for multiple, grade in table:
        if ratio > multiple:
            return grade
    return 0


def grade_lab(name: str, value: float, baseline: float | None, uln: float | None) -> Finding:
    """Return the CTCAE v5.0 grade of one lab value with its basis."""
    term = TERMS[name]
    values = {name: value, "baseline": baseline, "uln": uln}
    grades: list[tuple[int, str]] = []
    if name == "creatinine_umol_l":
        if uln:
            grades.append((_above(value / uln, CREATININE_ULN), f"{value / uln:.1f} x ULN"))
        if baseline:
            grades.append(
                (
                    _above(value / baseline, CREATININE_BASELINE),
                    f"{value / baseline:.1f} x baseline",
                )
            )
    else:
        is_bili = name == "bilirubin_umol_l"
        # CTCAE v5 uses baseline multiples only "if baseline was abnormal",
        # which needs the laboratory's ULN: a baseline is never assumed
        # abnormal because no ULN is configured.
        baseline_abnormal = baseline is not None and uln is not None and baseline > uln
        if uln is None:
            return Finding(
                f"{term}: ULN not configured, so not graded (CTCAE grades it against the ULN, "
                "or against baseline only when the baseline is above the ULN)",
                SOURCE,
                values,
                None,
            )
        if baseline_abnormal and baseline:
            ratio = value / baseline
            if is_bili:
                grade = _above(ratio, BILIRUBIN_BASELINE)
            else:
                grade = _above(ratio, TRANSAMINASE_BASELINE)
                if not grade and ratio >= TRANSAMINASE_BASELINE_G1:
                    grade = 1
            grades.append((grade, f"{ratio:.1f} x baseline (baseline above ULN)"))
        elif uln:
            table = BILIRUBIN_ULN if is_bili else TRANSAMINASE_ULN
            grades.append((_above(value / uln, table), f"{value / uln:.1f} x ULN"))
    if not grades:
        return Finding(f"{term}: no baseline or ULN to grade against", SOURCE, values, None)
    grade, how = max(grades)
    return Finding(f"{term} ({how}): CTCAE grade {grade}", SOURCE, values, grade)
