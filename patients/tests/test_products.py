"""The product catalogue (products.toml) and where a patient is in its plan.

Sources: REFERENCE k8 (monitoring windows per product), k1 (premedication per
bispecific label), k11 (late neurotoxicity).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from patients.clinical import products as P
from patients.clinical.flags import ice_due
from patients.clinical.products import DoseClock, catalogue, find_product, plan_position

DAY0 = datetime(2026, 11, 1, tzinfo=UTC)
STATUSES = {"confirmed", "single-source", "unverified", "derived"}


def test_every_catalogue_line_names_its_source_and_status() -> None:
    for product in catalogue().values():
        assert product.plans, product.id
        for plan in product.plans:
            assert plan.jurisdiction in P.JURISDICTIONS
            step_ids = {s.id for s in plan.steps}
            for line in plan.lines:
                assert line.source.strip(), (product.id, line.text)
                assert line.status in STATUSES, (product.id, line.text)
                assert set(line.steps) <= step_ids, (product.id, line.steps)
        if product.late_neuro:
            for q in product.late_neuro.questions:
                assert q.source.strip() and q.status in STATUSES


def test_every_product_of_reference_k8_is_in_the_catalogue() -> None:
    brands = {p.brand for p in catalogue().values()}
    assert {"Abecma", "Breyanzi", "Carvykti", "Kymriah", "Tecartus", "Yescarta"} <= brands
    assert {
        "Tecvayli",
        "Talvey",
        "Elrexfio",
        "Epkinly",
        "Columvi",
        "Lunsumio",
        "Imdelltra",
    } <= brands


def test_it_finds_a_product_by_id_or_by_the_name_typed() -> None:
    assert find_product("cilta-cel").brand == "Carvykti"
    assert find_product("", "Yescarta (axicabtagene ciloleucel)").id == "axi-cel"
    assert find_product("", "COVID-19") is None


def test_us_car_t_plan_after_june_2025_shows_the_day_of_14_and_the_driving_limit() -> None:
    # REFERENCE k8: FDA 26 Jun 2025, monitor >= 2 weeks, daily >= 1 week;
    # proximity and driving 2 weeks.
    position = plan_position(find_product("axi-cel"), "US", DAY0, [], DAY0 + timedelta(days=9))
    assert position.summary == "Day +9 of 14 days' monitoring; no driving until Day +14"
    states = {line.text.split(":")[0]: line.state for line in position.lines}
    assert states["Daily monitoring for at least the first week"] == "ended"
    notes = [line for line in position.lines if line.state == "info"]
    assert any(line.status == "unverified" and line.labelled for line in notes)


def test_a_jurisdiction_without_a_plan_is_said_not_guessed() -> None:
    # REFERENCE k8 (derived): text is never shared across jurisdictions.
    position = plan_position(find_product("axi-cel"), "GB", DAY0, [], DAY0 + timedelta(days=3))
    assert position.lines == ()
    assert "no GB plan" in position.unknown


def test_gb_tecartus_monitoring_runs_four_weeks() -> None:
    # REFERENCE k8: MHRA SmPC Tecartus, proximity >= 4 weeks (single-source).
    position = plan_position(find_product("brexu-cel"), "GB", DAY0, [], DAY0 + timedelta(days=20))
    assert position.summary == "Day +20 of 28 days' monitoring"
    assert all(line.labelled for line in position.lines)


def test_teclistamab_step_up_dose_has_its_own_48_hour_clock() -> None:
    # REFERENCE k8: Tecvayli US PI, hospitalise 48 h after each step-up dose.
    doses = [
        DoseClock("SUD1", DAY0 + timedelta(hours=9)),
        DoseClock("SUD2", DAY0 + timedelta(days=3, hours=9)),
    ]
    now = DAY0 + timedelta(days=4, hours=21)
    position = plan_position(find_product("teclistamab"), "US", DAY0, doses, now)
    assert position.summary == "36 h of the 48 h in hospital after step-up dose 2"
    states = [line.state for line in position.lines if "dose" in line.text]
    assert states[:3] == ["ended", "active", "not_recorded"]
    premed = [line for line in position.lines if line.text.startswith("Premedication")]
    assert "Dexamethasone 16 mg" in premed[0].text


def test_elranatamab_second_step_up_dose_window_is_24_hours() -> None:
    # REFERENCE k8: Elrexfio US PI, 48 h after SUD1 and 24 h after SUD2.
    sud2 = DAY0 + timedelta(days=3, hours=8)
    plan = find_product("elranatamab").plan_for("US")
    windows = P.windows_of(plan, DAY0, [DoseClock("SUD1", DAY0), DoseClock("SUD2", sud2)])
    assert [(w.end - w.start) for w in windows] == [timedelta(hours=48), timedelta(hours=24)]


def test_late_neurotoxicity_questions_are_asked_for_bcma_car_t_in_their_window() -> None:
    # REFERENCE k11: Santomasso 2023, days 1-30 for BCMA CAR-T (window derived).
    cilta = find_product("cilta-cel")
    assert P.late_neuro_due(cilta, DAY0, DAY0 + timedelta(days=21))
    assert not P.late_neuro_due(cilta, DAY0, DAY0 + timedelta(days=31))
    assert not P.late_neuro_due(find_product("axi-cel"), DAY0, DAY0 + timedelta(days=21))


@pytest.mark.parametrize(
    ("hours_after_dose", "due"),
    [(2, True), (30, True), (60, False)],
    ids=["in-window", "late-in-window", "after-window"],
)
def test_ice_schedule_follows_the_dose_window_of_a_bispecific(hours_after_dose, due) -> None:
    # Local policy (derived): ICE every 12 h (ASCO 2021) while the label has
    # the patient monitored after a dose; no fixed day-0 window for bispecifics.
    from patients.clinical.assessment import assess
    from patients.clinical.flags import RoundState
    from patients.clinical.inputs import Baseline, Observation

    dose = DAY0 + timedelta(days=3)
    plan = find_product("teclistamab").plan_for("US")
    windows = P.ice_windows(P.windows_of(plan, DAY0, [DoseClock("SUD2", dose)]))
    time = dose + timedelta(hours=hours_after_dose)
    obs = Observation(time=time, temperature_c=37.0)
    state = RoundState(time, obs, assess(obs, Baseline()))
    found = ice_due([state], DAY0, "bispecific", windows=windows)
    assert (found == dose + timedelta(hours=12)) if due else found is None
