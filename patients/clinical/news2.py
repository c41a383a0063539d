"""NEWS2 (Royal College of Physicians, 2017): scores, risk band, monitoring."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .basis import Finding
from .inputs import Observation
from .sources import cite

SOURCE = cite("NEWS2")
PARAMETERS = (
    "respiration_rate",
    "spo2",
    "air_or_oxygen",
    "systolic_bp",
    "pulse",
    "consciousness",
    "temperature",
)
# NEWS2 Chart 2 thresholds.
MEDIUM_MIN_TOTAL = 5
HIGH_MIN_TOTAL = 7
RED_SCORE = 3
BAND_ORDER = ("low", "low-medium", "medium", "high")
# NEWS2 Chart 3/4 minimum observation frequency.
MONITORING = {
    "low": "4-6-hourly",
    "low-medium": "1-hourly",
    "medium": "1-hourly",
    "high": "continuous",
}
MONITORING_ZERO = "12-hourly"
# The longest interval each frequency allows before a round is overdue.
# "continuous" is checked hourly: a charted round every hour at least.
MONITORING_INTERVAL = {
    "12-hourly": timedelta(hours=12),
    "4-6-hourly": timedelta(hours=6),
    "1-hourly": timedelta(hours=1),
    "continuous": timedelta(hours=1),
}


def _whole(x: float) -> int:
    """Round half up: the chart's bands are whole numbers."""
    return math.floor(x + 0.5)


def score_respiration(rate: float) -> int:
    r = _whole(rate)
    if r <= 8:
        return 3
    if r <= 11:
        return 1
    if r <= 20:
        return 0
    if r <= 24:
        return 2
    return 3


def score_spo2_scale_1(spo2: float) -> int:
    s = _whole(spo2)
    if s <= 91:
        return 3
    if s <= 93:
        return 2
    if s <= 95:
        return 1
    return 0


def score_spo2_scale_2(spo2: float, on_oxygen: bool) -> int:
    s = _whole(spo2)
    if s <= 83:
        return 3
    if s <= 85:
        return 2
    if s <= 87:
        return 1
    if s <= 92 or not on_oxygen:
        return 0
    if s <= 94:
        return 1
    if s <= 96:
        return 2
    return 3


def score_systolic(sbp: float) -> int:
    s = _whole(sbp)
    if s <= 90:
        return 3
    if s <= 100:
        return 2
    if s <= 110:
        return 1
    if s <= 219:
        return 0
    return 3


def score_pulse(rate: float) -> int:
    p = _whole(rate)
    if p <= 40:
        return 3
    if p <= 50:
        return 1
    if p <= 90:
        return 0
    if p <= 110:
        return 1
    if p <= 130:
        return 2
    return 3


def score_temperature(temp: float) -> int:
    # NEWS2 scores temperature to one decimal: 38.0 -> 0, 38.1 -> 1.
    t = round(temp, 1)
    if t <= 35.0:
        return 3
    if t <= 36.0:
        return 1
    if t <= 38.0:
        return 0
    if t <= 39.0:
        return 1
    return 2


def score_consciousness(acvpu: str) -> int:
    # NEWS2: new confusion (C), V, P or U all score 3.
    return 0 if acvpu == "A" else 3


@dataclass(frozen=True)
class News2Result:
    total: int | None
    parameter_scores: dict[str, int]
    clinical_risk: str | None
    monitoring: str | None
    complete: bool
    basis: tuple[Finding, ...]
    missing: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "parameter_scores": self.parameter_scores,
            "clinical_risk": self.clinical_risk,
            "monitoring": self.monitoring,
            "complete": self.complete,
            "basis": [f.as_dict() for f in self.basis],
            "missing": list(self.missing),
        }


