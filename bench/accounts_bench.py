"""Cost of the account-security layer per request: ``.venv/bin/python bench/accounts_bench.py``.

In a throw-away SQLite, one user signs in through the real workbench form (django-axes,
session clocks) and asks ``GET /api/v1/me/`` N times in-process (Django's test client),
once with the full middleware stack and once without the security middleware (CSP,
django-otp, session limits, no-store, login rate limit, account policy, axes): median
and p90 latency, and how many session rows were written (the idle clock is written at
most every 30 s, not on every request). Also: one password check with the production
hasher, the price every sign-in pays. Results: ``bench/results/accounts-<stamp>.json``
and ``accounts-latest.txt``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
os.environ["CIVICGRID_VAR_DIR"] = tempfile.mkdtemp(prefix="civicgrid-accbench-")
os.environ["DATABASE_URL"] = f"sqlite:///{os.environ['CIVICGRID_VAR_DIR']}/db.sqlite3"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")
os.environ.setdefault("CIVICGRID_OTP_REQUIRED", "1")  # as in production

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.hashers import check_password, make_password  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from civicgrid.accounts import services  # noqa: E402

N = int(os.environ.get("BENCH_N", "2000"))
PASSWORD = "Bench#Passw0rd"  # noqa: S105 - a throw-away database
SECURITY = ("csp.", "django_otp.", "civicgrid.accounts.", "axes.")


def machine() -> dict[str, Any]:
    model = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": "SQLite (throw-away file)",
    }


def run(middleware: list[str]) -> dict[str, Any]:
    with override_settings(MIDDLEWARE=middleware):
        client = Client(REMOTE_ADDR="203.0.113.5")
        answer = client.post(
            "/workbench/login/", {"username": "bench", "password": PASSWORD}
        )
        assert answer.status_code == 302, answer.status_code
        times: list[float] = []
        sqls: list[str] = []

        def count(execute: Any, sql: str, *args: Any) -> Any:
            sqls.append(sql)
            return execute(sql, *args)

        with connection.execute_wrapper(count):
            for _ in range(N):
                t0 = time.perf_counter()
                response = client.get("/api/v1/me/")
                times.append(time.perf_counter() - t0)
                assert response.status_code == 200
        writes = sum(1 for q in sqls if q.startswith('UPDATE "django_session"'))
    times.sort()
    return {
        "requests": N,
        "median_ms": round(statistics.median(times) * 1000, 3),
        "p90_ms": round(times[int(N * 0.9)] * 1000, 3),
        "session_writes": writes,
        "queries_per_request": round(len(sqls) / N, 2),
    }


def main() -> None:
    call_command("migrate", verbosity=0)
    services.user_create(actor=None, username="bench", password=PASSWORD)
    full = list(settings.MIDDLEWARE)
    bare = [m for m in full if not m.startswith(SECURITY)]
    results: dict[str, Any] = {
        "with_security": run(full),
        "without_security": run(bare),
    }
    encoded = make_password(PASSWORD)  # the production hasher (PBKDF2)
    t0 = time.perf_counter()
    for _ in range(5):
        check_password(PASSWORD, encoded)
    results["password_check_ms"] = round((time.perf_counter() - t0) / 5 * 1000, 1)
    w, b = results["with_security"], results["without_security"]
    overhead = w["median_ms"] - b["median_ms"]
    lines = [
        f"GET /api/v1/me/ x{N}, in-process, signed in (second factor required "
        "for roles that unmask; this user's role does not):",
        f"  with security middleware:    median {w['median_ms']} ms, p90 {w['p90_ms']} ms, "
        f"{w['queries_per_request']} queries/request, {w['session_writes']} session writes",
        f"  without security middleware: median {b['median_ms']} ms, p90 {b['p90_ms']} ms, "
        f"{b['queries_per_request']} queries/request, {b['session_writes']} session writes",
        f"  overhead: {overhead:+.3f} ms per request (median)",
        f"password check (production hasher): {results['password_check_ms']} ms",
    ]
    print("\n".join(lines))
    m = machine()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"accounts-{stamp}.json").write_text(
        json.dumps({"machine": m, "results": results}, indent=2, ensure_ascii=False)
    )
    (RESULTS_DIR / "accounts-latest.txt").write_text(
        "\n".join([*lines, f"machine: {m}"]) + "\n"
    )


if __name__ == "__main__":
    main()
