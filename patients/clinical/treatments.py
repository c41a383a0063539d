"""Match a presentation to the treatment options the cited sources describe.

The options live in ``treatment_options.toml`` (one file for clinical
review). Matching lists every option whose statements apply, each with the
reason and its sources side by side; it never ranks or orders treatment.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from .sources import cite

CATALOGUE = Path(__file__).with_name("treatment_options.toml")
# ASCO 2021: tocilizumab at most 3 doses in 24 h and 4 in total.
TOCILIZUMAB_MAX_24H = 3
TOCILIZUMAB_MAX_TOTAL = 4
DAY = timedelta(hours=24)


@dataclass(frozen=True)
class Presentation:
    crs_grade: int | None = None
    icans_grade: int | None = None
    organs: dict[str, int] = field(default_factory=dict)
    cause: str = "immunotherapy"  # or "infection"
    hypotension: bool = False
    seizure: bool = False
    cerebral_edema: bool = False
    persistent_fever: bool = False
    tocilizumab_24h: int = 0
    tocilizumab_total: int = 0
    fever: bool = False
    anti_il6_given: bool = False
    icans_earlier: bool = False
    # Infection exposures only: WHO COVID-19 severity and why.
    who_severity: str = ""
    who_criteria: tuple[str, ...] = ()
    # Dose checks of the tocilizumab doses given (label dosing, REFERENCE k6).
    tocilizumab_dose_notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class OptionMatch:
    id: str
    name: str
    purpose: str
    reason: str
    cautions: tuple[str, ...]
    statements: tuple[dict[str, str], ...]

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(s["source"] for s in self.statements))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "reason": self.reason,
            "sources": self.sources,
            "statements": list(self.statements),
            "cautions": list(self.cautions),
        }


@cache
def catalogue() -> tuple[dict[str, Any], ...]:
    with CATALOGUE.open("rb") as f:
        return tuple(tomllib.load(f)["option"])


def applies(when: dict[str, Any], p: Presentation) -> bool:
    crs, icans = p.crs_grade or 0, p.icans_grade or 0
    checks = {
        "crs_min": lambda v: crs >= v,
        "crs_max": lambda v: crs <= v,
        "icans_min": lambda v: icans >= v,
        "icans_max": lambda v: icans <= v,
        "with_crs": lambda v: (crs >= 1) == v,
        "cause": lambda v: p.cause == v,
        "hypotension": lambda v: p.hypotension == v,
        "seizure": lambda v: p.seizure == v,
        "cerebral_edema": lambda v: p.cerebral_edema == v,
        "persistent_fever": lambda v: p.persistent_fever == v,
        "fever": lambda v: p.fever == v,
        "anti_il6_given": lambda v: p.anti_il6_given == v,
        "icans_earlier": lambda v: p.icans_earlier == v,
        "who_severity": lambda v: p.who_severity in v,
        "organ": lambda v: p.organs.get(v, 0) >= when.get("organ_min", 1),
        "organ_min": lambda v: True,
    }
    return all(checks[key](value) for key, value in when.items())


def describe(when: dict[str, Any]) -> str:
    parts = []
    if "crs_min" in when:
        top = when.get("crs_max")
        parts.append(
            f"CRS grade {when['crs_min']}"
            + ("" if top == when["crs_min"] else f"-{top}" if top else " or above")
        )
    if "icans_min" in when:
        top = when.get("icans_max")
        parts.append(
            f"ICANS grade {when['icans_min']}"
            + ("" if top == when["icans_min"] else f"-{top}" if top else " or above")
        )
    if when.get("hypotension"):
        parts.append("hypotension")
    if "organ" in when:
        parts.append(f"{when['organ']} involvement (severity >= {when.get('organ_min', 1)})")
    if when.get("seizure"):
        parts.append("seizure")
    if when.get("cerebral_edema"):
        parts.append("cerebral oedema")
    if when.get("persistent_fever"):
        parts.append("fever for more than 3 days")
    if "with_crs" in when:
        parts.append("with CRS" if when["with_crs"] else "without CRS")
    if when.get("fever"):
        parts.append("fever")
    if when.get("anti_il6_given"):
        parts.append("after anti-IL-6 therapy")
    if when.get("icans_earlier"):
        parts.append("ICANS persisting or worsening since an earlier round")
    if "who_severity" in when:
        parts.append(f"WHO {' or '.join(when['who_severity'])} COVID-19")
    return ", ".join(parts) or "any presentation"


def match_options(p: Presentation) -> list[OptionMatch]:
    """Return the options the sources describe for ``p``, catalogue order."""
    matches = []
    for option in catalogue():
        statements = [
            {
                "index": i,
                "source": s["source"],
                "citation": cite(s["source"]),
                "status": s["status"],
                "text": s["text"],
                "matched": describe(s.get("when", {})),
            }
            for i, s in enumerate(option["statement"])
            if applies(s.get("when", {}), p)
        ]
        if not statements:
            continue
        cautions = list(option.get("cautions", []))
        if option["id"] == "tocilizumab":
            cautions.insert(0, tocilizumab_ledger(p))
            cautions[1:1] = list(p.tocilizumab_dose_notes)
        reason = "; ".join(dict.fromkeys(s["matched"] for s in statements))
        if p.who_severity and any("WHO" in s["matched"] for s in statements):
            reason += f" (now {p.who_severity}: {'; '.join(p.who_criteria)})"
        matches.append(
            OptionMatch(
                id=option["id"],
                name=option["name"],
                purpose=option["purpose"],
                reason=f"Described for {reason}",
                cautions=tuple(cautions),
                statements=tuple(statements),
            )
        )
    return matches


def dose_counts(times: list[datetime], now: datetime) -> tuple[int, int]:
    """Return (doses in the 24 h before ``now``, doses up to ``now``)."""
    given = [t for t in times if t <= now]
    return sum(1 for t in given if now - t < DAY), len(given)


def tocilizumab_ledger(p: Presentation) -> str:
    text = (
        f"Given so far: {p.tocilizumab_24h} of {TOCILIZUMAB_MAX_24H} doses in the last 24 h, "
        f"{p.tocilizumab_total} of {TOCILIZUMAB_MAX_TOTAL} in total (ASCO 2021 limits)."
    )
    if p.tocilizumab_total >= TOCILIZUMAB_MAX_TOTAL:
        text += " Total maximum reached."
    elif p.tocilizumab_24h >= TOCILIZUMAB_MAX_24H:
        text += " 24-hour maximum reached."
    return text


def tocilizumab_limit_warning(doses_24h: int, doses_total: int) -> str | None:
    """Return a warning when one more dose would pass an ASCO limit."""
    if doses_total + 1 > TOCILIZUMAB_MAX_TOTAL:
        return (
            f"This would be tocilizumab dose {doses_total + 1}; ASCO 2021 describes at most "
            f"{TOCILIZUMAB_MAX_TOTAL} doses in total."
        )
    if doses_24h + 1 > TOCILIZUMAB_MAX_24H:
        return (
            f"This would be dose {doses_24h + 1} in 24 hours; ASCO 2021 describes at most "
            f"{TOCILIZUMAB_MAX_24H} doses in 24 hours."
        )
    return None


def stored(match: OptionMatch) -> dict[str, Any]:
    """Return the compact form kept with a round: ids and statement indices."""
    return {
        "id": match.id,
        "reason": match.reason,
        "sources": match.sources,
        "statements": [s["index"] for s in match.statements],
        "cautions": list(match.cautions[:1]) if match.id == "tocilizumab" else [],
    }


def expand(saved: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return stored options with their names, statements and cautions."""
    by_id = {o["id"]: o for o in catalogue()}
    out = []
    for item in saved:
        option = by_id.get(item["id"])
        if option is None:
            continue  # an option since withdrawn from the catalogue
        statements = []
        for i in item["statements"]:
            s = option["statement"][i]
            statements.append(
                {
                    "source": s["source"],
                    "citation": cite(s["source"]),
                    "status": s["status"],
                    "text": s["text"],
                }
            )
        out.append(
            {
                "id": item["id"],
                "name": option["name"],
                "reason": item["reason"],
                "sources": item["sources"],
                "statements": statements,
                "cautions": item.get("cautions", []) + list(option.get("cautions", [])),
            }
        )
    return out
