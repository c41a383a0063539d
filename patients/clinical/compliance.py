"""Observation compliance: were rounds recorded by the time they were due?

The due times are those the overdue flag uses (``flags.next_round_due`` and
``flags.ice_due``), read from each round's stored result, so the programme
figure and the ward's overdue marker can never disagree:

- a round is due at the NEWS2 minimum monitoring interval after the round
  that set it (RCP NEWS2 Chart 3; 4-6-hourly when no band is known);
- an ICE check is due ``ICE_INTERVAL_HOURS`` after the last one while ICANS
  is present, in the CAR-T ICANS risk window (days 0-14) or (local policy)
  in a window of the product label's plan (ASCO 2021; Blood Adv 2024).

Only observation rounds count: a lab result entered on its own is neither
a round due nor the round that was due (the overdue rule skips it too).

There is no grace period: the overdue flag has none either. A due time is
judged once a later round (for ICE: a later round with an ICE check) is
recorded, or once it has passed while the patient was still to be
observed: up to their last round, or to the end of their label plan's
monitoring windows when that is later, and never beyond ``now``. A due
time after the patient's last round and outside the plan is not counted
(observation had ended).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .assessment import Assessment
from .basis import GradeResult
from .flags import ICE_INTERVAL, RoundState, ice_due, next_round_due
from .inputs import Observation
from .news2 import News2Result

ROUND, ICE = "round", "ice"


@dataclass(frozen=True)
class StoredRound:
    """What a stored round says about monitoring: its time and stored result."""

    time: datetime
    news2_total: int | None
    news2_monitoring: str  # "" when the round reached no NEWS2 band
    icans_grade: int | None
    ice_recorded: bool  # an ICE score, or ICE recorded as not assessable
    # A lab result entered on its own: not an observation round, so it is
    # neither due nor counts as the round that was due.
    lab_only: bool = False

    def state(self) -> RoundState:
        """Return the round as the overdue rules read it (stored values only)."""
        news2 = News2Result(
            total=self.news2_total,
            parameter_scores={},
            clinical_risk=None,
            monitoring=self.news2_monitoring or None,
            complete=self.news2_total is not None,
            basis=(),
            missing=(),
        )
        return RoundState(
            time=self.time,
            # ice_due counts a round as an ICE check from these two fields.
            obs=Observation(
                time=self.time,
                ice_score=0 if self.ice_recorded else None,
                ice_not_assessable=False,
            ),
            assessment=Assessment(
                crs=GradeResult(None, ()),
                icans=GradeResult(self.icans_grade, ()),
                news2=news2,
                organs={},
            ),
        )


@dataclass(frozen=True)
class Due:
    """One round (or ICE check) the rules called due, and when it came."""

    kind: str  # ROUND or ICE
    set_at: datetime  # the round whose result (or the dose that) set the due time
    due_at: datetime
    done_at: datetime | None  # the first qualifying round after set_at

    @property
    def on_time(self) -> bool:
        return self.done_at is not None and self.done_at <= self.due_at

    @property
    def hours_late(self) -> float | None:
        if self.done_at is None or self.on_time:
            return None
        return (self.done_at - self.due_at).total_seconds() / 3600


def observed_until(
    rounds: Sequence[StoredRound], plan_windows: Sequence[Any], now: datetime
) -> datetime | None:
    """Return the end of the span in which the patient was to be observed."""
    if not rounds:
        return None
    ends = [rounds[-1].time, *(w.end for w in plan_windows)]
    return min(max(ends), now)


def dues(
    rounds: Sequence[StoredRound],
    now: datetime,
    day0: datetime | None = None,
    exposure_kind: str | None = None,
    ice_interval: timedelta = ICE_INTERVAL,
    windows: Sequence[Any] = (),
) -> list[Due]:
    """Return every judged due time of one patient's rounds, in time order.

    ``rounds`` are the patient's final rounds in time order; ``windows`` the
    ICE windows of their label plan (``products.ice_windows``).
    """
    rounds = sorted((r for r in rounds if not r.lab_only), key=lambda r: r.time)
    until = observed_until(rounds, windows, now)
    if until is None:
        return []
    states = [r.state() for r in rounds]
    ice_rounds = [i for i, r in enumerate(rounds) if r.ice_recorded]
    found: list[Due] = []
    seen_ice: set[datetime] = set()
    since_complete = 0  # the last round with a full NEWS2, as far as next_round_due looks
    last_ice: int | None = None
    for i, state in enumerate(states):
        if state.assessment.news2.total is not None:
            since_complete = i
        if rounds[i].ice_recorded:
            last_ice = i
        # next_round_due looks back no further than the last full NEWS2, and
        # ice_due reads only the first round, the last ICE check and the
        # current round: the short histories give the same answers in
        # linear time.
        due_at, _ = next_round_due(states[since_complete : i + 1])
        after = rounds[i + 1].time if i + 1 < len(rounds) else None
        found.append(_judged(ROUND, state.time, due_at, after, until))
        short = [states[0]] + ([states[last_ice]] if last_ice is not None else []) + [state]
        later_ice = next((rounds[j].time for j in ice_rounds if j > i), None)
        # Each deadline is judged with the doses known when it was set: at
        # this round, then at each dose given before the next round (a new
        # window restarts the ICE clock from then on, never before).
        doses_after = [
            w.start for w in windows if state.time < w.start and (after is None or w.start < after)
        ]
        for set_at in (state.time, *sorted(doses_after)):
            ice_at = ice_due(short, day0, exposure_kind, ice_interval, windows, at=set_at)
            # Rounds without an ICE check leave the deadline where it was:
            # one due time, judged by the next ICE check whenever it came.
            if ice_at is None or ice_at in seen_ice:
                continue
            seen_ice.add(ice_at)
            found.append(_judged(ICE, set_at, ice_at, later_ice, until))
    return [d for d in found if d is not None]


def _judged(
    kind: str, set_at: datetime, due_at: datetime, done_at: datetime | None, until: datetime
) -> Due | None:
    if done_at is None and due_at > until:
        return None  # not yet due, or due after observation ended
    return Due(kind, set_at, due_at, done_at)


@dataclass(frozen=True)
class OnTime:
    """How many due times were met, of those judged, and how many never were."""

    on_time: int
    due: int
    missed: int = 0  # nothing recorded after the due time while observed

    @property
    def late(self) -> int:
        return self.due - self.on_time - self.missed

    @property
    def percent(self) -> int | None:
        return None if not self.due else round(100 * self.on_time / self.due)


def on_time(found: Sequence[Due], kind: str) -> OnTime:
    """Return how many due times of ``kind`` were met by their due time."""
    judged = [d for d in found if d.kind == kind]
    return OnTime(
        sum(d.on_time for d in judged),
        len(judged),
        sum(d.done_at is None for d in judged),
    )
