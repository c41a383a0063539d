"""One round's full assessment: CRS, ICANS, NEWS2 and organ systems."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .basis import GradeResult
from .crs import grade_crs
from .icans import grade_icans
from .inputs import Baseline, Observation
from .news2 import News2Result, score_news2
from .organs import OrganSeverity, organ_severities


@dataclass(frozen=True)
class Assessment:
    crs: GradeResult
    icans: GradeResult
    news2: News2Result
    organs: dict[str, OrganSeverity]

    def as_dict(self) -> dict[str, Any]:
        return {
            "crs": self.crs.as_dict(),
            "icans": self.icans.as_dict(),
            "news2": self.news2.as_dict(),
            "organs": {name: o.as_dict() for name, o in self.organs.items()},
        }

    def organ_levels(self) -> dict[str, int]:
        return {name: o.severity for name, o in self.organs.items()}


def assess(
    obs: Observation, baseline: Baseline | None = None, on_dialysis: bool = False
) -> Assessment:
    """Return the assessment of one round."""
    baseline = baseline or Baseline()
    icans = grade_icans(obs)
    return Assessment(
        crs=grade_crs(obs),
        icans=icans,
        news2=score_news2(obs),
        organs=organ_severities(obs, baseline, icans, on_dialysis),
    )
