"""The product catalogue (``products.toml``) and where a patient is in its plan.

Pure functions: the time is passed in. A plan is read for one jurisdiction
only (REFERENCE k8: text is never shared across jurisdictions); when the
catalogue has no plan for it, the position says so instead of guessing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

CATALOGUE = Path(__file__).with_name("products.toml")
JURISDICTIONS = ("US", "EU", "GB")
# Statuses a user must see next to the text (REFERENCE: anything not
# confirmed reaches the user labelled).
LABELLED_STATUSES = {"single-source", "unverified", "derived"}
DAY = timedelta(days=1)


@dataclass(frozen=True)
class PlanLine:
    kind: str
    text: str
    source: str
    status: str
    from_day: int | None = None
    to_day: int | None = None
    steps: tuple[str, ...] = ()
    hours: int | None = None
    setting: str = ""


@dataclass(frozen=True)
class Step:
    id: str
    label: str
    dose: str
    day: int


@dataclass(frozen=True)
class Plan:
    id: str
    jurisdiction: str
    lines: tuple[PlanLine, ...]
    steps: tuple[Step, ...] = ()

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    source: str
    status: str


@dataclass(frozen=True)
class LateNeuro:
    id: str
    from_day: int
    to_day: int
    window_source: str
    window_status: str
    context: str
    questions: tuple[Question, ...]


# An exposure's kind as a sentence names it ("... is a bispecific antibody").
KIND_WORDS = {
    "car_t": "CAR-T cell therapy",
    "bispecific": "bispecific antibody",
    "monoclonal": "monoclonal antibody",
    "infection": "infection",
}


@dataclass(frozen=True)
class Product:
    id: str
    name: str
    brand: str
    kind: str
    target: str
    aliases: tuple[str, ...]
    plans: tuple[Plan, ...]
    late_neuro: LateNeuro | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.brand})"

    def plan_for(self, jurisdiction: str) -> Plan | None:
        return next((p for p in self.plans if p.jurisdiction == jurisdiction), None)

    def step_choices(self) -> list[tuple[str, str]]:
        """Return every step id of every plan with its label (for dose forms)."""
        seen: dict[str, str] = {}
        for plan in self.plans:
            for s in plan.steps:
                # Nurses pick by the label's words; the id is only stored.
                seen.setdefault(s.id, s.label[:1].upper() + s.label[1:])
        return list(seen.items())


def _line(raw: dict[str, Any]) -> PlanLine:
    return PlanLine(
        kind=raw["kind"],
        text=raw["text"],
        source=raw["source"],
        status=raw["status"],
        from_day=raw.get("from_day"),
        to_day=raw.get("to_day"),
        steps=tuple(raw.get("steps", ())),
        hours=raw.get("hours"),
        setting=raw.get("setting", ""),
    )


@cache
def catalogue() -> dict[str, Product]:
    """Return the catalogue's products by id, in file order."""
    with CATALOGUE.open("rb") as f:
        data = tomllib.load(f)
    plans = {
        p["id"]: Plan(
            id=p["id"],
            jurisdiction=p["jurisdiction"],
            lines=tuple(_line(line) for line in p.get("line", ())),
            steps=tuple(Step(**s) for s in p.get("step", ())),
        )
        for p in data["plan"]
    }
    neuro = {
        n["id"]: LateNeuro(
            id=n["id"],
            from_day=n["from_day"],
            to_day=n["to_day"],
            window_source=n["window_source"],
            window_status=n["window_status"],
            context=n["context"],
            questions=tuple(Question(**q) for q in n["question"]),
        )
        for n in data.get("late_neuro", ())
    }
    return {
        p["id"]: Product(
            id=p["id"],
            name=p["name"],
            brand=p["brand"],
            kind=p["kind"],
            target=p["target"],
            aliases=tuple(a.lower() for a in p.get("aliases", ())),
            plans=tuple(plans[i] for i in p["plans"]),
            late_neuro=neuro[p["late_neuro"]] if p.get("late_neuro") else None,
        )
        for p in data["product"]
    }


