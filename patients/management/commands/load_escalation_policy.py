"""Load the escalation policy (tiers, triggers, contacts) from a TOML file."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from patients.policy import PolicyError, load


class Command(BaseCommand):
    help = "Validate and load an escalation policy TOML file (idempotent, audited)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="Path to the policy .toml file")

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"{path}: cannot read: {error}") from error
        try:
            result = load(text, str(path))
        except PolicyError as error:
            for problem in error.problems:
                self.stderr.write(problem)
            raise CommandError(f"{path}: not loaded ({len(error.problems)} problem(s)).") from None
        if result.changes:
            for change in result.changes:
                self.stdout.write(change)
            self.stdout.write(f"Loaded {path}: {len(result.changes)} change(s).")
        else:
            self.stdout.write(f"Loaded {path}: no changes.")
