"""Households benchmark: ``.venv/bin/python bench/households_bench.py [--n 2000]``.

A temporary SQLite database with the real Shandong division tree and 淄博's demo
grids (as ``locate_bench.py``); N SYNTHETIC households of two people each (names,
valid GB 11643 ID numbers and phone numbers, all invented) spread over the grids of
张店区. Measured through the product's own HTTP layer (Django's test client, no
network) as a 张店区 governance-center officer:

(a) the workbench import page: one .xlsx file of 2N rows, checked and written
    (every person encrypted, every household audited);
(b) the Excel export of all N households, masked, and unmasked with a reason
    (every personal field decrypted);
(c) the workbench households list (50 and 100 a page), a filtered list, and one
    household page: median and p95 over repeats, with the query count.

Results: ``bench/results/households-<YYYYMMDD-HHMMSS>.json`` and
``households-latest.txt`` with the machine description.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from locate_bench import load_demo, setup_django  # noqa: E402
from peace_bench import machine_info  # noqa: E402


def log(msg: str) -> None:
    print(msg, flush=True)


def id_number(i: int) -> str:
    """An invented, valid GB 11643 number of 张店区, unique per i."""
    from civicgrid.web.demo_households import demo_id_number

    day = 1 + i % 28
    month = 1 + (i // 28) % 12
    year = 1940 + (i // 336) % 70
    return demo_id_number(f"{year:04d}{month:02d}{day:02d}", (i // 23520) % 1000)


def sheet(n: int, grids: list[str]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet()
    ws.append(
        ["网格编码", "住址", "房屋类别", "姓名", "身份证号", "联系电话", "与户主关系"]
    )
    for h in range(n):
        grid, address = (
            grids[h % len(grids)],
            f"合成小区{h // 100 + 1}号楼{h % 100 + 1}室",
        )
        for k, relation in enumerate(("户主", "配偶")):
            i = 2 * h + k
            ws.append(
                [
                    grid,
                    address,
                    "自住房",
                    f"合成{i}",
                    id_number(i),
                    f"139{i:08d}",
                    relation,
                ]
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def timings(fn: Any, repeats: int) -> dict[str, float]:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    runs.sort()
    return {
        "median_ms": round(statistics.median(runs) * 1000, 1),
        "p95_ms": round(runs[max(0, int(len(runs) * 0.95) - 1)] * 1000, 1),
    }


def run(n: int, repeats: int) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from civicgrid.accounts import services as accounts
    from civicgrid.accounts.models import Role
    from civicgrid.regions.models import Grid, Region
    from civicgrid.registry.models import Household, Person

    out: dict[str, Any] = {"n_households": n, "n_persons": 2 * n, "repeats": repeats}
    user = accounts.user_create(actor=None, username="bench_center", password=None)
    accounts.staff_post_create(
        actor=None,
        user=user,
        role=Role.CENTER_STAFF,
        region=Region.objects.get(region_code="370303"),
    )
    grids = list(
        Grid.objects.filter(code__startswith="370303")
        .order_by("code")
        .values_list("code", flat=True)
    )
    out["grids"] = len(grids)
    client = Client()
    client.force_login(user)

    content = sheet(n, grids)
    upload = io.BytesIO(content)
    upload.name = "bench.xlsx"
    t0 = time.perf_counter()
    answer = client.post("/workbench/households/import/", {"file": upload})
    import_s = time.perf_counter() - t0
    assert answer.status_code == 200, answer.content[:2000]
    assert Household.objects.count() == n and Person.objects.count() == 2 * n
    out["import"] = {
        "rows": 2 * n,
        "file_bytes": len(content),
        "seconds": round(import_s, 2),
        "rows_per_s": round(2 * n / import_s, 1),
    }
    log(f"(a) import {2 * n} rows / {n} households: {import_s:.1f} s")

    for label, call in (
        ("export_masked", lambda: client.get("/workbench/households/?export=xlsx")),
        (
            "export_unmasked",
            lambda: client.post("/workbench/households/", {"reason": "基准测试导出"}),
        ),
    ):
        t0 = time.perf_counter()
        r = call()
        s = time.perf_counter() - t0
        assert r.status_code == 200
        out[label] = {
            "seconds": round(s, 2),
            "bytes": len(r.content),
            "persons_per_s": round(2 * n / s),
        }
        log(f"(b) {label}: {s:.2f} s, {len(r.content):,} bytes")

    one = Household.objects.order_by("id").first()
    assert one is not None
    for label, url in (
        ("list_50", "/workbench/households/"),
        ("list_100", "/workbench/households/?size=100"),
        ("list_filtered", "/workbench/households/?q=合成小区3号楼&due=1"),
        ("household", f"/workbench/households/{one.pk}/"),
    ):
        assert client.get(url).status_code == 200
        count = [0]

        def counted(execute: Any, *args: Any, count: list[int] = count) -> Any:
            count[0] += 1
            return execute(*args)

        with connection.execute_wrapper(counted):
            client.get(url)
        out[label] = {
            **timings(lambda url=url: client.get(url), repeats),
            "queries": count[0],
        }
        log(f"(c) {label}: {out[label]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine_info(), "database": "sqlite"}
    with tempfile.TemporaryDirectory(prefix="households-bench-") as var:
        setup_django(Path(var))
        report["setup"] = load_demo()
        log(f"setup: {report['setup']}")
        report["results"] = run(args.n, args.repeats)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = json.dumps(report, indent=1, ensure_ascii=False)
    (RESULTS_DIR / f"households-{stamp}.json").write_text(text)
    (RESULTS_DIR / "households-latest.txt").write_text(text)
    log(f"written: bench/results/households-{stamp}.json")


if __name__ == "__main__":
    main()
