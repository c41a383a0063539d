"""Build a hospital-sized data set quickly, through the real write path.

A few dozen patient courses are assessed for real (``import_course``: the
same grading, flags and status code as the web pages); the rest of the
hospital is stamped from those courses in bulk, so building 170,000 rounds
takes seconds of inserts instead of minutes of re-assessment.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction

from patients.demo import demo_ward
from patients.management.commands.seed_demo import store_demo_patient
from patients.models import (
    Exposure,
    Flag,
    Intervention,
    ObservationRound,
    Patient,
    PatientStatus,
)

PREFIX = "BENCH-"
TEMPLATES = 40
DAYS = 14  # every course: 14 days of rounds every 4 hours
BATCH = 2000


def existing_count() -> int:
    return Patient.objects.filter(mrn__startswith=PREFIX).count()


def bed_for(n: int, wards: int) -> str:
    """Return bench patient ``n``'s bed: one patient per bed on a ward (120
    beds a ward), as on a real ward; the patient page marks a shared bed."""
    place = n // wards
    return f"{place % 30 + 1}{'ABCD'[place // 30 % 4]}"


def separate_beds(wards: int, log=print) -> None:
    """Give a data set built when stamped patients shared their template's
    bed (every patient of a ward in one bed) a bed each."""
    stamped = Patient.objects.filter(mrn__startswith=PREFIX).exclude(
        pk__in=Patient.objects.filter(mrn__startswith=PREFIX).order_by("pk")[:TEMPLATES]
    )
    if stamped.values("ward", "bed").distinct().count() >= stamped.count() // 2:
        return
    patients = list(stamped.only("pk", "mrn", "bed"))
    for p in patients:
        p.bed = bed_for(int(p.mrn.removeprefix(PREFIX)), wards)
    Patient.objects.bulk_update(patients, ["bed"], batch_size=BATCH)
    log(f"  {len(patients)} bench patients given a bed each")


def build(patients: int, wards: int, now: datetime, log=print) -> None:
    """Make sure ``patients`` bench patients exist (adds the missing ones)."""
    have = existing_count()
    if have >= patients:
        separate_beds(wards, log)
        log(f"data set: {have} bench patients already present")
        return
    author, _ = User.objects.get_or_create(username="bench-import")
    started = time.perf_counter()
    templates = template_courses(min(TEMPLATES, patients), now, author, log)
    log(f"  assessed {len(templates)} template courses in {time.perf_counter() - started:.1f} s")
    todo = range(max(have, len(templates)), patients)
    for start in range(0, len(todo), 500):
        chunk = todo[start : start + 500]
        with transaction.atomic():
            stamp(chunk, templates, wards, author)
        log(f"  {chunk[-1] + 1} / {patients} patients ({time.perf_counter() - started:.0f} s)")
    log(
        f"data set: {existing_count()} patients, "
        f"{ObservationRound.objects.count()} rounds, {Flag.objects.count()} flags "
        f"in {time.perf_counter() - started:.0f} s"
    )


def template_courses(count: int, now: datetime, author: User, log) -> list[Patient]:
    """Return ``count`` fully assessed patients (existing ones reused)."""
    existing = list(Patient.objects.filter(mrn__startswith=PREFIX).order_by("pk")[:count])
    if len(existing) >= count:
        return existing
    made = existing
    for n, p in enumerate(demo_ward(count, seed=8, now=now, days=DAYS)):
        if n < len(existing):
            continue
        patient = store_demo_patient(
            p, author, mrn=f"{PREFIX}{n:06d}", ward=f"Ward {n % 40 + 1:02d}"
        )
        made.append(patient)
    return made


def stamp(numbers: range, templates: list[Patient], wards: int, author: User) -> None:
    """Copy template courses onto new patients, in bulk."""
    sources = {t.pk: t for t in templates}
    plan = [(n, templates[n % len(templates)]) for n in numbers]
    patients = Patient.objects.bulk_create(
        [
            Patient(
                mrn=f"{PREFIX}{n:06d}",
                given_name=t.given_name,
                family_name=f"{t.family_name}{n}",
                birth_date=t.birth_date,
                sex=t.sex,
                weight_kg=t.weight_kg,
                height_cm=t.height_cm,
                ward=f"Ward {n % wards + 1:02d}",
                bed=bed_for(n, wards),
                created_by=author,
                baseline_creatinine_umol_l=t.baseline_creatinine_umol_l,
                baseline_alt_u_l=t.baseline_alt_u_l,
                baseline_ast_u_l=t.baseline_ast_u_l,
                baseline_bilirubin_umol_l=t.baseline_bilirubin_umol_l,
            )
            for n, t in plan
        ]
    )
    pairs = [(p, t) for p, (_, t) in zip(patients, plan, strict=True)]
    template_ids = list(sources)
    exposures = {e.patient_id: e for e in Exposure.objects.filter(patient_id__in=template_ids)}
    rounds: dict[int, list[ObservationRound]] = {}
    for r in ObservationRound.objects.filter(patient_id__in=template_ids).order_by("pk"):
        rounds.setdefault(r.patient_id, []).append(r)
    given: dict[int, list[Intervention]] = {}
    for i in Intervention.objects.filter(patient_id__in=template_ids):
        given.setdefault(i.patient_id, []).append(i)
    flags: dict[int, list[Flag]] = {}
    for f in Flag.objects.filter(patient_id__in=template_ids):
        flags.setdefault(f.patient_id, []).append(f)
    statuses = {s.patient_id: s for s in PatientStatus.objects.filter(patient_id__in=template_ids)}

    Exposure.objects.bulk_create(
        [
            Exposure(
                patient=p,
                kind=exposures[t.pk].kind,
                agent=exposures[t.pk].agent,
                day0=exposures[t.pk].day0,
                dose_dates=exposures[t.pk].dose_dates,
            )
            for p, t in pairs
        ]
    )
    new_rounds, round_map = [], {}
    for p, t in pairs:
        for r in rounds.get(t.pk, []):
            copy = clone(r, patient=p, client_key=None)
            new_rounds.append(copy)
            round_map[(p.pk, r.pk)] = copy
    ObservationRound.objects.bulk_create(new_rounds, batch_size=BATCH)
    Intervention.objects.bulk_create(
        [clone(i, patient=p, client_key=None) for p, t in pairs for i in given.get(t.pk, [])],
        batch_size=BATCH,
    )
    Flag.objects.bulk_create(
        [
            clone(f, patient=p, opened_by_round=round_map.get((p.pk, f.opened_by_round_id)))
            for p, t in pairs
            for f in flags.get(t.pk, [])
        ],
        batch_size=BATCH,
    )
    new_status = []
    for p, t in pairs:
        s = statuses[t.pk]
        latest = rounds[t.pk][-1] if rounds.get(t.pk) else None
        copy = clone(
            s,
            patient=p,
            ward=p.ward,
            sort_name=p.family_name.lower(),
            latest_round=round_map.get((p.pk, latest.pk)) if latest else None,
        )
        new_status.append(copy)
    PatientStatus.objects.bulk_create(new_status, batch_size=BATCH)


def clone(obj, **changes):
    """Return an unsaved copy of a model row with ``changes`` applied."""
    fields = {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if not f.primary_key or f.one_to_one
    }
    fields.pop("id", None)
    for name, value in changes.items():
        field = obj._meta.get_field(name)
        if name == "client_key":
            value = uuid.uuid4()
        fields[field.attname] = value.pk if hasattr(value, "pk") else value
    return type(obj)(**fields)
