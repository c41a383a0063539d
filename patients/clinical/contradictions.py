"""Entries in one round that contradict each other, asked about before saving.

Nothing here changes a grade: the round is saved as entered once the nurse
confirms it. Asking is local policy (DERIVED); the thresholds it compares
against are the cited ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .crs import FEVER_THRESHOLD_C as FEVER_C
from .sources import cite

# NEWS2 chart 1: a systolic BP <= 90 mmHg is a red score (REFERENCE e, k3).
RED_SYSTOLIC = 90
# Symptom severity codes (inputs.SYMPTOM_SEVERITY): 2 moderate, 3 severe.
MODERATE = 2
# ACVPU against the ICANS level of consciousness (ASTCT 2019): "A" cannot
# sit with a patient who needs a voice or more to wake, nor V/P/U with one
# who is alert or wakes by themselves.
NEEDS_STIMULUS = {
    "awakens_to_voice",
    "awakens_only_to_tactile_stimulus",
    "unarousable",
    "stupor_or_coma",
}
AWAKE = {"alert", "awakens_spontaneously"}


@dataclass(frozen=True)
class Contradiction:
    field: str
    question: str
    source: str


def contradictions(values: dict[str, Any]) -> list[Contradiction]:
    """Return what to ask about in one round's entered values."""
    found = []
    temp = values.get("temperature_c")
    fever = (values.get("symptoms") or {}).get("fever")
    if temp is not None and fever is not None and fever >= MODERATE and temp < FEVER_C:
        found.append(
            Contradiction(
                "symptom_fever",
                f"Fever is recorded as {'severe' if fever > MODERATE else 'moderate'} but the "
                f"temperature is {temp:g} °C, below the {FEVER_C:g} °C that defines fever. "
                "Is that right?",
                cite("ASTCT2019"),
            )
        )
    sbp = values.get("systolic_bp")
    if sbp is not None and sbp <= RED_SYSTOLIC and values.get("hypotension") is None:
        found.append(
            Contradiction(
                "hypotension",
                f"Systolic BP is {sbp:g} mmHg (NEWS2 red score) but hypotension is not "
                "judged. ASTCT sets no number: answer yes or no, or confirm to save "
                "without a judgement.",
                cite("NEWS2"),
            )
        )
    acvpu, level = values.get("acvpu"), values.get("consciousness")
    if (acvpu == "A" and level in NEEDS_STIMULUS) or (acvpu in {"V", "P", "U"} and level in AWAKE):
        found.append(
            Contradiction(
                "consciousness",
                f"ACVPU is {acvpu} but the ICANS level of consciousness says otherwise. "
                "Is that right?",
                cite("ASTCT2019"),
            )
        )
    return found
