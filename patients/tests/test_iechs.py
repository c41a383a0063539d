"""The "consider IEC-HS / HLH evaluation" prompt: a local rule (REFERENCE k9).

IEC-HS criteria and grading (Hines et al., ASTCT 2023) are [unverified] in the
reference, so no IEC-HS threshold is applied; the prompt fires when ferritin
keeps rising after the CRS episode ended (episodes.py end rule).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from patients.clinical.episodes import EndRule, GradedRound
from patients.clinical.iechs import crs_settled_at, iec_hs_prompt

T0 = datetime(2026, 11, 3, 8, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_no_prompt_while_crs_has_not_settled() -> None:
    ferritin = [(at(0), 500.0), (at(24), 1500.0), (at(48), 3000.0)]
    assert iec_hs_prompt(ferritin, None, at(48)) is None


def test_ferritin_rising_twice_after_crs_settled_prompts_labelled_as_local_and_unverified() -> (
    None
):
    settled = at(24)
    ferritin = [(at(20), 1000.0), (at(40), 1800.0), (at(64), 3500.0)]
    prompt = iec_hs_prompt(ferritin, settled, at(64))
    assert prompt is not None
    assert prompt.rises == 2
    assert prompt.status == "unverified"
    assert "Local rule" in prompt.rule and "no IEC-HS threshold" in prompt.rule
    assert "Hines" in prompt.source


def test_a_fall_restarts_the_count() -> None:
    ferritin = [(at(20), 1000.0), (at(40), 1800.0), (at(50), 1200.0), (at(64), 1500.0)]
    assert iec_hs_prompt(ferritin, at(24), at(64)) is None


def test_the_number_of_rises_is_a_setting() -> None:
    ferritin = [(at(20), 1000.0), (at(40), 1800.0), (at(64), 3500.0)]
    assert iec_hs_prompt(ferritin, at(24), at(64), rises_needed=3) is None


def test_rises_all_before_settling_do_not_prompt() -> None:
    ferritin = [(at(0), 500.0), (at(10), 900.0), (at(20), 1500.0)]
    assert iec_hs_prompt(ferritin, at(24), at(30)) is None


def test_settled_is_the_end_of_the_crs_episode() -> None:
    # episodes.py end rule: first clear round not followed by CRS in 72 h.
    rounds = [
        GradedRound(at(0), 1, True),
        GradedRound(at(12), 0, True),
        GradedRound(at(100), 0, True),
    ]
    assert crs_settled_at(rounds, at(50), EndRule(72)) is None
    assert crs_settled_at(rounds, at(100), EndRule(72)) == at(12)
