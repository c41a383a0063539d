"""End sessions after a period without the user doing anything.

The review queue polls itself every 30 seconds; counting those requests as
activity would keep an unattended ward PC signed in for ever.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

LAST_ACTIVITY = "last_activity"
# Elements whose self-refresh is not user activity.
POLLING_TRIGGERS = {"queue-rows"}
# Record activity at most this often: a session write on every request
# would cost a database write per page for no gain in safety.
ACTIVITY_RESOLUTION = 60


class IdleTimeoutMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            last = request.session.get(LAST_ACTIVITY, now)
            if now - last > settings.SESSION_IDLE_SECONDS:
                logout(request)
                login = f"{reverse('login')}?next={request.path}"
                if getattr(request, "htmx", False):
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = login
                    return response
                return redirect(login)
            polling = getattr(request, "htmx", False) and request.htmx.trigger in POLLING_TRIGGERS
            if not polling and now - request.session.get(LAST_ACTIVITY, 0) >= ACTIVITY_RESOLUTION:
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)
