"""Grade rounds from JSON on standard input; write JSON to standard output.

The field names are a public interface (see the README): extend, never
rename. Bad input exits with status 2 and a message naming the field.
"""

from __future__ import annotations

import json
import math
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from patients.clinical.course import Followup, assess_course
from patients.clinical.episodes import INDICATIONS, EndRule
from patients.clinical.history import INTERVENTION_KINDS, Given
from patients.clinical.inputs import Baseline
from patients.clinical.parse import (
    InputError,
    choice,
    integer,
    parse_baseline,
    parse_observation,
    parse_time,
)
from patients.clinical.products import (
    JURISDICTIONS,
    KIND_WORDS,
    DoseClock,
    PlanPosition,
    Product,
    catalogue,
    find_product,
    ice_windows,
    plan_position,
    windows_of,
)
from patients.clinical.registry import RoundFacts, icans_screened, step_labels, summarise

EXPOSURE_KINDS = ("car_t", "bispecific", "monoclonal", "infection")
COURSE_KEYS = {
    "rounds",
    "interventions",
    "baseline",
    "upper_limits",
    "exposure",
    "patient",
    "doses",
}
EXPOSURE_KEYS = {"kind", "day0", "product", "jurisdiction"}
PATIENT_KEYS = {"weight_kg", "age_years"}


class Command(BaseCommand):
    help = "Assess observation rounds given as JSON on stdin (see README)."
    # Offline and database-free: runs with no configuration at all (the
    # start-up checks guard servers, which this is not).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--indent", type=int, default=None)
        parser.add_argument(
            "--now", help="ISO 8601 time for rounds without a time (default: the current time)"
        )
        parser.add_argument(
            "--episodes",
            action="store_true",
            help="print the course's CRS and ICANS episodes with their registry summary as "
            '{"episodes": [...]} instead of each round',
        )

    def handle(self, *args, **options) -> None:
        try:
            result = self.run(sys.stdin.read(), options.get("now"), options.get("episodes"))
        except InputError as error:
            sys.stderr.write(f"error: {error.field}: {error.message}\n")
            sys.exit(2)
        self.stdout.write(json.dumps(result, indent=options["indent"], ensure_ascii=False))

    def run(self, text: str, now_text: str | None, episodes: bool = False) -> Any:
        try:
            data = json.loads(text, parse_constant=reject_constant, parse_int=bounded_int)
        except json.JSONDecodeError as error:
            raise InputError(
                "input", f"not valid JSON ({error.msg}, line {error.lineno})"
            ) from None
        except RecursionError:
            raise InputError("input", "nested too deeply to be a round or a course") from None
        now = parse_time("--now", now_text) if now_text else datetime.now(UTC)
        if isinstance(data, dict) and "rounds" in data:
            return assess_json_course(data, now, episodes)
        if isinstance(data, list):
            return assess_json_course({"rounds": data}, now, episodes)
        if episodes:
            raise InputError("input", '--episodes needs a course: a list or {"rounds": [...]}')
        if isinstance(data, dict):
            course = {"rounds": [{k: v for k, v in data.items() if k != "patient"}]}
            if "patient" in data:
                course["patient"] = data["patient"]
            return assess_json_course(course, now)[0]
        raise InputError("input", 'must be a round object, a list of rounds, or {"rounds": [...]}')


def bounded_int(digits: str) -> int | float:
    """Parse a JSON integer; one too long to be any value becomes infinite.

    Python refuses to convert integers over 4,300 digits (and a long one
    costs time to convert): left as infinity, the field check names the
    field and says the number is out of range.
    """
    if len(digits.lstrip("-")) > 18:
        return float("-inf") if digits.startswith("-") else float("inf")
    return int(digits)


def round_facts(step) -> RoundFacts:
    """Return what one assessed round contributes to episode summaries."""
    state = step.state
    crs, icans, obs = state.assessment.crs, state.assessment.icans, state.obs
    return RoundFacts(
        time=state.time,
        crs_grade=crs.grade,
        crs_complete=not crs.missing,
        icans_grade=icans.grade,
        icans_screened=icans_screened(icans.missing),
        ice_score=obs.ice_score,
        oxygen_device=obs.oxygen_device,
        oxygen_flow_l_min=obs.oxygen_flow_l_min,
        vasopressors=tuple(obs.vasopressors),
        followup=step.followup,
    )


