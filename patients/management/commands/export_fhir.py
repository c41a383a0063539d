"""Write a patient's record as a FHIR R4 Bundle (Patient/$everything)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from patients import recording
from patients.fhir.export import everything
from patients.models import Patient


class Command(BaseCommand):
    help = "Export a patient's record (by id or MRN) as a FHIR R4 JSON Bundle."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--patient", required=True, help="Patient id or MRN")
        parser.add_argument("--output", "-o", help="File to write (default: standard output)")
        parser.add_argument(
            "--base-url",
            default="http://localhost:8000/fhir/",
            help="The FHIR base URL the entries' fullUrl start with",
        )

    def handle(self, *args, patient: str, output: str | None, base_url: str, **options):
        found = Patient.objects.filter(mrn=patient).first()
        if found is None and patient.isascii() and patient.isdigit() and len(patient) <= 18:
            found = Patient.objects.filter(pk=int(patient)).first()
        if found is None:
            raise CommandError(f"No patient with id or MRN {patient!r}.")
        bundle = everything(found, base_url)
        recording.audit(
            None, "patient_exported", found, found, format="fhir", via="command", file=output or ""
        )
        text = json.dumps(bundle, indent=2, ensure_ascii=False)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(f"Wrote {len(bundle['entry'])} resources to {output}.")
        else:
            self.stdout.write(text)
