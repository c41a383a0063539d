"""Episode summaries read from the database: the same summary ``manage.py
assess --episodes`` prints for the same course (one definition,
clinical/registry.py; REFERENCE k10 registry fields), for a whole cohort in
a fixed number of queries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from patients import recording
from patients.clinical.inputs import SYMPTOM_SEVERITY
from patients.demo import demo_ward
from patients.episode_data import episode_summaries, patient_episodes
from patients.management.commands.seed_demo import store_demo_patient
from patients.models import Exposure, Patient

from .conftest import make_patient
from .test_assess_command import run
from .test_patient_page import episodes_section
from .test_recording import record

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
# cart_crs, cart_icans, bispecific, covid, stable (demo.SCENARIOS).
WARD = demo_ward(5, seed=11, now=NOW, days=10)
# What assess --episodes printed before the summary, and prints beside it.
ASSESS_ONLY = {"onset_after", "end_rule"}


def assess_payload(demo, patient: Patient) -> dict:
    """Return the demo course as ``manage.py assess`` reads it."""
    exposure = patient.exposures.get()
    rounds = []
    for r in demo.rounds:
        item = {k: v for k, v in r.items() if k != "clinical_time" and not k.startswith("ice_")}
        item["symptoms"] = {k: SYMPTOM_SEVERITY[v] for k, v in r["symptoms"].items()}
        if "ice_naming" in r:
            item["ice"] = {k[4:]: v for k, v in r.items() if k.startswith("ice_")}
        rounds.append({"time": r["clinical_time"].isoformat(), **item})
    product = {"product": exposure.agent} if exposure.catalogue_product() else {}
    return {
        "exposure": {"kind": exposure.kind, "day0": exposure.day0_start().isoformat(), **product},
        "patient": {"age_years": patient.age_on(exposure.day0)},
        "baseline": demo.baseline,
        "interventions": [
            {
                "time": g["given_at"].isoformat(),
                "kind": g["kind"],
                "drug": g["drug"],
                "dose": g["dose"],
                "route": g["route"],
                **({"indication": g["indication"]} if g.get("indication") else {}),
            }
            for g in demo.given
        ],
        "doses": [{"step": d["step"], "time": d["given_at"].isoformat()} for d in demo.doses],
        "rounds": rounds,
    }


@pytest.mark.parametrize("demo", WARD, ids=[p.mrn for p in WARD])
def test_stored_course_and_assess_give_the_same_episode_summaries(demo, nurse) -> None:
    patient = store_demo_patient(demo, nurse)
    last = demo.rounds[-1]["clinical_time"]
    stored = episode_summaries([patient], now=last)[patient.pk]
    status, out, err = run(assess_payload(demo, patient), "--episodes")
    assert status == 0, err
    printed = [{k: v for k, v in e.items() if k not in ASSESS_ONLY} for e in out["episodes"]]
    assert [s.as_dict() for s in stored] == printed


def test_the_demo_courses_have_crs_and_icans_episodes(nurse) -> None:
    patients = [store_demo_patient(demo, nurse) for demo in WARD]
    summaries = episode_summaries(patients, now=NOW)
    crs_patient, icans_patient, bispecific, covid, stable = (summaries[p.pk] for p in patients)
    (crs,) = [s for s in crs_patient if s.kind == "crs"]
    # demo.cart_crs: fever from day 2, hypotension on a vasopressor days 4-5.5.
    assert (crs.onset_reference, crs.onset_day, crs.max_grade) == ("day 0", 2, 3)
    assert crs.tocilizumab_count == 2 and crs.first_tocilizumab_at is not None
    assert crs.steroid_agents == ("dexamethasone",) and crs.steroid_days == 1
    # One dose: 1 calendar day of exposure, never 0 (read as none by a registry).
    assert crs.vasopressors_band == "1"
    assert [s.kind for s in icans_patient].count("icans") == 1
    icans = next(s for s in icans_patient if s.kind == "icans")
    assert icans.lowest_ice == 2  # demo.cart_icans: ICE 8, 5, 2, 6 on days 4-7
    assert "antiseizure" in icans.therapy_classes
    # demo.bispecific: fever the day after step-up dose 2, counted from that dose.
    assert [(s.onset_reference, s.onset_day) for s in bispecific] == [("step-up dose 2", 0)]
    assert covid == []  # infection: no ASTCT episodes (REFERENCE k4)
    assert stable == []


def test_a_cohort_reads_in_four_queries_whatever_its_size(
    nurse, django_assert_num_queries
) -> None:
    patients = [store_demo_patient(demo, nurse) for demo in WARD]
    with django_assert_num_queries(4):
        summaries = episode_summaries(patients, now=NOW)
    assert len(summaries) == len(WARD)


def test_rounds_and_doses_entered_in_error_are_left_out(patient, nurse, clinician) -> None:
    t0 = datetime.now(UTC) - timedelta(hours=30)
    record(patient, nurse, t0, temperature_c=38.7, systolic_bp=120, hypotension=False)
    wrong = record(
        patient, nurse, t0 + timedelta(hours=2), temperature_c=39.0, oxygen_device="cpap"
    )
    dose, _ = recording.record_intervention(
        patient,
        {"kind": "tocilizumab", "dose": "640 mg", "given_at": t0 + timedelta(hours=1)},
        clinician,
        uuid.uuid4(),
    )
    (before,) = episode_summaries([patient])[patient.pk]
    assert before.max_grade == 4 and before.tocilizumab_count == 1
    recording.mark_round_in_error(wrong, clinician, "wrong patient")
    recording.mark_intervention_in_error(dose, clinician, "not given")
    (after,) = episode_summaries([patient])[patient.pk]
    assert after.max_grade == 1
    assert after.tocilizumab_count == 0 and after.positive_pressure_at is None


def test_icaht_and_the_iec_hs_prompt_stored_with_lab_entries_join_the_crs_episode(
    nurse, clinician_client
) -> None:
    # REFERENCE k9: ICAHT (single-source) and the IEC-HS prompt (local rule,
    # criteria unverified: ferritin rising twice after CRS settled) as
    # stored with each lab entry (followup.py).
    patient = make_patient(mrn="LAB1", day0=timezone.localdate() - timedelta(days=6))
    start = datetime.now(UTC) - timedelta(hours=110)
    record(patient, nurse, start, temperature_c=38.9, anc_10e9_l=0.3, ferritin_ug_l=900.0)
    record(patient, nurse, start + timedelta(hours=6), temperature_c=37.0)
    for hours, ferritin in ((80, 1500.0), (92, 2600.0)):
        record(
            patient,
            nurse,
            start + timedelta(hours=hours),
            temperature_c=36.9,
            anc_10e9_l=0.2,
            ferritin_ug_l=ferritin,
        )
    (crs,) = episode_summaries([patient])[patient.pk]
    assert crs.resolved_at == start + timedelta(hours=6)
    assert crs.iec_hs_prompt_at == start + timedelta(hours=92)
    assert crs.iec_hs_prompt.startswith("Consider IEC-HS / HLH evaluation")
    assert any("N-ICAHT" in g and "(single-source)" in g for g in crs.icaht)
    assert crs.icaht_max_grade is not None and crs.icaht_max_grade >= 1
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    section = episodes_section(page)
    assert "Consider IEC-HS / HLH evaluation" in section
    assert "[local rule; IEC-HS criteria unverified]" in section


def test_the_patient_page_and_the_cohort_read_give_the_same_summaries(
    nurse, clinician, clinician_client
) -> None:
    # A bispecific course with recorded step-up doses: onset counted from
    # the dose before it, by its label (REFERENCE k1, k8).
    patient = make_patient(
        mrn="BIS1", kind="bispecific", day0=timezone.localdate() - timedelta(days=4)
    )
    Exposure.objects.filter(patient=patient).update(agent="teclistamab", product="teclistamab")
    start = datetime.now(UTC) - timedelta(hours=60)
    recording.record_dose(
        patient,
        {"step": "SUD2", "given_at": start - timedelta(hours=20)},
        clinician,
        uuid.uuid4(),
        premedication={
            "kind": "corticosteroid",
            "drug": "dexamethasone",
            "indication": "premedication",
            "given_at": start - timedelta(hours=21),
        },
    )
    record(patient, nurse, start, temperature_c=38.4)
    record(patient, nurse, start + timedelta(hours=8), temperature_c=37.0)
    patient = Patient.objects.get(pk=patient.pk)
    now = timezone.now()
    interventions = list(patient.interventions.all())
    (page,) = patient_episodes(patient, interventions, now)
    assert page == episode_summaries([patient], now)[patient.pk][0]
    assert (page.onset_reference, page.onset_hours) == ("step-up dose 2", 20.0)
    assert page.steroid_doses == 0  # the premedication never counts
    section = episodes_section(clinician_client.get(patient.get_absolute_url()).content.decode())
    assert "Day +0 after step-up dose 2 (20.0 h after it)" in section
