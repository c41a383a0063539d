"""Who is on the other end: client address, login lockout, password rules.

django-axes does the counting and locking; these are the hospital's
choices it asks for by name in settings.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils import timezone


def valid_address(text: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((text or "").strip()))
    except ValueError:
        return None


def client_address(request: HttpRequest) -> str | None:
    """Return the client's address as the outermost trusted proxy saw it.

    Each trusted proxy appends the address it received from to
    X-Forwarded-For, so with N proxies the client is the Nth entry from the
    right of that header followed by the connecting address; anything
    further left was written by the client and is not believed.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return valid_address(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()] + [remote or ""]
    # Fewer hops than proxies: the request did not come through all of
    # them; the furthest address known is the best there is.
    return valid_address(hops[-(count + 1)] if len(hops) > count else hops[0])


def known_address(username: str | None, address: str | None) -> bool:
    """Return True if this user signed in from this address recently."""
    from axes.models import AccessLog

    if not username or not address:
        return False
    since = timezone.now() - timedelta(days=settings.LOGIN_KNOWN_ADDRESS_DAYS)
    return AccessLog.objects.filter(
        username=username, ip_address=address, attempt_time__gte=since
    ).exists()


def lockout_parameters(request, credentials=None) -> list:
    """Return what django-axes counts failures by, for this login attempt.

    Per user name and address always; per user name alone (the account's
    ceiling) except from an address where the user recently signed in.
    """
    from axes.helpers import get_client_username

    if not isinstance(request, HttpRequest):
        # axes also asks about stored attempts (e.g. when cleaning up).
        return [["username", "ip_address"], "username"]
    username = get_client_username(request, credentials)
    if known_address(username, client_address(request)):
        return [["username", "ip_address"]]
    return [["username", "ip_address"], "username"]


class CharacterVarietyValidator:
    """Refuse passwords made of a few characters repeated (e.g. 12 spaces).

    Length alone lets "aaaaaaaaaaaa" or twelve spaces through; a password
    needs at least ``min_distinct`` different characters, not all blank.
    """

    def __init__(self, min_distinct: int = 5) -> None:
        self.min_distinct = min_distinct

    def validate(self, password: str, user=None) -> None:
        if not password.strip():
            raise ValidationError("This password is only spaces.", code="password_blank")
        if len(set(password)) < self.min_distinct:
            raise ValidationError(
                f"This password repeats too few characters: use at least "
                f"{self.min_distinct} different ones.",
                code="password_too_repetitive",
            )

    def get_help_text(self) -> str:
        return f"Your password must contain at least {self.min_distinct} different characters."


def session_form_key(request: HttpRequest) -> str:
    """Return a name for this browser's CSRF secret, for the key of a cached
    region holding forms.

    The token a form carries is valid for as long as the secret it was made
    from, so a region cached per secret is served only to the browser that
    holds that secret; a new sign-in rotates the secret and so the key. The
    secret itself is never put in a key: only a hash of it.
    """
    get_token(request)  # makes the secret (and sends its cookie) if there was none
    return hashlib.sha256(request.META["CSRF_COOKIE"].encode()).hexdigest()
