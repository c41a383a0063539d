"""Doses entered out of the order the label's schedule gives them.

A dose dated before day 0, a step recorded twice, or a step dated before an
earlier step of the schedule (or after a later one) is usually a mistyped
date or a wrong pick; the dose form asks once and the recorder may confirm
(local policy, DERIVED: the schedule order itself is the label's, from the
product catalogue). Nothing here refuses a dose.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

# A dose outside the label's schedule has no place in its order.
OFF_SCHEDULE = "other"


def odd_dose(
    step: str,
    given_at: datetime,
    schedule: Sequence[tuple[str, str]],
    recorded: Sequence[tuple[str, datetime]],
    day0_start: datetime | None,
    zone: ZoneInfo,
) -> list[str]:
    """Return what is odd about recording ``step`` at ``given_at``, in words.

    ``schedule`` is the label's steps in order as (id, words); ``recorded``
    the patient's doses already recorded as (step id, time).
    """

    def at(t: datetime) -> str:
        return f"{t.astimezone(zone):%d %b %Y %H:%M}"

    names = dict(schedule)
    order = {sid: i for i, (sid, _) in enumerate(schedule)}
    odd = []
    if day0_start is not None and given_at < day0_start:
        odd.append(f"it is before day 0 ({day0_start.astimezone(zone):%d %b %Y})")
    if step == OFF_SCHEDULE or step not in order:
        return odd
    for other, other_at in recorded:
        if other == step:
            odd.append(f"{names[step]} is already recorded, given {at(other_at)}")
        elif other in order and order[other] < order[step] and other_at > given_at:
            odd.append(f"it is before {names[other]}, given {at(other_at)}")
        elif other in order and order[other] > order[step] and other_at < given_at:
            odd.append(f"it is after {names[other]}, given {at(other_at)}")
    return odd


def next_step(schedule: Sequence[tuple[str, str]], recorded_steps: set[str]) -> str | None:
    """Return the first step of the schedule not yet recorded."""
    return next((sid for sid, _ in schedule if sid not in recorded_steps), None)
