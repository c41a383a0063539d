"""Load a demo ward and demo users for trying CRS Watch out.

Safe to run twice: patients are keyed by their demo MRN and users by name.
Refuses to run with DEBUG off unless --force, so demo logins never reach a
production database by accident.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from patients import recording
from patients.demo import DemoPatient, demo_ward
from patients.models import DoseEvent, Exposure, Intervention, ObservationRound, Patient

DEMO_USERS = {"nurse": "nurse", "clinician": "clinician", "admin": "admin"}


class Command(BaseCommand):
    help = "Create demo users and a demo ward (deterministic with --seed)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--patients", type=int, default=25)
        parser.add_argument("--seed", type=int, default=2019)
        parser.add_argument("--force", action="store_true", help="allow with DEBUG off")
        parser.add_argument("--no-users", action="store_true")

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError("DEBUG is off: refusing to load demo data without --force.")
        if options["patients"] < 0 or options["patients"] > 5000:
            raise CommandError("--patients must be between 0 and 5000.")
        logins = {} if options["no_users"] else self.create_users()
        created = self.create_patients(options["patients"], options["seed"])
        self.stdout.write(
            f"Demo ward: {created} new patients "
            f"({Patient.objects.filter(mrn__startswith='DEMO-').count()} in all)."
        )
        if logins:
            self.stdout.write("Demo logins (new passwords on every run):")
            for name, password in logins.items():
                self.stdout.write(f"  {name:<10} {password}")

    def create_users(self) -> dict[str, str]:
        logins = {}
        for username, role in DEMO_USERS.items():
            user, _ = User.objects.get_or_create(username=username)
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.is_staff = role == "admin"
            user.save()
            user.groups.set([Group.objects.get(name=role)])
            logins[username] = password
        return logins

    def create_patients(self, count: int, seed: int) -> int:
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        author, _ = User.objects.get_or_create(username="demo-import")
        existing = set(
            Patient.objects.filter(mrn__startswith="DEMO-").values_list("mrn", flat=True)
        )
        created = 0
        for p in demo_ward(count, seed, now):
            if p.mrn in existing:
                continue
            store_demo_patient(p, author)
            created += 1
        return created


def store_demo_patient(
    p: DemoPatient, author: User, mrn: str | None = None, ward: str | None = None
) -> Patient:
    """Store one demo patient and its whole course through the write path."""
    patient = Patient.objects.create(
        mrn=mrn or p.mrn,
        given_name=p.given_name,
        family_name=p.family_name,
        birth_date=p.birth_date,
        sex=p.sex,
        weight_kg=p.weight_kg,
        height_cm=p.height_cm,
        ward=ward or p.ward,
        bed=p.bed,
        created_by=author,
        **p.risk,
        **{f"baseline_{k}": v for k, v in p.baseline.items()},
    )
    exposure = Exposure.objects.create(patient=patient, **p.exposure)
    # Doses first: their windows set the ICE schedule the course is assessed on.
    DoseEvent.objects.bulk_create(
        DoseEvent(patient=patient, exposure=exposure, recorded_by=author, **d) for d in p.doses
    )
    rounds = [ObservationRound(entered_by=author, **r) for r in p.rounds]
    given = [Intervention(patient=patient, recorded_by=author, **g) for g in p.given]
    recording.import_course(patient, rounds, given)
    return patient
