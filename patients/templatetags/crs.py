from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from patients.clinical.flags import SEVERITY_RANK, SEVERITY_SHAPES
from patients.clinical.sources import citation as cite_text
from patients.words import plain

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


@register.filter
def when(value) -> str:
    """Return a time (or a stored ISO 8601 string) as "25 Nov 14:05", hospital time."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return date_format(value, "j M H:i")
    return str(value)


ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?")


@register.filter
def times(text: str) -> str:
    """Return ``text`` with any ISO 8601 time in it written as "25 Nov 14:05" (hospital time).

    Stored flag titles and reasons carry machine times; a nurse reads these.
    """
    if not text:
        return text
    return ISO_TIME.sub(lambda m: when(m.group(0).replace("Z", "+00:00")), str(text))


@cache
def _option_names() -> dict[str, str]:
    from patients.clinical.treatments import catalogue

    return {o["id"]: o["name"] for o in catalogue()}


@register.filter
def option_name(option_id: str) -> str:
    """Return a treatment option's name from the catalogue, never its id."""
    return _option_names().get(option_id, plain(option_id))


ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")
CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
# A flag's key: its rule and what it watches, e.g. grade_rise:news2_red:spo2.
CODE_PATH = re.compile(r"[a-z0-9_]+(?::[a-z0-9_.-]+)+")
# An escalation trigger as the policy file writes it (patients.escalation).
POLICY_TRIGGER = re.compile(r"(?:crs|icans)>=\d|(?:news2|flag):[a-z0-9_:-]+")
CAMEL_BREAK = re.compile(r"(?<=[a-z])(?=[A-Z])")


@register.filter
def record_type(name: str) -> str:
    """Return a record's type ("ObservationRound") as words ("Observation round")."""
    return CAMEL_BREAK.sub(" ", name or "").capitalize()


@register.filter
def in_words(value) -> str:
    """Return a stored audit detail (text, list, mapping) as a reader would write it.

    Keys and code values become plain words, ISO times and dates hospital
    time; free text someone typed is shown as typed (times aside).
    """
    if isinstance(value, dict):
        return "; ".join(f"{plain(k)}: {in_words(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list | tuple):
        return ", ".join(in_words(v) for v in value) or "none"
    if not isinstance(value, str):
        return plain(value)
    if ISO_DATE.fullmatch(value):
        return date_format(date.fromisoformat(value), "j M Y")
    if CODE.fullmatch(value) or value == "":
        return plain(value)
    if POLICY_TRIGGER.fullmatch(value):
        return trigger(value)
    if CODE_PATH.fullmatch(value):
        return ", ".join(plain(part) for part in value.split(":"))
    return times(value)


@register.filter
def trigger(on: str) -> str:
    """Return an escalation trigger ("news2:high") in plain words."""
    from patients.escalation import trigger_words

    return trigger_words(on)
