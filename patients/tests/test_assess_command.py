"""``python manage.py assess``: the scriptable, public interface."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core.management import call_command


def command(name: str, *args: str, stdin: str = "") -> tuple[int, str, str]:
    """Run a management command; return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    old_stdin, old_stderr = sys.stdin, sys.stderr
    sys.stdin, sys.stderr = io.StringIO(stdin), err
    try:
        call_command(name, *args, stdout=out)
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    finally:
        sys.stdin, sys.stderr = old_stdin, old_stderr
    return status, out.getvalue(), err.getvalue()


def run(payload, *args) -> tuple[int, object, str]:
    """Run assess with ``payload`` on stdin; return (status, output, stderr)."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    status, out, err = command("assess", *args, stdin=text)
    return status, json.loads(out) if status == 0 else None, err


def test_one_round_in_one_assessment_out() -> None:
    status, out, _ = run(
        {
            "temperature_c": 39.5,
            "heart_rate": 120,
            "systolic_bp": 85,
            "diastolic_bp": 50,
            "respiratory_rate": 24,
            "spo2": 93,
            "spo2_scale": 1,
            "oxygen_device": "nasal_cannula",
            "oxygen_flow_l_min": 4,
            "hypotension": True,
            "vasopressors": ["norepinephrine"],
            "acvpu": "A",
            "ice": {"orientation": 4, "naming": 3, "commands": 1, "writing": 1, "attention": 0},
            "consciousness": "alert",
            "seizure": "none",
            "motor_findings": "none",
            "cerebral_edema": "none",
        }
    )
    assert status == 0
    assert out["crs"]["grade"] == 3
    assert out["icans"]["grade"] == 1
    assert out["news2"]["total"] == 13
    assert out["news2"]["clinical_risk"] == "high"
    assert out["news2"]["monitoring"] == "continuous"
    assert set(out["organs"]) == {
        "general",
        "cardiovascular",
        "respiratory",
        "neurological",
        "renal",
        "hepatic",
    }
    assert out["crs"]["basis"] and out["crs"]["basis"][0]["source"]
    assert {"id", "reason", "sources"} <= set(out["treatment_options"][0])


def test_a_null_ice_score_means_not_assessable() -> None:
    _, out, _ = run({"ice_score": None, "consciousness": "unarousable"})
    assert out["icans"]["grade"] == 4


def test_a_trajectory_returns_the_flags_each_round_opened() -> None:
    status, out, _ = run(
        {
            "rounds": [
                {
                    "time": "2026-11-20T08:00:00Z",
                    "temperature_c": 37.0,
                    "oxygen_device": "room_air",
                },
                {
                    "time": "2026-11-20T12:00:00Z",
                    "temperature_c": 38.7,
                    "oxygen_device": "room_air",
                },
                {
                    "time": "2026-11-20T16:00:00Z",
                    "temperature_c": 37.1,
                    "oxygen_device": "non_rebreather_mask",
                    "symptoms": {"difficulty_breathing": "severe"},
                },
            ],
            "interventions": [
                {"time": "2026-11-20T13:00:00Z", "kind": "tocilizumab", "dose": "8 mg/kg"}
            ],
            "exposure": {"kind": "car_t", "day0": "2026-11-18"},
        }
    )
    assert status == 0 and len(out) == 3
    assert out[0]["flags"] == []
    assert ("grade_rise", None) in [(f["kind"], f["organ_system"]) for f in out[1]["flags"]]
    third = {(f["kind"], f["organ_system"], f["severity"]) for f in out[2]["flags"]}
    assert ("red_flag", "respiratory", "urgent") in third
    assert out[2]["crs"]["grade"] == 3  # fever masked after tocilizumab


def test_a_plain_list_is_a_trajectory() -> None:
    _, out, _ = run(
        [
            {"time": "2026-11-20T08:00:00Z", "heart_rate": 80},
            {"time": "2026-11-20T09:00:00Z", "heart_rate": 135},
        ]
    )
    assert any(f["kind"] == "red_flag" for f in out[1]["flags"])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"temperature_c": "hot"}, "temperature_c"),
        ({"temperature_c": 3.7}, "temperature_c"),
        ({"oxygen_device": "hose"}, "oxygen_device"),
        ({"vasopressors": ["adrenaline juice"]}, "vasopressors"),
        ({"spo2_scale": 3}, "spo2_scale"),
        (
            {"ice": {"orientation": 5, "naming": 3, "commands": 1, "writing": 1, "attention": 1}},
            "ice.orientation",
        ),
        ({"hypotension": "yes"}, "hypotension"),
        ({"pulse": 80}, "pulse"),
        ({"symptoms": {"fever": "awful"}}, "symptoms.fever"),
        ([{"heart_rate": 80}, {"heart_rate": 90}], "rounds[0].time"),
        ('{"temperature_c": NaN}', "temperature_c"),
        ("[1, 2", "input"),
        ({"rounds": [{"time": "yesterday", "heart_rate": 80}]}, "time"),
    ],
)
def test_bad_input_names_the_field_and_exits_2(payload, field) -> None:
    status, _, err = run(payload)
    assert status == 2
    assert err.startswith(f"error: {field}:")
    assert "Traceback" not in err


# -- the course after therapy (REFERENCE k1, k8, k9, k11) ----------------------

AFTER_CILTA = {
    "exposure": {"kind": "car_t", "day0": "2026-11-01", "product": "cilta-cel"},
    "rounds": [
        {"time": "2026-11-03T08:00:00Z", "temperature_c": 38.6, "anc_10e9_l": 0.4},
        {"time": "2026-11-05T08:00:00Z", "temperature_c": 37.0, "anc_10e9_l": 0.3},
        {
            "time": "2026-11-09T08:00:00Z",
            "temperature_c": 36.8,
            "anc_10e9_l": 0.2,
            "late_neuro": {"handwriting": True},
        },
    ],
}


def test_assess_places_each_round_in_the_label_plan() -> None:
    # REFERENCE k8: US CAR-T labels since June 2025, >= 2 weeks' monitoring.
    status, out, _ = run(AFTER_CILTA)
    assert status == 0
    assert out[2]["plan"]["summary"] == "Day +8 of 14 days' monitoring; no driving until Day +14"
    assert out[2]["plan"]["product"] == "cilta-cel"
    assert any(line["status"] == "unverified" for line in out[2]["plan"]["lines"])


def test_assess_grades_icaht_on_each_lab_entry_and_flags_late_neurotoxicity() -> None:
    # REFERENCE k9 (ICAHT, single-source) and k11 (late neurotoxicity).
    status, out, _ = run(AFTER_CILTA)
    assert status == 0
    early = [g for g in out[2]["followup"]["icaht"] if g["lineage"] == "neutrophil"][0]
    assert early["grade"] == 2  # ANC <= 0.5 from day +2 to +8: 7 days
    assert early["final"] is False
    titles = [f["title"] for f in out[2]["flags"]]
    assert any("delayed neurotoxicity" in t for t in titles)
    assert any("Early N-ICAHT grade 2" in t for t in titles)


def test_assess_counts_the_step_up_window_from_the_recorded_dose() -> None:
    status, out, _ = run(
        {
            "exposure": {"kind": "bispecific", "day0": "2026-11-01", "product": "elranatamab"},
            "doses": [{"step": "SUD2", "time": "2026-11-04T09:00:00Z"}],
            "rounds": [{"time": "2026-11-04T21:00:00Z", "temperature_c": 37.1}],
        }
    )
    assert status == 0
    assert out[0]["plan"]["summary"] == "12 h of the 24 h in hospital after step-up dose 2"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"exposure": {"kind": "car_t", "day0": "2026-11-01", "product": "nope"}}, "product"),
        ({"exposure": {"kind": "car_t", "day0": "2026-11-01", "jurisdiction": "FR"}}, "jurisd"),
        (
            {
                "exposure": {"kind": "bispecific", "day0": "2026-11-01", "product": "teclistamab"},
                "doses": [{"step": "SUD9", "time": "2026-11-01T09:00:00Z"}],
            },
            "doses[0].step",
        ),
        (
            {"exposure": {"kind": "car_t", "day0": "2026-11-01", "product": "teclistamab"}},
            "exposure.product: Teclistamab (Tecvayli) is a bispecific antibody, not CAR-T",
        ),
    ],
    ids=["unknown-product", "unknown-jurisdiction", "unknown-step", "product-of-another-kind"],
)
def test_assess_names_the_bad_product_field(payload, field) -> None:
    payload = {**payload, "rounds": [{"time": "2026-11-02T08:00:00Z", "temperature_c": 37.0}]}
    status, _, err = run(payload)
    assert status == 2
    assert field in err


def test_assess_rejects_an_unknown_late_neurotoxicity_question() -> None:
    status, _, err = run({"temperature_c": 37.0, "late_neuro": {"dizzy": True}})
    assert status == 2
    assert "late_neuro.dizzy" in err


def test_assess_episodes_counts_crs_onset_from_the_preceding_dose_and_leaves_out_premedication():
    # REFERENCE k1 (premedication never treats CRS) and k10 (registry
    # fields: onset, highest grade, resolution); episode bounds from
    # episodes.py (local end rule).
    course = {
        "exposure": {"kind": "bispecific", "day0": "2026-11-01", "product": "teclistamab"},
        "doses": [
            {"step": "SUD1", "time": "2026-11-01T09:00:00Z"},
            {"step": "SUD2", "time": "2026-11-04T09:00:00Z"},
        ],
        "interventions": [
            {
                "time": "2026-11-04T08:00:00Z",
                "kind": "corticosteroid",
                "drug": "dexamethasone",
                "indication": "premedication",
            },
            {"time": "2026-11-05T12:00:00Z", "kind": "tocilizumab", "indication": "crs"},
        ],
        "rounds": [
            {
                "time": f"2026-11-{day}:00:00Z",
                "temperature_c": temp,
                "systolic_bp": sbp,
                "hypotension": sbp < 90,
                "spo2": 97,
                "oxygen_device": "room_air",
            }
            for day, temp, sbp in [
                ("05T09", 38.5, 120),
                ("05T15", 38.9, 85),
                ("06T09", 37.0, 120),
                ("10T09", 36.8, 120),
            ]
        ],
    }
    status, out, _ = run(course, "--episodes")
    assert status == 0
    (episode,) = out["episodes"]
    assert episode["kind"] == "crs"
    assert episode["onset"] == "2026-11-05T09:00:00+00:00"
    assert episode["onset_after"] == {"reference": "SUD2", "hours": 24.0, "day": 1}
    assert (episode["max_grade"], episode["max_grade_at"]) == (2, "2026-11-05T15:00:00+00:00")
    assert episode["resolved"] == "2026-11-06T09:00:00+00:00"
    assert [t["kind"] for t in episode["treatments"]] == ["tocilizumab"]


def test_assess_episodes_prints_crs_and_icans_with_their_registry_summary() -> None:
    # REFERENCE k10 (CIBMTR 4100 / EBMT MED-A: onset, highest ASTCT 2019
    # grade, resolution; therapy given); ICANS end rule local (DERIVED).
    def rnd(time: str, temp: float, ice: int, **values) -> dict:
        base = {"systolic_bp": 120, "hypotension": False, "spo2": 97, "oxygen_device": "room_air"}
        return {"time": f"2026-11-{time}:00:00Z", "temperature_c": temp, "ice_score": ice} | {
            **base,
            **values,
        }

    course = {
        "exposure": {"kind": "car_t", "day0": "2026-11-01", "product": "axi-cel"},
        "interventions": [
            {"time": "2026-11-03T12:00:00Z", "kind": "tocilizumab", "indication": "crs"},
            {
                "time": "2026-11-04T12:00:00Z",
                "kind": "corticosteroid",
                "drug": "dexamethasone",
                "indication": "icans",
            },
        ],
        "rounds": [
            rnd("03T08", 38.6, 10),
            rnd("03T16", 37.2, 10, spo2=93, oxygen_device="nasal_cannula", oxygen_flow_l_min=3),
            rnd("04T08", 37.0, 5, consciousness="awakens_to_voice"),
            rnd("06T08", 36.9, 10),
            rnd("10T08", 36.9, 10),
        ],
    }
    status, out, _ = run(course, "--episodes")
    assert status == 0
    crs, icans = out["episodes"]
    assert (crs["kind"], crs["max_grade"], crs["resolved"]) == (
        "crs",
        2,
        "2026-11-04T08:00:00+00:00",
    )
    assert crs["onset_after"] == {"reference": "day 0", "hours": 56.0, "day": 2}
    assert crs["grading"] == "ASTCT 2019" and "DERIVED" in crs["end_rule"]
    assert crs["tocilizumab"]["count"] == 1
    assert crs["first_tocilizumab_at"] == "2026-11-03T12:00:00+00:00"
    assert crs["oxygen"]["highest"] == "nasal_cannula"
    assert icans["kind"] == "icans" and icans["onset"] == "2026-11-04T08:00:00+00:00"
    assert (icans["max_grade"], icans["lowest_ice"]) == (2, 5)
    assert icans["resolved"] == "2026-11-06T08:00:00+00:00" and icans["duration_hours"] == 48.0
    assert [t["kind"] for t in icans["treatments"]] == ["corticosteroid"]
    assert icans["corticosteroids"]["agents"] == ["dexamethasone"]
    assert "ICANS resolution" in icans["end_rule"]