def band(total: int, scores: dict[str, int]) -> str:
    """Return the NEWS2 clinical-risk band (Chart 2)."""
    if total >= HIGH_MIN_TOTAL:
        return "high"
    if total >= MEDIUM_MIN_TOTAL:
        return "medium"
    if any(s == RED_SCORE for s in scores.values()):
        return "low-medium"
    return "low"


def monitoring_for(total: int, risk: str) -> str:
    return MONITORING_ZERO if total == 0 else MONITORING[risk]


# REFERENCE k7 (a4medicine, citing RCP 2017): "NEWS2 should not be used in
# children under 16 or pregnant women".
NEWS2_MIN_AGE = 16
UNDER_AGE_RULE = (
    "NEWS2 not scored: the patient is under 16. RCP 2017 (as quoted by a4medicine): "
    '"NEWS2 should not be used in children under 16 or pregnant women". Use a paediatric '
    "early warning score; this product does not provide one."
)
# ASTCT ICANS levels of consciousness that mean the patient is not Alert on
# the ACVPU scale (awakening to voice is V; to touch or not at all, P/U).
NOT_ALERT_LEVELS = {
    "awakens_to_voice",
    "awakens_only_to_tactile_stimulus",
    "requires_vigorous_or_repetitive_tactile_stimuli",
    "unarousable",
    "stupor_or_coma",
}


def consciousness_score(obs: Observation) -> tuple[int, str, dict[str, Any]] | None:
    """Return the NEWS2 consciousness score, why, and the values used.

    ACVPU as entered, unless the same round records new confusion or an
    ICANS level of consciousness that is not Alert: NEWS2 scores those 3
    (C or V/P/U), whatever ACVPU box was ticked.
    """
    values: dict[str, Any] = {"acvpu": obs.acvpu}
    if obs.acvpu not in (None, "A"):
        return score_consciousness(obs.acvpu), "NEWS2 consciousness", values
    if obs.symptoms.get("confusion", 0) > 0:
        values["symptoms.confusion"] = obs.symptoms["confusion"]
        return 3, "NEWS2 consciousness: new confusion recorded this round (C) scores 3", values
    if obs.consciousness in NOT_ALERT_LEVELS and not obs.sedated:
        values["consciousness"] = obs.consciousness
        text = obs.consciousness.replace("_", " ")
        return 3, f"NEWS2 consciousness: ICANS level '{text}' is not Alert: scores 3", values
    if obs.acvpu == "A":
        return 0, "NEWS2 consciousness", values
    return None


