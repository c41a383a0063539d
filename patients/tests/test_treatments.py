"""Treatment options by presentation (REFERENCE.md section f, j) and the dose ledger."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from patients import recording
from patients.clinical.sources import SOURCES
from patients.clinical.treatments import (
    Presentation,
    catalogue,
    match_options,
    tocilizumab_limit_warning,
)
from patients.models import Intervention

from .conftest import ago


def ids(p: Presentation) -> set[str]:
    return {o.id for o in match_options(p)}


CASES = [
    (
        "f-crs-g1-antipyretics-and-fluids",
        Presentation(crs_grade=1),
        {"antipyretics", "iv_fluids"},
        {"tocilizumab", "siltuximab", "corticosteroids", "icu_transfer"},
    ),
    (
        "f-crs-g1-persistent-fever-tocilizumab-cartox",
        Presentation(crs_grade=1, persistent_fever=True),
        {"tocilizumab", "siltuximab"},
        set(),
    ),
    (
        "f-crs-g2-hypotension-tocilizumab-and-fluids",
        Presentation(crs_grade=2, hypotension=True),
        {"tocilizumab", "iv_fluids", "telemetry"},
        {"icu_transfer"},
    ),
    (
        "f-crs-g3-icu-steroids-vasopressors",
        Presentation(crs_grade=3, hypotension=True),
        {"icu_transfer", "corticosteroids", "heart_support", "tocilizumab"},
        set(),
    ),
    (
        "f-crs-g4-positive-pressure-ventilator-support",
        Presentation(crs_grade=4, organs={"respiratory": 4}),
        {"oxygen_support", "corticosteroids", "anakinra"},
        set(),
    ),
    (
        "f-icans-g3-steroids-and-icu",
        Presentation(icans_grade=3),
        {"corticosteroids", "icu_transfer"},
        {"tocilizumab"},
    ),
    (
        "f-icans-g2-with-crs-g2-tocilizumab-consider-icu",
        Presentation(crs_grade=2, icans_grade=2),
        {"tocilizumab", "icu_transfer"},
        set(),
    ),
    (
        "f-icans-seizure-antiseizure",
        Presentation(icans_grade=3, seizure=True),
        {"antiseizure"},
        set(),
    ),
    (
        "f-icans-cerebral-edema-measures",
        Presentation(icans_grade=4, cerebral_edema=True),
        {"cerebral_edema_measures"},
        set(),
    ),
    (
        "article-kidney-involvement-kidney-support",
        Presentation(organs={"renal": 2}),
        {"kidney_support"},
        set(),
    ),
    (
        "who-covid-severe-corticosteroids-and-il6-blocker",
        Presentation(crs_grade=2, cause="infection", who_severity="severe"),
        {"tocilizumab", "corticosteroids"},
        {"telemetry", "siltuximab"},
    ),
    (
        "who-covid-non-severe-no-corticosteroids-or-il6-blocker",
        Presentation(crs_grade=1, cause="infection", who_severity="non-severe", fever=True),
        {"infection_workup"},
        {"tocilizumab", "siltuximab", "corticosteroids"},
    ),
    (
        "k-cartox-grade-2-3-hypotension-statements-not-at-grade-4-hypoxia",
        Presentation(crs_grade=4),
        set(),
        {"siltuximab"},
    ),
    (
        "k-asco-persistent-icans-alternatives-not-at-first-icans-3",
        Presentation(icans_grade=3),
        {"corticosteroids"},
        {"siltuximab", "anakinra"},
    ),
    (
        "k-asco-persistent-icans-alternatives-when-icans-persists",
        Presentation(icans_grade=3, icans_earlier=True),
        {"siltuximab", "anakinra"},
        set(),
    ),
]


@pytest.mark.parametrize(
    ("presentation", "must", "must_not"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_presentation_maps_to_its_options(presentation, must, must_not) -> None:
    found = ids(presentation)
    assert must <= found
    assert not (must_not & found)


def test_every_option_and_statement_carries_a_known_source() -> None:
    for option in catalogue():
        assert option["statement"], option["id"]
        for s in option["statement"]:
            assert s["source"] in SOURCES
            assert s["status"] in {"confirmed", "unverified"}
    everything = Presentation(
        crs_grade=4,
        icans_grade=4,
        hypotension=True,
        seizure=True,
        cerebral_edema=True,
        organs=dict.fromkeys(["renal", "respiratory"], 4),
    )
    for match in match_options(everything):
        assert match.sources and match.reason


def test_the_catalogue_covers_what_the_source_article_names() -> None:
    names = {o["id"] for o in catalogue()}
    assert {
        "tocilizumab",
        "siltuximab",
        "corticosteroids",
        "iv_fluids",
        "oxygen_support",
        "heart_support",
        "blood_products",
        "kidney_support",
        "antipyretics",
        "icu_transfer",
        "anakinra",
        "antiseizure",
    } <= names
    steroids = next(o for o in catalogue() if o["id"] == "corticosteroids")
    cautions = " ".join(steroids["cautions"])
    assert "suppress the immune system" in cautions and "cancer treatment" in cautions
    assert "SARS and MERS" in cautions


def test_sources_are_shown_side_by_side_never_merged() -> None:
    toci = next(
        o
        for o in match_options(Presentation(crs_grade=2, hypotension=True))
        if o.id == "tocilizumab"
    )
    assert toci.sources == ["ASCO2021", "CARTOX2018"]


def test_unverified_statements_are_labelled() -> None:
    steroids = next(
        o for o in match_options(Presentation(icans_grade=4)) if o.id == "corticosteroids"
    )
    unverified = [s for s in steroids.statements if s["status"] == "unverified"]
    assert unverified and unverified[0]["text"].startswith("ICANS grade 4 (unverified")


@pytest.mark.parametrize(
    ("in_24h", "total", "warns"), [(0, 0, False), (2, 3, False), (3, 3, True), (1, 4, True)]
)
def test_tocilizumab_dose_limits(in_24h, total, warns) -> None:
    assert bool(tocilizumab_limit_warning(in_24h, total)) == warns


def test_it_warns_before_a_fifth_tocilizumab_dose(clinician_client, patient, clinician) -> None:
    for hours in (60, 50, 40, 30):
        Intervention.objects.create(
            patient=patient, kind="tocilizumab", given_at=ago(hours=hours), recorded_by=clinician
        )
    url = reverse("intervention_create", args=[patient.pk])
    form = {
        "client_key": str(uuid.uuid4()),
        "kind": "tocilizumab",
        "drug": "tocilizumab",
        "dose": "8 mg/kg",
        "route": "IV",
        "given_at": ago(minutes=5).strftime("%Y-%m-%dT%H:%M"),
    }
    response = clinician_client.post(url, form)
    assert response.status_code == 422
    assert "This would be tocilizumab dose 5" in response.content.decode()
    assert Intervention.objects.filter(kind="tocilizumab").count() == 4
    clinician_client.post(url, {**form, "confirm_over_limit": "on"})
    assert Intervention.objects.filter(kind="tocilizumab").count() == 5


def test_the_patient_page_shows_options_and_the_ledger(clinician_client, patient, nurse) -> None:
    recording.record_round(
        patient,
        {
            "clinical_time": ago(hours=1),
            "temperature_c": 38.9,
            "hypotension": True,
            "oxygen_device": "room_air",
        },
        nurse,
        uuid.uuid4(),
    )
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    assert "Tocilizumab (Actemra)" in page and "Intravenous fluids" in page
    assert "0 of 3" in page and "0 of 4" in page
    assert "ASCO2021" in page and "CARTOX2018" in page
    # each open flag points at the options for the current presentation
    assert 'class="flag-options"' in page and 'href="#option-tocilizumab"' in page


def test_the_ledger_counts_every_dose_however_long_the_list(
    clinician_client, patient, clinician
) -> None:
    Intervention.objects.create(
        patient=patient, kind="tocilizumab", given_at=ago(hours=70), recorded_by=clinician
    )
    for minutes in range(60):  # a long stay: many later entries
        Intervention.objects.create(
            patient=patient,
            kind="iv_fluids",
            given_at=ago(hours=60, minutes=-minutes),
            recorded_by=clinician,
        )
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    assert "<strong>1 of 4</strong> in total" in page
