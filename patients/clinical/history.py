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


@dataclass(frozen=True)
class Given:
    """One intervention: what, when, and its details (dose, route)."""

    time: datetime
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)
    # Why it was given: "crs", "icans", "premedication", "prophylaxis",
    # "other", or "" when not stated (see episodes.py).
    indication: str = ""


def on_dialysis_at(time: datetime, given: list[Given]) -> bool:
    return any(g.kind == "dialysis" and g.time <= time for g in given)
