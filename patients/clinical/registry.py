"""Episode summaries: what CIBMTR form 4100 and EBMT MED-A ask per episode.

One summary per CRS or ICANS episode (episodes.py definitions), derived
from the rounds and the intervention ledger, never typed twice
(REFERENCE k10, DERIVED row): onset and its day after day 0 or the dose
before it, maximum ASTCT 2019 grade and when, resolution (local end rule),
therapies by class, the most vasopressors at once (CIBMTR 4100 R4.0:
1 / >= 2), the highest oxygen support and positive pressure with its
start, ICU transfer, the lowest ICE score (ICANS), and the IEC-HS prompt
and ICAHT grades found in the episode's course.

Pure: the same function serves ``manage.py assess --episodes`` (rounds
graded from JSON) and the pages and CSV (rounds read from the database).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .crs import POSITIVE_PRESSURE_DEVICES, hypoxia_finding
from .episodes import (
    EndRule,
    Episode,
    GradedRound,
    IcansEndRule,
    crs_episodes,
    describe_dose,
    icans_episodes,
)
from .history import Given
from .inputs import OXYGEN_DEVICE_WORDS, OXYGEN_DEVICES, Observation
from .products import DoseClock, Product

# REFERENCE k10: EBMT asks the highest grade "per ASTCT 2019".
GRADING = "ASTCT 2019"
# What counts as therapy of each kind of episode, from the ledger.
# CRS: CIBMTR 4100 R4.0 lists therapy, IV fluids, vasopressors and oxygen;
# ICANS: anti-epileptics, corticosteroids, other (REFERENCE k10).
TREATMENT_KINDS = {
    "crs": (
        "tocilizumab",
        "siltuximab",
        "anakinra",
        "corticosteroid",
        "antipyretic",
        "iv_fluids",
        "vasopressor",
        "oxygen_escalation",
        "icu_transfer",
    ),
    "icans": (
        "corticosteroid",
        "antiseizure",
        "tocilizumab",
        "siltuximab",
        "anakinra",
        "icu_transfer",
    ),
}
# Anti-cytokine drugs other than tocilizumab (REFERENCE f, k1).
OTHER_ANTICYTOKINE = ("siltuximab", "anakinra")
# The ledger kinds that are drug therapy (the registry's "therapy given").
THERAPY_CLASSES = (
    "tocilizumab",
    "siltuximab",
    "anakinra",
    "corticosteroid",
    "antipyretic",
    "antiseizure",
)
THERAPY_WORDS = {
    "tocilizumab": "Tocilizumab",
    "siltuximab": "Siltuximab",
    "anakinra": "Anakinra",
    "corticosteroid": "Corticosteroid",
    "antipyretic": "Antipyretic",
    "antiseizure": "Anti-epileptic",
}
# Premedication never treats an episode (REFERENCE k1); "other" says the
# dose was for something else. Prophylaxis counts only once continued
# after the onset (CIBMTR 4100 "Was therapy given?", REFERENCE k10).
NEVER_TREATMENT = {"premedication", "other"}
DAY_0 = "day 0"


@dataclass(frozen=True)
class RoundFacts:
    """What one round contributes to episode summaries."""

    time: datetime
    crs_grade: int | None
    # Every CRS criterion recorded (episodes.GradedRound.complete).
    crs_complete: bool
    icans_grade: int | None
    # The ICE (or CAPD) screen was recorded: the ICANS end rule needs it.
    icans_screened: bool
    ice_score: int | None = None
    oxygen_device: str | None = None
    oxygen_flow_l_min: float | None = None
    vasopressors: tuple[str, ...] = ()
    # ICAHT grades and IEC-HS prompt stored with a lab entry (followup.py).
    followup: dict[str, Any] | None = None


def icans_screened(missing: Sequence[str]) -> bool:
    """Return True when a round's ICANS grade had its cognitive screen."""
    return "ice_score" not in missing and "capd_score" not in missing


