"""CRS episodes: when "fever no longer required" starts and stops (ASTCT
2019 narrow reading, REFERENCE k1), and which doses may mask fever."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from patients import recording
from patients.clinical.episodes import (
    EndRule,
    EpisodeRun,
    GradedRound,
    crs_episodes,
    open_episode_at,
)
from patients.clinical.history import Given
from patients.clinical.products import DoseClock
from patients.clinical.registry import RoundFacts, summarise

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


# -- Registry summaries (clinical/registry.py; REFERENCE k10, k1) ------------


def facts(hours: float, crs=None, icans=None, **values) -> RoundFacts:
    return RoundFacts(
        time=T0 + timedelta(hours=hours),
        crs_grade=crs,
        crs_complete=crs is not None,
        icans_grade=icans,
        icans_screened=icans is not None,
        **values,
    )


T0 = datetime(2026, 5, 4, 10, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_an_icans_episode_opens_at_grade_1_and_ends_by_the_stated_local_rule() -> None:
    # No source defines ICANS resolution (REFERENCE k1/k10): the end rule is
    # DERIVED, the CRS rule's interval, and says so.
    rounds = [
        facts(0, crs=0, icans=0, ice_score=10),
        facts(12, crs=0, icans=1, ice_score=8),
        facts(24, crs=0, icans=3, ice_score=2),
        facts(48, crs=0, icans=0, ice_score=10),
        facts(60, crs=0, icans=None),  # ICE not done: neither ends nor extends
        facts(130, crs=0, icans=0, ice_score=10),
    ]
    (icans,) = summarise(rounds, rule=EndRule(72))
    assert icans.kind == "icans"
    assert (icans.onset, icans.max_grade, icans.max_grade_at) == (at(12), 3, at(24))
    assert (icans.lowest_ice, icans.lowest_ice_at) == (2, at(24))
    assert icans.resolved_at == at(48) and icans.duration_hours == 36.0
    assert "DERIVED" in icans.end_rule and "no source defines ICANS resolution" in icans.end_rule


def test_an_icans_episode_still_open_is_ongoing_with_no_duration() -> None:
    rounds = [facts(0, icans=2, ice_score=5), facts(20, icans=0, ice_score=10)]
    (icans,) = summarise(rounds, rule=EndRule(72), now=at(40))
    assert icans.ongoing and icans.resolved_at is None and icans.duration_hours is None
    (closed,) = summarise(rounds, rule=EndRule(72), now=at(92))
    assert closed.resolved_at == at(20)


def test_premedication_never_and_prophylaxis_only_after_onset_count_as_crs_therapy() -> None:
    # REFERENCE k1 (premedication never treats CRS); k10 / CIBMTR 4100:
    # prophylaxis counts "if continued after the date of diagnosis".
    rounds = [facts(0, crs=1), facts(8, crs=2), facts(30, crs=0), facts(110, crs=0)]
    given = [
        Given(at(-2), "corticosteroid", {"drug": "dexamethasone"}, "premedication"),
        Given(at(-1), "tocilizumab", {}, "prophylaxis"),
        Given(at(4), "tocilizumab", {}, "prophylaxis"),
        Given(at(5), "corticosteroid", {"drug": "dexamethasone"}, "premedication"),
        Given(at(9), "tocilizumab", {"dose": "8 mg/kg"}, ""),
        Given(at(10), "corticosteroid", {"drug": "dexamethasone"}, "icans"),
    ]
    (crs,) = summarise(rounds, given, rule=EndRule(72))
    assert crs.tocilizumab_at == (at(4), at(9))
    assert crs.first_tocilizumab_at == at(4)
    assert crs.steroid_days is None and crs.steroid_agents == ()
    assert crs.therapy_classes == ("tocilizumab",)


def test_a_steroid_taper_recorded_for_crs_after_it_settled_counts_until_the_next_episode() -> None:
    rounds = [facts(0, crs=2), facts(24, crs=0), facts(100, crs=0), facts(200, crs=1)]
    given = [
        Given(at(2), "corticosteroid", {"drug": "dexamethasone"}, "crs"),
        Given(at(50), "corticosteroid", {"drug": "dexamethasone"}, "crs"),
        Given(at(74), "corticosteroid", {"drug": "methylprednisolone"}, "crs"),
        Given(at(201), "corticosteroid", {"drug": "dexamethasone"}, "crs"),
    ]
    first, second = summarise(rounds, given, rule=EndRule(72))
    assert first.steroid_agents == ("dexamethasone", "methylprednisolone")
    # Calendar days with the first and last dose counted (4 May to 7 May).
    assert (first.steroid_start, first.steroid_doses, first.steroid_days) == (at(2), 3, 4)
    assert second.steroid_doses == 1 and second.steroid_days == 1


def test_vasopressors_oxygen_and_icu_are_summarised_as_the_registry_asks() -> None:
    # CIBMTR 4100 R4.0 (REFERENCE k10): number of vasopressors 1 / >= 2;
    # positive pressure (CPAP/BiPAP/intubation) and its start date.
    rounds = [
        facts(0, crs=1, oxygen_device="room_air"),
        facts(4, crs=3, oxygen_device="nasal_cannula", oxygen_flow_l_min=8.0),
        facts(
            8,
            crs=4,
            oxygen_device="non_rebreather_mask",
            vasopressors=("norepinephrine", "vasopressin"),
        ),
        facts(12, crs=4, oxygen_device="cpap", vasopressors=("norepinephrine",)),
        facts(16, crs=4, oxygen_device="bipap"),
    ]
    given = [
        Given(at(9), "icu_transfer"),
        Given(at(10), "siltuximab", {"drug": "siltuximab"}, "crs"),
        Given(at(11), "anakinra", {}, ""),
    ]
    (crs,) = summarise(rounds, given, rule=EndRule(72))
    assert crs.vasopressors_max == 2 and crs.vasopressors_band == ">= 2"
    assert crs.vasopressor_agents == ("norepinephrine", "vasopressin")
    assert (crs.oxygen_highest, crs.oxygen_highest_at) == ("bipap", at(16))
    assert crs.positive_pressure_at == at(12)
    assert crs.icu_at == at(9)
    assert crs.other_anticytokine == ("siltuximab", "anakinra")


def test_onset_counts_from_the_step_up_dose_before_it_by_its_label() -> None:
    day0 = datetime(2026, 5, 1, tzinfo=UTC)
    doses = [DoseClock("SUD1", day0 + timedelta(hours=9)), DoseClock("SUD2", at(-20))]
    (crs,) = summarise([facts(0, crs=1)], (), day0, doses, {"SUD2": "step-up dose 2"}, EndRule(72))
    assert (crs.onset_reference, crs.onset_hours, crs.onset_day) == ("step-up dose 2", 20.0, 0)
    (car_t,) = summarise([facts(0, crs=1)], (), day0, (), {}, EndRule(72))
    assert (car_t.onset_reference, car_t.onset_day) == ("day 0", 3)


def test_the_iec_hs_prompt_and_icaht_grades_in_the_episodes_course_are_named() -> None:
    # REFERENCE k9: the IEC-HS prompt is a local rule (criteria unverified);
    # ICAHT is single-source. Both are shown with their status.
    prompt = {"title": "Consider IEC-HS / HLH evaluation", "status": "unverified"}
    icaht = {
        "lineage": "neutrophil",
        "phase": "early",
        "grade": 3,
        "title": "Early N-ICAHT grade 3 so far",
        "status": "single-source",
    }
    rounds = [
        facts(0, crs=2),
        facts(24, crs=0, followup={"icaht": [icaht], "iec_hs": None}),
        facts(120, crs=0, followup={"icaht": [], "iec_hs": prompt}),
    ]
    (crs,) = summarise(rounds, rule=EndRule(72))
    assert crs.iec_hs_prompt_at == at(120) and crs.iec_hs_prompt.startswith("Consider IEC-HS")
    assert crs.icaht == ("Early N-ICAHT grade 3 so far (single-source)",)
    assert crs.icaht_max_grade == 3


def test_a_course_after_infection_has_no_registry_episodes() -> None:
    # REFERENCE k4: ASTCT grading is defined for immune effector cell therapy.
    assert summarise([facts(0, crs=3)], rule=EndRule(72), cause="infection") == ()


def test_a_steroid_without_a_reason_given_during_icans_after_crs_cleared_treats_icans_only() -> (
    None
):
    # Local rule (DERIVED, REFERENCE k1/k10): CRS clear from 24 h (grade 0,
    # all criteria), ICANS from 30 h; dexamethasone at 36 h with no reason.
    rounds = [
        facts(0, crs=1, icans=0, ice_score=10),
        facts(24, crs=0, icans=0, ice_score=10),
        facts(30, crs=0, icans=2, ice_score=5),
        facts(48, crs=0, icans=1, ice_score=8),
        facts(60, crs=0, icans=0, ice_score=10),
    ]
    given = [Given(at(36), "corticosteroid", {"drug": "dexamethasone"}, "")]
    for now in (at(60), at(200)):  # run before and after the CRS end rule's 72 h
        crs, icans = (
            next(s for s in summarise(rounds, given, rule=EndRule(72), now=now) if s.kind == k)
            for k in ("crs", "icans")
        )
        assert crs.steroid_doses == 0 and "corticosteroid" not in crs.therapy_classes
        assert icans.steroid_doses == 1
    # The CRS episode ends by its rounds alone: at the first clear round.
    assert crs.resolved_at == at(24)


graded_courses = st.lists(
    st.tuples(
        st.integers(0, 12),  # hours after the previous round (0: two rounds at one time)
        st.none() | st.integers(0, 4),
        st.booleans(),
    ),
    max_size=40,
)
doses = st.lists(
    st.tuples(st.integers(0, 400), st.sampled_from(["crs", "premedication", ""])),
    max_size=4,
)


@given(graded_courses, doses, st.sampled_from([6, 24, 72]))
@settings(max_examples=300, deadline=None)
def test_episodes_worked_out_along_a_course_match_those_worked_out_again_at_each_round(
    steps, dose_steps, clear_hours
) -> None:
    """Grading a course in time order asks for the episode open at each
    round once; it must be the episode worked out from all rounds before it
    (which decides whether a dose masks fever)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rule = EndRule(clear_hours)
    given_doses = sorted(
        (
            Given(start + timedelta(hours=h), "tocilizumab", indication=why)
            for h, why in dose_steps
        ),
        key=lambda g: g.time,
    )
    along = EpisodeRun(rule)
    rounds: list[GradedRound] = []
    time = start
    for hours, grade, complete in steps:
        time += timedelta(hours=hours)
        expected = open_episode_at(time, rounds, given_doses, rule)
        assert along.open_at(time, given_doses) == expected
        rnd = GradedRound(time, grade, complete)
        rounds.append(rnd)
        along.add(rnd)
    end = time + timedelta(hours=80)
    assert along.open_at(end, given_doses) == open_episode_at(end, rounds, given_doses, rule)
