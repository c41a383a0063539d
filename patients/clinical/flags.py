"""Flag rules over a patient's course: what got worse, since when, and why.

Every rule fires on a *transition* (the round where something became worse
or crossed a threshold), so a steady state never raises the same flag
twice; the lifecycle (``lifecycle.py``) merges repeats into one open flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .assessment import Assessment
from .crs import GRADE_3_DEVICES, LOW_FLOW_DEVICES, POSITIVE_PRESSURE_DEVICES
from .inputs import ORGAN_SYSTEMS, OXYGEN_DEVICE_WORDS, SYMPTOMS, Observation
from .known import known_grade
from .news2 import BAND_ORDER, MONITORING_INTERVAL, RED_SCORE
from .sources import cite

# Severity order, worst highest (also in the README).
SEVERITY_RANK = {"urgent": 3, "high": 2, "medium": 1}
# Severity is told by text and shape as well as colour (README).
SEVERITY_SHAPES = {"urgent": "▲", "high": "◆", "medium": "●"}
KINDS = ("worsening", "red_flag", "grade_rise", "persistence", "overdue")

# Source article: symptoms lasting "more than a few days" need a doctor;
# three days is this product's reading of "a few" (a setting).
DEFAULT_PERSISTENCE = timedelta(hours=72)
# ASCO 2021 (ICANS, all grades): ICE assessment at least twice daily, so
# 12 h by default; ASH-SAP Table 2 says every 8 hours. Both are defensible:
# the interval is a setting (ICE_INTERVAL_HOURS), passed in by callers.
ICE_INTERVAL = timedelta(hours=12)
# Blood Adv 2024 (CAR-T): new ICANS after day 14 is rare (0.7 %), so the
# ICE check is due on days 0-14 after a CAR-T infusion.
ICANS_RISK_LAST_DAY = 14
ICANS_RISK_EXPOSURES = {"car_t"}
FEVER_C = 38.0  # ASTCT 2019 fever threshold

DEVICE_STEP = {
    "room_air": 0,
    **dict.fromkeys(LOW_FLOW_DEVICES, 1),
    **dict.fromkeys(GRADE_3_DEVICES, 2),
    **dict.fromkeys(POSITIVE_PRESSURE_DEVICES, 3),
}


@dataclass(frozen=True)
class RoundState:
    """One stored round as the rules see it."""

    time: datetime
    obs: Observation
    assessment: Assessment


@dataclass(frozen=True)
class FlagEvent:
    """A flag a round opens (or refreshes), with everything that explains it."""

    kind: str
    key: str
    organ_system: str | None
    severity: str
    title: str
    source: str
    basis: dict[str, Any] = field(default_factory=dict)
    # The condition stays active while metric(state) > above.
    metric: str | None = None
    above: float = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "organ_system": self.organ_system,
            "severity": self.severity,
            "title": self.title,
            "source": self.source,
            "basis": self.basis,
        }


SYSTEM_INPUTS = {
    "general": ("temperature_c",),
    "cardiovascular": ("systolic_bp", "hypotension"),
    "respiratory": ("oxygen_device", "spo2"),
    "neurological": (),
    "renal": (),
    "hepatic": (),
}
SYSTEM_LABS = {
    "renal": ("creatinine_umol_l",),
    "hepatic": ("alt_u_l", "ast_u_l", "bilirubin_umol_l"),
}


def system_assessed(system: str, state: RoundState) -> bool:
    """Return True when this round recorded anything about ``system``.

    A round that did not look at a system tells nothing about it: its
    severity there is not compared, so daily labs or twice-daily ICE
    checks never look like a new rise each time they are taken.
    """
    obs = state.obs
    if any(getattr(obs, name) is not None for name in SYSTEM_INPUTS[system]):
        return True
    if system == "cardiovascular" and obs.vasopressors:
        return True
    if system == "neurological" and state.assessment.icans.grade is not None:
        return True
    if any(name in obs.labs for name in SYSTEM_LABS.get(system, ())):
        return True
    if state.assessment.organs[system].severity:
        return True
    return any(SYMPTOMS[name][0] == system for name in obs.symptoms)


def last_assessed(system: str, earlier: list[RoundState]) -> RoundState | None:
    for state in reversed(earlier):
        if system_assessed(system, state):
            return state
    return None


def metric_value(metric: str, state: RoundState) -> float | None:
    """Return the value a flag watches, for the auto-resolve check."""
    a, obs = state.assessment, state.obs
    kind, _, name = metric.partition(":")
    if kind == "organ":
        return a.organs[name].severity if system_assessed(name, state) else None
    if kind == "crs":
        return a.crs.grade
    if kind == "icans":
        return a.icans.grade
    if kind == "news2_band":
        return BAND_ORDER.index(a.news2.clinical_risk) if a.news2.clinical_risk else None
    if kind == "news2_param":
        return a.news2.parameter_scores.get(name)
    if kind == "red":
        return 1 if RED_FLAGS[name][1](state) else 0
    if kind == "symptom":
        return 1 if symptom_present(name, obs) else 0
    return None


# -- organ-system worsening -------------------------------------------------


def worsening_changes(system: str, prev: RoundState | None, cur: RoundState) -> list[str]:
    """Return what got worse in ``system`` since ``prev`` (or baseline)."""
    changes = []
    before = prev.assessment.organs[system].severity if prev else 0
    after = cur.assessment.organs[system].severity
    if after > before:
        changes.append(f"severity {before} -> {after}")
    p_obs = prev.obs if prev else Observation()
    o = cur.obs
    if system == "respiratory" and o.oxygen_device:
        was = DEVICE_STEP.get(p_obs.oxygen_device or "room_air", 0)
        if DEVICE_STEP[o.oxygen_device] > was:
            changes.append(
                f"oxygen {OXYGEN_DEVICE_WORDS[p_obs.oxygen_device or 'room_air']} -> "
                f"{OXYGEN_DEVICE_WORDS[o.oxygen_device]}"
            )
        elif (
            o.oxygen_device == p_obs.oxygen_device
            and o.oxygen_flow_l_min is not None
            and p_obs.oxygen_flow_l_min is not None
            and o.oxygen_flow_l_min > p_obs.oxygen_flow_l_min
        ):
            # No guideline sets a flow threshold: any rise in the oxygen a
            # patient needs on the same device is an escalation.
            changes.append(
                f"oxygen flow {p_obs.oxygen_flow_l_min:g} -> {o.oxygen_flow_l_min:g} L/min "
                f"on {o.oxygen_device.replace('_', ' ')}"
            )
    if system == "cardiovascular":
        added = sorted(set(o.vasopressors) - set(p_obs.vasopressors))
        if added:
            changes.append(f"vasopressor added: {', '.join(added)}")
    if (
        system == "neurological"
        and prev
        and p_obs.ice_score is not None
        and o.ice_score is not None
        and o.ice_score < p_obs.ice_score
    ):
        changes.append(f"ICE score {p_obs.ice_score} -> {o.ice_score}")
    for name, (sys_name, label) in SYMPTOMS.items():
        if sys_name == system and o.symptoms.get(name, 0) > p_obs.symptoms.get(name, 0):
            word = "new" if not p_obs.symptoms.get(name) else "worse"
            changes.append(f"{word} symptom: {label.lower()}")
    return changes


def worsening_events(
    prev: RoundState | None, cur: RoundState, earlier: list[RoundState] | None = None
) -> list[FlagEvent]:
    """Return worsening flags, each system against the last round that assessed it."""
    events = []
    for system in ORGAN_SYSTEMS:
        if not system_assessed(system, cur):
            continue
        if earlier is not None:
            prev = last_assessed(system, earlier)
        changes = worsening_changes(system, prev, cur)
        if not changes:
            continue
        before = prev.assessment.organs[system].severity if prev else 0
        after = cur.assessment.organs[system].severity
        severity = "urgent" if after >= 4 else "high" if after == 3 else "medium"
        if prev:
            against = "previous round"
        elif earlier:
            against = "baseline (not assessed in the recent rounds reviewed)"
        else:
            against = "baseline (no earlier round)"
        events.append(
            FlagEvent(
                kind="worsening",
                key=f"worsening:{system}",
                organ_system=system,
                severity=severity,
                title=f"{system.capitalize()} worse than {against}: " + "; ".join(changes),
                source=cur.assessment.organs[system].basis[0].source
                if cur.assessment.organs[system].basis
                else cite("ARTICLE"),
                basis={
                    "rule": "Organ-system severity or its signs rose",
                    "changes": changes,
                    "before": {
                        "time": prev.time.isoformat() if prev else None,
                        "severity": before,
                        "findings": [f.as_dict() for f in prev.assessment.organs[system].basis]
                        if prev
                        else [],
                    },
                    "after": {
                        "time": cur.time.isoformat(),
                        "severity": after,
                        "findings": [f.as_dict() for f in cur.assessment.organs[system].basis],
                    },
                },
                metric=f"organ:{system}",
                above=before,
            )
        )
    return events


# -- red flags (source article: need immediate attention) -------------------


def symptom_present(name: str, obs: Observation) -> bool:
    if name == "fever":
        if obs.temperature_c is not None:
            return obs.temperature_c >= FEVER_C or obs.symptoms.get("fever", 0) > 0
        return obs.symptoms.get("fever", 0) > 0
    return obs.symptoms.get(name, 0) > 0


def _breathing(s: RoundState) -> bool:
    return s.obs.symptoms.get("difficulty_breathing", 0) > 0


def _confusion(s: RoundState) -> bool:
    return s.obs.symptoms.get("confusion", 0) > 0 or s.obs.acvpu == "C"


def _heart(s: RoundState) -> bool:
    sy = s.obs.symptoms
    heart_symptom = any(
        sy.get(n, 0) > 0
        for n in ("increased_heart_rate", "irregular_heartbeat", "reduced_heart_function")
    )
    # NEWS2 scores a pulse <= 40 or >= 131 as 3 (red).
    return heart_symptom or s.assessment.news2.parameter_scores.get("pulse") == RED_SCORE


def _seizure(s: RoundState) -> bool:
    return s.obs.symptoms.get("seizures", 0) > 0 or s.obs.seizure not in (None, "none")


RED_FLAGS = {
    "difficulty_breathing": ("respiratory", _breathing, "Difficulty breathing"),
    "confusion": ("neurological", _confusion, "Confusion"),
    "heart": ("cardiovascular", _heart, "Change in heart rate or heart function"),
    "seizure": ("neurological", _seizure, "Seizure"),
}


def red_flag_events(prev: RoundState | None, cur: RoundState) -> list[FlagEvent]:
    events = []
    for name, (system, present, label) in RED_FLAGS.items():
        if present(cur) and not (prev and present(prev)):
            o = cur.obs
            events.append(
                FlagEvent(
                    kind="red_flag",
                    key=f"red_flag:{name}",
                    organ_system=system,
                    severity="urgent",
                    title=f"{label}: needs immediate attention",
                    source=cite("ARTICLE"),
                    basis={
                        "rule": f"{label} is a sign the source article says needs immediate "
                        "attention",
                        "after": {
                            "time": cur.time.isoformat(),
                            "symptoms": dict(o.symptoms),
                            "acvpu": o.acvpu,
                            "heart_rate": o.heart_rate,
                            "seizure": o.seizure,
                        },
                        "before": {"time": prev.time.isoformat() if prev else None},
                    },
                    metric=f"red:{name}",
                    above=0,
                )
            )
    return events


# -- grade rise ---------------------------------------------------------------


def rise_severity(grade: int) -> str:
    return "urgent" if grade >= 3 else "high" if grade == 2 else "medium"


def last_grade(name: str, earlier: list[RoundState]) -> tuple[int, RoundState | None]:
    """Return the last known grade (0 before any) and the round it came from.

    A partial round's lower bound never stands in for a higher grade known
    before it (``known.py``), so a rise is never counted from a gap.
    """
    known = known_grade([(s.time, getattr(s.assessment, name)) for s in earlier])
    if known.index is None:
        return 0, None
    return known.grade, earlier[known.index]


def last_banded(earlier: list[RoundState]) -> RoundState | None:
    """Return the last round whose NEWS2 reached a band (complete or floor)."""
    for state in reversed(earlier):
        if state.assessment.news2.clinical_risk:
            return state
    return None


def last_param_score(param: str, earlier: list[RoundState]) -> int:
    for state in reversed(earlier):
        if param in state.assessment.news2.parameter_scores:
            return state.assessment.news2.parameter_scores[param]
    return 0


def astct_rise_events(cur: RoundState, earlier: list[RoundState]) -> list[FlagEvent]:
    """Flag a CRS or ICANS grade above the last one known (0 before any)."""
    events = []
    for name, label in (("crs", "CRS"), ("icans", "ICANS")):
        now = getattr(cur.assessment, name)
        before, prev = last_grade(name, earlier)
        if now.grade is None or now.grade <= before:
            continue
        events.append(
            FlagEvent(
                kind="grade_rise",
                key=f"grade_rise:{name}",
                organ_system="neurological" if name == "icans" else None,
                severity=rise_severity(now.grade),
                title=f"{label} grade rose {before} -> {now.grade}",
                source=cite("ASTCT2019"),
                basis={
                    "rule": f"ASTCT {label} grade higher than in the previous round",
                    "before": {"time": prev.time.isoformat() if prev else None, "grade": before},
                    "after": {
                        "time": cur.time.isoformat(),
                        "grade": now.grade,
                        "findings": [f.as_dict() for f in now.basis],
                    },
                },
                metric=name,
                above=before,
            )
        )
    return events


def news2_band_rise_events(cur: RoundState, earlier: list[RoundState]) -> list[FlagEvent]:
    """Flag NEWS2 moving into a higher clinical-risk band than the last known.

    The band compares with the last known band, not with a partial round
    that reached none.
    """
    news = cur.assessment.news2
    if not news.clinical_risk:
        return []
    prev = last_banded(earlier)
    prev_news = prev.assessment.news2 if prev else None
    before_band = prev_news.clinical_risk if prev_news and prev_news.clinical_risk else "low"
    rank, before_rank = BAND_ORDER.index(news.clinical_risk), BAND_ORDER.index(before_band)
    if rank <= before_rank:
        return []
    return [
        FlagEvent(
            kind="grade_rise",
            key="grade_rise:news2",
            organ_system=None,
            severity={3: "urgent", 2: "high"}.get(rank, "medium"),
            title=f"NEWS2 risk rose {before_band} -> {news.clinical_risk}",
            source=cite("NEWS2"),
            basis={
                "rule": "NEWS2 moved into a higher clinical-risk band",
                "before": {
                    "time": prev.time.isoformat() if prev else None,
                    "band": before_band,
                    "total": prev_news.total if prev_news else None,
                },
                "after": {
                    "time": cur.time.isoformat(),
                    "band": news.clinical_risk,
                    "total": news.total,
                    "parameter_scores": news.parameter_scores,
                },
            },
            metric="news2_band",
            above=before_rank,
        )
    ]


def news2_red_score_events(cur: RoundState, earlier: list[RoundState]) -> list[FlagEvent]:
    """Flag a NEWS2 parameter newly scoring 3 (red) against its last score."""
    prev = last_banded(earlier)
    events = []
    for param, score in cur.assessment.news2.parameter_scores.items():
        before_score = last_param_score(param, earlier)
        if score == RED_SCORE and before_score < RED_SCORE:
            events.append(
                FlagEvent(
                    kind="grade_rise",
                    key=f"grade_rise:news2_red:{param}",
                    organ_system=None,
                    severity="medium",
                    title=f"NEWS2 {param.replace('_', ' ')} scores 3 (red)",
                    source=cite("NEWS2"),
                    basis={
                        "rule": "A single NEWS2 parameter scoring 3",
                        "before": {
                            "time": prev.time.isoformat() if prev else None,
                            "score": before_score,
                        },
                        "after": {"time": cur.time.isoformat(), "score": score},
                    },
                    metric=f"news2_param:{param}",
                    above=RED_SCORE - 1,
                )
            )
    return events


def grade_rise_events(
    prev: RoundState | None, cur: RoundState, earlier: list[RoundState] | None = None
) -> list[FlagEvent]:
    """Return the grade-rise flags of ``cur``: ASTCT grades, NEWS2 band, red scores."""
    earlier = earlier if earlier is not None else ([prev] if prev else [])
    return (
        astct_rise_events(cur, earlier)
        + news2_band_rise_events(cur, earlier)
        + news2_red_score_events(cur, earlier)
    )


# -- persistence -------------------------------------------------------------


# Local policy (DERIVED): antipyretics bring readings down between spikes,
# so fever that returns within this long of the last febrile reading is
# the same fever episode for "persistent (> 3 days)" (ASCO 2021, CARTOX).
# 48 h joins daily spikes charted at the same hour.
FEVER_EPISODE_GAP = timedelta(hours=48)
FEVER_EPISODE_RULE = (
    "Febrile readings less than 48 h apart belong to one fever episode, whatever afebrile "
    "(e.g. antipyretic-lowered) readings lie between them (local policy, DERIVED)"
)


def fever_episode_start(history: list[RoundState]) -> datetime | None:
    """Return when the current fever episode began, or None when none is
    ongoing (the last febrile reading is 48 h or more before the last round)."""
    febrile = [s.time for s in history if symptom_present("fever", s.obs)]
    if not febrile or history[-1].time - febrile[-1] >= FEVER_EPISODE_GAP:
        return None
    start = febrile[-1]
    for time in reversed(febrile[:-1]):
        if start - time >= FEVER_EPISODE_GAP and _afebrile_between(history, time, start):
            break
        start = time
    return start


def _afebrile_between(history: list[RoundState], after: datetime, before: datetime) -> bool:
    return any(
        after < s.time < before
        and s.obs.temperature_c is not None
        and not symptom_present("fever", s.obs)
        for s in history
    )


def run_start(name: str, history: list[RoundState]) -> datetime | None:
    """Return when ``name`` began its current unbroken run, or None.

    Fever runs as an episode (``fever_episode_start``); other symptoms run
    until a round records them absent.
    """
    if name == "fever":
        return fever_episode_start(history)
    start = None
    for state in reversed(history):
        if (
            name == "fever"
            and state.obs.temperature_c is None
            and "fever" not in state.obs.symptoms
        ):
            continue  # not measured: neither breaks nor extends the run
        if not symptom_present(name, state.obs):
            break
        start = state.time
    return start


def persistence_events(
    history: list[RoundState], limit: timedelta = DEFAULT_PERSISTENCE
) -> list[FlagEvent]:
    """Return symptoms whose run first exceeds ``limit`` at the last round."""
    events = []
    cur = history[-1]
    prev_time = history[-2].time if len(history) > 1 else None
    for name, (system, label) in SYMPTOMS.items():
        start = run_start(name, history)
        if start is None or cur.time - start <= limit:
            continue
        before = prev_time
        if name == "fever":
            if not symptom_present("fever", cur.obs):
                continue  # flagged at a febrile reading, never at a lowered one
            febrile = [s.time for s in history[:-1] if symptom_present("fever", s.obs)]
            before = febrile[-1] if febrile else None
        if before is not None and before - start > limit:
            continue  # already over the limit at the previous round
        hours = (cur.time - start).total_seconds() / 3600
        events.append(
            FlagEvent(
                kind="persistence",
                key=f"persistence:{name}",
                organ_system=system,
                severity="medium",
                title=f"{label} for {hours:.0f} h (more than {limit.total_seconds() / 3600:.0f} h)",
                source=cite("ARTICLE"),
                basis={
                    "rule": "A symptom lasting more than a few days needs a doctor "
                    f"(threshold {limit.total_seconds() / 3600:.0f} h)",
                    "before": {"time": start.isoformat(), "present": True},
                    "after": {"time": cur.time.isoformat(), "present": True},
                    "hours": round(hours, 1),
                    **({"episode_rule": FEVER_EPISODE_RULE} if name == "fever" else {}),
                },
                metric=f"symptom:{name}",
                above=0,
            )
        )
    return events


# -- overdue rounds ------------------------------------------------------------


def round_interval(state: RoundState) -> timedelta:
    """Return the NEWS2 minimum monitoring interval after ``state``.

    An incomplete NEWS2 with no band falls back to the 4-6-hourly interval
    (the shortest for a low score): a gap in the data never lengthens
    monitoring.
    """
    return MONITORING_INTERVAL.get(state.assessment.news2.monitoring or "4-6-hourly")


def ice_window_start(
    time: datetime,
    day0: datetime | None,
    exposure_kind: str | None,
    windows: Sequence[Any] = (),
) -> tuple[datetime | None, str]:
    """Return when the ICE window holding ``time`` began, and what it is.

    Days 0-14 after a CAR-T infusion (Blood Adv 2024), and, as local policy,
    any window of the product label's plan in which the patient is to be
    monitored (``products.ice_windows``: the monitoring days, the hours after
    each bispecific dose).
    """
    found: list[tuple[datetime, str]] = [
        (w.start, f"label plan: {w.label}") for w in windows if w.start <= time < w.end
    ]
    if (
        exposure_kind in ICANS_RISK_EXPOSURES
        and day0 is not None
        and (time - day0).days <= ICANS_RISK_LAST_DAY
    ):
        found.append((day0, "CAR-T ICANS risk window (days 0-14)"))
    if not found:
        return None, ""
    return min(found)


def next_round_due(history: list[RoundState]) -> tuple[datetime, RoundState]:
    """Return when the next round is due and the round whose interval sets it.

    The strictest interval in force wins: that of the last complete NEWS2,
    or of any later partial round whose recorded values already reach a
    band. A partial round with no band neither resets nor lengthens it
    (RCP NEWS2 Chart 3; a gap in the data never lengthens monitoring), and
    a lab result entered on its own is no round at all.
    """
    best: tuple[datetime, RoundState] | None = None
    latest: RoundState | None = None  # the latest observation round
    for state in reversed(history):
        if state.obs.lab_only:
            continue
        latest = latest or state
        news2 = state.assessment.news2
        if news2.monitoring:
            due = state.time + MONITORING_INTERVAL[news2.monitoring]
            if best is None or due < best[0]:
                best = (due, state)
        if news2.total is not None:
            break
    if best is None:
        last = latest or history[0]
        return last.time + round_interval(last), last
    return best


def ice_due(
    history: list[RoundState],
    day0: datetime | None,
    exposure_kind: str | None,
    interval: timedelta = ICE_INTERVAL,
    windows: Sequence[Any] = (),
    at: datetime | None = None,
) -> datetime | None:
    """Return when the next ICE check is due, or None when none is due.

    Judged at ``at`` (default: with every dose in ``windows``): a window
    opened by a dose given after ``at`` was not known then, so it never
    moves an earlier deadline.
    """
    if at is not None:
        windows = [w for w in windows if w.start <= at]
    last = history[-1]
    start, _why = ice_window_start(last.time, day0, exposure_kind, windows)
    # A window opened since the last round (a dose given after it) starts
    # its own ICE clock.
    later = [w.start for w in windows if w.start > last.time]
    if later:
        start = min(later)
    if start is None and not last.assessment.icans.grade:
        return None
    ice_times = [
        s.time for s in history if s.obs.ice_score is not None or s.obs.ice_not_assessable
    ]
    if ice_times and start is not None:
        return max(ice_times[-1], start) + interval
    if ice_times:
        return ice_times[-1] + interval
    return (start or history[0].time) + interval


def overdue_events(
    history: list[RoundState],
    now: datetime,
    day0: datetime | None = None,
    exposure_kind: str | None = None,
    ice_interval: timedelta = ICE_INTERVAL,
    windows: Sequence[Any] = (),
) -> list[FlagEvent]:
    """Return the overdue flags at ``now`` after the last round in ``history``."""
    if not history:
        return []
    events = []
    due, last = next_round_due(history)
    if now > due:
        monitoring = last.assessment.news2.monitoring or "4-6-hourly"
        band = last.assessment.news2.clinical_risk
        events.append(
            FlagEvent(
                kind="overdue",
                key="overdue:round",
                organ_system=None,
                severity="high" if band in ("medium", "high") else "medium",
                title=f"Round overdue: {monitoring} monitoring, due {due.isoformat()}",
                source=cite("NEWS2"),
                basis={
                    "rule": "No round within the NEWS2 minimum monitoring interval",
                    "before": {
                        "time": last.time.isoformat(),
                        "band": band,
                        "monitoring": monitoring,
                    },
                    "after": {"time": now.isoformat(), "due": due.isoformat()},
                },
            )
        )
    ice_deadline = ice_due(history, day0, exposure_kind, ice_interval, windows, at=now)
    hours = f"{ice_interval.total_seconds() / 3600:g}"
    if ice_deadline is not None and now > ice_deadline:
        _start, why = ice_window_start(ice_deadline - ice_interval, day0, exposure_kind, windows)
        events.append(
            FlagEvent(
                kind="overdue",
                key="overdue:ice",
                organ_system="neurological",
                severity="high",
                title=f"ICE assessment overdue since {ice_deadline.isoformat()}",
                source=cite("ASCO2021"),
                basis={
                    "rule": f"ICE assessment at least every {hours} hours while ICANS is "
                    "present, in the CAR-T ICANS risk window (days 0-14), or (local policy) "
                    "while the product label's plan has the patient monitored; interval: "
                    f"the ICE interval, {hours} h (a setting; ASCO 2021: at least twice daily; "
                    "ASH-SAP: every 8 h)",
                    "window": why or "ICANS present",
                    "before": {"time": (ice_deadline - ice_interval).isoformat()},
                    "after": {"time": now.isoformat(), "due": ice_deadline.isoformat()},
                    "window_source": cite("BLOODADV2024"),
                },
            )
        )
    return events


def round_events(
    history: list[RoundState], persistence: timedelta = DEFAULT_PERSISTENCE
) -> list[FlagEvent]:
    """Return every flag the last round of ``history`` raises."""
    cur = history[-1]
    prev = history[-2] if len(history) > 1 else None
    earlier = history[:-1]
    return (
        red_flag_events(prev, cur)
        + grade_rise_events(prev, cur, earlier)
        + worsening_events(prev, cur, earlier)
        + persistence_events(history, persistence)
    )
