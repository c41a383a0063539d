"""Request-wide safety: idle sessions, hostile query strings, no caching.

The review queue polls itself every 30 seconds; counting those requests as
activity would keep an unattended ward PC signed in for ever.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

LAST_ACTIVITY = "last_activity"
# Elements whose self-refresh is not user activity.
POLLING_TRIGGERS = {"queue-rows"}
# Record activity at most this often: a session write on every request
# would cost a database write per page for no gain in safety.
ACTIVITY_RESOLUTION = 60


# 19 digits or more: beyond a 64-bit database integer.
OVERSIZED_INTEGER = re.compile(r"[+-]?0*[0-9]{19,}")
FREE_TEXT_PARAMETERS = {"q"}


class IdleTimeoutMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            last = request.session.get(LAST_ACTIVITY, now)
            if now - last > settings.SESSION_IDLE_SECONDS:
                logout(request)
                # Quoted: a path may carry CR/LF or other header breakers.
                login = f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}"
                if getattr(request, "htmx", False):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = login
                    return response
                return redirect(login)
            polling = getattr(request, "htmx", False) and request.htmx.trigger in POLLING_TRIGGERS
            if not polling and now - request.session.get(LAST_ACTIVITY, 0) >= ACTIVITY_RESOLUTION:
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)


class HostileInputMiddleware:
    """Refuse query strings no page can mean, before any view reads them.

    NUL bytes: no field or filter legitimately contains one, and PostgreSQL
    rejects NUL in text. Whole numbers beyond 64 bits: no identifier,
    page or count is that large, and the admin's filters hand them to the
    database (SQLite overflows, PostgreSQL errs). Free-text search (``q``,
    an MRN or a name) is left to the page.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for key, value in _query_items(request):
            if "\x00" in key or "\x00" in value:
                return HttpResponseBadRequest(
                    "The address contains a NUL character.", content_type="text/plain"
                )
            if key not in FREE_TEXT_PARAMETERS and OVERSIZED_INTEGER.fullmatch(value.strip()):
                return HttpResponseBadRequest(
                    f"The number given for {key[:40]!r} is far too large.",
                    content_type="text/plain",
                )
        return self.get_response(request)


def _query_items(request: HttpRequest):
    for key, values in request.GET.lists():
        for value in values:
            yield key, value


class NoStoreMiddleware:
    """Tell browsers and proxies to keep no copy of any signed-in page.

    Patient data must not outlive the session in a shared ward PC's cache
    or a proxy's (NHS DSPT, HIPAA).
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated:
            add_never_cache_headers(response)
        return response
