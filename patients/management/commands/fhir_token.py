"""Create or revoke a service account's FHIR bearer token.

    manage.py fhir_token create NAME [--read-only] [--source monitor|ehr]
    manage.py fhir_token revoke NAME

``create`` prints the token alone on its last line: it is shown only once.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from patients import recording
from patients.fhir.tokens import TokenError, create_token, revoke_token
from patients.models import ServiceToken


class Command(BaseCommand):
    help = "Create or revoke a FHIR service-account bearer token."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["create", "revoke"])
        parser.add_argument("name")
        parser.add_argument(
            "--read-only", action="store_true", help="The token may read but not write."
        )
        parser.add_argument(
            "--source",
            choices=ServiceToken.Source.values,
            default=ServiceToken.Source.EHR,
            help="The source shown on rounds this token writes (default: ehr).",
        )

    def handle(self, *args, action: str, name: str, read_only: bool, source: str, **options):
        if action == "revoke":
            tokens = list(ServiceToken.objects.filter(name=name, revoked_at__isnull=True))
            if not revoke_token(name):
                raise CommandError(f"No active token named {name!r}.")
            for token in tokens:
                recording.audit(None, "fhir_token_revoked", token, None, via="command")
            self.stdout.write(f"Revoked the token {name!r}.")
            return
        try:
            token, secret = create_token(name, read_only=read_only, source=source)
        except TokenError as error:
            raise CommandError(str(error)) from error
        recording.audit(
            None, "fhir_token_created", token, None, via="command", scopes=token.scopes
        )
        self.stdout.write(
            f"Created the token {name!r} ({token.scopes}; rounds shown as "
            f"{token.get_source_display()}). It is shown once: store it now."
        )
        self.stdout.write(secret)
