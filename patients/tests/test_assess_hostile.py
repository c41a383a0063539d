"""``manage.py assess`` under hostile input: exit 2 naming the field, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .test_assess_command import run

ROOT = Path(__file__).resolve().parents[2]
HUGE = "9" * 400
HUGER = "7" * 5000
DEEP = 100_000
ROUND_TIME = '"time": "2026-11-20T08:00:00Z"'

CASES = {
    "400-digit temperature": (f'{{"temperature_c": {HUGE}}}', "temperature_c"),
    "5000-digit temperature": (f'{{"temperature_c": {HUGER}}}', "temperature_c"),
    "negative 400-digit heart rate": (f'{{"heart_rate": -{HUGE}}}', "heart_rate"),
    "400-digit SpO2 scale": (f'{{"spo2_scale": {HUGE}}}', "spo2_scale"),
    "5000-digit ICE score": (f'{{"ice_score": {HUGER}}}', "ice_score"),
    "5000-digit ICE item": (
        '{"ice": {"orientation": ' + HUGER + ', "naming": 3, "commands": 1, '
        '"writing": 1, "attention": 1}}',
        "ice.orientation",
    ),
    "400-digit lab in a baseline": (
        f'{{"temperature_c": 37, "baseline": {{"creatinine_umol_l": {HUGE}}}}}',
        "baseline.creatinine_umol_l",
    ),
    "400-digit dose in an intervention": (
        f'{{"rounds": [{{{ROUND_TIME}, "temperature_c": 38}}], "interventions": '
        f'[{{{ROUND_TIME}, "kind": "tocilizumab", "dose": {HUGE}}}]}}',
        "interventions[0].dose",
    ),
    "deeply nested list": ("[" * DEEP + "]" * DEEP, "input"),
    "deeply nested symptoms": (
        '{"symptoms": ' + '{"fever": ' * DEEP + '"mild"' + "}" * DEEP + "}",
        "input",
    ),
    "unknown round key dialysis": ('{"temperature_c": 37, "dialysis": "yes"}', "dialysis"),
    "dialysis true on a round": ('{"temperature_c": 37, "dialysis": true}', "dialysis"),
}


@pytest.mark.parametrize(("payload", "field"), CASES.values(), ids=CASES.keys())
def test_hostile_json_exits_2_naming_the_field(payload, field) -> None:
    status, _, err = run(payload)
    assert status == 2
    assert err.startswith(f"error: {field}: "), err
    assert "Traceback" not in err


def test_a_misplaced_dialysis_key_says_where_it_belongs() -> None:
    _, _, err = run('{"temperature_c": 37, "dialysis": true}')
    assert '"kind": "dialysis"' in err


def test_the_command_itself_never_prints_a_traceback_for_a_huge_integer() -> None:
    # As a script runs it: no DEBUG, no SECRET_KEY, no database settings.
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "assess"],
        input=f'{{"temperature_c": {HUGER}}}',
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: temperature_c:"), result.stderr
    assert "Traceback" not in result.stderr
