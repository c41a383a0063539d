from __future__ import annotations

import os
from datetime import date, datetime, timedelta

# Playwright's sync API runs an event loop; the ORM calls in fixtures and
# live_server teardown must still be allowed (TESTING.md).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.contrib.auth.models import Group, Permission, User  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.utils import timezone  # noqa: E402

from patients import recording  # noqa: E402
from patients.models import Exposure, Patient  # noqa: E402
from patients.roles import ensure_roles  # noqa: E402

PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    # Rendered pages are cached per process; each test starts with none.
    cache.clear()
    yield
    cache.clear()


def make_user(username: str, role: str | None) -> User:
    # Transactional tests flush the groups the migration made.
    ensure_roles(Group, Permission)
    user = User.objects.create_user(username, password=PASSWORD)
    if role:
        user.groups.add(Group.objects.get(name=role))
        if role == "admin":
            user.is_staff = True
            user.save()
    return user


@pytest.fixture
def nurse(db) -> User:
    return make_user("nina", "nurse")


@pytest.fixture
def clinician(db) -> User:
    return make_user("carl", "clinician")


@pytest.fixture
def admin_user(db) -> User:
    return make_user("ada", "admin")


@pytest.fixture
def nurse_client(client, nurse):
    client.force_login(nurse)
    return client


@pytest.fixture
def clinician_client(client, clinician):
    client.force_login(clinician)
    return client


def make_patient(
    mrn: str = "MRN001",
    ward: str = "Haem A",
    kind: str = "car_t",
    day0: date | None = None,
    **extra,
) -> Patient:
    fields = {
        "mrn": mrn,
        "given_name": "Ada",
        "family_name": "Lovelace",
        "birth_date": date(1950, 3, 1),
        "ward": ward,
        "bed": "4B",
        "baseline_creatinine_umol_l": 80.0,
    }
    fields.update(extra)
    patient = Patient.objects.create(**fields)
    # Registered well before the rounds the tests record (a round dated
    # before registration asks for confirmation).
    patient.created_at = timezone.now() - timedelta(days=30)
    Patient.objects.filter(pk=patient.pk).update(created_at=patient.created_at)
    Exposure.objects.create(
        patient=patient,
        kind=kind,
        agent="axicabtagene ciloleucel",
        day0=day0 or timezone.localdate() - timedelta(days=3),
    )
    recording.refresh_status(patient, [])
    return patient


@pytest.fixture
def patient(db) -> Patient:
    return make_patient()


def ago(**kwargs) -> datetime:
    return timezone.now() - timedelta(**kwargs)


NORMAL = {
    "temperature_c": 37.0,
    "heart_rate": 80,
    "systolic_bp": 125,
    "diastolic_bp": 75,
    "respiratory_rate": 16,
    "spo2": 97,
    "oxygen_device": "room_air",
    "acvpu": "A",
}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def log_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")


# -- real receivers for escalation notifications (SMTP, HTTP) -----------------


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the in-process SMTP server received."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """Run a real SMTP server on loopback; Django's SMTP backend sends to it."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    yield inbox
    controller.stop()


class Receiver:
    """A real HTTP server on loopback that records each POST."""

    def __init__(self):
        self.posts: list[tuple] = []  # (headers, body)
        # Status codes to answer with, in order; then 200.
        self.answers: list[int] = []
        self.url = ""


@pytest.fixture
def webhook_receiver():
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.posts.append((self.headers, body))
            code = receiver.answers.pop(0) if receiver.answers else 200
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()
