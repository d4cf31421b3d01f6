"""No acknowledged write is lost: events are posted to a real server (gunicorn, on
PostgreSQL) from a few threads, the server is killed with SIGKILL in the middle of
the load and restarted, the unanswered requests are retried with their
Idempotency-Keys, and every event that was ever answered 201 exists exactly once.

The server works on its own copy of the test database (copied with the backup and restore commands),
so its committed rows never leak into other tests. SQLite is skipped: the test
database there is in memory, out of reach of another process."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import requests
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from civicgrid.regions.models import Grid

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs a server process on PostgreSQL",
    ),
    pytest.mark.django_db,
]
BASE = Path(settings.BASE_DIR)
THREADS, PER_THREAD, KILL_AFTER = 4, 15, 10
CSRF = "c" * 32

SESSION_SCRIPT = """
from django.test import Client
from civicgrid.accounts import services
user = services.user_create(actor=None, username="crash-citizen", password="Crash#Passw0rd1")
client = Client()
client.force_login(user)
print(client.cookies["sessionid"].value)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def crash_db(db: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A copy of the session's test database for the server (made with our own
    backup and restore commands), dropped afterwards."""
    grid = Grid.objects.filter(region_code__startswith="370303001").order_by("code")[0]
    point = grid.geometry.representative_point()
    params = connection.get_connection_params()
    name = f"crash_{uuid.uuid4().hex[:10]}"
    admin = connection.get_new_connection({**params, "dbname": "postgres"})
    admin.autocommit = True
    admin.execute(f'CREATE DATABASE "{name}"')
    s = connection.settings_dict
    url = f"postgres://{s['USER']}:{s.get('PASSWORD') or ''}@{s['HOST']}:{s['PORT']}/{name}"
    try:
        dump = tmp_path / "seed.backup"
        call_command("backup", str(dump), stdout=StringIO())
        subprocess.run(
            [sys.executable, str(BASE / "manage.py"), "restore", str(dump)],
            env={**os.environ, "DATABASE_URL": url},
            cwd=BASE,
            check=True,
            capture_output=True,
        )
        yield {
            "url": url,
            "point": (point.x, point.y),
            "open": lambda: connection.get_new_connection({**params, "dbname": name}),
        }
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


class Server:
    def __init__(self, url: str) -> None:
        self.port = free_port()
        self.env = {**os.environ, "DATABASE_URL": url, "CIVICGRID_MODE": "demo"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = (
            [
                str(gunicorn),
                "civicgrid.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "60",
            ]
            if gunicorn.exists()  # the dev extra pins it
            else [
                sys.executable,
                str(BASE / "manage.py"),
                "runserver",
                "--noreload",
                f"127.0.0.1:{self.port}",
            ]
        )
        self.proc = subprocess.Popen(
            command,
            cwd=BASE,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: master and workers
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/api/v1/regions/", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise RuntimeError("the server did not come up")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def test_no_acknowledged_event_is_lost(crash_db: dict[str, Any]) -> None:
    session_id = (
        subprocess.run(
            [sys.executable, str(BASE / "manage.py"), "shell", "-c", SESSION_SCRIPT],
            env={**os.environ, "DATABASE_URL": crash_db["url"]},
            capture_output=True,
            text=True,
            check=True,
            cwd=BASE,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    lon, lat = crash_db["point"]
    work = [
        [
            (
                f"crash-{t}-{i}-{uuid.uuid4().hex[:8]}",
                {
                    "title": f"压力测试 {t}-{i}",
                    "description": "断电测试",
                    "lon": lon,
                    "lat": lat,
                    "reporter_phone": "13912345678",
                },
            )
            for i in range(PER_THREAD)
        ]
        for t in range(THREADS)
    ]
    answered: dict[str, int] = {}
    unanswered: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()
    created = threading.Semaphore(0)

    def post(http: requests.Session, base: str, key: str, body: dict[str, Any]) -> int:
        r = http.post(
            f"{base}/api/v1/events/",
            data=json.dumps(body),
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": key,
                "X-CSRFToken": CSRF,
            },
            timeout=20,
        )
        return r.status_code

    def client() -> requests.Session:
        http = requests.Session()
        http.cookies.set("sessionid", session_id)
        http.cookies.set("csrftoken", CSRF)
        return http

    server = Server(crash_db["url"])
    server.start()
    try:

        def worker(items: list[tuple[str, dict[str, Any]]]) -> None:
            http = client()
            for key, body in items:
                try:
                    status = post(http, server.url, key, body)
                except requests.RequestException:
                    with lock:
                        unanswered.append((key, body))
                    continue
                with lock:
                    answered[key] = status
                if status == 201:
                    created.release()

        threads = [threading.Thread(target=worker, args=(w,)) for w in work]
        for t in threads:
            t.start()
        for _ in range(KILL_AFTER):
            assert created.acquire(timeout=120), "the server answered too few 201s"
        server.kill()  # SIGKILL, mid-load
        for t in threads:
            t.join()
        assert unanswered, "the kill came after the load: nothing was interrupted"
        assert set(answered.values()) <= {201}, answered

        server.start()
        http = client()
        retried = {key: post(http, server.url, key, body) for key, body in unanswered}
    finally:
        server.kill()
    # A retry answers 201 (never reached the database) or 200 (committed, then the
    # answer was lost): never a second event, never an error.
    assert set(retried.values()) <= {200, 201}, retried

    acknowledged = [k for k, s in {**answered, **retried}.items() if s in (200, 201)]
    all_keys = [key for items in work for key, _ in items]
    raw = crash_db["open"]()
    try:
        rows = raw.execute(
            "SELECT idempotency_key, count(*) FROM events_event "
            "WHERE idempotency_key = ANY(%s) GROUP BY idempotency_key",
            [all_keys],
        ).fetchall()
    finally:
        raw.close()
    counts = dict(rows)
    assert all(counts.get(k) == 1 for k in acknowledged), {
        k: counts.get(k) for k in acknowledged if counts.get(k) != 1
    }
    assert set(counts) == set(acknowledged)  # and nothing unacknowledged lingers
    assert all(v == 1 for v in counts.values())
    assert len(acknowledged) == len(answered) + len(unanswered)
