"""Turn JSON-like input (``manage.py assess``) into Observations, strictly.

Every error names the field: scripts that feed the command must be told
exactly what to fix, and nothing doubtful is ever graded.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from .inputs import (
    ACVPU,
    BASELINE_LABS,
    CAPD_ITEM_MAX,
    CAPD_ITEMS,
    CAPD_REVERSED,
    CAPD_SCALE,
    CEREBRAL_EDEMA,
    CONSCIOUSNESS,
    ICE_ITEMS,
    LABS,
    MEASUREMENTS,
    MOTOR_FINDINGS,
    OXYGEN_DEVICES,
    SEIZURE,
    SYMPTOM_SEVERITY,
    SYMPTOMS,
    VASOPRESSORS,
    Baseline,
    Observation,
)
from .ranges import PLAUSIBLE


class InputError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


CHOICES = {
    "oxygen_device": OXYGEN_DEVICES,
    "acvpu": ACVPU,
    "consciousness": CONSCIOUSNESS,
    "seizure": SEIZURE,
    "motor_findings": MOTOR_FINDINGS,
    "cerebral_edema": CEREBRAL_EDEMA,
}
BOOLEANS = ("hypotension", "crs_treated", "global_aphasia", "sedated")
OTHER = {
    "time",
    "spo2_scale",
    "vasopressors",
    "ice_score",
    "ice",
    "capd",
    "capd_score",
    "age_years",
    "symptoms",
    "baseline",
    "upper_limits",
    "late_neuro",
}
# Keys people send on a round that belong elsewhere: said so, never ignored.
MISPLACED = {
    "dialysis": 'not a round field: record dialysis as an intervention {"kind": "dialysis", "time": ...}',
}
# Far beyond any plausible value, and still exact as a float.
LARGEST_NUMBER = 10**15
KNOWN = set(MEASUREMENTS) | set(CHOICES) | set(BOOLEANS) | set(LABS) | OTHER


def number(field: str, value: Any) -> float:
    # bool is an int in Python; true is not a temperature.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(field, f"must be a number, not {type(value).__name__}")
    if isinstance(value, int) and abs(value) > LARGEST_NUMBER:
        # A huge integer cannot even become a float: refuse it by size.
        raise InputError(field, "is far outside any plausible range")
    if not math.isfinite(value):
        raise InputError(field, "must be a finite number")
    low, high = PLAUSIBLE[field.rsplit(".", 1)[-1]]
    if not low <= value <= high:
        raise InputError(field, f"{value} is outside the plausible range {low:g} to {high:g}")
    return float(value)


def choice(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InputError(field, f"must be one of {', '.join(allowed)}; got {value!r}")
    return value


def boolean(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InputError(field, "must be true or false")
    return value


def integer(field: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > LARGEST_NUMBER:
        raise InputError(field, f"must be a whole number from {low} to {high}")
    if not low <= value <= high:
        raise InputError(field, f"{value} is outside {low} to {high}")
    return value


def parse_time(field: str, value: Any) -> datetime:
    if not isinstance(value, str):
        raise InputError(field, "must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(field, f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise InputError(field, "must include a time zone offset (e.g. Z or +01:00)")
    return parsed


def parse_labs(field: str, data: Any, names: tuple[str, ...]) -> dict[str, float]:
    if not isinstance(data, dict):
        raise InputError(field, "must be an object")
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise InputError(f"{field}.{unknown[0]}", f"unknown lab; known: {', '.join(names)}")
    return {k: number(f"{field}.{k}", v) for k, v in data.items() if v is not None}


def parse_baseline(data: dict[str, Any]) -> Baseline:
    labs = parse_labs("baseline", data.get("baseline", {}) or {}, BASELINE_LABS)
    limits = parse_labs("upper_limits", data.get("upper_limits", {}) or {}, BASELINE_LABS)
    return Baseline(labs=labs, upper_limits=limits)


def parse_observation(data: Any, where: str = "") -> Observation:
    """Return the Observation in ``data`` or raise InputError."""
    if not isinstance(data, dict):
        raise InputError(where or "round", "must be a JSON object")
    unknown = sorted(set(data) - KNOWN)
    if unknown:
        raise InputError(where + unknown[0], MISPLACED.get(unknown[0], "unknown field"))
    kwargs: dict[str, Any] = {}
    for name in MEASUREMENTS:
        if data.get(name) is not None:
            kwargs[name] = number(where + name, data[name])
    for name, allowed in CHOICES.items():
        if data.get(name) is not None:
            kwargs[name] = choice(where + name, data[name], allowed)
    for name in BOOLEANS:
        if data.get(name) is not None:
            kwargs[name] = boolean(where + name, data[name])
    if data.get("time") is not None:
        kwargs["time"] = parse_time(where + "time", data["time"])
    if data.get("spo2_scale") is not None:
        kwargs["spo2_scale"] = integer(where + "spo2_scale", data["spo2_scale"], 1, 2)
    if data.get("vasopressors") is not None:
        agents = data["vasopressors"]
        if not isinstance(agents, list):
            raise InputError(where + "vasopressors", "must be a list of agent names")
        kwargs["vasopressors"] = tuple(
            choice(where + "vasopressors", a, VASOPRESSORS) for a in agents
        )
    kwargs.update(parse_ice(data, where))
    kwargs.update(parse_capd(data, where))
    if data.get("age_years") is not None:
        kwargs["age_years"] = integer(where + "age_years", data["age_years"], 0, 120)
    if data.get("symptoms") is not None:
        kwargs["symptoms"] = parse_symptoms(data["symptoms"], where)
    labs = {name: number(where + name, data[name]) for name in LABS if data.get(name) is not None}
    kwargs["labs"] = labs
    if data.get("late_neuro") is not None:
        kwargs["late_neuro"] = parse_late_neuro(data["late_neuro"], where)
    return Observation(**kwargs)


def parse_late_neuro(data: Any, where: str) -> dict[str, bool]:
    from .products import catalogue

    known = sorted(
        {q.id for p in catalogue().values() if p.late_neuro for q in p.late_neuro.questions}
    )
    if not isinstance(data, dict):
        raise InputError(where + "late_neuro", "must be an object of question: true/false")
    out = {}
    for name, answer in data.items():
        field = f"{where}late_neuro.{name}"
        if name not in known:
            raise InputError(field, f"unknown question; known: {', '.join(known)}")
        out[name] = boolean(field, answer)
    return out


def parse_ice(data: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "ice" in data and data["ice"] is not None:
        items = data["ice"]
        if not isinstance(items, dict):
            raise InputError(where + "ice", "must be an object of the five ICE items")
        unknown = sorted(set(items) - set(ICE_ITEMS))
        if unknown:
            raise InputError(f"{where}ice.{unknown[0]}", "unknown ICE item")
        for item, top in ICE_ITEMS.items():
            if item not in items:
                raise InputError(f"{where}ice.{item}", "missing: all five items are needed")
            integer(f"{where}ice.{item}", items[item], 0, top)
        out["ice_score"] = sum(items.values())
        if data.get("ice_score") is not None and data["ice_score"] != out["ice_score"]:
            raise InputError(where + "ice_score", "does not equal the sum of the ICE items")
    elif "ice_score" in data:
        if data["ice_score"] is None:
            out["ice_not_assessable"] = True
        else:
            out["ice_score"] = integer(where + "ice_score", data["ice_score"], 0, 10)
    return out


def capd_points(item: str, answer: str) -> int:
    """Return an item's CAPD points: items 1-4 are reverse-scored."""
    index = CAPD_SCALE.index(answer)
    return CAPD_ITEM_MAX - index if item in CAPD_REVERSED else index


