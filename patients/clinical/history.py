"""What the patient has been given, as the grading rules need it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

INTERVENTION_KINDS = (
    "antipyretic",
    "tocilizumab",
    "siltuximab",
    "anakinra",
    "corticosteroid",
    "iv_fluids",
    "vasopressor",
    "oxygen_escalation",
    "transfusion",
    "dialysis",
    "icu_transfer",
    "antiseizure",
)
# ASTCT 2019: after anti-cytokine therapy or steroids (e.g. tocilizumab,
# corticosteroids) fever is no longer required to grade CRS.
ANTI_CYTOKINE_OR_STEROID = {"tocilizumab", "siltuximab", "anakinra", "corticosteroid"}
# ASTCT 2019: an antipyretic masks fever too, but only "in a patient who
# has CRS": it counts once an earlier round was graded CRS >= 1.
ANTIPYRETIC = "antipyretic"


@dataclass(frozen=True)
class Given:
    """One intervention: what, when, and its details (dose, route)."""

    time: datetime
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


def crs_treated_at(time: datetime, given: list[Given], had_crs_before: bool) -> bool:
    """Return True when CRS counts as treated at ``time`` (fever masked)."""
    for g in given:
        if g.time > time:
            continue
        if g.kind in ANTI_CYTOKINE_OR_STEROID:
            return True
        if g.kind == ANTIPYRETIC and had_crs_before:
            return True
    return False


def on_dialysis_at(time: datetime, given: list[Given]) -> bool:
    return any(g.kind == "dialysis" and g.time <= time for g in given)