@dataclass(frozen=True)
class EpisodeSummary:
    """One CRS or ICANS episode as a registry form and a clinician read it."""

    kind: str  # "crs" or "icans"
    onset: datetime
    # What the onset is counted from: "day 0" or the dose before it (its
    # label, e.g. "step-up dose 2"), with the step id and the time.
    onset_reference: str | None
    onset_reference_step: str | None
    onset_reference_at: datetime | None
    onset_day: int | None
    onset_hours: float | None
    max_grade: int
    max_grade_at: datetime
    resolved_at: datetime | None
    duration_hours: float | None  # None while the episode is open
    end_rule: str
    treatments: tuple[Given, ...] = ()
    tocilizumab_at: tuple[datetime, ...] = ()
    steroid_agents: tuple[str, ...] = ()
    steroid_start: datetime | None = None
    steroid_doses: int = 0
    # Calendar days of exposure: first to last dose's day, inclusive (a
    # single dose: 1 day); None when none was given for the episode.
    steroid_days: int | None = None
    other_anticytokine: tuple[str, ...] = ()
    therapy_classes: tuple[str, ...] = ()
    # The most vasopressor agents recorded at once in one round (0: none).
    vasopressors_max: int = 0
    vasopressor_agents: tuple[str, ...] = ()
    oxygen_highest: str | None = None
    oxygen_highest_flow: float | None = None
    oxygen_highest_at: datetime | None = None
    positive_pressure_at: datetime | None = None
    icu_at: datetime | None = None
    lowest_ice: int | None = None  # ICANS episodes only
    lowest_ice_at: datetime | None = None
    iec_hs_prompt_at: datetime | None = None
    iec_hs_prompt: str = ""
    icaht: tuple[str, ...] = ()  # worst ICAHT grade per lineage and phase
    icaht_max_grade: int | None = None
    grading: str = GRADING
    basis: dict[str, str] = field(default_factory=dict, compare=False)
    # The stored treatment (exposure) whose course holds the episode; set
    # by the database reader, None for a course read from JSON.
    exposure_id: int | None = field(default=None, compare=False)

    @property
    def ongoing(self) -> bool:
        return self.resolved_at is None

    @property
    def name(self) -> str:
        return "CRS" if self.kind == "crs" else "ICANS"

    @property
    def oxygen_words(self) -> str:
        """Return the highest oxygen support as a nurse writes it."""
        if self.oxygen_highest is None:
            return ""
        words = OXYGEN_DEVICE_WORDS.get(self.oxygen_highest, self.oxygen_highest)
        if self.oxygen_highest_flow is not None:
            words += f" {self.oxygen_highest_flow:g} L/min"
        return words

    @property
    def duration_days(self) -> float | None:
        return round(self.duration_hours / 24, 1) if self.duration_hours is not None else None

    @property
    def therapy_words(self) -> tuple[str, ...]:
        """Return every therapy class given for the episode, as the CSV names them."""
        return tuple(THERAPY_WORDS[c] for c in self.therapy_classes)

    @property
    def therapies_given(self) -> tuple[str, ...]:
        """Return each therapy class with the drugs recorded for it
        ("Anti-epileptic: levetiracetam"), in the registry's order."""
        out = []
        for c in self.therapy_classes:
            drugs = dict.fromkeys(
                str(g.detail.get("drug") or "") for g in self.treatments if g.kind == c
            )
            named = ", ".join(d for d in drugs if d)
            out.append(f"{THERAPY_WORDS[c]}: {named}" if named else THERAPY_WORDS[c])
        return tuple(out)

    @property
    def tocilizumab_count(self) -> int:
        return len(self.tocilizumab_at)

    @property
    def first_tocilizumab_at(self) -> datetime | None:
        return self.tocilizumab_at[0] if self.tocilizumab_at else None

    @property
    def vasopressors_band(self) -> str:
        """CIBMTR 4100 R4.0 "number of vasopressors": "1" or ">= 2" ("" none)."""
        if self.vasopressors_max >= 2:
            return ">= 2"
        return "1" if self.vasopressors_max == 1 else ""

    def as_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "kind": self.kind,
            "onset": self.onset.isoformat(),
            "onset_reference": self.onset_reference,
            "onset_day": self.onset_day,
            "max_grade": self.max_grade,
            "max_grade_at": self.max_grade_at.isoformat(),
            "grading": self.grading,
            "resolved": iso(self.resolved_at),
            "ongoing": self.ongoing,
            "duration_hours": self.duration_hours,
            "treatments": [describe_dose(g) for g in self.treatments],
            "therapy_classes": list(self.therapy_classes),
            "tocilizumab": {
                "count": self.tocilizumab_count,
                "times": [t.isoformat() for t in self.tocilizumab_at],
            },
            "first_tocilizumab_at": iso(self.first_tocilizumab_at),
            "corticosteroids": {
                "agents": list(self.steroid_agents),
                "start": iso(self.steroid_start),
                "doses": self.steroid_doses,
                "days": self.steroid_days,
            },
            "steroid_days": self.steroid_days,
            "other_anticytokine": list(self.other_anticytokine),
            "vasopressors": {
                "max_at_once": self.vasopressors_max,
                "band": self.vasopressors_band or None,
                "agents": list(self.vasopressor_agents),
            },
            "oxygen": {
                "highest": self.oxygen_highest,
                "flow_l_min": self.oxygen_highest_flow,
                "at": iso(self.oxygen_highest_at),
                "positive_pressure": self.positive_pressure_at is not None,
                "positive_pressure_at": iso(self.positive_pressure_at),
            },
            "icu_at": iso(self.icu_at),
            "lowest_ice": self.lowest_ice,
            "lowest_ice_at": iso(self.lowest_ice_at),
            "iec_hs": {"at": iso(self.iec_hs_prompt_at), "prompt": self.iec_hs_prompt}
            if self.iec_hs_prompt_at
            else None,
            "icaht": list(self.icaht),
            "basis": dict(self.basis),
        }


