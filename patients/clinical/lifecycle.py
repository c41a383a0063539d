"""Flag lifecycle: merge repeats, open new flags, resolve cleared ones.

Pure: the database write path and ``manage.py assess`` (and the demo data)
both call ``after_round`` for each round and apply what it returns, so the
two can never run the steps in a different order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .flags import (
    DEFAULT_PERSISTENCE,
    SEVERITY_RANK,
    FlagEvent,
    RoundState,
    metric_value,
    round_events,
)

DEFAULT_RESOLVE_PERIOD = timedelta(hours=24)
SUPERSEDED = "Superseded by a more severe flag for the same condition"
AUTO_RESOLVED = "Resolved automatically: {reason}"

# Overdue flags are states, not transitions: a later check refreshes the
# open flag instead of opening another.
STATE_KINDS = {"overdue"}


@dataclass
class OpenFlag:
    """A flag that is open or acknowledged (not resolved)."""

    key: str
    kind: str
    severity: str
    opened_at: datetime
    last_active_at: datetime
    acknowledged: bool = False
    metric: str | None = None
    above: float = 0
    ref: Any = None  # the caller's handle (a model instance, an index)


@dataclass(frozen=True)
class Decision:
    opened: list[FlagEvent]
    refreshed: list[tuple[OpenFlag, FlagEvent]]
    superseded: list[OpenFlag]


def apply_events(flags: list[OpenFlag], events: list[FlagEvent], now: datetime) -> Decision:
    """Decide which events open a new flag and which refresh an open one.

    An event no more severe than the unacknowledged open flag with its key
    refreshes that flag. A more severe one opens a new flag and supersedes
    the old, so an escalation is never hidden inside an older, milder flag.
    After acknowledgement, a new worsening opens a new flag: the clinician
    has seen the old one, not this.
    """
    by_key = {f.key: f for f in flags}
    opened, refreshed, superseded = [], [], []
    for event in events:
        match = by_key.get(event.key)
        if match and event.kind in STATE_KINDS:
            match.last_active_at = now
            refreshed.append((match, event))
        elif match and not match.acknowledged:
            if SEVERITY_RANK[event.severity] > SEVERITY_RANK[match.severity]:
                superseded.append(match)
                del by_key[event.key]
                opened.append(event)
            else:
                match.last_active_at = now
                refreshed.append((match, event))
        else:
            opened.append(event)
    return Decision(opened, refreshed, superseded)


def cleared(
    flags: list[OpenFlag], state: RoundState, period: timedelta
) -> list[tuple[OpenFlag, str]]:
    """Return flags whose condition has cleared, with the reason.

    Overdue flags clear when the awaited round (or ICE check) arrives.
    Other flags clear once their watched value has stayed at or below its
    level before the flag for ``period``; an unmeasured value keeps a flag
    open, since absence of data is not improvement.
    """
    out = []
    for flag in flags:
        if flag.kind == "overdue":
            ice_done = state.obs.ice_score is not None or state.obs.ice_not_assessable
            if flag.key != "overdue:ice" or ice_done:
                out.append((flag, f"Round recorded at {state.time.isoformat()}"))
            continue
        if flag.metric is None:
            continue
        value = metric_value(flag.metric, state)
        if value is None or value > flag.above:
            flag.last_active_at = max(flag.last_active_at, state.time)
        elif state.time - flag.last_active_at >= period:
            hours = period.total_seconds() / 3600
            out.append(
                (
                    flag,
                    f"Condition absent for {hours:g} h (last seen "
                    f"{flag.last_active_at.isoformat()})",
                )
            )
    return out


@dataclass(frozen=True)
class RoundChanges:
    """What one round does to the open flags, in the order it happens."""

    resolved: list[tuple[OpenFlag, str]]  # (flag, reason): cleared or superseded
    refreshed: list[tuple[OpenFlag, FlagEvent]]
    opened: list[FlagEvent]


def after_round(
    flags: list[OpenFlag],
    history: list[RoundState],
    persistence: timedelta = DEFAULT_PERSISTENCE,
    resolve_period: timedelta = DEFAULT_RESOLVE_PERIOD,
    newest: bool = True,
    extra: list[FlagEvent] | None = None,
) -> RoundChanges:
    """Return how the last round of ``history`` changes the open ``flags``.

    First the flags whose condition has cleared resolve (only when the
    round is the patient's newest: a back-dated round says nothing about
    now); then the round's events (and ``extra`` ones the course-level
    follow-up rules raised at this round) refresh, supersede or open flags.
    ``last_active_at`` of the flags is updated in place.
    """
    state = history[-1]
    gone = cleared(flags, state, resolve_period) if newest else []
    resolved = [(flag, AUTO_RESOLVED.format(reason=reason)) for flag, reason in gone]
    still_open = [f for f in flags if all(f is not g for g, _ in gone)]
    events = round_events(history, persistence) + list(extra or [])
    decision = apply_events(still_open, events, state.time)
    resolved += [(flag, SUPERSEDED) for flag in decision.superseded]
    return RoundChanges(resolved, decision.refreshed, decision.opened)


def after_clock(flags: list[OpenFlag], events: list[FlagEvent], now: datetime) -> RoundChanges:
    """Return how events raised by the clock alone (overdue) change the flags."""
    decision = apply_events(flags, events, now)
    resolved = [(flag, SUPERSEDED) for flag in decision.superseded]
    return RoundChanges(resolved, decision.refreshed, decision.opened)
