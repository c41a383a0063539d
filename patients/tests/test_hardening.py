"""Odd input and hostile clients: answered with 4xx, never a 500 or a leak."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from patients import recording
from patients.middleware import LAST_ACTIVITY
from patients.models import AuditEvent, ObservationRound

from .conftest import PASSWORD, ago, make_patient, make_user
from .test_access import ALL, url_for, world  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]


def run_without_configuration(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run a Python command as a server would start: no development settings."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_environment_debug_is_off_and_servers_refuse_the_dev_key() -> None:
    shown = run_without_configuration(
        "-c",
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'crs_dashboard.settings';"
        "from django.conf import settings; print(settings.DEBUG)",
    )
    assert shown.stdout.strip() == "False", shown.stderr
    checked = run_without_configuration("manage.py", "check")
    assert checked.returncode != 0 and "crs_watch.E001" in checked.stderr
    wsgi = run_without_configuration("-c", "import crs_dashboard.wsgi")
    assert wsgi.returncode != 0 and "SECRET_KEY" in wsgi.stderr


@pytest.mark.parametrize("key", ["", "   ", "dev-only-insecure-key-never-used-with-debug-off"])
def test_an_empty_or_published_secret_key_stops_the_server_at_start(key) -> None:
    wsgi = run_without_configuration(
        "-c", "import crs_dashboard.wsgi", DEBUG="false", SECRET_KEY=key
    )
    assert wsgi.returncode != 0 and "ImproperlyConfigured" in wsgi.stderr


def test_the_dev_command_turns_debug_on_and_still_needs_no_configuration() -> None:
    assert 'export DEBUG="${DEBUG:-true}"' in (ROOT / "scripts" / "dev").read_text()
    checked = run_without_configuration("manage.py", "check", DEBUG="true")
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(
    "url",
    ["queue", "patient_list", "patient", "rounds_csv", "handover", "patient_handover"],
)
def test_signed_in_pages_are_never_stored_by_browsers_or_proxies(
    nurse_client, patient, url
) -> None:
    args = [patient.pk] if url in {"patient", "rounds_csv", "patient_handover"} else []
    response = nurse_client.get(reverse(url, args=args))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_the_audit_trail_is_never_stored_either(client, admin_user) -> None:
    client.force_login(admin_user)
    assert "no-store" in client.get(reverse("audit_log"))["Cache-Control"]
    assert "no-store" in client.get("/admin/auth/user/")["Cache-Control"]


@pytest.mark.parametrize(
    "path",
    [
        "/handover/?ward=%00",
        "/audit/?user=%00",
        "/audit/?action=a%00b",
        "/?ward=%00",
        "/patients/?q=%00",
        "/admin/patients/patient/?q=%00",
        "/admin/patients/auditevent/?action__exact=%00",
        "/admin/auth/user/?q=x%00",
    ],
)
def test_a_nul_byte_in_the_query_string_is_refused(client, db, path) -> None:
    root = make_user("root", None)
    root.is_superuser = root.is_staff = True
    root.save()
    client.force_login(root)
    response = client.get(path)
    assert response.status_code == 400


def test_the_idle_timeout_redirect_survives_cr_lf_in_the_path(nurse_client, settings) -> None:
    nurse_client.get(reverse("queue"))
    session = nurse_client.session
    session[LAST_ACTIVITY] = time.time() - settings.SESSION_IDLE_SECONDS - 1
    session.save()
    response = nurse_client.get("/patients/%0D%0ASet-Cookie:%20x=1/", HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    location = urlsplit(response["HX-Redirect"])
    assert location.path == reverse("login")
    assert parse_qs(location.query)["next"][0].startswith("/patients/%0D%0ASet-Cookie")


READ_ONLY = {
    "queue",
    "about",
    "patient_list",
    "patient",
    "round_detail",
    "flag_history",
    "rounds_csv",
    "handover",
    "patient_handover",
    "audit_log",
    "healthz",
}


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
@pytest.mark.parametrize(("name", "converters"), ALL, ids=[n for n, _ in ALL])
def test_pages_refuse_methods_they_do_not_serve(client, world, method, name, converters):  # noqa: F811
    user = make_user("root", None)
    user.is_superuser = user.is_staff = True
    user.save()
    if name != "login":  # signed in, the login page just sends users home
        client.force_login(user)
    response = getattr(client, method)(url_for(name, converters, world))
    if name == "logout":
        return  # Django's own view; ends the session whatever the verb
    assert response.status_code == 405, (name, response.status_code)


def test_csv_cells_with_semicolons_are_quoted_and_neutralised(clinician_client, patient, nurse):
    recording.record_round(
        patient,
        {"clinical_time": ago(hours=1), "heart_rate": 80, "note": "fine; =HYPERLINK(1)"},
        nurse,
        uuid.uuid4(),
    )
    response = clinician_client.get(reverse("rounds_csv", args=[patient.pk]))
    body = b"".join(response.streaming_content).decode()
    note = list(csv.DictReader(io.StringIO(body)))[0]["note"]
    assert note == "'fine; =HYPERLINK(1)"
    # Quoted, so a spreadsheet splitting on ";" keeps the note in one cell.
    assert '"\'fine; =HYPERLINK(1)"' in body


@pytest.mark.parametrize("weak", [" " * 12, "a" * 14, "abababababab", "\t" * 16])
def test_blank_or_repetitive_passwords_are_refused(nurse_client, weak) -> None:
    response = nurse_client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": weak, "new_password2": weak},
    )
    assert response.status_code == 200  # the form again, with the reason
    assert "password" in response.content.decode().lower()
    nurse = response.wsgi_request.user
    nurse.refresh_from_db()
    assert nurse.check_password(PASSWORD)


def fail_login(client: Client, username: str, address: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("login"), {"username": username, "password": "nope"}, **extra)


def good_login(username: str, address: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post(reverse("login"), {"username": username, "password": PASSWORD}, **extra)


def test_changing_address_gives_no_extra_guesses(client, nurse) -> None:
    for i in range(5):
        fail_login(client, "nina", f"198.51.100.{i}")
    # The right password from yet another address is refused: the account's
    # ceiling counts failures from every address.
    assert good_login("nina", "198.51.100.99").status_code == 429


def test_a_locked_out_attacker_cannot_keep_the_user_off_their_usual_pc(client, nurse) -> None:
    assert good_login("nina", "10.0.0.7").status_code == 302  # her ward PC
    for i in range(12):
        fail_login(client, "nina", f"198.51.100.{i}")
    assert good_login("nina", "198.51.100.200").status_code == 429
    assert good_login("nina", "10.0.0.7").status_code == 302


def test_behind_one_proxy_one_client_cannot_lock_out_another(client, settings, nurse) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.9.9.9"
    other = make_user("olga", "nurse")
    assert good_login("olga", proxy, "203.0.113.5").status_code == 302
    for _ in range(6):
        # The attacker also forges an X-Forwarded-For entry: it is ignored.
        fail_login(client, "olga", proxy, "203.0.113.5, 198.51.100.66")
    assert good_login("olga", proxy, "203.0.113.5").status_code == 302
    assert other.is_active


def test_the_audit_records_the_client_behind_the_proxy(clinician_client, settings, patient):
    settings.TRUSTED_PROXY_COUNT = 1
    clinician_client.get(
        patient.get_absolute_url(),
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5",
    )
    viewed = AuditEvent.objects.filter(action="patient_viewed").latest("pk")
    assert viewed.address == "203.0.113.5"


def test_a_key_reused_on_another_patient_records_that_patients_round(nurse, db) -> None:
    first = make_patient("MRN-A")
    second = make_patient("MRN-B")
    key = uuid.uuid4()
    recording.record_round(first, {"clinical_time": ago(hours=1), "heart_rate": 80}, nurse, key)
    rnd, created = recording.record_round(
        second, {"clinical_time": ago(hours=1), "heart_rate": 120}, nurse, key
    )
    assert created and rnd.patient_id == second.pk
    assert ObservationRound.objects.filter(patient=second, heart_rate=120).exists()
