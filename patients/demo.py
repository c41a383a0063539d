"""A believable demo ward: CAR-T (CD19 and BCMA), bispecific, COVID-19 and
stable patients.

Deterministic for a given seed and "now". The courses are illustrations
for training and testing, not patient data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .clinical import products

ROUND_EVERY = timedelta(hours=4)
WARDS = ("Haematology A", "Haematology B", "Infectious Diseases")
GIVEN = (
    "Alex",
    "Sam",
    "Priya",
    "Jon",
    "Maria",
    "Wei",
    "Aisha",
    "Tom",
    "Elena",
    "Kofi",
    "Ruth",
    "Ivan",
    "Nadia",
    "Oscar",
    "Lena",
    "Yusuf",
    "Grace",
    "Mateo",
    "Hana",
    "Omar",
)
FAMILY = (
    "Okafor",
    "Smith",
    "Patel",
    "Nowak",
    "Garcia",
    "Chen",
    "Khan",
    "Brown",
    "Rossi",
    "Mensah",
    "Cohen",
    "Petrov",
    "Haddad",
    "Larsen",
    "Berg",
    "Demir",
    "Walsh",
    "Silva",
    "Sato",
    "Farah",
)
SCENARIOS = ("cart_crs", "cart_icans", "bispecific", "covid", "stable")


@dataclass
class DemoPatient:
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    weight_kg: float
    height_cm: float
    ward: str
    bed: str
    risk: dict[str, bool]
    baseline: dict[str, float]
    exposure: dict[str, Any]
    rounds: list[dict[str, Any]] = field(default_factory=list)
    given: list[dict[str, Any]] = field(default_factory=list)
    # Doses of a step-up schedule, each with its own clock (DoseEvent).
    doses: list[dict[str, Any]] = field(default_factory=list)


def normal_round(rng: random.Random) -> dict[str, Any]:
    return {
        "temperature_c": round(rng.uniform(36.4, 37.4), 1),
        "heart_rate": rng.randint(64, 88),
        "systolic_bp": rng.randint(115, 135),
        "diastolic_bp": rng.randint(65, 82),
        "respiratory_rate": rng.randint(13, 18),
        "spo2": rng.randint(96, 99),
        "oxygen_device": "room_air",
        "acvpu": "A",
        "symptoms": {},
    }


def full_ice() -> dict[str, int]:
    return {
        "ice_orientation": 4,
        "ice_naming": 3,
        "ice_commands": 1,
        "ice_writing": 1,
        "ice_attention": 1,
    }


def ice_of(score: int) -> dict[str, int]:
    """Return ICE items adding up to ``score`` (orientation lost first)."""
    items = full_ice()
    lost = 10 - score
    for name in ["ice_attention", "ice_writing", "ice_orientation", "ice_naming", "ice_commands"]:
        take = min(lost, items[name])
        items[name] -= take
        lost -= take
    return items


def cart_crs(day: float, rng: random.Random, r: dict[str, Any], give: list) -> None:
    """CRS from day 2, worst on day 4 (grade 3), better after treatment."""
    if 2 <= day < 7:
        r["temperature_c"] = round(rng.uniform(38.3, 39.6), 1)
        r["heart_rate"] = rng.randint(105, 128)
        r["symptoms"] = {"fever": 2, "fatigue": 1, "headache": 1}
    if 3 <= day < 6:
        r["systolic_bp"] = rng.randint(84, 96)
        r["diastolic_bp"] = rng.randint(45, 55)
        r["hypotension"] = True
        r["oxygen_device"], r["oxygen_flow_l_min"] = "nasal_cannula", 3.0
        r["spo2"] = rng.randint(92, 95)
        r["respiratory_rate"] = rng.randint(21, 25)
        r["symptoms"]["shortness_of_breath"] = 2
    if 4 <= day < 5.5:
        r["vasopressors"] = ["norepinephrine"]
    if 5.5 <= day < 7:
        r["temperature_c"] = round(rng.uniform(37.0, 37.8), 1)
    if day >= 3 and abs(day - round(day)) < 0.01:  # the 08:00 blood test
        r["creatinine_umol_l"] = 140.0 if day < 6 else 95.0
    give += [
        ("antipyretic", 2.2, "paracetamol", "1 g", "PO"),
        ("tocilizumab", 3.2, "tocilizumab", "8 mg/kg", "IV"),
        ("tocilizumab", 4.1, "tocilizumab", "8 mg/kg", "IV"),
        ("corticosteroid", 4.2, "dexamethasone", "10 mg", "IV"),
        ("vasopressor", 4.0, "norepinephrine", "", "IV"),
    ]


def cart_icans(day: float, rng: random.Random, r: dict[str, Any], give: list) -> None:
    """Mild CRS days 1-3, then ICANS with a falling ICE score days 4-7."""
    r.update(full_ice())
    if 1 <= day < 3.5:
        r["temperature_c"] = round(rng.uniform(38.1, 38.9), 1)
        r["symptoms"] = {"fever": 1, "body_aches": 1}
    if 4 <= day < 8:
        score = {4: 8, 5: 5, 6: 2, 7: 6}[int(day)]
        r.update(ice_of(score))
        r["consciousness"] = "awakens_to_voice" if score <= 5 else "awakens_spontaneously"
        r["acvpu"] = "C"
        r["symptoms"] = {"confusion": 2 if score <= 5 else 1}
    give += [
        ("corticosteroid", 5.1, "dexamethasone", "10 mg", "IV"),
        ("antiseizure", 4.1, "levetiracetam", "750 mg", "PO"),
    ]


# Teclistamab step-up schedule (the US plan in products.toml, REFERENCE k8):
# its doses, given here two days apart ("each step may be given 2-4 days
# after the previous one"), on days 0, 2 and 4 at 08:00.
STEP_UP_DAYS = (0, 2, 4)


def step_up_doses(start: datetime, now: datetime) -> tuple[list[dict], list[dict]]:
    """Return the teclistamab doses given by ``now`` and their premedication
    (dexamethasone 16 mg 1-3 h before each, REFERENCE k1), recorded as such."""
    plan = products.find_product("teclistamab", "").plan_for("US")
    doses, premedication = [], []
    for step, day in zip(plan.steps, STEP_UP_DAYS, strict=True):
        at = start + timedelta(days=day)
        if at > now:
            break
        doses.append({"step": step.id, "dose": step.dose, "given_at": at, "note": ""})
        premedication.append(
            {
                "kind": "corticosteroid",
                "given_at": at - timedelta(hours=1),
                "drug": "dexamethasone",
                "dose": "16 mg",
                "route": "PO",
                "indication": "premedication",
            }
        )
    return doses, premedication


def bispecific(day: float, rng: random.Random, r: dict[str, Any], give: list) -> None:
    """Step-up doses on days 0, 2 and 4; grade 1 CRS the day after the second and third."""
    if any(d + 0.5 <= day < d + 1.3 for d in STEP_UP_DAYS[1:]):
        r["temperature_c"] = round(rng.uniform(38.0, 38.6), 1)
        r["symptoms"] = {"fever": 1, "nausea": 1}


def bcma_car_t(day: float, rng: random.Random, r: dict[str, Any], give: list) -> None:
    """Cilta-cel: the ICANS course, and the late-neurotoxicity questions of
    BCMA CAR-T (products.toml, REFERENCE k11) asked with each ICE, all "no"."""
    cart_icans(day, rng, r, give)
    if day >= 1 and abs(day - round(day)) < 0.01:  # the 08:00 round
        questions = products.find_product("cilta-cel", "").late_neuro.questions
        r["late_neuro"] = {q.id: False for q in questions}


def covid(day: float, rng: random.Random, r: dict[str, Any], give: list) -> None:
    """COVID-19: fever throughout, oxygen need rising from day 3."""
    r["temperature_c"] = round(rng.uniform(38.1, 39.2), 1)
    r["symptoms"] = {"fever": 1, "cough": 2, "fatigue": 2}
    if day >= 3:
        r["oxygen_device"], r["oxygen_flow_l_min"] = "nasal_cannula", 4.0
        r["spo2"] = rng.randint(91, 94)
        r["respiratory_rate"] = rng.randint(22, 26)
        r["symptoms"]["shortness_of_breath"] = 2
    if day >= 5:
        r["oxygen_device"], r["oxygen_flow_l_min"] = "non_rebreather_mask", 12.0
        r["symptoms"]["difficulty_breathing"] = 2
        r["crp_mg_l"] = 180.0
    give += [("antipyretic", 0.5, "paracetamol", "1 g", "PO")]


COURSES = {
    "cart_crs": cart_crs,
    "cart_icans": bcma_car_t,
    "bispecific": bispecific,
    "covid": covid,
    "stable": lambda day, rng, r, give: None,
}
# Kind, agent as typed, and the catalogue product (products.toml).
EXPOSURES = {
    "cart_crs": ("car_t", "axicabtagene ciloleucel", "axi-cel"),
    "cart_icans": ("car_t", "ciltacabtagene autoleucel", "cilta-cel"),
    "bispecific": ("bispecific", "teclistamab", "teclistamab"),
    "covid": ("infection", "COVID-19", ""),
    "stable": ("car_t", "tisagenlecleucel", "tisa-cel"),
}


def demo_ward(count: int, seed: int, now: datetime, days: int | None = None) -> list[DemoPatient]:
    """Return ``count`` demo patients with their rounds up to ``now``.

    ``days`` fixes every course's length (the benchmark's 14 days); by
    default each patient is somewhere in days 1-14.
    """
    out = []
    for n in range(count):
        # One generator per patient: a patient's course does not depend on
        # how many rounds the patients before it had (that varies with the
        # time of day).
        rng = random.Random(f"{seed}-{n}")
        scenario = SCENARIOS[n % len(SCENARIOS)]
        kind, agent, product = EXPOSURES[scenario]
        # Long enough into the course that the CRS and ICANS patients show it;
        # bispecific patients are in their step-up doses (a window open).
        first_day = {"cart_crs": 5, "cart_icans": 6}.get(scenario, 1)
        days_in = rng.randint(first_day, 5 if scenario == "bispecific" else 14)
        if days is not None:
            days_in = days
        start = (now - timedelta(days=days_in)).replace(hour=8, minute=0, second=0, microsecond=0)
        p = DemoPatient(
            mrn=f"DEMO-{n + 1:04d}",
            given_name=GIVEN[rng.randrange(len(GIVEN))],
            family_name=FAMILY[rng.randrange(len(FAMILY))],
            birth_date=date(rng.randint(1940, 1995), rng.randint(1, 12), rng.randint(1, 28)),
            sex=rng.choice(["female", "male"]),
            weight_kg=round(rng.uniform(52, 125), 1),
            height_cm=round(rng.uniform(152, 190), 1),
            ward="Infectious Diseases" if scenario == "covid" else WARDS[n % 2],
            bed=f"{rng.randint(1, 30)}{rng.choice('ABCD')}",
            risk={
                "nursing_home": rng.random() < 0.1,
                "heart_disease": rng.random() < 0.2,
                "diabetes": rng.random() < 0.25,
                "kidney_disease": rng.random() < 0.1,
            },
            baseline={
                "creatinine_umol_l": float(rng.randint(60, 95)),
                "alt_u_l": 25.0,
                "ast_u_l": 28.0,
                "bilirubin_umol_l": 9.0,
            },
            exposure={
                "kind": kind,
                "agent": agent,
                "day0": start.date(),
                "product": product,
            },
        )
        give: list = []
        t = start
        # One patient in seven is overdue: the last round was missed.
        stop = now - (timedelta(hours=9) if n % 7 == 6 else timedelta(0))
        while t <= stop:
            day = (t - start).total_seconds() / 86400
            r = normal_round(rng)
            COURSES[scenario](day, rng, r, give)
            if kind == "car_t" and t.hour in (8, 20) and "ice_naming" not in r:
                r.update(full_ice())  # ASCO 2021: ICE at least twice daily
            r["clinical_time"] = t
            p.rounds.append(r)
            t += ROUND_EVERY
        p.given = [
            {
                "kind": k,
                "given_at": start + timedelta(days=d),
                "drug": drug,
                "dose": dose,
                "route": route,
            }
            for k, d, drug, dose, route in dict.fromkeys(give)
            if start + timedelta(days=d) <= now
        ]
        if scenario == "bispecific":
            p.doses, premedication = step_up_doses(start, now)
            p.given += premedication
        out.append(p)
    return out
