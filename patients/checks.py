"""Start-up checks: a server never runs on a missing or published key."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

INSECURE_KEY = (
    "SECRET_KEY is missing, empty or the development key while DEBUG is off. "
    "Set SECRET_KEY to a long random value (e.g. python -c 'import secrets; "
    "print(secrets.token_urlsafe(50))'), or use ./scripts/dev for development."
)


def insecure_key() -> bool:
    try:
        key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses to hand out an empty key
        key = ""
    return not settings.DEBUG and (not key or key == settings.DEV_SECRET_KEY)


@checks.register(checks.Tags.security)
def check_secret_key(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if insecure_key():
        return [checks.Error(INSECURE_KEY, id="crs_watch.E001")]
    return []


def refuse_insecure_start() -> None:
    """Stop a WSGI/ASGI server from starting on a missing or known key."""
    if insecure_key():
        raise ImproperlyConfigured(INSECURE_KEY)
