"""The course after the first days: ICAHT, the IEC-HS prompt, late neurotoxicity.

These read the whole course since day 0 (not only the recent rounds the
per-round flag rules look at) and return what one round's entry means:
its findings, stored with the round, and the flags they raise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .episodes import EndRule, GradedRound
from .flags import FlagEvent, rise_severity
from .icaht import icaht_grades
from .iechs import crs_settled_at, iec_hs_prompt
from .products import Product, day_number

# The labs the course-level rules (ICAHT, the IEC-HS prompt) read.
FOLLOWUP_LABS = ("anc_10e9_l", "platelets_10e9_l", "ferritin_ug_l")
# Local policy (derived): an ICAHT grade rise is as severe as a CRS or ICANS
# grade rise to the same grade (flags.rise_severity); the IEC-HS prompt and
# a late-neurotoxicity "yes" are high.


def followup_findings(
    labs: list[tuple[datetime, dict[str, float]]],
    crs: Sequence[GradedRound],
    day0: datetime | None,
    at: datetime,
    rises_needed: int,
    rule: EndRule | None = None,
) -> dict[str, Any]:
    """Return the ICAHT grades (with ``day0``, after CAR-T) and the IEC-HS
    prompt as they stand at ``at``."""
    settled_at = crs_settled_at(crs, at, rule)
    out: dict[str, Any] = {"icaht": [g.as_dict() for g in icaht_grades(labs, day0, at)]}
    ferritin = [(t, v["ferritin_ug_l"]) for t, v in labs if "ferritin_ug_l" in v]
    prompt = iec_hs_prompt(ferritin, settled_at, at, rises_needed)
    out["iec_hs"] = prompt.as_dict() if prompt else None
    return out


def followup_events(before: dict[str, Any] | None, now: dict[str, Any]) -> list[FlagEvent]:
    """Return the flags raised going from the findings ``before`` to ``now``:
    an ICAHT grade that rose, and the IEC-HS prompt when it first appears."""
    before = before or {}
    earlier = {(g["lineage"], g["phase"]): g.get("grade") or 0 for g in before.get("icaht", [])}
    events = []
    for g in now.get("icaht", []):
        grade = g.get("grade") or 0
        if grade < 1 or grade <= earlier.get((g["lineage"], g["phase"]), 0):
            continue
        events.append(
            FlagEvent(
                kind="grade_rise",
                key=f"icaht:{g['lineage']}:{g['phase']}",
                organ_system=None,
                severity=rise_severity(grade),
                title=f"{g['title']} ({g['status']})",
                source=g["source"],
                basis={
                    "rule": g["rule"],
                    "values": g["values"],
                    "status": g["status"],
                    "severity_policy": "Local policy: as a CRS/ICANS grade rise (grade 3-4 "
                    "urgent, 2 high, 1 medium)",
                },
            )
        )
    prompt = now.get("iec_hs")
    if prompt and not before.get("iec_hs"):
        events.append(
            FlagEvent(
                kind="prompt",
                key="iec_hs",
                organ_system=None,
                severity="high",
                title=f"{prompt['title']} (local rule; IEC-HS criteria unverified)",
                source=prompt["source"],
                basis={
                    "rule": prompt["rule"],
                    "values": {"ferritin": prompt["ferritin"], "settled_at": prompt["settled_at"]},
                    "status": prompt["status"],
                },
            )
        )
    return events


def late_neuro_events(
    product: Product | None, day0: datetime | None, time: datetime, answers: dict[str, bool]
) -> list[FlagEvent]:
    """Return a flag for each late-neurotoxicity question answered yes."""
    if product is None or product.late_neuro is None or not answers:
        return []
    n = product.late_neuro
    day = f"Day +{day_number(day0, time)}" if day0 else "day unknown"
    events = []
    for q in n.questions:
        if answers.get(q.id) is not True:
            continue
        events.append(
            FlagEvent(
                kind="late_neuro",
                key=f"late_neuro:{q.id}",
                organ_system="neurological",
                severity="high",
                title=f"Possible delayed neurotoxicity ({day}): yes to '{q.text}' ({q.status})",
                source=q.source,
                basis={
                    "rule": f"Late-neurotoxicity question answered yes after {product.label}",
                    "after": {"time": time.isoformat(), q.id: True},
                    "window": f"Day +{n.from_day} to +{n.to_day} ({n.window_status}): "
                    f"{n.window_source}",
                    "context": n.context,
                    "status": q.status,
                },
            )
        )
    return events
