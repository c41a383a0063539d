"""Raise overdue-round and overdue-ICE flags; run every minute from cron."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from patients.recording import scan_overdue


class Command(BaseCommand):
    help = "Open flags for patients whose round or ICE check is overdue."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--ward", default=None)

    def handle(self, *args, **options) -> None:
        opened = scan_overdue(timezone.now(), options["ward"])
        self.stdout.write(f"{opened} overdue flag(s) opened.")
