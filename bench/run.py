"""Benchmark CRS Watch the production way: gunicorn, DEBUG off, wrk.

Loopback only, bounded in time. Usage (from the project root):

    .venv/bin/python bench/run.py                      # 2,000 patients, SQLite file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crswatch_bench .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --patients 200 --seconds 5
    .venv/bin/python bench/run.py --growth             # 200, 2,000 and 20,000 patients

Prints requests per second, p50 and p99 latency, each page's throughput as a
ratio of a trivial Django view served by the same server in the same run
(measured again just before each page, so a shared machine's changing load
moves both), and the database queries each request makes; then FHIR ingest (transaction
Bundles of 1 and of 20 rounds from a service token) in rounds per second.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import fhir_ingest  # noqa: E402

DEFAULT_DB = f"sqlite:///{ROOT / 'bench' / 'results' / 'bench.sqlite3'}"
CSRF = "benchcsrftoken0benchcsrftoken0ab"  # 32 characters, as Django expects
# Each page's throughput is measured this many times, each time right after
# the trivial view's.
PAIRS = 3

POST_LUA = """
local n = 0
local patients = {%(patients)s}
request = function()
  n = n + 1
  local pk = patients[(n %% #patients) + 1]
  local key = string.format("%%08x-%%04x-4%%03x-8%%03x-%%012x", math.random(0, 0x7fffffff),
    math.random(0, 0xffff), math.random(0, 0xfff), math.random(0, 0xfff), n * 7919 + math.random(0, 1000000))
  local body = "client_key=" .. key .. "&clinical_time=%(time)s&temperature_c=38.4&heart_rate=" ..
    (80 + n %% 40) .. "&systolic_bp=112&diastolic_bp=70&respiratory_rate=20&spo2=95" ..
    "&oxygen_device=room_air&acvpu=A"
  return wrk.format("POST", "/patients/" .. pk .. "/rounds/new/", nil, body)
end
"""


def setup_django(database_url: str) -> None:
    """Set what the benchmark needs itself: the product as deployed (DEBUG
    off), whatever the calling shell has set."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "false"
    # The server and this process sign sessions with the same key; with
    # DEBUG off a missing or empty key stops both at start-up.
    if not os.environ.get("SECRET_KEY", "").strip():
        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    # Queries are counted in-process over plain HTTP.
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "crs_dashboard.settings"
    import django

    django.setup()


def sized_database(url: str, size: int) -> str:
    """Return a separate database per data-set size (a file or a PG database)."""
    if url.startswith("sqlite"):
        return url.replace(".sqlite3", f"-{size}.sqlite3")
    return f"{url}_{size}"


def setup_database(url: str) -> None:
    """Point Django at ``url`` (creating a PostgreSQL database) and migrate."""
    from django.core.management import call_command
    from django.db import connections

    if not url.startswith("sqlite"):
        import psycopg

        base, name = url.rsplit("/", 1)
        with psycopg.connect(
            f"{base}/postgres".replace("postgres://", "postgresql://"), autocommit=True
        ) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
    import dj_database_url
    from django.conf import settings

    connections.close_all()
    settings.DATABASES["default"].update(dj_database_url.parse(url))
    os.environ["DATABASE_URL"] = url
    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cookie() -> str:
    """Return a signed-in clinician's session cookie for the load generator."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Group, User
    from django.contrib.sessions.backends.db import SessionStore

    user, _ = User.objects.get_or_create(username="bench-clinician")
    user.groups.add(Group.objects.get(name="clinician"))
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "patients.access.CachedPermissionsBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session["last_activity"] = time.time() + 3600  # stays active for the whole run
    session.create()
    return session.session_key


def queries_per_request(
    paths: dict[str, tuple[str, str]], bearer: str = "", mrn: str = "", round_paths=()
) -> tuple[dict[str, int], dict[str, float], dict[str, float]]:
    """Return each request's queries (the first, uncached one), the median
    CPU milliseconds this process spends on it in later requests, and the
    median of the trivial view's, timed in turn with it: a figure a shared
    machine's load barely moves (the database's own CPU is not in it), and
    the alternation cancels the machine's drift between pages. Rounds are
    posted to each of ``round_paths`` in turn: a patient's first round at a
    time, as on the ward."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client, utils
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    if not hasattr(utils._TestState, "saved_data"):
        setup_test_environment()  # once per process: lets the client record queries
    client = Client()
    client.force_login(User.objects.get(username="bench-clinician"))
    counts, cpu, ceiling = {}, {}, {}
    others = iter(round_paths)
    trivial = paths["trivial view (ceiling)"][1]

    def timed(send) -> float:
        start = time.process_time()
        send()
        return (time.process_time() - start) * 1000

    for name, (method, path) in paths.items():

        def send(method=method, path=path):
            if method == "POST":
                where = next(others, path)
                client.post(where, post_body(where))
            elif method.startswith("FHIR"):
                client.post(
                    path,
                    fhir_ingest.bundle(mrn, int(method[4:])),
                    content_type="application/fhir+json",
                    HTTP_AUTHORIZATION=f"Bearer {bearer}",
                )
            else:
                client.get(path)

        with CaptureQueriesContext(connection) as ctx:
            send()
        counts[name] = len(ctx.captured_queries)
        times, trivial_times = [], []
        for _ in range(3 if method.startswith("FHIR") else 20):
            trivial_times.append(timed(lambda: client.get(trivial)))
            times.append(timed(send))
        cpu[name] = statistics.median(times)
        ceiling[name] = statistics.median(trivial_times)
    return counts, cpu, ceiling


def post_body(path: str) -> dict[str, str]:
    import uuid

    from django.utils import timezone

    return {
        "client_key": str(uuid.uuid4()),
        "clinical_time": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "temperature_c": "38.4",
        "heart_rate": "90",
        "oxygen_device": "room_air",
    }


def run_wrk(url: str, seconds: int, connections: int, cookie: str, script: Path | None) -> dict:
    cmd = [
        "wrk",
        "-t",
        "2",
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--latency",
        # A Bundle of 20 rounds takes longer than wrk's 2 s default on a
        # loaded machine: count it, do not drop it.
        "--timeout",
        "60s",
        "-H",
        f"Cookie: sessionid={cookie}; csrftoken={CSRF}",
        "-H",
        f"X-CSRFToken: {CSRF}",
        "-H",
        "Content-Type: application/x-www-form-urlencoded",
    ]
    if script:
        cmd += ["-s", str(script)]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": rps,
        "p50": to_ms(lat.get("50", "0ms")),
        "p99": to_ms(lat.get("99", "0ms")),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
    }