def step_labels(product: Product | None, jurisdiction: str) -> dict[str, str]:
    """Return the product's schedule steps by id with their labels."""
    plan = product.plan_for(jurisdiction) if product else None
    return {s.id: s.label for s in plan.steps} if plan else {}


def summarise(
    rounds: Sequence[RoundFacts],
    given: Sequence[Given] = (),
    day0: datetime | None = None,
    doses: Sequence[DoseClock] = (),
    labels: dict[str, str] | None = None,
    rule: EndRule | None = None,
    icans_rule: IcansEndRule | None = None,
    now: datetime | None = None,
    cause: str = "immunotherapy",
) -> tuple[EpisodeSummary, ...]:
    """Return every CRS and ICANS episode of a course, by onset.

    ``day0`` is midnight at the start of day 0; ``doses`` the schedule's
    doses (the onset counts from the last one before it); ``now`` (default:
    the last round) decides whether a final clear run has ended an episode.
    After an infection there are none: ASTCT grading is defined for immune
    effector cell therapy (REFERENCE k4), so a CRS-style grade is no
    registry episode.
    """
    if cause == "infection":
        return ()
    ordered = sorted(rounds, key=lambda r: r.time)
    given = sorted(given, key=lambda g: g.time)
    doses = sorted(doses, key=lambda d: d.at)
    rule = rule or EndRule()
    icans_rule = icans_rule or IcansEndRule(rule.clear_hours)
    crs = crs_episodes(
        [GradedRound(r.time, r.crs_grade, r.crs_complete) for r in ordered], given, rule, now
    )
    icans = icans_episodes(
        [GradedRound(r.time, r.icans_grade, r.icans_screened) for r in ordered], icans_rule, now
    )
    # Local rule (DERIVED): a dose with no stated reason, given while CRS
    # was clear and an ICANS episode open, treats ICANS, never CRS.
    for_crs = [g for g in given if not icans_only_dose(g, ordered, icans)]
    out = []
    for kind, episodes in (("crs", crs), ("icans", icans)):
        for i, episode in enumerate(episodes):
            following = episodes[i + 1].onset if i + 1 < len(episodes) else None
            ledger = for_crs if kind == "crs" else given
            out.append(
                _summary(kind, episode, following, ordered, ledger, day0, doses, labels or {})
            )
    return tuple(sorted(out, key=lambda s: (s.onset, s.kind)))


def crs_clear_at(rounds: Sequence[RoundFacts], time: datetime) -> bool:
    """Return True when the last round at or before ``time`` with a CRS grade
    was graded 0 with every criterion recorded (no fever, hypotension or
    hypoxia)."""
    last = next((r for r in reversed(rounds) if r.time <= time and r.crs_grade is not None), None)
    return last is not None and last.crs_grade == 0 and last.crs_complete


