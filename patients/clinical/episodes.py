"""CRS episodes: onset, end, maximum grade and the doses that masked fever.

ASTCT 2019 drops the fever requirement only "once a patient who has CRS"
has had antipyretic or anti-cytokine therapy, to grade *subsequent* CRS
(REFERENCE k1, narrow reading). So the product needs an episode: it opens
at the first round graded CRS >= 1 (which needs fever, ASTCT's onset) and
closes by the end rule below. While it is open, a tocilizumab, siltuximab,
anakinra, corticosteroid or antipyretic dose given after its onset for
CRS masks fever. Doses recorded as premedication, prophylaxis or for
ICANS never do, and neither does any dose given before the onset.

No source defines when CRS has resolved (REFERENCE k1: the clinician
records the date). The end rule here is local policy, stated as such in
every basis that uses it.

ICANS episodes (registry.py) use the same definition over ICANS grades:
no source defines ICANS resolution either, so their end rule is local
policy too, with the same interval.

These functions take the course's per-round grades as plain values so the
same episodes serve grading, the patient page and registry summaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .history import Given

# REFERENCE k1 (DERIVED rule): the kinds of therapy that mask fever inside
# a CRS episode.
MASKING_KINDS = ("tocilizumab", "siltuximab", "anakinra", "corticosteroid", "antipyretic")
# Why a dose was given. Premedication (bispecific step-up doses: REFERENCE
# k1 label table), prophylaxis (CIBMTR 4100: counts only if continued after
# diagnosis, which a later dose "for CRS" records) and ICANS never mask
# CRS fever. A dose with no stated reason, given inside an open episode,
# counts as treatment of that episode.
INDICATIONS = ("crs", "icans", "premedication", "prophylaxis", "other")
INDICATION_LABELS = {
    "crs": "Treatment of CRS",
    "icans": "Treatment of ICANS",
    "premedication": "Premedication (e.g. before a bispecific step-up dose)",
    "prophylaxis": "Prophylaxis",
    "other": "Other reason",
}
NEVER_MASKING = {"icans", "premedication", "prophylaxis", "other"}
# Local policy (DERIVED, REFERENCE k1): an episode ends at the first round
# free of fever, hypotension and hypoxia (CRS grade 0, every criterion
# recorded) that no CRS-positive round follows for this long. 72 h is the
# symptom-free interval the Columvi label asks before re-dosing after CRS.
DEFAULT_CLEAR_HOURS = 72


@dataclass(frozen=True)
class EndRule:
    """The rule that closes a CRS episode (a setting)."""

    clear_hours: int = DEFAULT_CLEAR_HOURS
    # Which grade the episode follows (a class constant, not a field).
    kind = "crs"

    @property
    def clear_for(self) -> timedelta:
        return timedelta(hours=self.clear_hours)

    def describe(self) -> str:
        return (
            "Local policy (DERIVED, not a guideline rule; no source defines CRS resolution): "
            "a CRS episode ends at the first round with no fever, hypotension or hypoxia "
            f"(CRS grade 0, all criteria recorded) not followed by CRS within "
            f"{self.clear_hours} h (the symptom-free interval the Columvi label asks before "
            "re-dosing). A recurrence after that is a new episode and needs fever again."
        )


@dataclass(frozen=True)
class IcansEndRule(EndRule):
    """The rule that closes an ICANS episode: the CRS rule's interval."""

    kind = "icans"

    def describe(self) -> str:
        return (
            "Local policy (DERIVED, not a guideline rule; no source defines ICANS resolution): "
            "an ICANS episode ends at the first round graded ICANS 0 with the ICE (or CAPD) "
            f"screen recorded, not followed by ICANS within {self.clear_hours} h (the same "
            f"interval as the CRS episode rule: the episode end interval, {self.clear_hours} h "
            "(a setting))."
        )


@dataclass(frozen=True)
class GradedRound:
    """One round's CRS result, as episodes need it."""

    time: datetime
    grade: int | None
    # Every CRS criterion was recorded (a complete grade, not a lower bound);
    # for ICANS, the ICE or CAPD screen was recorded.
    complete: bool


@dataclass(frozen=True)
class Episode:
    """One CRS episode, open or ended."""

    onset: datetime
    max_grade: int
    max_grade_at: datetime
    last_positive_at: datetime
    # The first round of the clear run that ended it (None while open).
    resolved_at: datetime | None
    masking_doses: tuple[Given, ...]
    rule: EndRule

    def open_at(self, time: datetime) -> bool:
        return self.onset <= time and (self.resolved_at is None or time < self.resolved_at)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.rule.kind,
            "onset": self.onset.isoformat(),
            "max_grade": self.max_grade,
            "max_grade_at": self.max_grade_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "masking_doses": [describe_dose(g) for g in self.masking_doses],
            "end_rule": self.rule.describe(),
        }


def masks_fever(given: Given) -> bool:
    """Return True when this dose may count as treatment of CRS."""
    return given.kind in MASKING_KINDS and given.indication not in NEVER_MASKING


def describe_dose(given: Given) -> dict[str, Any]:
    detail = {k: v for k, v in given.detail.items() if v not in ("", None)}
    text = given.kind
    if detail.get("drug"):
        text += f" ({detail['drug']})"
    if detail.get("dose"):
        text += f" {detail['dose']}"
    return {
        "time": given.time.isoformat(),
        "kind": given.kind,
        "indication": given.indication or "not stated",
        "text": f"{text} at {given.time:%Y-%m-%d %H:%M}",
    }


