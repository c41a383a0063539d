"""Sessions, headers and production settings (OWASP ASVS 4 level 2 anchors)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

from django.test import Client
from django.urls import reverse

from patients.middleware import ACTIVITY_RESOLUTION, LAST_ACTIVITY

from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def test_an_idle_session_ends(nurse_client, settings) -> None:
    assert nurse_client.get(reverse("queue")).status_code == 200
    session = nurse_client.session
    session[LAST_ACTIVITY] = time.time() - settings.SESSION_IDLE_SECONDS - 1
    session.save()
    response = nurse_client.get(reverse("queue"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert nurse_client.get(reverse("patient_list")).status_code == 302


def test_queue_polling_does_not_count_as_activity(nurse_client) -> None:
    nurse_client.get(reverse("queue"))
    session = nurse_client.session
    before = session[LAST_ACTIVITY] - ACTIVITY_RESOLUTION  # a minute ago
    session[LAST_ACTIVITY] = before
    session.save()
    nurse_client.get(reverse("queue"), HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="queue-rows")
    assert nurse_client.session[LAST_ACTIVITY] == before
    nurse_client.get(reverse("patient_list"))
    assert nurse_client.session[LAST_ACTIVITY] > before


def test_an_expired_htmx_poll_redirects_the_whole_page(nurse_client, settings) -> None:
    nurse_client.get(reverse("queue"))
    session = nurse_client.session
    session[LAST_ACTIVITY] = time.time() - settings.SESSION_IDLE_SECONDS - 1
    session.save()
    response = nurse_client.get(
        reverse("queue"), HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="queue-rows"
    )
    assert response["HX-Redirect"].startswith("/login/")


def test_security_headers(nurse_client) -> None:
    response = nurse_client.get(reverse("queue"))
    csp = response["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'self'" in script_src
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_password_change_logs_out_other_sessions(client, nurse) -> None:
    other = Client()
    other.force_login(nurse)
    client.force_login(nurse)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-new-secret-9",
            "new_password2": "a-much-longer-new-secret-9",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("queue")).status_code == 200  # this session stays
    assert other.get(reverse("queue")).status_code == 302  # the other one is gone


def test_weak_passwords_are_refused(nurse_client) -> None:
    response = nurse_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    assert "too short" in response.content.decode()


def test_production_settings_pass_the_deploy_check() -> None:
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "crswatch.example.org",
    }
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_health_check_needs_no_login_and_no_redirect(client, settings) -> None:
    settings.SECURE_SSL_REDIRECT = True  # as in production
    response = client.get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok")
    assert client.get("/").status_code == 301  # everything else goes to HTTPS
