"""Information collection and visits: validation, versions, idempotency, the
follow-up event, scope and the audit trail (personal data never in it)."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from civicgrid.accounts.models import Role, User
from civicgrid.core.audit import AuditRecord
from civicgrid.events.models import Event
from civicgrid.events.tests.conftest import Cast
from civicgrid.events.uploads import check_photo
from civicgrid.regions.models import Grid
from civicgrid.registry import selectors
from civicgrid.registry.errors import (
    IdempotencyConflict,
    OutsideScope,
    RegistryError,
    StaleHousehold,
)
from civicgrid.registry.models import Household, Visit
from civicgrid.registry.services import household_collect, request_digest, visit_record
from civicgrid.registry.tests.conftest import ID_A, ID_B, ID_BAD, ID_CHILD

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
    b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00"
    b"\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)
FAMILY = [
    {
        "name": "王建国",
        "id_number": ID_A,
        "phone": "13812345678",
        "relation": "head",
        "groups": ["elderly_alone"],
    },
    {
        "name": "王小明",
        "id_number": ID_CHILD,
        "relation": "child",
        "groups": ["left_behind_child", "drug_user"],
    },
]


def test_a_household_is_registered_with_its_members_encrypted_and_audited(
    cast: Cast,
) -> None:
    collection, created = household_collect(
        actor=cast.grid_worker,
        grid=cast.grid,
        fields={"address": "幸福小区1-101"},
        persons=FAMILY,
    )
    household = collection.household
    assert created and household.region_code == cast.grid.code
    assert household.version == 1 and household.city_code == "3703"
    people = list(household.persons.order_by("id"))
    assert [p.name for p in people] == ["王建国", "王小明"]
    assert people[0].group_list == ["elderly_alone"]
    # Stored encrypted, found by the blind index.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id_number FROM registry_person WHERE id = %s", [people[0].pk]
        )
        raw = cur.fetchone()[0]
    assert ID_A not in raw and people[0].id_index
    record = AuditRecord.objects.get(action="registry.collect")
    assert record.region_code == cast.grid.code
    assert "王建国" not in str(record.changes) and ID_A not in str(record.changes)
    assert record.changes["persons_added"] == 2


def test_bad_members_are_refused_and_nothing_is_written(cast: Cast) -> None:
    for bad in (
        {"name": "李四", "id_number": ID_BAD},
        {"name": "李四", "phone": "12345"},
        {"name": "", "relation": "head"},
        {"name": "李四", "groups": ["no_such_group"]},
    ):
        with pytest.raises(RegistryError):
            household_collect(
                actor=cast.grid_worker,
                grid=cast.grid,
                fields={"address": "坏数据1号"},
                persons=[bad],
            )
    assert (
        not Household.objects.exists()
        and not AuditRecord.objects.filter(action="registry.collect").exists()
    )


def test_one_id_number_lives_once_in_a_city(
    cast: Cast, household: Callable[..., Household]
) -> None:
    household("甲1号", persons=[{"name": "赵一", "id_number": ID_B}])
    with pytest.raises(RegistryError, match="已在本市登记"):
        household("乙2号", persons=[{"name": "赵一", "id_number": ID_B}])
    assert Household.objects.count() == 1


def test_an_update_on_an_old_copy_is_refused(
    cast: Cast, household: Callable[..., Household]
) -> None:
    home = household(persons=FAMILY[:1])
    head = home.persons.get()
    done, _ = household_collect(
        actor=cast.grid_worker,
        household=home,
        version=1,
        fields={"kind": "rented"},
        persons=[
            {"id": head.pk, "phone": "13900000000"},
            {"name": "租客甲", "relation": "tenant"},
        ],
    )
    home.refresh_from_db()
    assert home.version == 2 and home.kind == "rented"
    assert done.changes["household"] == ["kind"]
    assert done.changes["persons_updated"] == {str(head.pk): ["phone"]}
    assert home.persons.count() == 2
    with pytest.raises(StaleHousehold):
        household_collect(
            actor=cast.town, household=home, version=1, fields={"note": "旧副本"}
        )
    home.refresh_from_db()
    assert home.note == "" and home.version == 2


def test_collection_is_idempotent_on_its_key(cast: Cast) -> None:
    body = {"address": "幸福小区9-901"}
    digest = request_digest(body)
    first, created = household_collect(
        actor=cast.grid_worker,
        grid=cast.grid,
        fields=body,
        idempotency_key="k-1",
        digest=digest,
    )
    again, created_again = household_collect(
        actor=cast.grid_worker,
        grid=cast.grid,
        fields=body,
        idempotency_key="k-1",
        digest=digest,
    )
    assert created and not created_again and again.pk == first.pk
    with pytest.raises(IdempotencyConflict):
        household_collect(
            actor=cast.grid_worker,
            grid=cast.grid,
            fields={"address": "别处"},
            idempotency_key="k-1",
            digest=request_digest({"address": "别处"}),
        )
    assert Household.objects.count() == 1


def test_nobody_writes_outside_their_regions(
    cast: Cast, household: Callable[..., Household], make_staff: Callable[..., User]
) -> None:
    other = Grid.objects.filter(code__startswith="370303002").order_by("code")[0]
    with pytest.raises(OutsideScope):
        household_collect(actor=cast.grid_worker, grid=other, fields={"address": "x"})
    home = household()
    with pytest.raises(OutsideScope):
        visit_record(
            actor=make_staff("b_town", Role.CENTER_STAFF, region="370303002"),
            household=home,
        )


def test_a_visit_is_recorded_with_position_photos_and_time(
    cast: Cast, household: Callable[..., Household]
) -> None:
    home = household()
    p = cast.grid.geometry.representative_point()
    when = timezone.now() - timedelta(hours=3)
    visit, created = visit_record(
        actor=cast.grid_worker,
        household=home,
        kind="care",
        visited_at=when,
        lon=p.x,
        lat=p.y,
        notes="老人身体尚好",
        photos=[check_photo(PNG)],
    )
    assert created and visit.photos.count() == 1 and visit.event is None
    home.refresh_from_db()
    assert home.last_visit_at == when
    # An earlier visit recorded later (offline) does not move the last visit back.
    visit_record(
        actor=cast.grid_worker, household=home, visited_at=when - timedelta(days=1)
    )
    home.refresh_from_db()
    assert home.last_visit_at == when
    audit = AuditRecord.objects.filter(action="registry.visit").first()
    assert audit is not None and "老人" not in str(audit.changes)


def test_visit_times_out_of_range_are_refused(
    cast: Cast, household: Callable[..., Household]
) -> None:
    home = household()
    for when in (
        timezone.now() + timedelta(hours=1),
        timezone.now() - timedelta(days=91),
    ):
        with pytest.raises(RegistryError):
            visit_record(actor=cast.grid_worker, household=home, visited_at=when)
    with pytest.raises(RegistryError):
        visit_record(actor=cast.grid_worker, household=home, lon=1.0, lat=None)
    assert not Visit.objects.exists()


def test_a_visit_needing_follow_up_opens_an_event_once(
    cast: Cast, household: Callable[..., Household]
) -> None:
    home = household()
    kwargs = {
        "actor": cast.grid_worker,
        "household": home,
        "notes": "楼道堆放杂物",
        "follow_up": True,
        "follow_up_title": "楼道杂物",
        "idempotency_key": "v-1",
        "digest": request_digest({"n": 1}),
    }
    visit, created = visit_record(**kwargs)  # type: ignore[arg-type]
    again, created_again = visit_record(**kwargs)  # type: ignore[arg-type]
    assert created and not created_again and again.pk == visit.pk
    assert visit.event is not None
    event = Event.objects.get()
    assert event.source == "grid_worker" and event.grid_id == cast.grid.pk
    assert event.title == "楼道杂物" and event.address == home.address
    assert Visit.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        visit_record(**{**kwargs, "digest": request_digest({"n": 2})})  # type: ignore[arg-type]


def test_the_follow_up_event_fails_with_the_visit(
    cast: Cast, household: Callable[..., Household]
) -> None:
    home = household()
    with pytest.raises(RegistryError):
        visit_record(actor=cast.grid_worker, household=home, follow_up=True)
    assert not Visit.objects.exists() and not Event.objects.exists()


def test_selectors_keep_to_the_scope_and_hide_restricted_groups(
    cast: Cast, household: Callable[..., Household]
) -> None:
    home = household(persons=FAMILY)
    assert list(selectors.households_visible(cast.grid_worker)) == [home]
    assert list(selectors.households_visible(cast.town)) == [home]
    assert not selectors.households_visible(cast.urban).exists()
    listed = selectors.household_list(cast.grid_worker, {"group": "left_behind_child"})
    assert [h.members for h in listed] == [2]  # type: ignore[attr-defined]
    assert not selectors.household_list(cast.grid_worker, {"group": "veteran"}).exists()
    members = selectors.household_members(cast.grid_worker, home)
    assert members[0]["name"] == "王**" and members[0]["id_number"].endswith("1230")
    assert ID_A not in str(members)
    assert members[1]["groups"] == ["drug_user", "left_behind_child"]
    # Without the unmask permission the restricted group is not shown.
    shown = selectors.groups_shown(cast.urban, ["drug_user", "disabled"])
    assert shown == ["disabled"]


def test_a_member_edit_keeps_the_groups_the_editor_may_not_see(
    cast: Cast, household: Callable[..., Household], make_staff: Callable[..., User]
) -> None:
    """A specialist grid worker (who may not unmask) is not shown the restricted
    groups: setting a member's groups keeps those the member has."""
    home = household(persons=FAMILY)
    child = home.persons.order_by("id")[1]
    specialist = make_staff("s_spec", Role.GRID_SPECIALIST, grid=cast.grid)
    household_collect(
        actor=specialist,
        household=home,
        version=home.version,
        persons=[{"id": child.pk, "name": "王晓明", "groups": ["disabled"]}],
    )
    child.refresh_from_db()
    assert child.name == "王晓明"
    assert child.group_list == ["disabled", "drug_user"]
    # Someone who sees them may take one away.
    home.refresh_from_db()
    household_collect(
        actor=cast.grid_worker,
        household=home,
        version=home.version,
        persons=[{"id": child.pk, "groups": ["disabled"]}],
    )
    child.refresh_from_db()
    assert child.group_list == ["disabled"]
