"""The last known value of each grade, as the queue, header and handover
show it.

A partial round (a temperature alone, labs only) grades only what it
recorded: its grade is a lower bound. It never replaces a higher grade
from an earlier round until later rounds have assessed again every
criterion that earlier round recorded (a complete grade does it at once);
until then the higher known grade is shown, with its time, and a lower
bound that is higher wins. Once every criterion behind an old grade has a
newer value, the old grade is history, not the patient's state: an ICE
screen of 10/10 replaces the ICANS grade 3 that an ICE of 2 gave, even
when seizures, motor findings and raised pressure were never charted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .basis import GradeResult

if TYPE_CHECKING:
    from .flags import RoundState


@dataclass(frozen=True)
class KnownGrade:
    """A grade to display, where it came from, and whether it is a floor."""

    grade: int | None
    time: datetime | None
    index: int | None  # position of its round in the course
    lower_bound: bool = False
    missing: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "grade": self.grade,
            "at": self.time.isoformat() if self.time else None,
            "lower_bound": self.lower_bound,
            "missing": list(self.missing),
        }


def known_grade(results: Sequence[tuple[datetime, GradeResult]]) -> KnownGrade:
    """Return the grade to show from a course of (time, result), oldest first.

    Walks back from the latest graded round; an earlier round counts while
    it recorded a criterion that no later round has recorded again. The
    highest grade among the rounds that count is shown.
    """
    best: KnownGrade | None = None
    # The criteria no round walked so far has recorded (None: none walked).
    never_again: set[str] | None = None
    for index in range(len(results) - 1, -1, -1):
        time, result = results[index]
        if result.grade is None:
            continue
        missing = set(result.missing)
        if never_again is not None and never_again <= missing:
            # Everything this round recorded has a newer value.
            break
        candidate = KnownGrade(result.grade, time, index, bool(missing), result.missing)
        if best is None or candidate.grade > best.grade:
            best = candidate
        never_again = missing if never_again is None else never_again & missing
    return best or KnownGrade(None, None, None)


def known_grades(states: Sequence[RoundState]) -> dict[str, KnownGrade]:
    """Return the CRS and ICANS grades to show after ``states``."""
    return {
        name: known_grade([(s.time, getattr(s.assessment, name)) for s in states])
        for name in ("crs", "icans")
    }
