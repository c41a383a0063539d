"""The demo ward: believable, deterministic, flags where a clinician expects them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.core.management import call_command
from django.urls import reverse

from patients.models import DoseEvent, Flag, Intervention, ObservationRound, Patient


def test_seed_demo_twice_duplicates_nothing(db, capsys) -> None:
    call_command("seed_demo", "--patients", "10", "--seed", "7", "--force")
    first = (Patient.objects.count(), ObservationRound.objects.count(), Flag.objects.count())
    out = capsys.readouterr().out
    assert "nurse" in out and "clinician" in out and "admin" in out
    call_command("seed_demo", "--patients", "10", "--seed", "7", "--force")
    assert (
        Patient.objects.count(),
        ObservationRound.objects.count(),
        Flag.objects.count(),
    ) == first


def test_the_demo_ward_has_every_kind_of_patient(db) -> None:
    call_command("seed_demo", "--patients", "10", "--no-users", "--force")
    kinds = set(Patient.objects.values_list("exposures__kind", flat=True))
    assert kinds == {"car_t", "bispecific", "infection"}
    assert ObservationRound.objects.filter(crs_grade__gte=3).exists()
    assert ObservationRound.objects.filter(icans_grade__gte=2).exists()


def test_the_crs_patient_is_flagged_at_onset_and_at_the_vasopressor(db) -> None:
    call_command("seed_demo", "--patients", "5", "--no-users", "--force")
    p = Patient.objects.get(mrn="DEMO-0001")  # scenario: CAR-T with CRS
    day0 = datetime.combine(p.exposures.get().day0, datetime.min.time(), tzinfo=UTC)
    rises = Flag.objects.filter(patient=p, key="grade_rise:crs").order_by("opened_at")
    onset = rises.first()
    assert onset.basis["after"]["grade"] == 1
    assert (
        timedelta(days=2)
        <= onset.opened_at - day0 - timedelta(hours=8)
        < timedelta(days=2, hours=4)
    )
    assert rises.filter(basis__after__grade=3).exists()
    pressor = Flag.objects.get(patient=p, key="worsening:cardiovascular", severity="high")
    assert "vasopressor added: norepinephrine" in pressor.basis["changes"]


def test_covid_patients_past_day_5_raise_a_breathing_red_flag(db) -> None:
    call_command("seed_demo", "--patients", "20", "--no-users", "--force")
    covid = Patient.objects.filter(exposures__kind="infection")
    late = [
        p
        for p in covid
        if (p.rounds.latest("clinical_time").clinical_time.date() - p.exposures.get().day0).days
        >= 6
    ]
    assert late, "the default seed puts a COVID-19 patient past day 5"
    for p in late:
        flag = Flag.objects.get(patient=p, key="red_flag:difficulty_breathing")
        day = (flag.opened_at.date() - p.exposures.get().day0).days
        assert day == 5


def test_stable_patients_raise_no_red_flag_or_grade_rise(db) -> None:
    call_command("seed_demo", "--patients", "10", "--no-users", "--force")
    stable = Patient.objects.filter(mrn__in=["DEMO-0005", "DEMO-0010"])
    assert not Flag.objects.filter(
        patient__in=stable, kind__in=["red_flag", "grade_rise"]
    ).exists()


def test_the_demo_shows_step_up_windows_and_bcma_late_neurotoxicity_questions(
    db, clinician_client
) -> None:
    call_command("seed_demo", "--patients", "25", "--no-users", "--force")
    assert Patient.objects.count() == 25
    # Teclistamab (REFERENCE k8): each step-up dose a record, with its
    # premedication recorded as such, and the patient inside a 48 h window.
    bispecific = Patient.objects.filter(exposures__product="teclistamab")
    assert bispecific.count() == 5
    for patient in bispecific:
        steps = list(DoseEvent.objects.filter(patient=patient).values_list("step", flat=True))
        assert steps == ["SUD1", "SUD2", "TD1"][: len(steps)] and steps
        premeds = Intervention.objects.filter(patient=patient, indication="premedication")
        assert premeds.count() == len(steps)
    queue = clinician_client.get(reverse("queue")).content.decode()
    assert re.search(
        r"\d+ h of the 48 h in hospital after (step-up dose \d|first treatment)", queue
    )
    page = clinician_client.get(bispecific.first().get_absolute_url()).content.decode()
    assert "Doses recorded" in page and "Step-up dose 1" in page
    # Cilta-cel (BCMA, REFERENCE k11): the late-neurotoxicity questions are asked.
    cilta = Patient.objects.filter(exposures__product="cilta-cel").first()
    form = clinician_client.get(reverse("round_create", args=[cilta.pk])).content.decode()
    assert "Late neurotoxicity: Change in handwriting?" in form
    assert ObservationRound.objects.filter(patient=cilta).exclude(late_neuro={}).exists()
