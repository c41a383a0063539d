"""Assess a whole course of rounds: what ``manage.py assess`` runs on a list.

The same steps the database write path takes, without a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from .assessment import assess
from .dosing import check_tocilizumab_dose
from .episodes import (
    EndRule,
    Episode,
    EpisodeRun,
    GradedRound,
    crs_episodes,
    describe_dose,
    fever_masked_by,
    open_episode_at,
)
from .flags import (
    DEFAULT_PERSISTENCE,
    ICE_INTERVAL,
    FlagEvent,
    RoundState,
    overdue_events,
)
from .followup import FOLLOWUP_LABS, followup_events, followup_findings, late_neuro_events
from .history import Given, on_dialysis_at
from .iechs import DEFAULT_RISES
from .inputs import Baseline, Observation
from .lifecycle import (
    DEFAULT_RESOLVE_PERIOD,
    OpenFlag,
    RoundChanges,
    after_clock,
    after_round,
)
from .presentation import presentation_of
from .products import Product
from .treatments import OptionMatch, match_options

# A lab result stands for the patient's state until the next one, up to a
# day and a half: long enough to bridge a daily blood test, no longer.
LAB_CARRY_FORWARD = timedelta(hours=36)


@dataclass
class FlagRecord:
    """A flag raised along a course, and when (if ever) it resolved."""

    event: FlagEvent
    opened_at: datetime
    round_index: int | None  # None: raised by the clock (overdue), not a round
    last_active_at: datetime | None = None
    latest_basis: dict[str, Any] | None = None  # the latest event that refreshed it
    resolved_at: datetime | None = None
    resolve_reason: str = ""


@dataclass(frozen=True)
class CourseStep:
    state: RoundState
    opened: list[FlagEvent]
    options: list[OptionMatch]
    # The CRS episode open at this round, this round included (or None).
    episode: Episode | None = None
    # Label checks of the tocilizumab doses given up to this round.
    dose_checks: tuple[dict[str, Any], ...] = ()
    followup: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {
            "time": self.state.time.isoformat(),
            **self.state.assessment.as_dict(),
            "flags": [e.as_dict() for e in self.opened],
            "treatment_options": [o.as_dict() for o in self.options],
            "crs_episode": self.episode.as_dict() if self.episode else None,
            "tocilizumab_dose_checks": list(self.dose_checks),
        }
        if self.followup is not None:
            out["followup"] = self.followup
        return out


def tocilizumab_checks(
    given: list[Given], weight_kg: float | None, until: datetime
) -> tuple[dict[str, Any], ...]:
    """Return the label check of every tocilizumab dose given up to ``until``."""
    doses = [g for g in given if g.kind == "tocilizumab" and g.time <= until]
    out = []
    for i, g in enumerate(doses):
        dose = str(g.detail.get("dose", ""))
        check = check_tocilizumab_dose(dose, weight_kg, g.time, [d.time for d in doses[:i]])
        out.append({"time": g.time.isoformat(), "dose": dose, **check.as_dict()})
    return tuple(out)


def graded_round(state: RoundState) -> GradedRound:
    crs = state.assessment.crs
    return GradedRound(state.time, crs.grade, not crs.missing)


def assess_in_context(
    obs: Observation,
    time: datetime,
    earlier: list[RoundState],
    given: list[Given],
    baseline: Baseline,
    prior: tuple[GradedRound, ...] = (),
    rule: EndRule | None = None,
    cause: str = "immunotherapy",
    episodes: EpisodeRun | None = None,
) -> RoundState:
    """Assess a round knowing what came before it and what was given.

    ``prior`` carries the CRS grades of rounds before those in ``earlier``
    (the caller may pass only a recent window of the course), so a CRS
    episode that opened earlier is still known. A caller grading a course
    in time order may pass ``episodes``, fed the grades of ``prior`` and
    ``earlier`` as it goes, instead of having them gone over again.
    """
    if episodes is None:
        graded = [*prior, *(graded_round(s) for s in earlier)]
        episode = open_episode_at(time, graded, given, rule)
    else:
        episode = episodes.open_at(time, given)
    doses = fever_masked_by(episode, time)
    labs, lab_times = carried_labs(obs, time, earlier)
    obs = replace(obs, time=time, labs=labs, lab_times=lab_times, cause=cause)
    if doses and episode is not None:
        obs = replace(
            obs,
            crs_treated=True,
            crs_episode_onset=episode.onset,
            fever_masked_by=tuple(describe_dose(g)["text"] for g in doses),
            crs_episode_rule=episode.rule.describe(),
        )
    return RoundState(time, obs, assess(obs, baseline, on_dialysis_at(time, given)))


def episode_through(
    states: list[RoundState],
    given: list[Given],
    rule: EndRule | None = None,
    prior: tuple[GradedRound, ...] = (),
) -> Episode | None:
    """Return the CRS episode open at the last of ``states``, if any."""
    episodes = crs_episodes([*prior, *(graded_round(s) for s in states)], given, rule)
    if episodes and episodes[-1].resolved_at is None:
        return episodes[-1]
    return None


def carried_labs(
    obs: Observation, time: datetime, earlier: list[RoundState]
) -> tuple[dict[str, float], dict[str, datetime]]:
    """Return the round's labs, the latest earlier value standing in for one
    not measured this round (labs are daily, rounds 4-hourly), with when
    each was measured."""
    labs = dict(obs.labs)
    times = {name: obs.lab_times.get(name, time) for name in labs}
    for state in reversed(earlier):
        if time - state.time > LAB_CARRY_FORWARD:
            break
        for name, value in state.obs.labs.items():
            if name not in labs:
                labs[name] = value
                times[name] = state.obs.lab_times.get(name, state.time)
    return labs, times


def assess_course(
    rounds: list[Observation],
    given: list[Given] | None = None,
    baseline: Baseline | None = None,
    day0: datetime | None = None,
    exposure_kind: str | None = None,
    cause: str = "immunotherapy",
    windows: Sequence[Any] = (),
    persistence: timedelta = DEFAULT_PERSISTENCE,
    resolve_period: timedelta = DEFAULT_RESOLVE_PERIOD,
    followup: Followup | None = None,
    episode_rule: EndRule | None = None,
    weight_kg: float | None = None,
    ice_interval: timedelta = ICE_INTERVAL,
) -> tuple[list[CourseStep], list[FlagRecord]]:
    """Return each round's assessment and the flags it opened, in time order,
    and every flag with its resolution.

    With ``followup``, rounds carrying blood counts or ferritin also get
    their ICAHT grades and the IEC-HS prompt, and late-neurotoxicity answers
    raise flags, as when recorded on the ward.
    """
    given = given or []
    baseline = baseline or Baseline()
    states: list[RoundState] = []
    flags: list[OpenFlag] = []
    steps = []
    records: list[FlagRecord] = []
    episodes = EpisodeRun(episode_rule or EndRule())
    for index, obs in enumerate(sorted(rounds, key=lambda o: o.time)):
        time = obs.time
        state = assess_in_context(
            obs, time, states, given, baseline, cause=cause, episodes=episodes
        )
        episodes.add(graded_round(state))
        # What the overdue scan would have raised just before this round.
        late_events = overdue_events(states, time, day0, exposure_kind, ice_interval, windows)
        late = after_clock(flags, late_events, time)
        _apply(late, flags, records, time, None)
        states.append(state)
        findings, more = followup.step(states) if followup is not None else (None, [])
        changes = after_round(flags, states, persistence, resolve_period, extra=more)
        _apply(changes, flags, records, time, index)
        episode = episode_through(states, given, episode_rule)
        checks = tocilizumab_checks(given, weight_kg, time)
        notes = tuple(
            f"Dose {c['dose']} at {c['time']}: {w}" for c in checks for w in c["warnings"]
        )
        presentation = presentation_of(states, given, cause, persistence, episode)
        options = match_options(replace(presentation, tocilizumab_dose_notes=notes))
        opened = late.opened + changes.opened
        steps.append(CourseStep(state, opened, options, episode, checks, findings))
    return steps, records


def _apply(
    changes: RoundChanges,
    flags: list[OpenFlag],
    records: list[FlagRecord],
    time: datetime,
    index: int | None,
) -> None:
    """Apply ``changes`` to the open ``flags`` and the course's flag records."""
    for flag, reason in changes.resolved:
        flags.remove(flag)
        flag.ref.resolved_at = time
        flag.ref.resolve_reason = reason
    for flag, event in changes.refreshed:
        flag.ref.latest_basis = event.basis
    for event in changes.opened:
        records.append(FlagRecord(event, time, index))
        flags.append(
            OpenFlag(
                ref=records[-1],
                key=event.key,
                kind=event.kind,
                severity=event.severity,
                opened_at=time,
                last_active_at=time,
                metric=event.metric,
                above=event.above,
            )
        )
    for flag in flags:
        flag.ref.last_active_at = flag.last_active_at


