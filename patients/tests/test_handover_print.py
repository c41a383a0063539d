"""The handover sheet printed by Chromium to A4: what a charge nurse carries."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

import pytest
from pypdf import PdfReader

from patients import recording
from patients.models import Flag

from .conftest import NORMAL, ago, log_in, make_patient, make_user

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
A4_POINTS = (595, 842)
WARD = "Haem C"


def busy_ward(nurse, clinician, size: int = 25) -> None:
    """Fill a ward with patients carrying flags, notes and doses, as in a bad night."""
    for n in range(size):
        patient = make_patient(
            mrn=f"HO{n:02d}", ward=WARD, bed=str(n + 1), family_name=f"Patient{n:02d}"
        )
        sick = n % 2 == 0
        for hours, temp in ((8, 37.1), (4, 38.6 if sick else 37.0), (1, 39.2 if sick else 37.2)):
            values = {**NORMAL, "temperature_c": temp, "clinical_time": ago(hours=hours)}
            if sick and hours == 1:
                values.update(oxygen_device="nasal_cannula", oxygen_flow_l_min=3, heart_rate=122)
                values["symptoms"] = {"fever": 3, "headache": 2, "fatigue": 2}
            recording.record_round(patient, values, nurse, uuid.uuid4())
        for flag in Flag.objects.filter(patient=patient)[:2]:
            recording.acknowledge_flag(
                flag, clinician, "Seen at the bedside; repeat obs hourly, senior review at 18:00"
            )
        if sick:
            for kind, dose in (("antipyretic", "1 g"), ("tocilizumab", "8 mg/kg")):
                recording.record_intervention(
                    patient,
                    {"kind": kind, "dose": dose, "given_at": ago(hours=2)},
                    clinician,
                    uuid.uuid4(),
                )


def test_a_25_patient_ward_prints_on_a4_in_whole_blocks(live_server, page) -> None:
    nurse = make_user("nina", "nurse")
    clinician = make_user("carl", "clinician")
    busy_ward(nurse, clinician)
    log_in(page, live_server, "carl")
    page.goto(f"{live_server.url}/handover/?ward={WARD.replace(' ', '+')}")
    page.wait_for_load_state("load")
    page.emulate_media(media="print")
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (ARTIFACTS / "handover-ward.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    pages = [p.extract_text() for p in reader.pages]
    assert len(pages) <= 6
    for number, (sheet, text) in enumerate(zip(reader.pages, pages, strict=True), start=1):
        size = (round(float(sheet.mediabox.width)), round(float(sheet.mediabox.height)))
        assert size == A4_POINTS  # portrait
        assert f"Page {number} of {len(pages)}" in text
        assert f"CRS Watch handover: {WARD}" in text and "Printed" in text
        # A block starts with the name and ends with the tocilizumab count:
        # as many of each on every page means no block was split.
        starts = re.findall(r"MRN HO\d\d", text)
        ends = re.findall(r"of 4 in total", text)
        assert len(starts) == len(ends) > 0, f"a block is split on page {number}"
    everything = "\n".join(pages)
    assert len(set(re.findall(r"MRN HO\d\d", everything))) == 25
    assert "born 1 Mar 1950" in everything
    assert "Day +3 after CAR-T" in everything
    assert "senior review at 18:00" in everything  # acknowledgement notes travel
    assert "Tocilizumab" in everything and "Antipyretic" in everything
