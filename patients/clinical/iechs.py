"""A prompt to consider IEC-HS / HLH evaluation: a local rule, not a criterion.

REFERENCE k9: the ASTCT IEC-HS criteria and grading (Hines et al., 2023)
are [unverified] there, so no IEC-HS threshold is applied. What is applied
is local policy (DERIVED): ferritin that keeps rising after CRS has
settled prompts a clinician to consider the evaluation. How many
consecutive rises count is a setting (``IEC_HS_FERRITIN_RISES``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .episodes import EndRule, GradedRound, crs_episodes

SOURCE = (
    "Hines MR et al., ASTCT consensus on IEC-associated HLH-like syndrome (IEC-HS), "
    "Transplant Cell Ther 2023 (PubMed 36906275): criteria and grading unverified in "
    "this product's reference (REFERENCE k9); local rule (derived)"
)
STATUS = "unverified"
DEFAULT_RISES = 2


@dataclass(frozen=True)
class IecHsPrompt:
    settled_at: datetime
    ferritin: tuple[tuple[datetime, float], ...]
    rises: int
    rule: str
    values: dict[str, Any] = field(default_factory=dict)
    source: str = SOURCE
    status: str = STATUS

    title = "Consider IEC-HS / HLH evaluation: ferritin keeps rising after CRS settled"

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "settled_at": self.settled_at.isoformat(),
            "ferritin": [{"time": t.isoformat(), "ferritin_ug_l": v} for t, v in self.ferritin],
            "rises": self.rises,
            "rule": self.rule,
            "source": self.source,
            "status": self.status,
            "local_rule": True,
        }


def iec_hs_prompt(
    ferritin: list[tuple[datetime, float]],
    settled_at: datetime | None,
    at: datetime,
    rises_needed: int = DEFAULT_RISES,
) -> IecHsPrompt | None:
    """Return the prompt when ferritin has risen ``rises_needed`` times in a
    row since CRS settled (the last value at settling is the starting point),
    up to ``at``; else None."""
    if settled_at is None or settled_at > at:
        return None
    series = sorted((t, v) for t, v in ferritin if t <= at)
    before = [p for p in series if p[0] <= settled_at]
    after = [p for p in series if p[0] > settled_at]
    run = ([before[-1]] if before else []) + after
    # Count the rises at the end of the run: a fall starts the count again.
    rising = [run[-1]] if run else []
    for earlier in reversed(run[:-1]):
        if earlier[1] < rising[0][1]:
            rising.insert(0, earlier)
        else:
            break
    rises = len(rising) - 1
    if rises < rises_needed or not after:
        return None
    shown = " -> ".join(f"{v:g}" for _, v in rising)
    return IecHsPrompt(
        settled_at=settled_at,
        ferritin=tuple(rising),
        rises=rises,
        rule=(
            f"Local rule (derived, not a diagnostic criterion): ferritin rose {rises} times in "
            f"a row ({shown} µg/L) after CRS settled; setting: {rises_needed} rises. IEC-HS "
            "criteria and grading are unverified here: no IEC-HS threshold is applied"
        ),
        values={"ferritin_ug_l": [v for _, v in rising], "rises_needed": rises_needed},
    )


def crs_settled_at(
    rounds: Sequence[GradedRound], at: datetime, rule: EndRule | None = None
) -> datetime | None:
    """Return when the last CRS episode before ``at`` resolved, by the
    episode module's end rule; None while CRS is open or if there was none."""
    episodes = crs_episodes([r for r in rounds if r.time <= at], (), rule, now=at)
    if episodes and episodes[-1].resolved_at is not None:
        return episodes[-1].resolved_at
    return None