def icans_only_dose(given: Given, rounds: Sequence[RoundFacts], icans: Sequence[Episode]) -> bool:
    """Return True for a dose with no stated reason given while CRS was clear
    and an ICANS episode was open: it treats ICANS only (local rule)."""
    return (
        given.indication == ""
        and any(e.open_at(given.time) for e in icans)
        and crs_clear_at(rounds, given.time)
    )


def attributed(
    kind: str,
    given: Sequence[Given],
    onset: datetime,
    end: datetime | None,
    following: datetime | None,
) -> tuple[Given, ...]:
    """Return the ledger doses that treat this episode.

    From the onset to the episode's end: doses given for this kind of
    episode, doses with no stated reason, and prophylaxis continued after
    the onset (CIBMTR 4100). A dose explicitly given for this kind after
    the end (a steroid taper) still counts, up to the next episode.
    Premedication never counts (REFERENCE k1).
    """
    out = []
    for g in given:
        if g.kind not in TREATMENT_KINDS[kind] or g.indication in NEVER_TREATMENT:
            continue
        if g.time < onset or (following is not None and g.time >= following):
            continue
        if (
            g.indication == kind
            or g.indication in ("", "prophylaxis")
            and (end is None or g.time <= end)
        ):
            out.append(g)
    return tuple(out)


def oxygen_rank(r: RoundFacts) -> tuple[int, int, float]:
    """Rank oxygen support: ASTCT hypoxia tier, then device, then flow."""
    finding, _ = hypoxia_finding(
        Observation(oxygen_device=r.oxygen_device, oxygen_flow_l_min=r.oxygen_flow_l_min)
    )
    tier = (finding.grade or 0) if finding else 0
    device = OXYGEN_DEVICES.index(r.oxygen_device) if r.oxygen_device in OXYGEN_DEVICES else -1
    return tier, device, r.oxygen_flow_l_min or 0.0


