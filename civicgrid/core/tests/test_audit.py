"""Every service writes its audit record in the same transaction, with the source address."""

import pytest
from django.db import transaction
from shapely.geometry import box

from civicgrid.core import context
from civicgrid.core.audit import diff
from civicgrid.core.models import AuditRecord
from civicgrid.regions import services
from civicgrid.regions.models import Grid

pytestmark = pytest.mark.django_db

CODE = "370102001002901"  # a village of 济南市历下区 with no demo grids


def test_grid_changes_are_audited_with_before_and_after(django_user_model) -> None:  # type: ignore[no-untyped-def]
    """Create, rename and delete a grid: three records naming the actor, the object,
    the changed fields and the source address."""
    actor = django_user_model.objects.create_user("auditor-test", password="x")
    token = context.source_address.set("10.1.2.3")
    try:
        grid = services.grid_create(
            actor=actor, code=CODE, name="甲", geometry=box(117, 36.6, 117.001, 36.601)
        )
        services.grid_update(actor=actor, grid=grid, name="乙")
        services.grid_delete(actor=actor, grid=grid)
    finally:
        context.source_address.reset(token)
    records = list(
        AuditRecord.objects.filter(
            object_type="regions.grid", region_code=CODE
        ).order_by("id")
    )
    assert [r.action for r in records] == ["grid.create", "grid.update", "grid.delete"]
    assert {r.actor_id for r in records} == {actor.pk}
    assert {r.source_address for r in records} == {"10.1.2.3"}
    assert records[1].changes["name"] == ["甲", "乙"]


def test_failed_service_leaves_no_audit_record() -> None:
    """An invalid grid is refused: neither the grid nor an audit record is written."""
    before = AuditRecord.objects.count()
    with pytest.raises(services.GridError):
        services.grid_create(
            actor=None, code="370102001002", name="x", geometry=box(0, 0, 1, 1)
        )
    assert AuditRecord.objects.count() == before
    assert not Grid.objects.filter(code__startswith="370102001002").exists()


def test_audit_is_rolled_back_with_the_change() -> None:
    """Same transaction: when the surrounding transaction fails, the record goes too."""
    before = AuditRecord.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.grid_create(
            actor=None, code=CODE, name="甲", geometry=box(117, 36.6, 117.001, 36.601)
        )
        raise RuntimeError("boom")
    assert AuditRecord.objects.count() == before


def test_diff_lists_only_changed_fields() -> None:
    assert diff({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": None}) == {"b": [2, 3]}
