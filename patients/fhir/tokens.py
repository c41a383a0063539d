"""Service-account bearer tokens: create, revoke, authenticate."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.db import transaction

from ..models import ServiceToken

PREFIX = "crsw_"


class TokenError(ValueError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    name: str, *, read_only: bool = False, source: str = ServiceToken.Source.EHR, by=None
) -> tuple[ServiceToken, str]:
    """Create a token for the service account ``name``; return it and its secret.

    The secret is returned once and never stored.
    """
    name = name.strip()
    if not name or len(name) > 60:
        raise TokenError("A token name is 1 to 60 characters.")
    if source not in ServiceToken.Source.values:
        raise TokenError(f"Source must be one of {', '.join(ServiceToken.Source.values)}.")
    User = get_user_model()
    with transaction.atomic():
        if ServiceToken.objects.filter(name=name, revoked_at__isnull=True).exists():
            raise TokenError(f"An active token named {name!r} exists: revoke it first.")
        account = User.objects.filter(username=name).first()
        if account is None:
            account = User(username=name)
            # A service account never signs in to the pages.
            account.set_unusable_password()
            account.save()
        elif not account.service_tokens.exists():
            raise TokenError(f"{name!r} is a person's user name: choose another token name.")
        secret = PREFIX + secrets.token_urlsafe(32)
        token = ServiceToken.objects.create(
            name=name,
            account=account,
            token_hash=digest(secret),
            can_read=True,
            can_write=not read_only,
            source=source,
            created_by=by,
        )
    return token, secret


def revoke_token(name: str, by=None) -> int:
    """Revoke the active token named ``name``; return how many were revoked."""
    tokens = list(ServiceToken.objects.filter(name=name, revoked_at__isnull=True))
    for token in tokens:
        token.revoke(by)
    return len(tokens)


def authenticate(header: str) -> ServiceToken | None:
    """Return the active token of an ``Authorization: Bearer ...`` header."""
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return (
        ServiceToken.objects.select_related("account")
        .filter(token_hash=digest(secret.strip()), revoked_at__isnull=True)
        .first()
    )
