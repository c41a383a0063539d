"""POST /fhir/: Bundles from a monitor gateway or the EHR become rounds."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from patients import recording
from patients.fhir import codes
from patients.fhir.tokens import create_token
from patients.models import AuditEvent, Flag, IngestedObservation, ObservationRound

from .conftest import NORMAL, ago, make_patient


def stamp(at: datetime) -> str:
    return timezone.localtime(at).isoformat(timespec="seconds")


def quantity(code: str, value, unit: str, at: datetime, ident: str, mrn: str = "MRN001",
             category: str = "vital-signs") -> dict:  # fmt: skip
    return {
        "resourceType": "Observation",
        "identifier": [{"system": "urn:monitor:obs", "value": ident}],
        "status": "final",
        "category": [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": category}]}],
        "code": {"coding": [{"system": codes.LOINC, "code": code}]},
        "subject": {"identifier": {"value": mrn}},
        "effectiveDateTime": stamp(at),
        "valueQuantity": {"value": value, "unit": unit, "system": codes.UCUM, "code": unit},
    }


def blood_pressure(sbp, dbp, at, ident) -> dict:
    obs = quantity("85354-9", 0, "mm[Hg]", at, ident)
    del obs["valueQuantity"]
    obs["component"] = [
        {"code": {"coding": [{"system": codes.LOINC, "code": "8480-6"}]},
         "valueQuantity": {"value": sbp, "unit": "mm[Hg]", "system": codes.UCUM,
                           "code": "mm[Hg]"}},
        {"code": {"coding": [{"system": codes.LOINC, "code": "8462-4"}]},
         "valueQuantity": {"value": dbp, "unit": "mm[Hg]", "system": codes.UCUM,
                           "code": "mm[Hg]"}},
    ]  # fmt: skip
    return obs


def acvpu(level: str, at, ident) -> dict:
    obs = quantity(codes.ACVPU_CODE[0], 0, "", at, ident)
    obs["code"] = {"coding": [{"system": codes.SNOMED, "code": codes.ACVPU_CODE[0]}]}
    del obs["valueQuantity"]
    obs["valueCodeableConcept"] = {"coding": [{"system": codes.LOCAL_ACVPU, "code": level}]}
    return obs


def spo2(value, at, ident, device="room_air", flow=None) -> dict:
    obs = quantity("59408-5", value, "%", at, ident)
    obs["component"] = [
        {"code": {"coding": [{"system": codes.LOCAL_OBSERVATION, "code": "oxygen-device"}]},
         "valueCodeableConcept": {"coding": [{"system": codes.LOCAL_OXYGEN_DEVICE,
                                              "code": device}]}},
    ]  # fmt: skip
    if flow is not None:
        obs["component"].append(
            {"code": {"coding": [{"system": codes.LOINC, "code": "3151-8"}]},
             "valueQuantity": {"value": flow, "unit": "L/min", "system": codes.UCUM,
                               "code": "L/min"}}
        )  # fmt: skip
    return obs


def full_round(at: datetime, tag: str, temp=37.0, hr=80, sat=97, device="room_air",
               flow=None) -> list[dict]:  # fmt: skip
    return [
        quantity("8310-5", temp, "Cel", at, f"{tag}-t"),
        quantity("8867-4", hr, "/min", at, f"{tag}-hr"),
        quantity("9279-1", 16, "/min", at, f"{tag}-rr"),
        blood_pressure(125, 75, at, f"{tag}-bp"),
        spo2(sat, at, f"{tag}-sat", device, flow),
        acvpu("A", at, f"{tag}-acvpu"),
    ]


def bundle(*resources: dict, kind: str = "transaction") -> dict:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [
            {"resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
            for r in resources
        ],
    }


@pytest.fixture
def writer(db):
    _, secret = create_token("ward-monitors", source="monitor")
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post(client, body, headers):
    return client.post(
        reverse("fhir_bundle"), body, content_type="application/fhir+json", **headers
    )


def test_a_bundle_of_vital_signs_becomes_one_assessed_round(client, patient, writer):
    at = ago(minutes=30)
    response = post(client, bundle(*full_round(at, "a")), writer)
    assert response.status_code == 200, response.content
    assert response.json()["type"] == "transaction-response"
    rnd = ObservationRound.objects.get()
    assert (rnd.temperature_c, rnd.heart_rate, rnd.systolic_bp, rnd.spo2) == (37.0, 80, 125, 97)
    assert rnd.acvpu == "A" and rnd.oxygen_device == "room_air"
    assert rnd.source == "monitor"
    assert rnd.news2_total == 0
    assert rnd.entered_by.username == "ward-monitors"


def test_ingested_rounds_are_flagged_exactly_like_typed_rounds(client, patient, writer, nurse):
    sick = {"temp": 39.5, "hr": 125, "sat": 90, "device": "nasal_cannula", "flow": 4.0}
    post(client, bundle(*full_round(ago(minutes=30), "b", **sick)), writer)
    ingested = ObservationRound.objects.get()
    other = make_patient("MRN002")
    typed, _ = recording.record_round(
        other,
        {
            "clinical_time": ingested.clinical_time,
            **NORMAL,
            "temperature_c": 39.5,
            "heart_rate": 125,
            "spo2": 90,
            "oxygen_device": "nasal_cannula",
            "oxygen_flow_l_min": 4.0,
        },
        nurse,
        uuid.uuid4(),
    )
    assert (ingested.crs_grade, ingested.news2_total) == (typed.crs_grade, typed.news2_total)
    assert ingested.crs_grade >= 1
    flags = sorted(Flag.objects.filter(patient=patient).values_list("key", flat=True))
    assert flags and flags == sorted(
        Flag.objects.filter(patient=other).values_list("key", flat=True)
    )


def test_observations_close_in_time_group_into_rounds_by_the_window(client, patient, writer,
                                                                    settings):  # fmt: skip
    settings.CRS_WATCH = {**settings.CRS_WATCH, "FHIR_ROUND_WINDOW_MINUTES": 5}
    early, late = ago(minutes=60), ago(minutes=20)
    resources = [
        quantity("8867-4", 80, "/min", early, "hr1"),
        quantity("8310-5", 37.1, "Cel", early + timedelta(minutes=3), "t1"),
        quantity("8867-4", 90, "/min", late, "hr2"),
    ]
    post(client, bundle(*resources), writer)
    rounds = list(ObservationRound.objects.order_by("clinical_time"))
    assert [(r.heart_rate, r.temperature_c) for r in rounds] == [(80, 37.1), (90, None)]


def test_the_same_bundle_twice_stores_nothing_new(client, patient, writer):
    body = bundle(*full_round(ago(minutes=30), "c"))
    post(client, body, writer)
    again = post(client, body, writer)
    assert again.status_code == 200
    assert ObservationRound.objects.count() == 1
    assert IngestedObservation.objects.count() == 6
    assert {e["response"]["status"] for e in again.json()["entry"]} == {"200 OK"}


def test_a_batch_bundle_is_accepted_too(client, patient, writer):
    response = post(client, bundle(*full_round(ago(minutes=30), "d"), kind="batch"), writer)
    assert response.json()["type"] == "batch-response"
    assert ObservationRound.objects.count() == 1


@pytest.mark.parametrize(
    ("bad", "expression", "code"),
    [
        (quantity("99999-9", 1, "/min", None, "x"), ".code", "code-unknown"),
        (quantity("8867-4", 80, "mm[Hg]", None, "x"), ".valueQuantity.code", "code-invalid"),
        (quantity("8310-5", 370, "Cel", None, "x"), ".valueQuantity.value", "value"),
        (quantity("8867-4", "fast", "/min", None, "x"), ".valueQuantity.value", "invalid"),
        (quantity("8867-4", 80, "/min", None, "x", mrn="NOBODY"), ".subject", "not-found"),
    ],
    ids=["unknown code", "wrong unit", "implausible value", "not a number", "unknown MRN"],
)
def test_bad_elements_reject_the_whole_bundle_naming_each(client, patient, writer, bad,
                                                         expression, code):  # fmt: skip
    at = ago(minutes=10)
    bad["effectiveDateTime"] = stamp(at)
    good = full_round(ago(minutes=30), "e")
    response = post(client, bundle(*good, bad), writer)
    assert response.status_code == 422
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    (issue,) = outcome["issue"]
    assert issue["expression"] == [f"Bundle.entry[{len(good)}].resource{expression}"]
    assert issue["code"] == code
    assert ObservationRound.objects.count() == 0  # nothing half-stored
    assert AuditEvent.objects.filter(action="fhir_write_rejected").count() == 1


def test_every_rejected_element_is_named(client, patient, writer):
    at = ago(minutes=10)
    response = post(
        client,
        bundle(
            quantity("8310-5", 3.7, "Cel", at, "t"),
            quantity("8867-4", 80, "/min", at, "hr") | {"effectiveDateTime": "soon"},
        ),
        writer,
    )
    expressions = [i["expression"][0] for i in response.json()["issue"]]
    assert expressions == [
        "Bundle.entry[0].resource.valueQuantity.value",
        "Bundle.entry[1].resource.effectiveDateTime",
    ]


def test_fahrenheit_is_converted_and_mass_creatinine_is_refused(client, patient, writer):
    at = ago(minutes=10)
    post(client, bundle(quantity("8310-5", 100.4, "[degF]", at, "f")), writer)
    assert ObservationRound.objects.get().temperature_c == 38.0
    refused = post(
        client, bundle(quantity("14682-9", 1.2, "mg/dL", at, "cr", category="laboratory")), writer
    )
    assert refused.status_code == 422
    assert "umol/L" in refused.json()["issue"][0]["diagnostics"]


def test_labs_are_stored_with_the_round(client, patient, writer):
    at = ago(minutes=10)
    labs = [
        quantity(m.code, 50, m.unit, at, f"lab-{m.field}", category="laboratory")
        for m in codes.LABS
    ]
    assert post(client, bundle(*labs), writer).status_code == 200
    rnd = ObservationRound.objects.get()
    assert all(getattr(rnd, m.field) == 50 for m in codes.LABS)


def test_an_observation_entered_in_error_at_source_marks_its_round(client, patient, writer):
    round_a = full_round(ago(minutes=30), "g")
    post(client, bundle(*round_a), writer)
    round_a[1]["status"] = "entered-in-error"
    post(client, bundle(round_a[1]), writer)
    rnd = ObservationRound.objects.get()
    assert rnd.in_error and "sending system" in rnd.error_reason


def test_future_times_and_unsupported_resources_are_refused(client, patient, writer):
    future = quantity("8867-4", 80, "/min", timezone.now() + timedelta(hours=1), "f")
    other = {"resourceType": "Condition", "id": "x"}
    response = post(client, bundle(future, other), writer)
    assert response.status_code == 422
    codes_ = [i["code"] for i in response.json()["issue"]]
    assert codes_ == ["not-supported", "invalid"] or codes_ == ["invalid", "not-supported"]


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", "{}", '{"resourceType": "Bundle", "type": "transaction", "entry": [1]}',
     '{"resourceType": "Bundle", "type": "collection", "entry": []}', "null", '"x"',
     '{"resourceType": "Bundle", "type": "batch", "entry": [{"resource": {"resourceType": '
     '"Observation", "identifier": [{"value": "a\\u0000b"}]}}]}'],
)  # fmt: skip
def test_hostile_bodies_get_an_operation_outcome_not_a_500(client, patient, writer, body):
    response = post(client, body, writer)
    assert response.status_code in {400, 422}
    assert response.json()["resourceType"] == "OperationOutcome"


def test_ingested_rounds_show_their_source_on_the_timeline(client, patient, writer, clinician):
    post(client, bundle(*full_round(ago(minutes=30), "h")), writer)
    client.force_login(clinician)
    page = client.get(reverse("patient", args=[patient.pk])).content.decode()
    assert "ward-monitors (Monitor)" in page


def test_writes_are_audited_per_round(client, patient, writer):
    post(client, bundle(*full_round(ago(minutes=30), "i")), writer)
    event = AuditEvent.objects.get(action="round_recorded")
    assert event.user.username == "ward-monitors"


# A course a monitor sends at once: fever, then tachycardia and oxygen need,
# then recovery, one round every 15 minutes.
COURSE = [
    {"temp": 37.0 + min(k, 8) * 0.3 - max(0, k - 12) * 0.3, "hr": 80 + 5 * min(k, 9),
     "sat": 97 - (3 if 6 <= k <= 13 else 0),
     "device": "nasal_cannula" if 6 <= k <= 13 else "room_air",
     "flow": 3.0 if 6 <= k <= 13 else None}
    for k in range(20)
]  # fmt: skip


def course_bundle(mrn_tag: str) -> tuple[dict, list[datetime]]:
    now = timezone.now().replace(microsecond=0)
    times = [now - timedelta(minutes=15 * (20 - k)) for k in range(20)]
    resources = [
        r for k, at in enumerate(times) for r in full_round(at, f"{mrn_tag}{k}", **COURSE[k])
    ]
    return bundle(*resources), times


def typed_values(k: int, at: datetime) -> dict:
    c = COURSE[k]
    values = {**NORMAL, "clinical_time": at, "temperature_c": c["temp"], "heart_rate": c["hr"],
              "spo2": c["sat"], "oxygen_device": c["device"]}  # fmt: skip
    if c["flow"] is not None:
        values["oxygen_flow_l_min"] = c["flow"]
    return values


def stored_course(patient) -> tuple[list, list, dict]:
    rounds = [
        (r.clinical_time, r.crs_grade, r.icans_grade, r.news2_total, r.news2_band,
         r.organ_severity, r.assessment, r.treatment_options)
        for r in ObservationRound.objects.filter(patient=patient).order_by("clinical_time")
    ]  # fmt: skip
    flags = sorted(
        (f.key, f.severity, f.state, f.opened_at, f.last_active_at, f.resolved_at,
         f.resolve_reason, f.opened_by_round.clinical_time if f.opened_by_round else None)
        for f in Flag.objects.filter(patient=patient)
    )  # fmt: skip
    status = patient.status
    status.refresh_from_db()
    row = {
        name: getattr(status, name)
        for name in ("crs_grade", "icans_grade", "news2_total", "open_flag_count",
                     "worst_flag_rank", "organ_severity", "last_round_at", "next_round_due_at")
    }  # fmt: skip
    return rounds, flags, row


def test_a_bundle_of_rounds_is_assessed_and_flagged_as_the_same_rounds_typed_one_by_one(
    client, patient, writer, nurse
):
    # A round already stored, later than the Bundle's first rounds: those are
    # not the newest when stored, so their normal values must not clear the
    # flags it raised.
    earlier = {**NORMAL, "clinical_time": ago(minutes=250), "spo2": 88, "respiratory_rate": 26}
    other = make_patient("MRN002")
    for who in (patient, other):
        recording.record_round(who, earlier, nurse, uuid.uuid4())
    body, times = course_bundle("c")
    assert post(client, body, writer).status_code == 200
    for k, at in enumerate(times):
        recording.record_round(other, typed_values(k, at), nurse, uuid.uuid4())
    ingested, typed = stored_course(patient), stored_course(other)
    assert len(ingested[0]) == 21 and ingested[1], "the course raises flags"
    assert ingested == typed


def test_a_bundle_of_20_rounds_costs_a_fixed_number_of_queries(
    client, patient, writer, django_assert_num_queries
):
    # The window is re-assessed once per Bundle, not once per round (394
    # queries when it was), and the open flags are read once and their
    # refreshes written once per Bundle (145 when they were not); what
    # remains is per round: the insert, new flags and their audit entries
    # (one INSERT for all the flags a round opens: 94 queries, then 91,
    # when each had its own).
    body, _ = course_bundle("q")
    with django_assert_num_queries(QUERIES_FOR_20_ROUNDS):
        assert post(client, body, writer).status_code == 200
    assert ObservationRound.objects.filter(patient=patient).count() == 20


QUERIES_FOR_20_ROUNDS = 88
