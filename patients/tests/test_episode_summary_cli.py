"""`manage.py episode_summary` from a shell, as the README describes it: a
missing or bad date ends with status 2 and a message naming the argument."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "episode_summary", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "named"),
    [(["--from", "2026-11-01"], "--to"), (["--to", "2026-11-01"], "--from")],
    ids=["no-to", "no-from"],
)
def test_a_missing_date_exits_2_naming_the_argument_as_the_readme_says(args, named) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert f"error: the following arguments are required: {named}" in done.stderr
    readme = (ROOT / "README.md").read_text()
    assert "`error: the following arguments are required: --to`" in readme
