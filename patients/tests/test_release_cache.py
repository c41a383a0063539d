"""Cached fragments never outlive the release that drew them."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from crs_dashboard.settings import release_fingerprint


def make_release(root, template: str, code: str, test: str) -> None:
    (root / "templates" / "patients").mkdir(parents=True, exist_ok=True)
    (root / "patients" / "tests").mkdir(parents=True, exist_ok=True)
    (root / "templates" / "patients" / "queue.html").write_text(template)
    (root / "patients" / "views.py").write_text(code)
    (root / "patients" / "tests" / "test_x.py").write_text(test)


def test_a_changed_template_or_module_gives_new_cache_keys(tmp_path) -> None:
    make_release(tmp_path, "<td>{{ grade }}</td>", "x = 1", "")
    first = release_fingerprint(tmp_path)
    make_release(tmp_path, "<td>{{ grade }}</td>", "x = 1", "assert True")
    assert release_fingerprint(tmp_path) == first  # tests do not draw pages
    make_release(tmp_path, "<td class=g>{{ grade }}</td>", "x = 1", "")
    assert release_fingerprint(tmp_path) != first
    make_release(tmp_path, "<td>{{ grade }}</td>", "x = 2", "")
    assert release_fingerprint(tmp_path) != first


def test_the_running_release_prefixes_every_cache_key() -> None:
    if os.getenv("CACHE_KEY_PREFIX", "").strip():
        pytest.skip("CACHE_KEY_PREFIX is set here: it wins over the fingerprint")
    assert settings.CACHES["default"]["KEY_PREFIX"] == release_fingerprint()