def score_news2(obs: Observation) -> News2Result:
    """Return NEWS2 for one round.

    An incomplete set has no total: missing values are never taken as
    normal. Its band is reported only when the recorded values alone
    already reach low-medium or worse (more values can only add points).
    """
    if obs.age_years is not None and obs.age_years < NEWS2_MIN_AGE:
        finding = Finding(UNDER_AGE_RULE, SOURCE, {"age_years": obs.age_years})
        return News2Result(None, {}, None, None, False, (finding,), ())
    on_oxygen = None if obs.oxygen_device is None else obs.oxygen_device != "room_air"
    scores: dict[str, int] = {}
    missing: list[str] = []
    basis: list[Finding] = []

    def add(param: str, field_name: str, value: Any, score: int) -> None:
        scores[param] = score
        basis.append(
            Finding(f"NEWS2 {param.replace('_', ' ')}", SOURCE, {field_name: value}, score)
        )

    if obs.respiratory_rate is not None:
        add(
            "respiration_rate",
            "respiratory_rate",
            obs.respiratory_rate,
            score_respiration(obs.respiratory_rate),
        )
    else:
        missing.append("respiratory_rate")
    if obs.spo2 is None:
        missing.append("spo2")
    elif obs.spo2_scale == 2:
        if on_oxygen is None and _whole(obs.spo2) >= 93:
            missing.append("oxygen_device")
        else:
            add("spo2", "spo2 (scale 2)", obs.spo2, score_spo2_scale_2(obs.spo2, bool(on_oxygen)))
    else:
        add("spo2", "spo2 (scale 1)", obs.spo2, score_spo2_scale_1(obs.spo2))
    if on_oxygen is None:
        missing.append("oxygen_device")
    else:
        add("air_or_oxygen", "oxygen_device", obs.oxygen_device, 2 if on_oxygen else 0)
    if obs.systolic_bp is not None:
        add("systolic_bp", "systolic_bp", obs.systolic_bp, score_systolic(obs.systolic_bp))
    else:
        missing.append("systolic_bp")
    if obs.heart_rate is not None:
        add("pulse", "heart_rate", obs.heart_rate, score_pulse(obs.heart_rate))
    else:
        missing.append("heart_rate")
    conscious = consciousness_score(obs)
    if conscious is not None:
        score, rule, values = conscious
        scores["consciousness"] = score
        basis.append(Finding(rule, SOURCE, values, score))
    else:
        missing.append("acvpu")
    if obs.temperature_c is not None:
        add(
            "temperature", "temperature_c", obs.temperature_c, score_temperature(obs.temperature_c)
        )
    else:
        missing.append("temperature_c")

    missing = list(dict.fromkeys(missing))
    subtotal = sum(scores.values())
    if not missing:
        risk = band(subtotal, scores)
        basis.append(
            Finding(f"NEWS2 total {subtotal}: {risk} clinical risk", SOURCE, {"total": subtotal})
        )
        return News2Result(
            subtotal, scores, risk, monitoring_for(subtotal, risk), True, tuple(basis), ()
        )
    floor = band(subtotal, scores)
    risk = None if floor == "low" else floor
    if risk:
        basis.append(
            Finding(
                f"Incomplete set: recorded values alone score {subtotal}, at least {risk} risk",
                SOURCE,
                {"partial_total": subtotal},
            )
        )
    return News2Result(
        None,
        scores,
        risk,
        MONITORING[risk] if risk else None,
        False,
        tuple(basis),
        tuple(missing),
    )


# RCP NEWS2 chart 4: the clinical response each trigger calls for (REFERENCE
# e; the chart's wording, shortened).
RESPONSE = {
    "zero": "Continue routine NEWS2 monitoring.",
    "low": (
        "A registered nurse assesses the patient and decides whether monitoring should be "
        "more frequent or care escalated."
    ),
    "low-medium": (
        "A single red score: a registered nurse informs the medical team caring for the "
        "patient, who review and decide whether to escalate care."
    ),
    "medium": (
        "Key threshold for an urgent response: a registered nurse immediately informs the "
        "medical team caring for the patient; urgent assessment by a clinician with "
        "competencies in assessing acutely ill patients; care in an environment with "
        "monitoring facilities."
    ),
    "high": (
        "Emergency response: a registered nurse immediately informs the medical team caring "
        "for the patient (at least specialist registrar); emergency assessment by a team "
        "with critical-care competencies, including advanced airway skills; consider "
        "transfer to level 2 or 3 care (HDU or ICU)."
    ),
}


@dataclass(frozen=True)
class Response:
    """What NEWS2 chart 4 calls for after one round, and how sure that is."""

    band: str | None
    monitoring: str | None
    text: str
    at_least: bool
    source: str


def clinical_response(total: int | None, risk: str | None) -> Response:
    """Return the chart-4 response for a round's total and band.

    An incomplete set calls for at least the response of the band its
    recorded values already reach; with no band there is none to give.
    """
    if total is not None and risk is not None:
        key = "zero" if total == 0 else risk
        return Response(risk, monitoring_for(total, risk), RESPONSE[key], False, SOURCE)
    if risk is not None:
        return Response(risk, MONITORING[risk], RESPONSE[risk], True, SOURCE)
    return Response(
        None,
        None,
        "NEWS2 is incomplete, so the response it calls for is not known: record the missing "
        "values.",
        True,
        SOURCE,
    )
