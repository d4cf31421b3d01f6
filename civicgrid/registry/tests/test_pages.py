"""The households pages of the grid worker app: scoped, masked, with the offline
forms pointing at the registry API, and a query count that does not grow with the
number of households listed."""

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civicgrid.accounts.models import User
from civicgrid.core.models import AuditRecord
from civicgrid.events.tests.conftest import Cast
from civicgrid.registry.models import Household
from civicgrid.registry.services import visit_record
from civicgrid.registry.tests.test_services import FAMILY

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_my_households_and_one_household(
    cast: Cast, household: Callable[..., Household]
) -> None:
    home = household(persons=FAMILY)
    visit_record(actor=cast.grid_worker, household=home, notes="一切正常")
    worker = signed_in(cast.grid_worker)
    listed = worker.get("/app/households/")
    assert listed.status_code == 200
    body = listed.content.decode()
    assert home.address in body and "我的住户" in body and "登记住户" in body
    assert f'href="/app/households/{home.pk}/"' in body
    page = worker.get(f"/app/households/{home.pk}/").content.decode()
    assert "王**" in page and "王建国" not in page and "13812345678" not in page
    assert "独居老人" in page and "一切正常" in page
    assert 'data-api="/api/v1/registry/visits/"' in page
    assert 'data-api="/api/v1/registry/collections/"' in page
    assert f'name="version" value="{home.version}"' in page
    assert "app-outbox.js" in page and "app-registry.js" in page


def test_the_households_pages_keep_to_the_registry_roles_and_scope(
    cast: Cast, household: Callable[..., Household], make_staff: Callable[..., User]
) -> None:
    home = household()
    assert signed_in(cast.urban).get("/app/households/").status_code == 403
    other = make_staff("b_town", "center_staff", region="370303002")
    assert signed_in(other).get(f"/app/households/{home.pk}/").status_code == 404
    assert home.address not in signed_in(other).get("/app/households/").content.decode()
    assert (
        signed_in(cast.grid_worker).get("/app/households/?group=x").status_code == 404
    )


def test_the_list_query_count_does_not_grow_with_households(
    cast: Cast, household: Callable[..., Household]
) -> None:
    worker = signed_in(cast.grid_worker)
    household("一号")
    worker.get("/app/households/")
    with CaptureQueriesContext(connection) as one:
        worker.get("/app/households/")
    for n in range(12):
        household(f"{n}号院")
    with CaptureQueriesContext(connection) as many:
        worker.get("/app/households/")
    assert len(many) == len(one)


def test_the_service_worker_keeps_the_households_page(cast: Cast) -> None:
    sw = signed_in(cast.grid_worker).get("/app/sw.js").content.decode()
    assert '"/app/households/"' in sw and "app-outbox.js" in sw
    assert (
        '"/app/households/"'
        not in signed_in(cast.urban).get("/app/sw.js").content.decode()
    )


def test_a_phone_number_is_unmasked_on_demand_with_a_reason(
    cast: Cast, household: Callable[..., Household]
) -> None:
    """The page (kept on the phone) holds the masked number only; the full one is
    asked for with a reason, audited, and never cached."""
    home = household(persons=FAMILY[:1])
    person = home.persons.get()
    worker = signed_in(cast.grid_worker)
    page = worker.get(f"/app/households/{home.pk}/").content.decode()
    assert (
        "138****5678" in page
        and f'class="app-reveal" data-person="{person.pk}"' in page
    )
    ask = {"object": "registry.person", "id": person.pk, "field": "phone"}
    url = "/api/v1/personal-data/reveal/"
    refused = worker.post(url, ask, content_type="application/json")
    assert refused.status_code == 400
    shown = worker.post(
        url, {**ask, "reason": "电话联系走访"}, content_type="application/json"
    )
    assert shown.status_code == 200 and shown.json() == {"value": "13812345678"}
    assert "no-store" in shown["Cache-Control"]
    assert AuditRecord.objects.filter(
        action="personal_data.reveal", object_id=str(person.pk)
    ).exists()
    # Outside the caller's regions the person does not exist.
    other = signed_in(make_other(cast))
    assert (
        other.post(
            url, {**ask, "reason": "电话联系走访"}, content_type="application/json"
        ).status_code
        == 404
    )


def make_other(cast: Cast) -> User:
    from civicgrid.accounts import services as accounts
    from civicgrid.accounts.models import Role
    from civicgrid.regions.models import Region

    user = accounts.user_create(actor=None, username="b_town2", password=None)
    accounts.staff_post_create(
        actor=None,
        user=user,
        role=Role.CENTER_STAFF,
        region=Region.objects.get(region_code="370303002"),
    )
    return user


def test_a_member_is_edited_from_the_app_through_the_collection_api(
    cast: Cast, household: Callable[..., Household]
) -> None:
    """The household page has an edit form per member (masked values as hints, the
    groups ticked); what the app's outbox sends for two edits saved one after the
    other (the second made on the version the first leaves) changes each member
    once, even when an answer is lost and the same key is sent again."""
    home = household(persons=FAMILY)
    head, child = home.persons.order_by("id")
    worker = signed_in(cast.grid_worker)
    page = worker.get(f"/app/households/{home.pk}/").content.decode()
    assert f'id="app-edit-{head.pk}"' in page and f'id="app-edit-{child.pk}"' in page
    assert 'class="app-form app-member-edit"' in page and "王建国" not in page
    assert 'placeholder="138****5678"' in page
    assert 'value="elderly_alone" checked' in page
    url = "/api/v1/registry/collections/"
    first = {
        "household": home.pk,
        "version": home.version,
        "persons": [
            {"id": head.pk, "name": "王建华", "phone": "13900001111", "groups": []}
        ],
    }
    second = {
        "household": home.pk,
        "version": home.version + 1,
        "persons": [{"id": child.pk, "active": False}],
    }
    for body, key in ((first, "k-1"), (first, "k-1"), (second, "k-2")):
        answer = worker.post(
            url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
        )
        assert answer.status_code in (200, 201), answer.content
    head.refresh_from_db()
    child.refresh_from_db()
    assert head.name == "王建华" and head.phone == "13900001111"
    assert head.group_list == [] and not child.active
    home.refresh_from_db()
    assert home.version == 3 and home.collections.count() == 3
    shown = worker.get(f"/app/households/{home.pk}/").content.decode()
    assert "王**" in shown and 'data-version="3"' in shown
    # An edit made on an old copy is refused with the current state (409).
    stale = worker.post(
        url, second, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert stale.status_code == 409 and stale.json()["household"]["version"] == 3
