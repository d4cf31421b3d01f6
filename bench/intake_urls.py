"""The product's URLs plus the ceiling of the intake benchmark: the least a Django
endpoint can do per request through the same middleware and database — parse a JSON
body and insert one row."""

import json

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

CEILING_TABLE = "bench_ceiling"


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


urlpatterns = [
    path("bench/ceiling/", ceiling),
    path("", include("civicgrid.urls")),
]
