"""``manage.py episode_summary`` and the clinicians' episode download: one CSV
row per CRS/ICANS episode with its onset in the range, columns named for
the registry fields they serve (REFERENCE k10: CIBMTR 4100, EBMT MED-A)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.urls import reverse
from django.utils import timezone

from patients import recording
from patients.demo import demo_ward
from patients.episode_data import episode_summaries, patient_episodes
from patients.episode_export import COLUMNS
from patients.management.commands.seed_demo import store_demo_patient
from patients.models import AuditEvent, Exposure, Patient

from .conftest import make_patient
from .test_assess_command import command
from .test_recording import record

NOW = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
# cart_crs (CRS from day 2) and cart_icans (CRS day 1, ICANS from day 4).
CRS_DEMO, ICANS_DEMO = demo_ward(2, seed=11, now=NOW, days=10)
DAY0 = (NOW - timedelta(days=10)).date()


def summary(*args: str) -> tuple[int, list[dict[str, str]] | None, str]:
    status, out, err = command("episode_summary", *args)
    rows = list(csv.DictReader(io.StringIO(out))) if status == 0 else None
    return status, rows, err


def test_it_writes_one_row_per_episode_with_its_onset_in_the_range(nurse) -> None:
    crs_patient = store_demo_patient(CRS_DEMO, nurse)
    icans_patient = store_demo_patient(ICANS_DEMO, nurse)
    status, rows, _ = summary("--from", str(DAY0), "--to", str(DAY0 + timedelta(days=10)))
    assert status == 0
    assert [(r["mrn"], r["kind"]) for r in rows] == [
        (icans_patient.mrn, "CRS"),
        (crs_patient.mrn, "CRS"),
        (icans_patient.mrn, "ICANS"),
    ]
    crs = rows[1]
    assert crs["product"] == "Axicabtagene ciloleucel (Yescarta)"
    assert (crs["day0"], crs["onset_day"], crs["onset_reference"]) == (str(DAY0), "2", "day 0")
    assert (crs["grading_system"], crs["max_grade"]) == ("ASTCT 2019", "3")
    assert crs["resolved"] == "yes" and crs["resolved_date"]
    assert crs["therapy_given"] == "Tocilizumab; Corticosteroid; Antipyretic"
    assert crs["tocilizumab_doses"] == "2"
    assert crs["corticosteroid_agent"] == "dexamethasone"
    assert crs["vasopressors"] == "1"
    assert (crs["positive_pressure"], crs["icu_transfer"]) == ("no", "no")
    icans = rows[2]
    assert (icans["max_grade"], icans["lowest_ice"]) == ("3", "2")
    assert icans["therapy_given"] == "Corticosteroid; Anti-epileptic"
    # Only onsets in the range: the ICANS onset (day 4) alone.
    start = DAY0 + timedelta(days=3)
    status, rows, _ = summary("--from", str(start), "--to", str(DAY0 + timedelta(days=5)))
    assert [(r["mrn"], r["kind"]) for r in rows] == [(icans_patient.mrn, "ICANS")]


def test_bad_dates_exit_2_with_a_message_and_no_traceback(db) -> None:
    for args, field in [
        (("--from", "2026-13-01", "--to", "2026-12-01"), "from:"),
        (("--from", "2026-11-01", "--to", "yesterday"), "to:"),
        (("--from", "2026-11-10", "--to", "2026-11-01"), "before the start"),
    ]:
        status, _, err = summary(*args)
        assert status == 2
        assert field in err and "Traceback" not in err


def test_an_empty_range_still_writes_the_header(db) -> None:
    status, rows, _ = summary("--from", "2026-01-01", "--to", "2026-01-31")
    assert status == 0 and rows == []


def test_a_typed_drug_name_cannot_become_a_spreadsheet_formula(patient, nurse, clinician) -> None:
    t0 = timezone.now() - timedelta(hours=6)
    record(patient, nurse, t0, temperature_c=38.8)
    recording.record_intervention(
        patient,
        {"kind": "corticosteroid", "drug": "=HYPERLINK(1)", "given_at": t0 + timedelta(hours=1)},
        clinician,
        uuid.uuid4(),
    )
    today = timezone.localdate()
    status, rows, _ = summary("--from", str(today - timedelta(days=1)), "--to", str(today))
    assert rows[0]["corticosteroid_agent"] == "'=HYPERLINK(1)"


def test_clinicians_download_the_csv_and_the_download_is_audited(
    clinician_client, clinician, nurse
) -> None:
    store_demo_patient(CRS_DEMO, nurse)
    url = reverse("episodes_csv")
    response = clinician_client.get(url, {"from": str(DAY0), "to": str(NOW.date())})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["kind"] for r in rows] == ["CRS"]
    event = AuditEvent.objects.get(action="episodes_exported")
    assert event.user == clinician
    assert event.detail == {"start": str(DAY0), "end": str(NOW.date())}


def test_a_bad_date_in_the_download_is_a_400_naming_it(clinician_client) -> None:
    response = clinician_client.get(reverse("episodes_csv"), {"from": "2026-02-30", "to": "x"})
    assert response.status_code == 400
    assert "from:" in response.content.decode()
    assert not AuditEvent.objects.filter(action="episodes_exported").exists()


def test_the_readme_names_every_column_and_its_registry_field() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### Episode summary CSV") :]
    for column in COLUMNS:
        assert f"| `{column}` |" in section, column


def test_an_onset_before_day_0_is_a_plain_negative_day(nurse) -> None:
    # Fever the day before the infusion date recorded: Day -1, written as a
    # number (only text is guarded against formulas).
    patient = make_patient(mrn="NEG1", day0=timezone.localdate() + timedelta(days=1))
    record(patient, nurse, timezone.now() - timedelta(hours=2), temperature_c=38.6)
    today = timezone.localdate()
    status, rows, _ = summary("--from", str(today - timedelta(days=1)), "--to", str(today))
    assert [(r["mrn"], r["onset_day"]) for r in rows] == [("NEG1", "-1")]


def test_a_later_treatment_keeps_the_earlier_courses_episodes(nurse) -> None:
    # Registries report episodes per treatment (REFERENCE k10): an infection
    # recorded after a CAR-T course must not erase that course's CRS
    # (infection has no ASTCT episodes, REFERENCE k4), and the onset still
    # counts from the CAR-T day 0, with the CAR-T product in the row.
    patient = store_demo_patient(CRS_DEMO, nurse)
    Exposure.objects.create(
        patient=patient, kind=Exposure.Kind.INFECTION, agent="COVID-19", day0=NOW.date()
    )
    patient = Patient.objects.get(pk=patient.pk)
    later = NOW + timedelta(days=3)
    (crs,) = episode_summaries([patient], later)[patient.pk]
    (page,) = patient_episodes(patient, list(patient.interventions.all()), later)
    assert page == crs
    assert (crs.kind, crs.onset_reference, crs.onset_day, crs.max_grade) == ("crs", "day 0", 2, 3)
    status, rows, _ = summary("--from", str(DAY0), "--to", str(NOW.date()))
    assert status == 0
    (row,) = rows
    assert (row["product"], row["day0"]) == ("Axicabtagene ciloleucel (Yescarta)", str(DAY0))
