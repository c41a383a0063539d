"""Entries in one round that contradict each other, asked about before saving.

Nothing here changes a grade: the round is saved as entered once the nurse
confirms it. Asking is local policy (DERIVED); the threshold it compares
against is the cited one. (A low systolic without a hypotension judgement,
and ACVPU against the ICANS level of consciousness, are asked by the round
form itself.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .crs import FEVER_THRESHOLD_C
from .sources import cite

# Symptom severity codes (inputs.SYMPTOM_SEVERITY): 2 moderate, 3 severe.
MODERATE = 2


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
    if temp is not None and fever is not None and fever >= MODERATE and temp < FEVER_THRESHOLD_C:
        found.append(
            Contradiction(
                "symptom_fever",
                f"Fever is recorded as {'severe' if fever > MODERATE else 'moderate'} but the "
                f"temperature is {temp:g} °C, below the {FEVER_THRESHOLD_C:g} °C that defines "
                "fever. Is that right?",
                cite("ASTCT2019"),
            )
        )
    return found
