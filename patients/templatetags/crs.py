from __future__ import annotations

from datetime import date

from django import template

from patients.clinical.flags import SEVERITY_SHAPES
from patients.clinical.sources import citation as cite_text

register = template.Library()


@register.filter
def day_plus(day0: date | None, today: date) -> str:
    if day0 is None:
        return "—"
    n = (today - day0).days
    return f"Day +{n}" if n >= 0 else f"Day {n}"


@register.filter
def severity_shape(severity: str) -> str:
    return SEVERITY_SHAPES.get(severity, "")


@register.filter
def label(value: str) -> str:
    return str(value).replace("_", " ").capitalize() if value else ""


@register.filter
def grade(value) -> str:
    return "—" if value is None else str(value)


@register.filter
def signed(value) -> str:
    if value is None:
        return ""
    return f"+{value}" if value > 0 else str(value)


@register.filter
def citation(key: str) -> str:
    return cite_text(key)
