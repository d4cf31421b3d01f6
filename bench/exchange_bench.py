"""Exchange benchmark: ``.venv/bin/python bench/exchange_bench.py [--n 1000]``.

A temporary SQLite database with the real Shandong division tree and 淄博's demo
grids (as ``locate_bench.py``). Measured through the product's own HTTP layer
(Django's test client, no network), each a median over repeats:

(a) Open311 POST requests (form-encoded, six attributes, API key) — N of them, at
    points spread over 淄博's grids: requests per second;
(b) Open311 GET requests.json and requests.xml returning the maximum of 1,000;
(c) signed pushes to /exchange/v1/events (HMAC-SM3 signature, nonce, idempotency):
    pushes per second; and a retry of an already-pushed id;
(d) HMAC-SM3 signing + checking of a 2 KB body, per second (no database);
(e) building and sending a city's monthly upward report (built only: no server);
(f) bulk Excel: N grid staff rows imported, exported, the export re-imported unchanged.

Results: ``bench/results/exchange-<YYYYMMDD-HHMMSS>.json`` and
``exchange-latest.txt`` with the machine description.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import log, timed, write_results  # noqa: E402
from locate_bench import load_demo, setup_django  # noqa: E402
from peace_bench import machine_info  # noqa: E402


def run(n: int) -> dict[str, Any]:
    from django.test import Client

    from civicgrid.events.catalogue import catalogue_load_default
    from civicgrid.events.models import Matter
    from civicgrid.events.services import workflow_install_shipped
    from civicgrid.exchange import signing
    from civicgrid.exchange.models import Datatype, Permission, ServiceAttribute
    from civicgrid.exchange.open311 import client_issue
    from civicgrid.exchange.systems import system_register
    from civicgrid.exchange.upward import report_build
    from civicgrid.regions.models import Grid

    out: dict[str, Any] = {"n": n}
    workflow_install_shipped()
    catalogue_load_default(actor=None)
    matter = Matter.objects.get(code="CG01001")
    for i, dt in enumerate(Datatype.values):
        values = [{"key": "a", "name": "甲"}, {"key": "b", "name": "乙"}]
        ServiceAttribute.objects.create(
            matter=matter,
            code=f"q{i}",
            datatype=dt,
            required=True,
            order=i,
            description=f"问题 {i}",
            values=values if "list" in dt else [],
        )
    answers = {
        "string": "老王水果店",
        "number": "3",
        "datetime": "2026-11-29T08:15:30+08:00",
        "text": "长文本" * 20,
        "singlevaluelist": "a",
        "multivaluelist": ["a", "b"],
    }
    bench_client, key = client_issue(actor=None, name="bench")
    # The bench measures throughput, not the per-client rate limit.
    type(bench_client).objects.filter(pk=bench_client.pk).update(
        post_rate="1000000/min", read_rate="1000000/min"
    )
    grids = list(Grid.objects.filter(city_code="3703").order_by("code"))
    points = [g.geometry.representative_point() for g in grids]
    client = Client()

    def form(i: int) -> dict[str, Any]:
        p = points[i % len(points)]
        f: dict[str, Any] = {
            "api_key": key,
            "service_code": matter.code,
            "lat": p.y,
            "long": p.x,
            "description": f"第 {i} 号：门口摆摊，人行道过不去",
            "phone": "13912345678",
            "email": "li@example.cn",
        }
        for j, dt in enumerate(Datatype.values):
            f[f"attribute[q{j}]" + ("[]" if dt == "multivaluelist" else "")] = answers[
                dt
            ]
        return f

    t0 = time.perf_counter()
    for i in range(n):
        r = client.post("/open311/v2/requests.json", form(i))
        assert r.status_code == 201, r.content
    post_s = time.perf_counter() - t0
    out["open311_post"] = {
        "requests": n,
        "seconds": round(post_s, 2),
        "per_s": round(n / post_s, 1),
    }
    log(f"(a) Open311 POST: {n} in {post_s:.1f} s = {n / post_s:.1f}/s")

    for fmt in ("json", "xml"):
        r = client.get(f"/open311/v2/requests.{fmt}")
        count = len(r.json()) if fmt == "json" else r.content.count(b"<request>")
        s = timed(partial(client.get, f"/open311/v2/requests.{fmt}"))
        out[f"open311_get_{fmt}"] = {
            "results": count,
            "median_s": round(s, 3),
            "bytes": len(r.content),
        }
        log(
            f"(b) GET requests.{fmt}: {count} results, median {s * 1000:.0f} ms, {len(r.content)} bytes"
        )

    system, secret = system_register(
        actor=None,
        code="bench",
        name="bench",
        kind="police",
        permissions=[Permission.EVENTS_WRITE],
        region_prefixes=["3703"],
    )

    def push(i: int) -> int:
        p = points[(i * 7) % len(points)]
        body = json.dumps(
            {
                "external_id": f"110-{i}",
                "title": "警情转办",
                "description": f"第 {i} 号警情：商户纠纷",
                "lon": p.x,
                "lat": p.y,
            },
            ensure_ascii=False,
        ).encode()
        path = "/exchange/v1/events"
        h = signing.signed_headers(
            key_id=system.key_id, secret=secret, method="POST", path=path, body=body
        )
        return client.post(
            path, body, content_type="application/json", headers=h
        ).status_code

    pushes = max(n // 2, 1)
    t0 = time.perf_counter()
    codes = [push(i) for i in range(pushes)]
    push_s = time.perf_counter() - t0
    assert set(codes) == {201}, set(codes)
    retry_s = timed(lambda: push(0))
    out["push_events"] = {
        "pushes": pushes,
        "seconds": round(push_s, 2),
        "per_s": round(pushes / push_s, 1),
        "retry_median_ms": round(retry_s * 1000, 1),
    }
    log(
        f"(c) signed pushes: {pushes} in {push_s:.1f} s = {pushes / push_s:.1f}/s; retry {retry_s * 1000:.1f} ms"
    )

    body = os.urandom(2048)
    k = 20000
    t0 = time.perf_counter()
    for _ in range(k):
        h = signing.signed_headers(
            key_id="k", secret=secret, method="POST", path="/x", body=body
        )
        signing.check(secret=secret, method="POST", path="/x", headers=h, body=body)
    sig_s = time.perf_counter() - t0
    out["sign_and_check_per_s"] = round(k / sig_s)
    log(f"(d) HMAC-SM3 sign+check of 2 KB: {k / sig_s:,.0f}/s")

    month = f"{datetime.now():%Y-%m}"
    s = timed(lambda: report_build("3703", month), repeats=3)
    out["upward_report_build_s"] = round(s, 3)
    log(
        f"(e) upward report of 淄博 ({n + pushes} events this month): {s * 1000:.0f} ms"
    )

    from civicgrid.exchange import bulk, bulk_sheets

    rows = [
        [f"bench_wg{i:05d}", f"网格员{i}", f"139{i:08d}", "grid_worker", grids[i].code]
        for i in range(min(n, len(grids)))
    ]
    book = bulk_sheets.write_sheet(bulk_sheets.STAFF, rows)
    t0 = time.perf_counter()
    created = bulk.bulk_import(
        actor=None, kind="staff", content=book, file_name="b.xlsx", scope=["3703"]
    ).created
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    exported = bulk.bulk_export(actor=None, kind="staff", scope=["3703"], options={})
    export_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = bulk.bulk_import(
        actor=None, kind="staff", content=exported, file_name="e.xlsx", scope=["3703"]
    )
    reimport_s = time.perf_counter() - t0
    assert created == len(rows) and again.created == 0, (created, again.created)
    out["bulk_staff"] = {
        "rows": len(rows),
        "import_s": round(import_s, 2),
        "export_s": round(export_s, 2),
        "reimport_unchanged_s": round(reimport_s, 2),
    }
    log(
        f"(f) bulk grid staff: import {len(rows)} rows {import_s:.1f} s, export "
        f"{export_s:.1f} s, re-import unchanged {reimport_s:.1f} s"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    args = parser.parse_args()
    report: dict[str, Any] = {"machine": machine_info(), "database": "sqlite"}
    with tempfile.TemporaryDirectory(prefix="exchange-bench-") as var:
        setup_django(Path(var))
        report["setup"] = load_demo()
        log(f"setup: {report['setup']}")
        report["results"] = run(args.n)
    write_results("exchange", report)


if __name__ == "__main__":
    main()