@dataclass(frozen=True)
class Followup:
    """What the course-level rules need: product, day 0, and the IEC-HS setting."""

    product: Product | None
    day0: datetime | None
    icaht: bool  # ICAHT is graded after CAR-T only
    rises_needed: int = DEFAULT_RISES
    rule: EndRule | None = None

    def step(self, states: list[RoundState]) -> tuple[dict[str, Any] | None, list[FlagEvent]]:
        """Return the last round's follow-up findings and the flags they raise."""
        cur = states[-1]
        events = late_neuro_events(self.product, self.day0, cur.time, cur.obs.late_neuro)
        if not any(n in own_labs(cur) for n in FOLLOWUP_LABS):
            return None, events
        labs = [(s.time, own_labs(s)) for s in states]
        labs = [(t, v) for t, v in labs if any(n in v for n in FOLLOWUP_LABS)]
        crs = [graded_round(s) for s in states]

        def at(time: datetime) -> dict[str, Any]:
            day0 = self.day0 if self.icaht else None
            return followup_findings(labs, crs, day0, time, self.rises_needed, self.rule)

        findings = at(cur.time)
        before = at(labs[-2][0]) if len(labs) > 1 else None
        return findings, events + followup_events(before, findings)


def own_labs(state: RoundState) -> dict[str, float]:
    """Return the labs measured at this round (not carried from an earlier one)."""
    obs = state.obs
    return {n: v for n, v in obs.labs.items() if obs.lab_times.get(n, state.time) == state.time}