def parse_capd(data: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if data.get("capd") is not None:
        items = data["capd"]
        if not isinstance(items, dict):
            raise InputError(where + "capd", "must be an object of the eight CAPD items")
        unknown = sorted(set(items) - set(CAPD_ITEMS))
        if unknown:
            raise InputError(f"{where}capd.{unknown[0]}", "unknown CAPD item")
        total = 0
        for item in CAPD_ITEMS:
            if item not in items:
                raise InputError(f"{where}capd.{item}", "missing: all eight items are needed")
            total += capd_points(item, choice(f"{where}capd.{item}", items[item], CAPD_SCALE))
        out["capd_score"] = total
        if data.get("capd_score") is not None and data["capd_score"] != total:
            raise InputError(where + "capd_score", "does not equal the CAPD items' total")
    elif "capd_score" in data:
        if data["capd_score"] is None:
            out["capd_not_assessable"] = True
        else:
            out["capd_score"] = integer(where + "capd_score", data["capd_score"], 0, 32)
    return out


def parse_symptoms(data: Any, where: str) -> dict[str, int]:
    if not isinstance(data, dict):
        raise InputError(where + "symptoms", "must be an object of symptom: severity")
    out = {}
    for name, severity in data.items():
        field = f"{where}symptoms.{name}"
        if name not in SYMPTOMS:
            raise InputError(field, f"unknown symptom; known: {', '.join(SYMPTOMS)}")
        out[name] = SYMPTOM_SEVERITY.index(choice(field, severity, SYMPTOM_SEVERITY))
    return out
