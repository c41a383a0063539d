"""Describe the current presentation, as treatment matching needs it."""

from __future__ import annotations

from datetime import timedelta

from .episodes import Episode
from .flags import DEFAULT_PERSISTENCE, RoundState, run_start
from .history import Given
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
    return Presentation(
        crs_grade=a.crs.grade,
        icans_grade=a.icans.grade,
        organs=a.organ_levels(),
        cause=cause,
        hypotension=bool(obs.hypotension or obs.vasopressors),
        seizure=obs.seizure not in (None, "none") or obs.symptoms.get("seizures", 0) > 0,
        cerebral_edema=obs.cerebral_edema not in (None, "none", "intracranial_hemorrhage"),
        persistent_fever=start is not None and cur.time - start > persistence,
        tocilizumab_24h=toci_24h,
        tocilizumab_total=toci_total,
    )
