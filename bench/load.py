"""Load test: concurrent users log in, read the queue and record rounds.

Loopback only and bounded in time. Serves the app the production way
(gunicorn, DEBUG off) on the configured database, then runs one process per
simulated user. Prints requests served, errors (must be 0) and rounds stored
versus rounds sent (must be equal). Usage, from the project root:

    .venv/bin/python bench/load.py --users 8 --seconds 60
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crswatch_bench .venv/bin/python bench/load.py
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import signal
import sys
import time
import uuid
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import DEFAULT_DB, free_port, serve, setup_django  # noqa: E402

PASSWORD = "load-test-password-4831"


class Browser:
    """A minimal browser: one connection, cookies kept by hand.

    The server marks cookies Secure (DEBUG off); on loopback HTTP a stock
    cookie jar would drop them, so they are carried explicitly.
    """

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            headers["Referer"] = f"http://127.0.0.1{path}"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, response.read().decode()


def user_session(args: tuple) -> dict:
    port, username, patients, seconds, tag, offset = args
    b = Browser(port)
    stats = {"requests": 0, "errors": 0, "rounds_sent": 0, "error_samples": []}

    def check(status: int, expected: set[int], what: str) -> None:
        stats["requests"] += 1
        if status not in expected:
            stats["errors"] += 1
            if len(stats["error_samples"]) < 3:
                stats["error_samples"].append(f"{what}: {status}")

    status, page = b.request("GET", "/login/")
    check(status, {200}, "login page")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    status, _ = b.request(
        "POST",
        "/login/",
        {"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD},
    )
    check(status, {302}, "log in")
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
        check(b.request("GET", "/")[0], {200}, "queue")
        pk = patients[(n + hash(username)) % len(patients)]
        check(b.request("GET", f"/patients/{pk}/")[0], {200}, "patient page")
        status, _ = b.request(
            "POST",
            f"/patients/{pk}/rounds/new/",
            {
                "client_key": str(uuid.uuid4()),
                "clinical_time": time.strftime(
                    "%Y-%m-%dT%H:%M", time.gmtime(time.time() + offset)
                ),
                "heart_rate": str(70 + n % 50),
                "temperature_c": "37.8",
                "oxygen_device": "room_air",
                "note": tag,
            },
        )
        check(status, {302}, "record round")
        if status == 302:
            stats["rounds_sent"] += 1
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=60, help="at most 300")
    parser.add_argument("--patients", type=int, default=200, help="data set size if empty")
    args = parser.parse_args()
    args.seconds = max(1, min(args.seconds, 300))
    args.users = max(1, min(args.users, 64))
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    setup_django(database_url)
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.utils import timezone

    from bench.hospital import build
    from patients.models import ObservationRound, Patient

    call_command("migrate", verbosity=0)
    build(args.patients, 40, timezone.now().replace(minute=0, second=0, microsecond=0))
    # The form takes the hospital's local time; children have no Django.
    offset = int(timezone.localtime().utcoffset().total_seconds())
    names = []
    for i in range(args.users):
        user, _ = User.objects.get_or_create(username=f"load-nurse-{i}")
        user.set_password(PASSWORD)
        user.save()
        user.groups.add(Group.objects.get(name="nurse"))
        names.append(user.username)
    patients = list(
        Patient.objects.filter(mrn__startswith="BENCH-")
        .order_by("pk")
        .values_list("pk", flat=True)[:100]
    )
    tag = f"load-test {uuid.uuid4()}"
    port = free_port()
    server = serve(port, database_url, workers=2)
    started = time.perf_counter()
    try:
        with multiprocessing.get_context("spawn").Pool(args.users) as pool:
            results = pool.map(
                user_session, [(port, n, patients, args.seconds, tag, offset) for n in names]
            )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    elapsed = time.perf_counter() - started
    requests = sum(r["requests"] for r in results)
    errors = sum(r["errors"] for r in results)
    sent = sum(r["rounds_sent"] for r in results)
    stored = ObservationRound.objects.filter(note=tag).count()
    print(
        f"\n{args.users} users for {args.seconds} s on {database_url.split(':', 1)[0]}: "
        f"{requests} requests ({requests / elapsed:.0f}/s), {errors} errors, "
        f"rounds sent {sent}, rounds stored {stored}"
    )
    for sample in [s for r in results for s in r["error_samples"]][:5]:
        print("  error:", sample)
    if errors or sent != stored:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
