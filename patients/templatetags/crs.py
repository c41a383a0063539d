from __future__ import annotations

from datetime import date

from django import template

from patients.clinical.flags import SEVERITY_RANK, SEVERITY_SHAPES
from patients.clinical.sources import citation as cite_text

register = template.Library()


SEVERITY_NAMES = {rank: name for name, rank in SEVERITY_RANK.items()}


@register.filter
def days_since(day0: date | None, today: date) -> int | None:
    """Return the day number after ``day0`` (shown by ``_day.html``)."""
    return None if day0 is None else (today - day0).days


@register.filter
def severity_name(rank: int) -> str:
    return SEVERITY_NAMES.get(rank, "")


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
