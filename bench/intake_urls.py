"""The product's URLs plus the ceiling of the intake benchmark: the least a Django
endpoint can do per request through the same middleware and database — parse a JSON
body and insert one row — and the floor of the intake's writes: the same body, and
the three rows a report must write (event, first timeline row, audit row chained
under the same lock) in one transaction, by hand-written SQL, with no other work."""

import hashlib
import json

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

CEILING_TABLE = "bench_ceiling"
FLOOR_TABLES = ("bench_floor_event", "bench_floor_step", "bench_floor_audit")
FLOOR_DDL = [
    "CREATE TABLE bench_floor_event (id bigserial PRIMARY KEY, "
    "at timestamptz NOT NULL, title varchar(200) NOT NULL, body text NOT NULL)",
    "CREATE TABLE bench_floor_step (id bigserial PRIMARY KEY, "
    "event_id bigint NOT NULL REFERENCES bench_floor_event (id), at timestamptz NOT NULL)",
    "CREATE TABLE bench_floor_audit (id bigserial PRIMARY KEY, "
    "at timestamptz NOT NULL, object_id varchar(80) NOT NULL, "
    "prev_hash varchar(64) NOT NULL, hash varchar(64) NOT NULL)",
]
FLOOR_LOCK = 0x42454E43  # not the product's chain lock


@csrf_exempt
def ceiling(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body or b"{}")
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {CEILING_TABLE} (at, title) VALUES (now(), %s) RETURNING id",  # noqa: S608
            [str(body.get("title", ""))[:200]],
        )
        (pk,) = cur.fetchone()
    return JsonResponse({"id": pk}, status=201)


@csrf_exempt
def floor(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body or b"{}")
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO bench_floor_event (at, title, body) VALUES (now(), %s, %s) "
            "RETURNING id",
            [str(body.get("title", ""))[:200], json.dumps(body)],
        )
        (pk,) = cur.fetchone()
        cur.execute(
            "INSERT INTO bench_floor_step (event_id, at) VALUES (%s, now())", [pk]
        )
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [FLOOR_LOCK])
        cur.execute("SELECT hash FROM bench_floor_audit ORDER BY id DESC LIMIT 1")
        row = cur.fetchone()
        prev = row[0] if row else "0" * 64
        digest = hashlib.sha256(f"{prev}{pk}".encode()).hexdigest()
        cur.execute(
            "INSERT INTO bench_floor_audit (at, object_id, prev_hash, hash) "
            "VALUES (now(), %s, %s, %s)",
            [str(pk), prev, digest],
        )
    return JsonResponse({"id": pk}, status=201)


urlpatterns = [
    path("bench/ceiling/", ceiling),
    path("bench/floor/", floor),
    path("", include("civicgrid.urls")),
]