def check(url: str, method: str, cookie: str, bearer: str = "", mrn: str = "") -> None:
    """Fail unless the page answers as a signed-in clinician would see it."""
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    headers = {"Cookie": f"sessionid={cookie}; csrftoken={CSRF}", "X-CSRFToken": CSRF}
    data = urllib.parse.urlencode(post_body(url)).encode() if method == "POST" else None
    if method.startswith("FHIR"):
        data = json.dumps(fhir_ingest.bundle(mrn, int(method[4:]))).encode()
        headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/fhir+json"}
    request = urllib.request.Request(
        url, data=data, method="GET" if data is None else "POST", headers=headers
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        status = urllib.request.build_opener(NoRedirect).open(request, timeout=30).status
    except urllib.error.HTTPError as error:
        status = error.code
    expected = 302 if method == "POST" else 200
    if status != expected:
        raise SystemExit(f"{method} {url} answered {status}, expected {expected}")


def to_ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def serve(port: int, database_url: str, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "ERROR",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "crs_dashboard.wsgi",
            "-w",
            str(workers),
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "error",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def measure(args, database_url: str) -> list[dict]:
    from django.utils import timezone

    from bench.hospital import build
    from patients.models import Patient, PatientStatus

    build(args.patients, args.wards, timezone.now().replace(minute=0, second=0, microsecond=0))
    cookie = session_cookie()
    patient = (
        Patient.objects.filter(mrn__startswith="BENCH-")
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    ward = PatientStatus.objects.values_list("ward", flat=True).first()
    targets = list(
        Patient.objects.filter(mrn__startswith="BENCH-")
        .order_by("?")
        .values_list("pk", flat=True)[:200]
    )
    pages = {
        "trivial view (ceiling)": ("GET", "/healthz"),
        "review queue, first page": ("GET", "/"),
        "review queue, one ward": ("GET", f"/?ward={ward.replace(' ', '+')}"),
        "patient page (14 days, charts)": ("GET", f"/patients/{patient}/"),
        "record a round (POST)": ("POST", f"/patients/{targets[0]}/rounds/new/"),
        "FHIR ingest, Bundle of 1 round": ("FHIR1", "/fhir/"),
        "FHIR ingest, Bundle of 20 rounds": ("FHIR20", "/fhir/"),
    }
    from patients.fhir.tokens import create_token

    _, bearer = create_token(f"bench-monitor-{secrets.token_hex(4)}", source="monitor")
    mrns = list(Patient.objects.filter(pk__in=targets).values_list("mrn", flat=True))
    from django.core.management import call_command

    # Pages render static URLs from the manifest, as the server will.
    call_command("collectstatic", interactive=False, verbosity=0)
    queries, cpu, cpu_ceiling = queries_per_request(
        pages, bearer, mrns[0], [f"/patients/{pk}/rounds/new/" for pk in targets[1:]]
    )
    port = free_port()
    server = serve(port, database_url, args.workers)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            lua = Path(tmp) / "post.lua"
            lua.write_text(
                POST_LUA
                % {
                    "patients": ",".join(map(str, targets)),
                    "time": timezone.localtime().strftime("%Y-%m-%dT%H:%M").replace(":", "%3A"),
                }
            )
            scripts = {"POST": lua}
            for rounds in (1, 20):
                scripts[f"FHIR{rounds}"] = Path(tmp) / f"fhir{rounds}.lua"
                scripts[f"FHIR{rounds}"].write_text(fhir_ingest.lua_script(mrns, rounds, bearer))
            ceiling_path = pages["trivial view (ceiling)"][1]
            for name, (method, path) in pages.items():
                check(f"http://127.0.0.1:{port}{path}", method, cookie, bearer, mrns[-1])
                # A Bundle of 20 rounds needs long enough to finish a few.
                seconds = max(args.seconds, 45) if method == "FHIR20" else args.seconds
                # One Bundle per worker: queued behind others it would
                # outlast wrk's timeout on a busy machine.
                conns = min(args.connections, 2) if method == "FHIR20" else args.connections
                # The machine may be shared: the ceiling and the page are
                # measured in turn, PAIRS times, and the page's ratio is the
                # median of each pair's, so the machine's drift cancels.
                pairs = []
                for _ in range(PAIRS):
                    adjacent = run_wrk(
                        f"http://127.0.0.1:{port}{ceiling_path}",
                        max(3, args.seconds // PAIRS),
                        args.connections,
                        cookie,
                        None,
                    )
                    # Warm up with the measured connections: requests wrk
                    # leaves in flight are still served, ahead of the
                    # measured ones.
                    run_wrk(
                        f"http://127.0.0.1:{port}{path}", 1, conns, cookie, scripts.get(method)
                    )
                    result = run_wrk(
                        f"http://127.0.0.1:{port}{path}",
                        max(3, seconds // PAIRS),
                        conns,
                        cookie,
                        scripts.get(method),
                    )
                    pairs.append((adjacent, result))
                rounds = int(method[4:]) if method.startswith("FHIR") else 0
                results = [result for _, result in pairs]
                rows.append(
                    {
                        "page": name,
                        "queries": queries[name],
                        "cpu": cpu[name],
                        "cpu_ceiling": cpu_ceiling[name],
                        "rounds": rounds,
                        "ceiling": statistics.median(a["rps"] for a, _ in pairs),
                        "rps": statistics.median(r["rps"] for r in results),
                        "p50": statistics.median(r["p50"] for r in results),
                        "p99": max(r["p99"] for r in results),
                        "errors": sum(r["errors"] for r in results),
                        "ratio": statistics.median(
                            r["rps"] / a["rps"] if a["rps"] else 0 for a, r in pairs
                        ),
                    }
                )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    return rows


def print_table(rows: list[dict], title: str) -> None:
    print(f"\n{title}")
    print(f"(ratio: to the trivial view measured in turn with the page, {PAIRS} times each,")
    print(" the median of the pairs' ratios; req/s: medians; p99: the worst run's;")
    print(" cpu ms: this process's CPU per request in-process, median, and its ratio to the")
    print(" trivial view's, timed in turn with it, which the machine's load barely moves)")
    print(
        f"{'page':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'trivial':>8} "
        f"{'cpu ms':>7} {'cpu ratio':>9} {'queries':>7} {'errors':>6}"
    )
    for r in rows:
        print(
            f"{r['page']:34} {r['rps']:8.1f} {r['p50']:8.1f} {r['p99']:8.1f} "
            f"{r['ratio']:6.2f} {r['ceiling']:8.1f} {r['cpu']:7.1f} "
            f"{r['cpu_ceiling'] / r['cpu'] if r['cpu'] else 0:9.2f} {r['queries']:7d} "
            f"{r['errors']:6d}"
        )
    ingest = [r for r in rows if r.get("rounds")]
    if ingest:
        print("\nFHIR ingest (goal: a Bundle of 20 rounds at >= 0.02 of the trivial rate)")
        print(f"{'Bundle':34} {'rounds/s':>8} {'p99 ms':>8} {'ratio':>6}")
        for r in ingest:
            rate = r["rps"] * r["rounds"]
            print(
                f"{r['rounds']:>3} round(s) per Bundle{'':14} {rate:8.1f} {r['p99']:8.1f} "
                f"{rate / r['ceiling'] if r['ceiling'] else 0:6.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--wards", type=int, default=40)
    parser.add_argument("--seconds", type=int, default=10, help="per page, over its runs (max 60)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--growth",
        action="store_true",
        help="queue and patient page at each of --sizes patients",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000, 20000])
    args = parser.parse_args()
    args.seconds = max(1, min(args.seconds, 60))
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    setup_django(database_url)
    from django.core.management import call_command

    engine = database_url.split(":", 1)[0]
    if not args.growth:
        call_command("migrate", verbosity=0)
        rows = measure(args, database_url)
        print_table(
            rows,
            f"{args.patients} patients, {engine}, gunicorn -w {args.workers}, "
            f"wrk -c {args.connections}, {args.seconds} s per page",
        )
        return
    summary = []
    for size in args.sizes:
        args.patients = size
        url = sized_database(database_url, size)
        setup_database(url)
        rows = measure(args, url)
        print_table(rows, f"growth: {size} patients, {engine}")
        summary.append((size, rows))
    print("\nGrowth (p50 / p99 ms):")
    for size, rows in summary:
        cells = "  ".join(
            f"{r['page'].split(',')[0][:22]}: {r['p50']:.1f} / {r['p99']:.1f}" for r in rows[1:4]
        )
        print(f"{size:>7} patients  {cells}")


if __name__ == "__main__":
    main()
