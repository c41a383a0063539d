"""Concurrent writers on PostgreSQL: every round stored, status consistent."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections

from patients import recording
from patients.models import ObservationRound, Patient, PatientStatus

from .conftest import NORMAL, ago, make_patient, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs real parallel connections (run with DATABASE_URL)",
    ),
]


def in_threads(jobs) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(jobs))

    def run(job):
        try:
            barrier.wait()
            job()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_rounds_from_several_users_are_all_stored() -> None:
    patient = make_patient()
    users = [make_user(f"nurse{i}", "nurse") for i in range(6)]
    jobs = [
        (
            lambda u=u, i=i: recording.record_round(
                Patient.objects.get(pk=patient.pk),
                {
                    "clinical_time": ago(minutes=60 - i),
                    **NORMAL,
                    "heart_rate": 70 + i,
                    "acvpu": "C" if i % 2 else "A",
                },
                u,
                uuid.uuid4(),
            )
        )
        for i, u in enumerate(users)
    ]
    assert in_threads(jobs) == []
    assert ObservationRound.objects.filter(patient=patient).count() == 6
    status = PatientStatus.objects.get(patient=patient)
    latest = ObservationRound.objects.filter(patient=patient).latest("clinical_time")
    assert status.last_round_at == latest.clinical_time
    assert status.open_flag_count == patient.flags.exclude(state="resolved").count()


def test_a_replayed_submit_racing_itself_stores_one_round() -> None:
    patient = make_patient()
    nurse = make_user("nina", "nurse")
    key = uuid.uuid4()
    values = {"clinical_time": ago(minutes=5), **NORMAL}
    jobs = [
        lambda: recording.record_round(Patient.objects.get(pk=patient.pk), values, nurse, key)
        for _ in range(4)
    ]
    assert in_threads(jobs) == []
    assert ObservationRound.objects.filter(client_key=key).count() == 1
