"""Request-wide safety: idle sessions, hostile query strings, no caching.

The review queue polls itself every 30 seconds, and every page asks how long
its session has left; counting those requests as activity would keep an
unattended ward PC signed in for ever. Typing in the round form does count:
the form saves its draft as the nurse types.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import add_never_cache_headers

from .drafts import save_draft

LAST_ACTIVITY = "last_activity"
# Elements whose self-refresh is not user activity.
POLLING_TRIGGERS = {"queue-rows"}
# Requests a page makes by itself, not because the user did something.
NOT_ACTIVITY = {"session_status"}
# Forms whose typed values are kept when the session ends as they are sent.
DRAFTED = {"round_create", "round_draft"}
# Record activity at most this often: a session write on every request
# would cost a database write per page for no gain in safety.
ACTIVITY_RESOLUTION = 60


# 19 digits or more: beyond a 64-bit database integer.
OVERSIZED_INTEGER = re.compile(r"[+-]?0*[0-9]{19,}")
FREE_TEXT_PARAMETERS = {"q"}


def seconds_left(request: HttpRequest, now: float | None = None) -> int:
    now = time.time() if now is None else now
    last = request.session.get(LAST_ACTIVITY, now)
    return max(0, int(settings.SESSION_IDLE_SECONDS - (now - last)))


def touch(request: HttpRequest) -> int:
    """Count this request as activity now, whatever the resolution; return seconds left."""
    request.session[LAST_ACTIVITY] = time.time()
    return settings.SESSION_IDLE_SECONDS


class IdleTimeoutMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            name = match.url_name if match else None
            if seconds_left(request, now) <= 0:
                return self.end_session(request, match)
            polling = getattr(request, "htmx", False) and request.htmx.trigger in POLLING_TRIGGERS
            active = not polling and name not in NOT_ACTIVITY
            if active and now - request.session.get(LAST_ACTIVITY, 0) >= ACTIVITY_RESOLUTION:
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)

    def end_session(self, request: HttpRequest, match) -> HttpResponse:
        after = request.get_full_path()
        if match and match.url_name in DRAFTED and request.method == "POST":
            # The nurse pressed Save after the session ran out: keep what
            # was typed, on the server, for the same user after signing in.
            patient_pk = match.kwargs["pk"]
            save_draft(request.user, patient_pk, request.POST)
            after = reverse("round_create", args=[patient_pk])
        elif request.method != "GET":
            # Come back to the page the form was on, not to its POST URL.
            after = urlsplit(request.META.get("HTTP_REFERER", "")).path or reverse("queue")
        logout(request)
        if match and match.url_name in NOT_ACTIVITY:
            return JsonResponse({"seconds_left": 0})
        login = f"{reverse('login')}?{urlencode({'next': after, 'timed_out': 1})}"
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = login
            return response
        return redirect(login)


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