def episodes_json(
    steps, given, day0, doses, labels=None, cause: str = "immunotherapy"
) -> list[dict[str, Any]]:
    """Return each CRS and ICANS episode (episodes.py definitions) with its
    registry summary (registry.py), its onset counted from the exposure's
    day 0 or the dose before it."""
    rule = EndRule(settings.CRS_WATCH["CRS_EPISODE_CLEAR_HOURS"])
    out = []
    facts = [round_facts(s) for s in steps]
    for summary in summarise(facts, given, day0, doses, labels, rule, cause=cause):
        item = summary.as_dict()
        at = summary.onset_reference_at
        # The fields this command printed before the summary: kept as they were.
        item["onset_after"] = (
            {
                "reference": summary.onset_reference_step or summary.onset_reference,
                "hours": summary.onset_hours,
                "day": summary.onset_day,
            }
            if at
            else None
        )
        item["end_rule"] = summary.end_rule
        out.append(item)
    return out


def reject_constant(name: str) -> float:
    # NaN and Infinity parse to floats so the field check can name the field.
    return float(name.replace("Infinity", "inf"))


def assess_json_course(data: dict[str, Any], now: datetime, episodes: bool = False) -> Any:
    unknown = sorted(set(data) - COURSE_KEYS)
    if unknown:
        raise InputError(unknown[0], "unknown field")
    raw = data["rounds"]
    if not isinstance(raw, list) or not raw:
        raise InputError("rounds", "must be a non-empty list of rounds")
    many = len(raw) > 1
    weight, age = parse_patient(data.get("patient"))
    rounds = []
    for i, item in enumerate(raw):
        where = f"rounds[{i}]." if many else ""
        obs = parse_observation(item, where)
        if obs.time is None:
            if many:
                raise InputError(f"{where}time", "every round of a trajectory needs a time")
            obs = obs.__class__(**{**obs.__dict__, "time": now})
        if obs.age_years is None and age is not None:
            obs = obs.__class__(**{**obs.__dict__, "age_years": age})
        rounds.append(obs)
    # A round's own baseline applies when the course gives none.
    base_src = data if ("baseline" in data or "upper_limits" in data) else raw[0]
    baseline = parse_baseline(base_src) if isinstance(base_src, dict) else Baseline()
    if not baseline.upper_limits:
        baseline = Baseline(baseline.labs, settings.CRS_WATCH["LAB_UPPER_LIMITS"])
    given = parse_interventions(data.get("interventions") or [])
    day0, kind = parse_exposure(data.get("exposure"))
    product, jurisdiction = parse_product(data.get("exposure"))
    if product and kind and product.kind != kind:
        # A bispecific's plan on a CAR-T course (or the reverse) would time
        # every window and onset wrongly: refuse rather than guess.
        raise InputError(
            "exposure.product",
            f"{product.label} is a {KIND_WORDS.get(product.kind, product.kind)}, "
            f"not {KIND_WORDS.get(kind, kind)} (exposure.kind)",
        )
    doses = parse_doses(data.get("doses") or [], product, jurisdiction)
    plan = product.plan_for(jurisdiction) if product else None
    windows = windows_of(plan, day0, doses) if plan and day0 else []
    followup = None
    if kind in ("car_t", "bispecific"):
        followup = Followup(
            product,
            day0,
            icaht=kind == "car_t",
            rises_needed=settings.CRS_WATCH["IEC_HS_FERRITIN_RISES"],
            rule=EndRule(settings.CRS_WATCH["CRS_EPISODE_CLEAR_HOURS"]),
        )
    steps, _ = assess_course(
        rounds,
        given=given,
        baseline=baseline,
        day0=day0,
        exposure_kind=kind,
        cause="infection" if kind == "infection" else "immunotherapy",
        persistence=timedelta(hours=settings.CRS_WATCH["PERSISTENCE_HOURS"]),
        resolve_period=timedelta(hours=settings.CRS_WATCH["FLAG_AUTO_RESOLVE_HOURS"]),
        windows=ice_windows(windows),
        followup=followup,
        episode_rule=EndRule(settings.CRS_WATCH["CRS_EPISODE_CLEAR_HOURS"]),
        weight_kg=weight,
        ice_interval=timedelta(hours=settings.CRS_WATCH["ICE_INTERVAL_HOURS"]),
    )
    if episodes:
        labels = step_labels(product, jurisdiction)
        cause = "infection" if kind == "infection" else "immunotherapy"
        return {"episodes": episodes_json(steps, given, day0, doses, labels, cause)}
    out = [step.as_dict() for step in steps]
    if kind in ("car_t", "bispecific") and data.get("exposure", {}).get("product"):
        for item, step in zip(out, steps, strict=True):
            item["plan"] = plan_json(
                plan_position(product, jurisdiction, day0, doses, step.state.time)
            )
    return out


