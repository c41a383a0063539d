"""Describe the current presentation, as treatment matching needs it."""

from __future__ import annotations

from datetime import timedelta

from .episodes import Episode
from .flags import DEFAULT_PERSISTENCE, FEVER_C, RoundState, run_start
from .history import Given
from .infection import who_covid_severity
from .known import known_grade
from .treatments import Presentation, dose_counts


def presentation_of(
    history: list[RoundState],
    given: list[Given],
    cause: str = "immunotherapy",
    persistence: timedelta = DEFAULT_PERSISTENCE,
    episode: Episode | None = None,
) -> Presentation:
    """Return the presentation at the last round of ``history``.

    Tocilizumab doses are counted within the open CRS episode (REFERENCE
    k6: at most 4 per episode); without one, every dose counts.
    """
    cur = history[-1]
    a, obs = cur.assessment, cur.obs
    start = run_start("fever", history)
    toci_24h, toci_total = dose_counts(
        [
            g.time
            for g in given
            if g.kind == "tocilizumab" and (episode is None or g.time >= episode.onset)
        ],
        cur.time,
    )
    anti_il6 = [
        g
        for g in given
        if g.kind in ("tocilizumab", "siltuximab")
        and g.time <= cur.time
        and (episode is None or g.time >= episode.onset)
        and g.indication not in ("premedication", "prophylaxis")
    ]
    who = who_covid_severity(obs) if cause == "infection" else None
    # A partial round never lowers the grade the options are listed for.
    crs = known_grade([(s.time, s.assessment.crs) for s in history]).grade
    icans = known_grade([(s.time, s.assessment.icans) for s in history]).grade
    return Presentation(
        crs_grade=crs,
        icans_grade=icans,
        organs=a.organ_levels(),
        cause=cause,
        hypotension=bool(obs.hypotension or obs.vasopressors),
        seizure=obs.seizure not in (None, "none") or obs.symptoms.get("seizures", 0) > 0,
        cerebral_edema=obs.cerebral_edema not in (None, "none", "intracranial_hemorrhage"),
        persistent_fever=start is not None and cur.time - start > persistence,
        tocilizumab_24h=toci_24h,
        tocilizumab_total=toci_total,
        fever=obs.temperature_c is not None and obs.temperature_c >= FEVER_C,
        anti_il6_given=episode is not None and bool(anti_il6),
        icans_earlier=any((s.assessment.icans.grade or 0) >= 1 for s in history[:-1]),
        who_severity=who.level if who else "",
        who_criteria=who.criteria if who else (),
    )
