from __future__ import annotations

from datetime import date

from django import template

from patients.clinical.flags import SEVERITY_SHAPES
from patients.clinical.sources import citation as cite_text
from patients.words import plain

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
    """Return a stored code (field, device, kind) in plain words."""
    return plain(value) if value else ""


@register.filter(name="plain")
def plain_value(value) -> str:
    """Return a stored value in plain words: yes/no, "not recorded", no codes."""
    return plain(value)


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