def plan_json(position: PlanPosition) -> dict[str, Any]:
    return {
        "product": position.product.id if position.product else None,
        "jurisdiction": position.jurisdiction,
        "summary": position.summary,
        "unknown": position.unknown,
        "lines": [
            {"text": line.text, "state": line.state, "status": line.status, "source": line.source}
            for line in position.lines
            if line.state != "ended"
        ],
    }


def parse_product(raw: Any) -> tuple[Product | None, str]:
    """Return the exposure's catalogue product (by id or name) and jurisdiction."""
    if not isinstance(raw, dict):
        return None, settings.CRS_WATCH["LABEL_JURISDICTION"]
    jurisdiction = raw.get("jurisdiction", settings.CRS_WATCH["LABEL_JURISDICTION"])
    choice("exposure.jurisdiction", jurisdiction, JURISDICTIONS)
    name = raw.get("product")
    if name is None:
        return None, jurisdiction
    if not isinstance(name, str):
        raise InputError("exposure.product", "must be a catalogue id or a product name")
    product = find_product(name if name in catalogue() else "", name)
    if product is None:
        raise InputError(
            "exposure.product", f"not in the catalogue; known: {', '.join(catalogue())}"
        )
    return product, jurisdiction


def parse_doses(raw: Any, product: Product | None, jurisdiction: str) -> list[DoseClock]:
    if not isinstance(raw, list):
        raise InputError("doses", "must be a list of {step, time}")
    plan = product.plan_for(jurisdiction) if product else None
    known = [s.id for s in plan.steps] if plan else []
    out = []
    for i, item in enumerate(raw):
        where = f"doses[{i}]"
        if not isinstance(item, dict):
            raise InputError(where, "must be an object with step and time")
        unknown = sorted(set(item) - {"step", "time", "dose"})
        if unknown:
            raise InputError(f"{where}.{unknown[0]}", "unknown field")
        step = item.get("step")
        if not isinstance(step, str) or (known and step not in known + ["other"]):
            raise InputError(f"{where}.step", f"must be one of {', '.join(known + ['other'])}")
        out.append(DoseClock(step, parse_time(f"{where}.time", item.get("time"))))
    return sorted(out, key=lambda d: d.at)


def parse_interventions(raw: Any) -> list[Given]:
    if not isinstance(raw, list):
        raise InputError("interventions", "must be a list")
    out = []
    for i, item in enumerate(raw):
        where = f"interventions[{i}]"
        if not isinstance(item, dict):
            raise InputError(where, "must be an object with time and kind")
        kind = choice(f"{where}.kind", item.get("kind"), INTERVENTION_KINDS)
        time = parse_time(f"{where}.time", item.get("time"))
        indication = ""
        if item.get("indication") is not None:
            indication = choice(f"{where}.indication", item["indication"], INDICATIONS)
        detail = {k: v for k, v in item.items() if k not in {"time", "kind", "indication"}}
        for key, value in detail.items():
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise InputError(f"{where}.{key}", "must be a string or a number")
            if isinstance(value, float) and not math.isfinite(value):
                raise InputError(f"{where}.{key}", "must be a finite number")
        out.append(Given(time, kind, detail, indication))
    return sorted(out, key=lambda g: g.time)


def parse_patient(raw: Any) -> tuple[float | None, int | None]:
    """Return the patient's weight (kg) and age (years), each optional."""
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise InputError("patient", "must be an object with weight_kg and/or age_years")
    unknown = sorted(set(raw) - PATIENT_KEYS)
    if unknown:
        raise InputError(f"patient.{unknown[0]}", "unknown field")
    weight = raw.get("weight_kg")
    if weight is not None:
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not 0.5 <= weight <= 400
        ):
            raise InputError("patient.weight_kg", "must be a number of kilograms from 0.5 to 400")
        weight = float(weight)
    age = raw.get("age_years")
    if age is not None:
        age = integer("patient.age_years", age, 0, 120)
    return weight, age


def parse_exposure(raw: Any) -> tuple[datetime | None, str | None]:
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise InputError("exposure", "must be an object with kind and day0")
    unknown = sorted(set(raw) - EXPOSURE_KEYS)
    if unknown:
        raise InputError(f"exposure.{unknown[0]}", "unknown field")
    kind = choice("exposure.kind", raw.get("kind"), EXPOSURE_KINDS)
    day0 = raw.get("day0")
    if isinstance(day0, str) and len(day0) == 10:
        day0 += "T00:00:00+00:00"
    return parse_time("exposure.day0", day0), kind
