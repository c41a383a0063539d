"""Property tests: any input in range is assessed; more support never lowers a grade."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patients import recording
from patients.clinical import inputs
from patients.clinical.assessment import assess
from patients.clinical.crs import grade_crs
from patients.clinical.icans import grade_icans
from patients.clinical.inputs import Observation
from patients.clinical.parse import InputError, parse_observation
from patients.clinical.ranges import PLAUSIBLE
from patients.models import Flag


def in_range(name: str):
    low, high = PLAUSIBLE[name]
    return st.none() | st.floats(low, high, allow_nan=False)


observations = st.builds(
    Observation,
    temperature_c=in_range("temperature_c"),
    heart_rate=in_range("heart_rate"),
    systolic_bp=in_range("systolic_bp"),
    respiratory_rate=in_range("respiratory_rate"),
    spo2=in_range("spo2"),
    spo2_scale=st.sampled_from([1, 2]),
    oxygen_device=st.none() | st.sampled_from(inputs.OXYGEN_DEVICES),
    oxygen_flow_l_min=in_range("oxygen_flow_l_min"),
    hypotension=st.none() | st.booleans(),
    vasopressors=st.lists(st.sampled_from(inputs.VASOPRESSORS), max_size=3).map(tuple),
    crs_treated=st.booleans(),
    acvpu=st.none() | st.sampled_from(inputs.ACVPU),
    ice_score=st.none() | st.integers(0, 10),
    ice_not_assessable=st.booleans(),
    sedated=st.none() | st.booleans(),
    capd_score=st.none() | st.integers(0, 32),
    capd_not_assessable=st.booleans(),
    age_years=st.none() | st.integers(0, 100),
    consciousness=st.none() | st.sampled_from(inputs.CONSCIOUSNESS),
    global_aphasia=st.none() | st.booleans(),
    seizure=st.none() | st.sampled_from(inputs.SEIZURE),
    motor_findings=st.none() | st.sampled_from(inputs.MOTOR_FINDINGS),
    cerebral_edema=st.none() | st.sampled_from(inputs.CEREBRAL_EDEMA),
    symptoms=st.dictionaries(st.sampled_from(list(inputs.SYMPTOMS)), st.integers(0, 3)),
    labs=st.dictionaries(st.sampled_from(list(inputs.LABS)), st.floats(0.1, 1000)),
)


# No deadline: the machines are shared, and speed is not what this pins.
@settings(deadline=None)
@given(observations)
def test_no_input_in_range_crashes_the_assessment(obs: Observation) -> None:
    a = assess(obs)
    assert a.crs.grade in {None, 0, 1, 2, 3, 4}
    assert a.icans.grade in {None, 0, 1, 2, 3, 4}
    assert a.news2.total is None or 0 <= a.news2.total <= 20
    assert all(0 <= o.severity <= 4 for o in a.organs.values())
    json.dumps(a.as_dict())  # always serialisable for storage and the command


# Support from least to most, as ASTCT orders it.
DEVICE_LADDER = [
    "room_air",
    "blow_by",
    "nasal_cannula",
    "high_flow_nasal_cannula",
    "cpap",
    "invasive_mechanical_ventilation",
]
PRESSOR_LADDER = [
    (),
    ("vasopressin",),
    ("norepinephrine",),
    ("norepinephrine", "vasopressin"),
    ("norepinephrine", "phenylephrine"),
]


@given(observations, st.integers(0, len(DEVICE_LADDER) - 2), st.integers(1, 5))
def test_escalating_oxygen_never_lowers_the_crs_grade(obs, step, up) -> None:
    lower = DEVICE_LADDER[step]
    higher = DEVICE_LADDER[min(step + up, len(DEVICE_LADDER) - 1)]
    flow = min(obs.oxygen_flow_l_min or 2.0, 6.0)
    a = grade_crs(
        Observation(**{**obs.__dict__, "oxygen_device": lower, "oxygen_flow_l_min": flow})
    )
    b = grade_crs(
        Observation(**{**obs.__dict__, "oxygen_device": higher, "oxygen_flow_l_min": flow})
    )
    assert (a.grade or 0) <= (b.grade or 0)


@given(observations, st.integers(0, len(PRESSOR_LADDER) - 2))
def test_adding_vasopressors_never_lowers_the_crs_grade(obs, step) -> None:
    a = grade_crs(Observation(**{**obs.__dict__, "vasopressors": PRESSOR_LADDER[step]}))
    b = grade_crs(Observation(**{**obs.__dict__, "vasopressors": PRESSOR_LADDER[step + 1]}))
    assert (a.grade or 0) <= (b.grade or 0)


@given(observations, st.floats(0, 6), st.floats(0.01, 70))
def test_more_oxygen_flow_never_lowers_the_crs_grade(obs, flow, more) -> None:
    base = {**obs.__dict__, "oxygen_device": "nasal_cannula"}
    a = grade_crs(Observation(**{**base, "oxygen_flow_l_min": flow}))
    b = grade_crs(Observation(**{**base, "oxygen_flow_l_min": flow + more}))
    assert (a.grade or 0) <= (b.grade or 0)


@given(observations, st.integers(1, 10))
def test_a_lower_ice_score_never_lowers_the_icans_grade(obs, drop) -> None:
    hi = 10
    a = grade_icans(Observation(**{**obs.__dict__, "ice_score": hi}))
    b = grade_icans(Observation(**{**obs.__dict__, "ice_score": hi - drop}))
    assert (a.grade or 0) <= (b.grade or 0)


hostile = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "'; DROP TABLE patients_patient; --",
            "1e999",
            "-1e999",
            "NaN",
            "inf",
            "\x00",
            "９９",
            "٣٨",
            "  38.5  ",
            "38,5",
            "-0",
            "99999999999999999999999",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**30), 10**30).map(str),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(
            sorted(
                set(inputs.LABS)
                | {
                    "temperature_c",
                    "heart_rate",
                    "oxygen_device",
                    "vasopressors",
                    "ice",
                    "ice_score",
                    "symptoms",
                    "acvpu",
                    "spo2_scale",
                    "time",
                    "hypotension",
                }
            )
        ),
        JSON_VALUES,
        max_size=6,
    )
)
def test_random_json_is_graded_or_refused_by_field_never_crashes(data) -> None:
    try:
        obs = parse_observation(data)
    except InputError as error:
        assert error.field and error.message
        return
    assess(obs)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    field=st.sampled_from(
        [
            "temperature_c",
            "heart_rate",
            "spo2",
            "oxygen_flow_l_min",
            "oxygen_device",
            "acvpu",
            "ice_orientation",
            "clinical_time",
            "symptom_fever",
            "vasopressors",
            "note",
            "creatinine_umol_l",
        ]
    ),
    value=hostile,
)
def test_the_round_form_never_fails_or_renders_script(nurse_client, patient, field, value) -> None:
    recent = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "client_key": str(uuid.uuid4()),
        "clinical_time": recent,
        "heart_rate": "80",
        field: value,
    }
    response = nurse_client.post(reverse("round_create", args=[patient.pk]), data)
    assert response.status_code in {302, 422}
    assert "<script>alert(1)</script>" not in response.content.decode()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    field=st.sampled_from(
        [
            "mrn",
            "given_name",
            "family_name",
            "birth_date",
            "weight_kg",
            "height_cm",
            "ward",
            "bed",
            "spo2_scale",
            "exposure_kind",
            "exposure_agent",
            "day0",
            "dose_dates",
            "baseline_creatinine_umol_l",
            "sex",
        ]
    ),
    value=hostile,
)
def test_the_patient_form_never_fails_or_renders_script(nurse_client, field, value) -> None:
    data = {
        "mrn": f"H-{uuid.uuid4().hex[:8]}",
        "given_name": "Ada",
        "family_name": "Byron",
        "birth_date": "1960-01-01",
        "sex": "female",
        "ward": "Haem A",
        "spo2_scale": "1",
        "exposure_kind": "car_t",
        "exposure_agent": "x",
        "day0": timezone.localdate().isoformat(),
        field: value,
    }
    response = nurse_client.post(reverse("patient_create"), data)
    assert response.status_code in {200, 302}
    assert "<script>alert(1)</script>" not in response.content.decode()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    field=st.sampled_from(["kind", "drug", "dose", "route", "given_at", "note", "client_key"]),
    value=hostile,
)
def test_the_intervention_and_flag_forms_never_fail(
    clinician_client, patient, field, value
) -> None:
    recent = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "client_key": str(uuid.uuid4()),
        "kind": "antipyretic",
        "given_at": recent,
        field: value,
    }
    response = clinician_client.post(reverse("intervention_create", args=[patient.pk]), data)
    assert response.status_code in {302, 422}
    assert "<script>alert(1)</script>" not in response.content.decode()
    nurse = User.objects.get_or_create(username="hostile-nurse")[0]
    recording.record_round(
        patient, {"clinical_time": timezone.now(), "acvpu": "C"}, nurse, uuid.uuid4()
    )
    flag = Flag.objects.filter(patient=patient).first()  # open, or resolved earlier
    for name, key in (("flag_acknowledge", "note"), ("flag_resolve", "reason")):
        response = clinician_client.post(reverse(name, args=[patient.pk, flag.pk]), {key: value})
        assert response.status_code in {302, 422}
    page = clinician_client.get(patient.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page
