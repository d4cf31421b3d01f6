"""Cost of the SM3-chained audit log and of the personal-data key rotation:
``DATABASE_URL=postgres://... .venv/bin/python bench/audit_bench.py`` (an EMPTY
database: it is migrated here; without DATABASE_URL a throw-away SQLite file).

Measures audit_record rows/s from one thread and from 8 threads at once (the chain
lock serialises writers), verify_chain rows/s, and rotate_personal_data rows/s over
N users with a phone. Results: ``bench/results/audit-<stamp>.json`` and
``audit-latest.txt``.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
os.environ["CIVICGRID_VAR_DIR"] = tempfile.mkdtemp(prefix="civicgrid-auditbench-")
os.environ.setdefault(
    "DATABASE_URL", f"sqlite:///{os.environ['CIVICGRID_VAR_DIR']}/db.sqlite3"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402

from civicgrid.accounts.models import User  # noqa: E402
from civicgrid.core import crypto, rotation  # noqa: E402
from civicgrid.core.audit import audit_record  # noqa: E402
from civicgrid.core.audit_ops import verify_chain  # noqa: E402

N = int(os.environ.get("BENCH_N", "4000"))
THREADS = 8


def machine() -> dict[str, Any]:
    model = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": f"{connection.vendor} (fsync as configured by the server)",
    }


def write(n: int, tag: str) -> None:
    for i in range(n):
        audit_record(actor=None, action=f"bench.{tag}", changes={"i": i})


def main() -> None:
    call_command("migrate", verbosity=0)
    out: dict[str, Any] = {"n": N, "threads": THREADS, "machine": machine()}

    t = time.perf_counter()
    write(N, "single")
    out["audit_single_rows_per_s"] = round(N / (time.perf_counter() - t), 1)

    def worker() -> None:
        try:
            write(N // THREADS, "concurrent")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    out["audit_8_threads_rows_per_s"] = round(
        N // THREADS * THREADS / (time.perf_counter() - t), 1
    )

    t = time.perf_counter()
    result = verify_chain()
    out["verify_rows_per_s"] = round(result.checked / (time.perf_counter() - t), 1)
    out["verify_rows"] = result.checked
    out["verify_problems"] = len(result.problems)

    User.objects.bulk_create(
        User(username=f"bench{i}", phone=f"138{i:08d}") for i in range(N)
    )
    crypto.key_add()
    t = time.perf_counter()
    rotated = rotation.rotate(batch_size=500)
    out["rotation_rows_per_s"] = round(rotated.total / (time.perf_counter() - t), 1)
    out["rotation_rows"] = rotated.total

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"audit-{stamp}.json").write_text(json.dumps(out, indent=1))
    text = (
        f"audit_record, {N} rows: one thread {out['audit_single_rows_per_s']} rows/s; "
        f"{THREADS} threads at once {out['audit_8_threads_rows_per_s']} rows/s "
        "(one chain, writers serialised)\n"
        f"verify_chain: {out['verify_rows']} rows at {out['verify_rows_per_s']} rows/s, "
        f"{out['verify_problems']} problems\n"
        f"key rotation: {out['rotation_rows']} rows at {out['rotation_rows_per_s']} rows/s "
        "(batches of 500)\n"
        f"machine: {out['machine']}\n"
    )
    (RESULTS_DIR / "audit-latest.txt").write_text(text)
    print(text)
    shutil.rmtree(os.environ["CIVICGRID_VAR_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