def _summary(
    kind: str,
    episode: Episode,
    following: datetime | None,
    rounds: Sequence[RoundFacts],
    given: Sequence[Given],
    day0: datetime | None,
    doses: Sequence[DoseClock],
    labels: dict[str, str],
) -> EpisodeSummary:
    onset, end = episode.onset, episode.resolved_at
    inside = [r for r in rounds if onset <= r.time and (end is None or r.time <= end)]
    course = [r for r in rounds if onset <= r.time and (following is None or r.time < following)]
    treatments = attributed(kind, given, onset, end, following)

    before = [d for d in doses if d.at <= onset]
    if before:
        step, ref_at = before[-1].step, before[-1].at
        reference = labels.get(step, step)
    elif day0 is not None:
        step, ref_at, reference = None, day0, DAY_0
    else:
        step, ref_at, reference = None, None, None
    since = onset - ref_at if ref_at is not None else None

    steroids = [g for g in treatments if g.kind == "corticosteroid"]
    toci = tuple(g.time for g in treatments if g.kind == "tocilizumab")
    others = tuple(
        dict.fromkeys(
            str(g.detail.get("drug") or g.kind) for g in treatments if g.kind in OTHER_ANTICYTOKINE
        )
    )
    classes = tuple(c for c in THERAPY_CLASSES if any(g.kind == c for g in treatments))

    pressor_rounds = [r for r in inside if r.vasopressors]
    most = max((len(set(r.vasopressors)) for r in pressor_rounds), default=0)
    agents = tuple(sorted({a for r in pressor_rounds for a in r.vasopressors}))
    if most == 0 and any(g.kind == "vasopressor" for g in treatments):
        most = 1  # on the ledger, never on a round: at least one

    oxygenated = [r for r in inside if r.oxygen_device]
    highest = max(oxygenated, key=oxygen_rank, default=None)
    pressure = next((r for r in inside if r.oxygen_device in POSITIVE_PRESSURE_DEVICES), None)
    icu = next((g.time for g in treatments if g.kind == "icu_transfer"), None)

    ice = None
    if kind == "icans":
        ice = min(
            (r for r in inside if r.ice_score is not None),
            key=lambda r: (r.ice_score, r.time),
            default=None,
        )

    prompt_round = next((r for r in course if r.followup and r.followup.get("iec_hs")), None)
    worst: dict[tuple[str, str], dict[str, Any]] = {}
    for r in course:
        for g in (r.followup or {}).get("icaht", []):
            if g.get("grade") is None:
                continue
            key = (g["lineage"], g["phase"])
            if key not in worst or g["grade"] > worst[key]["grade"]:
                worst[key] = g
    icaht = tuple(f"{g['title']} ({g['status']})" for g in worst.values() if g["grade"] >= 1)
    icaht_max = max((g["grade"] for g in worst.values()), default=None)

    steroid_days = calendar_days(steroids[0].time, steroids[-1].time, day0) if steroids else None
    return EpisodeSummary(
        kind=kind,
        onset=onset,
        onset_reference=reference,
        onset_reference_step=step,
        onset_reference_at=ref_at,
        onset_day=since.days if since is not None else None,
        onset_hours=round(since.total_seconds() / 3600, 1) if since is not None else None,
        max_grade=episode.max_grade,
        max_grade_at=episode.max_grade_at,
        resolved_at=end,
        duration_hours=round((end - onset).total_seconds() / 3600, 1) if end else None,
        end_rule=episode.rule.describe(),
        treatments=treatments,
        tocilizumab_at=toci,
        steroid_agents=tuple(dict.fromkeys(str(g.detail.get("drug") or "") for g in steroids))
        if steroids
        else (),
        steroid_start=steroids[0].time if steroids else None,
        steroid_doses=len(steroids),
        steroid_days=steroid_days,
        other_anticytokine=others,
        therapy_classes=classes,
        vasopressors_max=most,
        vasopressor_agents=agents,
        oxygen_highest=highest.oxygen_device if highest else None,
        oxygen_highest_flow=highest.oxygen_flow_l_min if highest else None,
        oxygen_highest_at=highest.time if highest else None,
        positive_pressure_at=pressure.time if pressure else None,
        icu_at=icu,
        lowest_ice=ice.ice_score if ice else None,
        lowest_ice_at=ice.time if ice else None,
        iec_hs_prompt_at=prompt_round.time if prompt_round else None,
        iec_hs_prompt=prompt_round.followup["iec_hs"]["title"] if prompt_round else "",
        icaht=icaht,
        icaht_max_grade=icaht_max,
        basis=basis_of(kind),
    )


def calendar_days(first: datetime, last: datetime, day0: datetime | None) -> int:
    """Return the calendar days from ``first`` to ``last`` inclusive.

    Days are counted from ``day0`` (midnight at the start of day 0 in the
    hospital's zone) when known, else in the times' own zone: a single dose
    is 1 day of exposure, never 0.
    """
    if day0 is not None:
        return (last - day0).days - (first - day0).days + 1
    return (last.date() - first.date()).days + 1


def basis_of(kind: str) -> dict[str, str]:
    """Return where each derived figure comes from (shown beside it)."""
    name = "CRS" if kind == "crs" else "ICANS"
    return {
        "onset": f"The first round graded {name} >= 1 ({GRADING}); CIBMTR 4100: the date the "
        "first symptom was documented",
        "treatments": "From the intervention ledger: doses given for "
        f"{name}, or with no reason stated, from the onset to the end; prophylaxis only if "
        "continued after the onset (CIBMTR 4100); premedication never (REFERENCE k1); a dose "
        f"recorded for {name} after the end still counts until the next episode. Local rule "
        "(DERIVED): a dose with no reason stated, given while an ICANS episode was open and "
        "the last CRS grade was 0 with every criterion recorded, treats ICANS only, never CRS",
        "steroid_days": "Local (DERIVED): calendar days of corticosteroid exposure, from "
        "the day of the first to the day of the last dose recorded for the episode, both "
        "counted (one dose: 1 day)",
        "vasopressors": "The most vasopressor agents recorded at once on one round, "
        "vasopressin included (CIBMTR 4100 R4.0: 1 or >= 2)",
        "oxygen": "The highest support recorded on a round, by ASTCT hypoxia tier then device "
        "and flow; FiO2 is not recorded",
        "course": "IEC-HS prompt and ICAHT grades: those recorded with lab entries from the "
        f"onset until the next {name} episode",
    }
