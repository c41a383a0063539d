"""A flag's life is written once: the web write path (round by round, with
the overdue scan between rounds) and the course path (``manage.py assess``,
demo data, benchmarks) raise, refresh and resolve the same flags."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from patients import recording
from patients.demo import demo_ward
from patients.management.commands.seed_demo import store_demo_patient
from patients.models import Exposure, Flag, Patient, PatientStatus

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
# One patient of each scenario, and the one whose last round was missed.
WARD = demo_ward(7, seed=11, now=NOW)


def record_one_by_one(demo, author, ward: str) -> Patient:
    """Store ``demo`` as nurses would: each round and dose when it happens,
    the overdue scan running just before each round."""
    patient = Patient.objects.create(
        mrn=f"WEB-{demo.mrn}",
        given_name=demo.given_name,
        family_name=demo.family_name,
        birth_date=demo.birth_date,
        sex=demo.sex,
        weight_kg=demo.weight_kg,
        height_cm=demo.height_cm,
        ward=ward,
        bed=demo.bed,
        **demo.risk,
        **{f"baseline_{k}": v for k, v in demo.baseline.items()},
    )
    Exposure.objects.create(patient=patient, **demo.exposure)
    recording.refresh_status(patient, [])
    # A dose given at a round's time is known to that round.
    timeline = sorted(
        [(d["given_at"], 0, "dose", d) for d in demo.doses]
        + [(g["given_at"], 0, "given", g) for g in demo.given]
        + [(r["clinical_time"], 1, "round", r) for r in demo.rounds],
        key=lambda item: item[:2],
    )
    for when, _, what, values in timeline:
        if what == "round":
            recording.scan_overdue(when, ward=ward)
            recording.record_round(patient, dict(values), author, uuid.uuid4())
        elif what == "dose":
            recording.record_dose(patient, dict(values), author, uuid.uuid4())
        else:
            recording.record_intervention(patient, dict(values), author, uuid.uuid4())
    return patient


def flag_lives(patient: Patient) -> list[tuple]:
    return sorted(
        (
            f.kind,
            f.key,
            f.severity,
            f.organ_system,
            f.title,
            f.opened_at,
            f.opened_by_round.clinical_time if f.opened_by_round else None,
            f.last_active_at,
            f.state,
            f.resolved_at,
            f.resolve_reason,
            f.basis.get("latest", {}).get("after", {}).get("time"),
        )
        for f in Flag.objects.filter(patient=patient).select_related("opened_by_round")
    )


def status_row(patient: Patient) -> dict:
    """What the queue and the patient header show of ``patient`` (round ids
    differ between the two copies; the times they point at must not)."""
    status = PatientStatus.objects.get(patient=patient)
    return {
        "grades": (status.crs_grade, status.icans_grade, status.ice_score, status.worst_grade),
        "news2": (status.news2_total, status.news2_band),
        "grades_at": {
            name: {k: v for k, v in item.items() if k != "round"}
            for name, item in status.grades_at.items()
        },
        "due": (status.last_round_at, status.next_round_due_at, status.next_ice_due_at),
        "organs": status.organ_severity,
        "flags": (status.worst_flag_rank, status.worst_flag_unacknowledged, status.flag_groups),
    }


@pytest.mark.parametrize("demo", WARD, ids=[f"{p.mrn}" for p in WARD])
def test_the_web_path_and_the_course_path_give_a_flag_the_same_life(demo, nurse) -> None:
    imported = store_demo_patient(demo, nurse, mrn=f"IMP-{demo.mrn}", ward="Imported")
    recorded = record_one_by_one(demo, nurse, ward=f"Web {demo.mrn}")
    assert flag_lives(imported) == flag_lives(recorded)
    statuses = PatientStatus.objects.filter(patient__in=[imported, recorded])
    assert len({s.worst_flag_rank for s in statuses}) == 1
    # The web path re-assesses a window of recent rounds; a last known grade
    # from before it (a partial round's ICANS 3 a week ago, never followed by
    # a complete grade) must still be the one shown, as on the whole course.
    assert status_row(imported) == status_row(recorded)


def test_the_compared_courses_raise_every_kind_of_flag(nurse) -> None:
    for demo in WARD:
        store_demo_patient(demo, nurse)
    kinds = set(Flag.objects.values_list("kind", flat=True))
    assert kinds == {"red_flag", "grade_rise", "worsening", "persistence", "overdue"}
