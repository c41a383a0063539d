"""The basis every clinical result carries: which rule, on what values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One rule that fired (or was checked) and the values it used."""

    rule: str
    source: str
    values: dict[str, Any] = field(default_factory=dict)
    grade: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "source": self.source,
            "values": self.values,
            "grade": self.grade,
        }


@dataclass(frozen=True)
class GradeResult:
    """A grade (None when it cannot be determined), its basis and gaps."""

    grade: int | None
    basis: tuple[Finding, ...]
    missing: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "basis": [f.as_dict() for f in self.basis],
            "missing": list(self.missing),
            "lower_bound": self.lower_bound,
            "display": self.display(),
        }

    @property
    def lower_bound(self) -> bool:
        """True when missing criteria could make the grade higher."""
        return self.grade is not None and bool(self.missing)

    def display(self) -> str:
        """Return the grade as a clinician should read it ("—", "2", ">= 1 ...")."""
        if self.grade is None:
            return "—"
        if not self.missing:
            return str(self.grade)
        gaps = ", ".join(m.replace("_", " ") for m in self.missing)
        return f">= {self.grade} ({gaps} not recorded)"


def worst(findings: list[Finding]) -> int:
    """Return the highest grade among ``findings`` (0 when none fired)."""
    return max((f.grade or 0 for f in findings), default=0)
