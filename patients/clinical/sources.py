"""The sources every clinical rule cites, by key.

Full references are in the README's "Clinical sources" section; the keys
appear in every basis so a clinician can trace each rule.
"""

from __future__ import annotations

SOURCES: dict[str, str] = {
    "ASTCT2019": (
        "Lee DW et al. ASTCT Consensus Grading for Cytokine Release Syndrome and "
        "Neurologic Toxicity Associated with Immune Effector Cells. "
        "Biol Blood Marrow Transplant 2019;25(4):625-638. doi:10.1016/j.bbmt.2018.12.758"
    ),
    "NEWS2": (
        "Royal College of Physicians. National Early Warning Score (NEWS) 2. "
        "London: RCP, 2017 (Charts 1-4)"
    ),
    "CTCAE5": "NCI Common Terminology Criteria for Adverse Events v5.0 (27 Nov 2017)",
    "ASCO2021": (
        "Santomasso BD et al. Management of Immune-Related Adverse Events in Patients "
        "Treated With CAR T-Cell Therapy: ASCO Guideline. J Clin Oncol 2021;39(35):3978-3992"
    ),
    "CARTOX2018": (
        "Neelapu SS et al. Chimeric antigen receptor T-cell therapy: assessment and "
        "management of toxicities. Nat Rev Clin Oncol 2018;15:47-62"
    ),
    "ARTICLE": (
        "Patient-education article on cytokine release syndrome (symptoms by organ "
        "system, causes, treatments, escalation advice)"
    ),
    "BLOODADV2024": (
        "Blood Adv 2024;8:5346 (475 patients, axi-cel/tisa-cel/liso-cel): no new CRS "
        "after day 14; new ICANS after day 14 in 0.7 %"
    ),
    "WHO2021": (
        "WHO. Therapeutics and COVID-19: living guideline (corticosteroids, 2 Sep 2020; "
        "IL-6 receptor blockers, Update 4, 2021); severity criteria as in BMJ 2020;370:m3379"
    ),
    "IDSA2011": (
        "Freifeld AG et al. Clinical practice guideline for the use of antimicrobial agents "
        "in neutropenic patients with cancer: 2010 update by the IDSA. Clin Infect Dis "
        "2011;52(4):e56-e93"
    ),
    "LABEL_TOCILIZUMAB": (
        "Tocilizumab (Actemra) prescribing information, cytokine release syndrome dosing "
        "(drugs.com, 2019 and 2023 versions)"
    ),
    "COLUMVI_LABEL": (
        "Glofitamab (Columvi) prescribing information as restated by Medscape: CRS symptoms "
        "resolved at least 72 h before the next dose"
    ),
}


def cite(key: str) -> str:
    """Return the short citation for ``key``; unknown keys are a bug."""
    return SOURCES[key]


KEY_OF = {text: key for key, text in SOURCES.items()}


def compact(value):
    """Return ``value`` with every full citation replaced by its key.

    Stored assessments repeat their sources in every finding; keys keep
    them small, and ``expand`` restores the text for display.
    """
    if isinstance(value, dict):
        return {k: KEY_OF.get(v, v) if k == "source" else compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def citation(key_or_text: str) -> str:
    return SOURCES.get(key_or_text, key_or_text)
