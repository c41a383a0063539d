from __future__ import annotations

from datetime import datetime
from functools import cache

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone


@cache
def zone_names(zone_key: str) -> str:
    """Return the zone's abbreviations over a year, winter first: "GMT/BST"."""
    zone = timezone.get_current_timezone()
    year = datetime.now().year
    seen = {}
    for month in (1, 7):
        moment = datetime(year, month, 1, 12, tzinfo=zone)
        seen[moment.utcoffset()] = moment.tzname()
    return "/".join(name for _, name in sorted(seen.items()))


def hospital_time(request: HttpRequest) -> dict:
    """Name the zone every time is shown in, and how long sessions last idle."""
    return {
        "hospital_zone": zone_names(settings.TIME_ZONE),
        "idle_seconds": settings.SESSION_IDLE_SECONDS,
    }
