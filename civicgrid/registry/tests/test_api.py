"""The registry API: roles and scope, masked personal data, idempotent writes
(same key → same result, another body → 422) and stale edits (409)."""

import json
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from civicgrid.accounts.models import User
from civicgrid.core.models import AuditRecord
from civicgrid.events.models import Event
from civicgrid.events.tests.conftest import Cast
from civicgrid.registry.models import Household, Visit
from civicgrid.registry.tests.conftest import ID_A
from civicgrid.registry.tests.test_services import FAMILY, PNG

pytestmark = pytest.mark.django_db
API = "/api/v1/registry/"


def client(user: User) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_households_are_listed_in_scope_with_members_masked(
    cast: Cast, household: Callable[..., Household]
) -> None:
    home = household(persons=FAMILY)
    worker = client(cast.grid_worker)
    body = worker.get(f"{API}households/").json()
    assert body["count"] == 1 and body["results"][0]["members"] == 2
    assert body["results"][0]["grid"] == cast.grid.code
    detail = worker.get(f"{API}households/{home.pk}/").json()
    assert [p["name"] for p in detail["persons"]] == ["王**", "王**"]
    assert ID_A not in json.dumps(detail) and "13812345678" not in json.dumps(detail)
    assert worker.get(f"{API}households/?group=nope").status_code == 400
    # Departments do not use the registry; a citizen neither.
    assert client(cast.urban).get(f"{API}households/").status_code == 403
    assert client(cast.citizen).get(f"{API}households/{home.pk}/").status_code == 403


def test_information_is_collected_once_per_key_and_never_over_a_newer_copy(
    cast: Cast,
) -> None:
    worker = client(cast.grid_worker)
    new = {"grid": cast.grid.code, "address": "和平路8号", "persons": FAMILY[:1]}
    made = worker.post(
        f"{API}collections/", new, format="json", HTTP_IDEMPOTENCY_KEY="c1"
    )
    assert made.status_code == 201, made.content
    again = worker.post(
        f"{API}collections/", new, format="json", HTTP_IDEMPOTENCY_KEY="c1"
    )
    assert again.status_code == 200 and again.json() == made.json()
    other = worker.post(
        f"{API}collections/",
        {**new, "address": "和平路9号"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="c1",
    )
    assert other.status_code == 422
    assert Household.objects.count() == 1
    home = made.json()["household"]
    update = {"household": home["id"], "version": home["version"], "note": "独居"}
    assert worker.post(f"{API}collections/", update, format="json").status_code == 201
    stale = worker.post(f"{API}collections/", {**update, "note": "旧"}, format="json")
    assert stale.status_code == 409 and stale.json()["household"]["version"] == 2
    assert (
        worker.post(f"{API}collections/", {"address": "x"}, format="json").status_code
        == 400
    )
    bad_id = {
        **new,
        "address": "和平路10号",
        "persons": [{"name": "甲", "id_number": "123"}],
    }
    refused = worker.post(f"{API}collections/", bad_id, format="json")
    assert refused.status_code == 400 and refused.json()["field"] == "persons"
    # A grid outside the caller's regions is as if it did not exist.
    town_b = "370303002"
    from civicgrid.regions.models import Grid

    far = Grid.objects.filter(code__startswith=town_b).order_by("code")[0].code
    outside = worker.post(f"{API}collections/", {**new, "grid": far}, format="json")
    assert outside.status_code == 404


def test_a_visit_sent_twice_is_one_visit_and_one_event(
    cast: Cast, household: Callable[..., Household]
) -> None:
    home = household()
    worker = client(cast.grid_worker)
    p = cast.grid.geometry.representative_point()

    def body(notes: str = "发现楼道堆物") -> dict[str, object]:
        return {
            "household": home.pk,
            "kind": "safety_check",
            "lon": p.x,
            "lat": p.y,
            "notes": notes,
            "follow_up": "true",
            "follow_up_title": "楼道堆物",
            "photos": SimpleUploadedFile("a.png", PNG, content_type="image/png"),
        }

    first = worker.post(
        f"{API}visits/", body(), format="multipart", HTTP_IDEMPOTENCY_KEY="v1"
    )
    assert first.status_code == 201, first.content
    second = worker.post(
        f"{API}visits/", body(), format="multipart", HTTP_IDEMPOTENCY_KEY="v1"
    )
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    changed = worker.post(
        f"{API}visits/", body("别的内容"), format="multipart", HTTP_IDEMPOTENCY_KEY="v1"
    )
    assert changed.status_code == 422
    assert Visit.objects.count() == 1 and Event.objects.count() == 1
    visit = first.json()
    assert visit["event"] == Event.objects.get().code and visit["photos"] == 1
    assert AuditRecord.objects.filter(action="registry.visit").count() == 1
    listed = worker.get(f"{API}visits/?household={home.pk}").json()
    assert [v["id"] for v in listed["results"]] == [visit["id"]]
    assert worker.get(f"{API}visits/{visit['id']}/").json()["kind"] == "safety_check"
    # Another caller reusing the key is refused rather than answered.
    town = client(cast.town).post(
        f"{API}visits/", body(), format="multipart", HTTP_IDEMPOTENCY_KEY="v1"
    )
    assert town.status_code == 422


def test_the_registry_is_in_the_openapi_schema(cast: Cast) -> None:
    text = client(cast.town).get("/api/v1/schema/").content.decode()
    for path in ("households/", "households/{id}/", "collections/", "visits/"):
        assert f"/api/v1/registry/{path}" in text