def find_product(product_id: str, agent: str = "") -> Product | None:
    """Return the product by catalogue id, else by a name the agent text uses."""
    products = catalogue()
    if product_id:
        return products.get(product_id)
    text = agent.strip().lower()
    if not text:
        return None
    for product in products.values():
        if text in product.aliases or any(a in text for a in product.aliases):
            return product
    return None


# -- where the patient is ------------------------------------------------------


@dataclass(frozen=True)
class DoseClock:
    """A dose given: which step of the schedule, and when."""

    step: str
    at: datetime


@dataclass(frozen=True)
class Window:
    """A span of the plan with its own clock."""

    kind: str
    label: str
    start: datetime
    end: datetime
    setting: str = ""

    def contains(self, time: datetime) -> bool:
        return self.start <= time < self.end

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "setting": self.setting,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Window:
        return cls(
            kind=raw["kind"],
            label=raw["label"],
            start=datetime.fromisoformat(raw["start"]),
            end=datetime.fromisoformat(raw["end"]),
            setting=raw.get("setting", ""),
        )


@dataclass(frozen=True)
class PositionLine:
    """One line of the plan as it stands for this patient now."""

    text: str
    source: str
    status: str
    state: str  # "active", "ended", "upcoming", "not_recorded" or "info"
    ends_at: datetime | None = None

    @property
    def labelled(self) -> bool:
        return self.status in LABELLED_STATUSES


@dataclass(frozen=True)
class PlanPosition:
    product: Product | None
    jurisdiction: str
    lines: tuple[PositionLine, ...]
    windows: tuple[Window, ...]
    summary: str
    unknown: str = ""  # why the product cannot place the patient in a plan
    doses: tuple[tuple[Step | None, DoseClock], ...] = field(default_factory=tuple)


def day_number(day0: datetime, time: datetime) -> int:
    """Return the Day +N of ``time`` (day0 is midnight at the start of day 0)."""
    return (time - day0) // DAY


def hours_text(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.0f} h"


def windows_of(plan: Plan, day0: datetime, doses: list[DoseClock]) -> list[Window]:
    """Return the plan's windows: day windows from day 0, one per dose after it."""
    out = []
    for line in plan.lines:
        if line.kind in ("monitoring", "daily", "proximity", "driving"):
            out.append(
                Window(
                    line.kind,
                    line.text,
                    day0 + DAY * (line.from_day or 0),
                    day0 + DAY * (line.to_day + 1),
                )
            )
        elif line.kind == "after_dose":
            for dose in doses:
                if dose.step in line.steps:
                    step = plan.step(dose.step)
                    out.append(
                        Window(
                            "after_dose",
                            f"{line.hours} h {setting_text(line.setting)} after "
                            f"{step.label if step else dose.step}",
                            dose.at,
                            dose.at + timedelta(hours=line.hours),
                            line.setting,
                        )
                    )
    return out


def setting_text(setting: str) -> str:
    return {"hospital": "in hospital", "nearby": "near the facility"}.get(setting, "monitoring")


def plan_position(
    product: Product | None,
    jurisdiction: str,
    day0: datetime | None,
    doses: list[DoseClock],
    now: datetime,
) -> PlanPosition:
    """Return where the patient is in their product's plan at ``now``."""
    if product is None:
        return PlanPosition(
            None, jurisdiction, (), (), "", unknown="Product not in the catalogue: no label plan"
        )
    plan = product.plan_for(jurisdiction)
    if plan is None:
        return PlanPosition(
            product,
            jurisdiction,
            (),
            (),
            "",
            unknown=f"The catalogue holds no {jurisdiction} plan for {product.label}: "
            "check the local label",
        )
    doses = sorted(doses, key=lambda d: d.at)
    lines: list[PositionLine] = []
    for line in plan.lines:
        lines += _position_lines(line, plan, day0, doses, now)
    windows = tuple(windows_of(plan, day0, doses)) if day0 else ()
    return PlanPosition(
        product,
        jurisdiction,
        tuple(lines),
        windows,
        summary_text(list(windows), day0, now),
        doses=tuple((plan.step(d.step), d) for d in doses),
    )