def crs_episodes(
    rounds: Sequence[GradedRound],
    given: Sequence[Given] = (),
    rule: EndRule | None = None,
    now: datetime | None = None,
) -> tuple[Episode, ...]:
    """Return the CRS episodes of a course, oldest first.

    ``rounds`` carry the grades already computed; ``now`` (default: the
    last round) decides whether a final clear run has lasted long enough
    to end the last episode.
    """
    run = EpisodeRun(rule or EndRule())
    ordered = sorted(rounds, key=lambda r: r.time)
    for rnd in ordered:
        run.add(rnd)
    return run.episodes(given, now or (ordered[-1].time if ordered else None))


class EpisodeRun:
    """Episodes worked out round by round, oldest round first.

    ``crs_episodes`` feeds it a whole course; grading a course in time
    order asks it for the episode open at each round (``open_at``) without
    going over the earlier rounds again, with the same result as
    ``open_episode_at`` over them.
    """

    def __init__(self, rule: EndRule) -> None:
        self.rule = rule
        self.closed: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        # Added but not yet counted: a round counts only for later times.
        self.waiting: list[GradedRound] = []

    def add(self, rnd: GradedRound) -> None:
        """Add the next round (none earlier than those already added)."""
        self.waiting.append(rnd)

    def _count_before(self, time: datetime | None) -> None:
        taken = 0
        for rnd in self.waiting:
            if time is not None and rnd.time >= time:
                break
            self._count(rnd)
            taken += 1
        del self.waiting[:taken]

    def _count(self, rnd: GradedRound) -> None:
        current, rule = self.current, self.rule
        if current is not None and _ended(current, rnd.time, rule):
            self.closed.append(current)
            current = self.current = None
        positive = (rnd.grade or 0) >= 1
        if current is None:
            if positive:
                self.current = {
                    "onset": rnd.time,
                    "max": rnd.grade,
                    "max_at": rnd.time,
                    "last_positive": rnd.time,
                    "clear_since": None,
                }
            return
        if positive:
            current["last_positive"] = rnd.time
            current["clear_since"] = None
            if rnd.grade > current["max"]:
                current["max"], current["max_at"] = rnd.grade, rnd.time
        elif rnd.grade == 0 and rnd.complete and current["clear_since"] is None:
            current["clear_since"] = rnd.time

    def episodes(self, given: Sequence[Given], end: datetime | None) -> tuple[Episode, ...]:
        """Return every episode of the rounds added, the last one judged at ``end``."""
        self._count_before(None)
        rule = self.rule
        episodes = [_close(c, given, rule) for c in self.closed]
        current = self.current
        if current is not None:
            if end is not None and _ended(current, end, rule):
                episodes.append(_close(current, given, rule))
            else:
                episodes.append(_close(current, given, rule, open_=True, until=end))
        return tuple(episodes)

    def open_at(self, time: datetime, given: Sequence[Given] = ()) -> Episode | None:
        """Return the episode open at ``time``, from the rounds added before it."""
        self._count_before(time)
        current = self.current
        if current is None or _ended(current, time, self.rule):
            return None
        in_time = [g for g in given if g.time <= time]
        return _close(current, in_time, self.rule, open_=True, until=time)


def icans_episodes(
    rounds: Sequence[GradedRound],
    rule: IcansEndRule | None = None,
    now: datetime | None = None,
) -> tuple[Episode, ...]:
    """Return the ICANS episodes of a course, oldest first.

    The same definition as CRS (onset at the first round graded >= 1, end
    by the stated local rule) over ICANS grades; no dose masks anything.
    """
    return crs_episodes(rounds, (), rule or IcansEndRule(), now)


def _ended(current: dict[str, Any], time: datetime, rule: EndRule) -> bool:
    since = current["clear_since"]
    return since is not None and time - since >= rule.clear_for


def _close(
    current: dict[str, Any],
    given: Sequence[Given],
    rule: EndRule,
    open_: bool = False,
    until: datetime | None = None,
) -> Episode:
    resolved = None if open_ else current["clear_since"]
    last = resolved or until
    doses = tuple(
        g
        for g in given
        if masks_fever(g) and current["onset"] <= g.time and (last is None or g.time <= last)
    )
    return Episode(
        onset=current["onset"],
        max_grade=current["max"],
        max_grade_at=current["max_at"],
        last_positive_at=current["last_positive"],
        resolved_at=resolved,
        masking_doses=doses,
        rule=rule,
    )


def open_episode_at(
    time: datetime,
    earlier: Sequence[GradedRound],
    given: Sequence[Given] = (),
    rule: EndRule | None = None,
) -> Episode | None:
    """Return the CRS episode open at ``time``, from the rounds before it."""
    before = [r for r in earlier if r.time < time]
    episodes = crs_episodes(before, [g for g in given if g.time <= time], rule, now=time)
    if episodes and episodes[-1].resolved_at is None:
        return episodes[-1]
    return None


def fever_masked_by(episode: Episode | None, time: datetime) -> tuple[Given, ...]:
    """Return the doses that mask fever at ``time`` (none without an episode)."""
    if episode is None:
        return ()
    return tuple(g for g in episode.masking_doses if g.time <= time)
