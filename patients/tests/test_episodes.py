"""CRS episodes: when "fever no longer required" starts and stops (ASTCT
2019 narrow reading, REFERENCE k1), and which doses may mask fever."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from patients import recording
from patients.clinical.episodes import EndRule, GradedRound, crs_episodes
from patients.clinical.history import Given

from .conftest import ago
from .test_assess_command import run
from .test_recording import record

ROOM_AIR = {
    "heart_rate": 80,
    "systolic_bp": 125,
    "respiratory_rate": 16,
    "spo2": 97,
    "oxygen_device": "room_air",
    "acvpu": "A",
    "hypotension": False,
    "vasopressors": [],
}


def rnd(time: str, temperature: float, **values) -> dict:
    return {"time": time, **ROOM_AIR, "temperature_c": temperature, **values}


def options(step: dict) -> list[str]:
    return [o["id"] for o in step["treatment_options"]]


def course(rounds, interventions=(), exposure=None) -> list[dict]:
    payload = {"rounds": rounds, "interventions": list(interventions)}
    if exposure:
        payload["exposure"] = exposure
    status, out, err = run(payload)
    assert status == 0, err
    return out


def test_steroid_premedication_for_a_bispecific_never_lifts_the_fever_requirement() -> None:
    out = course(
        [
            rnd("2026-03-01T07:00:00Z", 36.7),
            rnd(
                "2026-03-02T04:00:00Z",
                37.2,
                spo2=93,
                oxygen_device="nasal_cannula",
                oxygen_flow_l_min=3,
            ),
        ],
        [
            {
                "time": "2026-03-01T08:00:00Z",
                "kind": "corticosteroid",
                "drug": "dexamethasone",
                "dose": "16 mg IV",
                "indication": "premedication",
            }
        ],
        {"kind": "bispecific", "day0": "2026-03-01"},
    )
    assert out[1]["crs"]["grade"] == 0
    assert "no treated CRS episode open" in out[1]["crs"]["basis"][0]["rule"]
    assert out[1]["crs_episode"] is None
    assert "tocilizumab" not in options(out[1]) and "siltuximab" not in options(out[1])


def test_a_dose_with_no_crs_before_it_never_masks_fever_whatever_its_reason() -> None:
    # Dexamethasone for ICANS (reason not even stated) in a patient who never
    # had fever: a later afebrile face mask is not CRS, and tocilizumab is
    # never listed for ICANS without CRS.
    out = course(
        [
            rnd("2026-02-06T08:00:00Z", 36.8, ice_score=5, consciousness="alert"),
            rnd(
                "2026-02-06T16:00:00Z",
                37.0,
                spo2=92,
                oxygen_device="simple_face_mask",
                ice_score=6,
                consciousness="alert",
            ),
        ],
        [{"time": "2026-02-06T09:00:00Z", "kind": "corticosteroid", "dose": "10 mg IV"}],
        {"kind": "car_t", "day0": "2026-02-01"},
    )
    assert out[1]["crs"]["grade"] == 0
    assert out[1]["icans"]["grade"] == 2
    assert "tocilizumab" not in options(out[1])


def test_prophylactic_tocilizumab_before_any_fever_never_masks_fever() -> None:
    out = course(
        [rnd("2026-03-01T10:00:00Z", 37.0, oxygen_device="cpap", spo2=90)],
        [{"time": "2026-03-01T08:00:00Z", "kind": "tocilizumab", "indication": "prophylaxis"}],
    )
    assert out[0]["crs"]["grade"] == 0


def test_a_masked_fever_grade_names_the_episode_and_the_dose_that_masked_it() -> None:
    out = course(
        [
            rnd("2026-01-03T10:00:00Z", 38.9, hypotension=True),
            rnd("2026-01-03T18:00:00Z", 37.1, spo2=91, oxygen_device="non_rebreather_mask"),
        ],
        [{"time": "2026-01-03T12:00:00Z", "kind": "tocilizumab", "dose": "8 mg/kg"}],
    )
    crs = out[1]["crs"]
    assert crs["grade"] == 3
    masked = crs["basis"][0]
    assert masked["rule"].startswith("CRS episode open since 2026-01-03 10:00")
    assert "tocilizumab 8 mg/kg at 2026-01-03 12:00" in masked["rule"]
    assert "DERIVED" in masked["values"]["episode_end_rule"]
    assert out[1]["crs_episode"]["onset"] == "2026-01-03T10:00:00+00:00"
    assert out[1]["crs_episode"]["max_grade"] == 3


def test_a_dose_recorded_as_premedication_inside_an_episode_does_not_mask_fever() -> None:
    out = course(
        [
            rnd("2026-01-03T10:00:00Z", 38.9),
            rnd("2026-01-03T18:00:00Z", 37.1, spo2=91, oxygen_device="non_rebreather_mask"),
        ],
        [
            {
                "time": "2026-01-03T12:00:00Z",
                "kind": "corticosteroid",
                "indication": "premedication",
            }
        ],
    )
    assert out[1]["crs"]["grade"] == 0
    assert out[1]["crs_episode"]["masking_doses"] == []


def test_fever_masking_ends_with_the_crs_episode() -> None:
    # Audit D2: CRS 2 treated on day 2, resolved by day 5; on day 24 an
    # afebrile septic picture is not CRS and lists no anti-IL-6 therapy.
    out = course(
        [
            rnd("2026-01-03T10:00:00Z", 38.9, systolic_bp=104, hypotension=True),
            rnd("2026-01-06T10:00:00Z", 36.8),
            rnd(
                "2026-01-25T10:00:00Z",
                37.4,
                heart_rate=118,
                systolic_bp=84,
                hypotension=True,
                vasopressors=["norepinephrine"],
            ),
        ],
        [{"time": "2026-01-03T12:00:00Z", "kind": "tocilizumab", "dose": "8 mg/kg"}],
        {"kind": "car_t", "day0": "2026-01-01"},
    )
    assert out[1]["crs_episode"] is not None
    assert out[2]["crs"]["grade"] == 0
    assert out[2]["crs_episode"] is None
    for drug in ("tocilizumab", "siltuximab", "corticosteroids"):
        assert drug not in options(out[2])


def test_crs_recurring_after_the_episode_ended_needs_fever_again() -> None:
    out = course(
        [
            rnd("2026-01-03T10:00:00Z", 38.9),
            rnd("2026-01-04T10:00:00Z", 36.9),
            rnd("2026-01-08T10:00:00Z", 37.0, spo2=91, oxygen_device="simple_face_mask"),
            rnd("2026-01-08T14:00:00Z", 38.4, spo2=91, oxygen_device="simple_face_mask"),
        ],
        [{"time": "2026-01-03T11:00:00Z", "kind": "antipyretic", "drug": "paracetamol"}],
    )
    assert out[2]["crs"]["grade"] == 0
    assert out[3]["crs"]["grade"] == 3
    assert out[3]["crs_episode"]["onset"] == "2026-01-08T14:00:00+00:00"


def test_episodes_report_onset_maximum_grade_resolution_and_masking_doses() -> None:
    t0 = datetime(2026, 1, 3, 10, tzinfo=UTC)

    def at(hours: float) -> datetime:
        return t0 + timedelta(hours=hours)

    rounds = [
        GradedRound(at(0), 1, True),
        GradedRound(at(8), 3, True),
        GradedRound(at(30), 0, True),
        GradedRound(at(40), None, False),  # a partial round neither ends nor extends
        GradedRound(at(110), 0, True),
        GradedRound(at(200), 2, True),
    ]
    given = [
        Given(at(-5), "corticosteroid", indication="premedication"),
        Given(at(2), "tocilizumab", {"dose": "640 mg"}),
        Given(at(3), "corticosteroid", indication="icans"),
    ]
    first, second = crs_episodes(rounds, given, EndRule(72))
    assert (first.onset, first.max_grade, first.max_grade_at) == (at(0), 3, at(8))
    assert first.resolved_at == at(30)
    assert [g.kind for g in first.masking_doses] == ["tocilizumab"]
    assert second.onset == at(200) and second.resolved_at is None
    assert second.masking_doses == ()


def test_an_episode_opened_before_the_reassessed_window_still_masks_fever(
    patient, nurse, clinician
) -> None:
    # Onset and treatment lie before the window a new round re-assesses;
    # hypoxia since then keeps the episode open without fever.
    record(patient, nurse, ago(hours=150), temperature_c=38.9)
    recording.record_intervention(
        patient,
        {
            "kind": "tocilizumab",
            "drug": "tocilizumab",
            "dose": "640 mg",
            "given_at": ago(hours=149),
        },
        clinician,
        uuid.uuid4(),
    )
    for hours in range(146, 6, -12):
        record(
            patient,
            nurse,
            ago(hours=hours),
            temperature_c=37.0,
            oxygen_device="nasal_cannula",
            oxygen_flow_l_min=2,
        )
    rnd = record(patient, nurse, ago(hours=1), temperature_c=37.0, oxygen_device="cpap")
    assert rnd.crs_grade == 4
    assert "CRS episode open since" in rnd.assessment["crs"]["basis"][0]["rule"]
