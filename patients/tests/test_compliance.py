"""Observation compliance: rounds and ICE checks recorded by the time the
overdue rules (NEWS2 Chart 3, ASCO 2021 ICE interval) called them due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from patients.clinical import products
from patients.clinical.compliance import ICE, ROUND, OnTime, StoredRound, dues, on_time

DAY0 = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)
H = timedelta(hours=1)


def low(hours: float, ice: bool = False, total: int | None = 0) -> StoredRound:
    """A round with NEWS2 0 (12-hourly monitoring), or a partial one."""
    return StoredRound(
        time=DAY0 + hours * H,
        news2_total=total,
        news2_monitoring="12-hourly" if total is not None else "",
        icans_grade=0,
        ice_recorded=ice,
    )


def car_t_windows() -> list[products.Window]:
    plan = products.catalogue()["axi-cel"].plan_for("US")
    return products.ice_windows(products.windows_of(plan, DAY0, []))


def test_it_counts_each_round_on_time_when_the_next_came_within_the_news2_interval() -> None:
    rounds = [low(h) for h in (8, 20, 32, 44)]
    found = dues(rounds, now=DAY0 + 44 * H)
    assert on_time(found, ROUND) == OnTime(on_time=3, due=3)
    assert on_time(found, ROUND).percent == 100


def test_a_round_an_hour_after_the_12_hourly_interval_is_late() -> None:
    rounds = [low(8), low(21), low(33)]
    found = [d for d in dues(rounds, now=DAY0 + 33 * H) if d.kind == ROUND]
    assert [d.on_time for d in found] == [False, True]
    assert found[0].hours_late == 1
    assert on_time(found, ROUND).percent == 50


def test_a_higher_band_shortens_the_interval_news2_chart_3() -> None:
    # NEWS2 5-6 (medium): at least hourly; the next round 2 h later is late.
    medium = StoredRound(DAY0 + 8 * H, 5, "1-hourly", 0, False)
    rounds = [medium, low(10), low(21)]
    found = [d for d in dues(rounds, now=DAY0 + 21 * H) if d.kind == ROUND]
    assert [(d.due_at - d.set_at) / H for d in found] == [1, 12]
    assert [d.on_time for d in found] == [False, True]


def test_a_partial_round_without_a_band_does_not_reset_the_clock() -> None:
    # The round at 15 h has no NEWS2: the next is still due 12 h after 8 h.
    rounds = [low(8), low(15, total=None), low(21)]
    found = [d for d in dues(rounds, now=DAY0 + 21 * H) if d.kind == ROUND]
    assert [d.due_at for d in found] == [DAY0 + 20 * H, DAY0 + 20 * H]
    assert [d.on_time for d in found] == [True, False]


def test_a_round_due_inside_the_label_plan_and_never_recorded_is_missed() -> None:
    # Day +2, the plan asks for monitoring to Day +14: the round due at
    # 20 h never came.
    found = dues([low(8)], now=DAY0 + 48 * H, windows=car_t_windows())
    [due] = [d for d in found if d.kind == ROUND]
    assert (due.due_at, due.done_at, due.on_time) == (DAY0 + 20 * H, None, False)


def test_no_round_is_owed_after_the_last_round_outside_any_plan() -> None:
    # The round at 20 h set a due time of 32 h; nobody was to be observed
    # then, so only the first interval is judged.
    found = dues([low(8), low(20)], now=DAY0 + 100 * H)
    assert on_time(found, ROUND) == OnTime(on_time=1, due=1)


def test_a_round_not_yet_due_is_not_judged() -> None:
    found = dues([low(8)], now=DAY0 + 10 * H, windows=car_t_windows())
    assert found == []


def test_ice_checks_every_12_hours_in_the_car_t_window_are_on_time() -> None:
    rounds = [low(h, ice=True) for h in (6, 18, 30)]
    found = dues(rounds, now=DAY0 + 30 * H, day0=DAY0, exposure_kind="car_t")
    ice = [d for d in found if d.kind == ICE]
    # Each check sets the next 12 h later; the one due at 42 h is not due yet.
    assert [(d.due_at, d.done_at) for d in ice] == [
        (DAY0 + 18 * H, DAY0 + 18 * H),
        (DAY0 + 30 * H, DAY0 + 30 * H),
    ]
    assert on_time(found, ICE) == OnTime(on_time=2, due=2)


def test_rounds_without_ice_leave_one_ice_deadline_judged_by_the_next_check() -> None:
    rounds = [low(6, ice=True), low(12), low(17), low(20, ice=True)]
    found = dues(rounds, now=DAY0 + 20 * H, day0=DAY0, exposure_kind="car_t")
    [ice] = [d for d in found if d.kind == ICE]
    assert (ice.due_at, ice.done_at, ice.hours_late) == (DAY0 + 18 * H, DAY0 + 20 * H, 2)
    assert on_time(found, ROUND) == OnTime(on_time=3, due=3)


def test_the_ice_interval_is_the_setting_passed_in() -> None:
    rounds = [low(6, ice=True), low(15, ice=True)]
    eight = dues(rounds, DAY0 + 15 * H, DAY0, "car_t", ice_interval=8 * H)
    twelve = dues(rounds, DAY0 + 15 * H, DAY0, "car_t", ice_interval=12 * H)
    assert [d.on_time for d in eight if d.kind == ICE] == [False]
    assert [d.on_time for d in twelve if d.kind == ICE] == [True]


def test_no_ice_check_is_due_outside_every_ice_window() -> None:
    # Day +20 after CAR-T, no plan window, no ICANS: only rounds are due.
    rounds = [low(20 * 24 + h) for h in (0, 12)]
    found = dues(rounds, DAY0 + 21 * 24 * H, DAY0, "car_t")
    assert on_time(found, ICE).due == 0
    assert on_time(found, ICE).percent is None


def test_the_same_rules_as_the_overdue_flag_decide_when_a_round_is_due() -> None:
    # Cross-check against the overdue rule on a full history: after the
    # last round, the flag fires exactly when this module calls it missed.
    from patients.clinical.flags import overdue_events

    rounds = [low(6, ice=True), low(18), low(30, ice=True)]
    states = [r.state() for r in rounds]
    now = DAY0 + 43 * H
    kinds = {e.key for e in overdue_events(states, now, DAY0, "car_t", 12 * H)}
    found = dues(rounds, now, DAY0, "car_t", 12 * H, car_t_windows())
    missed = {f"overdue:{d.kind}" for d in found if d.done_at is None}
    assert kinds == missed == {"overdue:round", "overdue:ice"}


def teclistamab_windows(*doses: products.DoseClock) -> list[products.Window]:
    # REFERENCE k8: Tecvayli US PI, 48 h in hospital after each step-up dose.
    plan = products.catalogue()["teclistamab"].plan_for("US")
    return products.ice_windows(products.windows_of(plan, DAY0, list(doses)))


def test_a_later_dose_never_moves_the_ice_check_due_after_an_earlier_one() -> None:
    # SUD1 at 8 h: the first ICE check was due 12 h later (ASCO 2021, local
    # policy in the label's window) and never came. SUD2 on day 3 starts
    # its own clock from its time, not from the rounds before it.
    windows = teclistamab_windows(
        products.DoseClock("SUD1", DAY0 + 8 * H), products.DoseClock("SUD2", DAY0 + 72 * H)
    )
    rounds = [low(h) for h in (10, 22, 34, 46)]
    found = [
        d
        for d in dues(rounds, DAY0 + 100 * H, DAY0, "bispecific", windows=windows)
        if d.kind == ICE
    ]
    assert [(d.set_at, d.due_at, d.done_at) for d in found] == [
        (DAY0 + 10 * H, DAY0 + 20 * H, None),
        (DAY0 + 72 * H, DAY0 + 84 * H, None),
    ]