def _position_lines(
    line: PlanLine, plan: Plan, day0: datetime | None, doses: list[DoseClock], now: datetime
) -> list[PositionLine]:
    def out(text: str, state: str, ends_at: datetime | None = None) -> PositionLine:
        return PositionLine(text, line.source, line.status, state, ends_at)

    if line.kind in ("monitoring", "daily", "proximity", "driving"):
        if day0 is None:
            return [out(f"{line.text} (day 0 not recorded)", "not_recorded")]
        end = day0 + DAY * (line.to_day + 1)
        last = f"Day +{line.to_day}"
        if now >= end:
            return [out(f"{line.text}: ended after {last}", "ended", end)]
        if now < day0:
            return [out(f"{line.text}: Day 0 to {last}", "upcoming", end)]
        today = day_number(day0, now)
        if line.kind == "driving":
            return [
                out(f"No driving or hazardous activities until {last}: {line.text}", "active", end)
            ]
        if line.kind == "proximity":
            return [
                out(f"Day +{today}: stay near the centre until {last}. {line.text}", "active", end)
            ]
        return [out(f"Day +{today} of {line.to_day} days: {line.text}", "active", end)]
    if line.kind == "after_dose":
        found = []
        for step_id in line.steps:
            step = plan.step(step_id)
            label = step.label if step else step_id
            given = [d for d in doses if d.step == step_id]
            if not given:
                found.append(out(f"{line.text}: {label} not yet recorded", "not_recorded"))
                continue
            at = given[-1].at
            end = at + timedelta(hours=line.hours)
            if now >= end:
                found.append(out(f"{line.hours} h after {label}: ended", "ended", end))
            else:
                elapsed = max(now - at, timedelta(0))
                found.append(
                    out(
                        f"{hours_text(elapsed)} of the {line.hours} h "
                        f"{setting_text(line.setting)} after {label}. {line.text}",
                        "active",
                        end,
                    )
                )
        return found
    if line.kind == "premedication":
        labels = ", ".join((plan.step(s).label if plan.step(s) else s) for s in line.steps)
        return [out(f"Premedication before {labels}: {line.text}", "info")]
    return [out(line.text, "info")]


def summary_text(windows: list[Window], day0: datetime | None, now: datetime) -> str:
    """Return one line for the queue: the dose window running, else the day window."""
    running = [w for w in windows if w.contains(now)]
    dose = [w for w in running if w.kind == "after_dose"]
    if dose:
        w = min(dose, key=lambda w: w.end)
        return f"{hours_text(now - w.start)} of the {w.label}"
    parts = []
    monitoring = [w for w in running if w.kind == "monitoring"]
    if monitoring and day0 is not None:
        w = max(monitoring, key=lambda w: w.end)
        total = (w.end - w.start) // DAY - 1
        parts.append(f"Day +{day_number(day0, now)} of {total} days' monitoring")
    driving = [w for w in running if w.kind == "driving"]
    if driving and day0 is not None:
        parts.append(f"no driving until Day +{day_number(day0, driving[0].end) - 1}")
    return "; ".join(parts)


def ice_windows(windows: list[Window]) -> list[Window]:
    """Return the windows during which ICE checks are due (monitoring, post-dose).

    Local policy (derived): ICE at least every 12 h (ASCO 2021) while the
    label asks the patient to be monitored.
    """
    return [w for w in windows if w.kind in ("monitoring", "after_dose")]


def late_neuro_due(product: Product | None, day0: datetime | None, now: datetime) -> bool:
    if product is None or product.late_neuro is None or day0 is None:
        return False
    n = product.late_neuro
    return n.from_day <= day_number(day0, now) <= n.to_day
