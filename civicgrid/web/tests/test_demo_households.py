"""The demo's households: the demo grid worker finds a handful of families with
their members, special groups and visits in 'my households', written through the
registry's audited services, and loading the demo again adds nothing."""

import pytest
from shapely.geometry import Point

from civicgrid.accounts.models import User
from civicgrid.core.models import AuditRecord
from civicgrid.core.personal import id_number_is_valid
from civicgrid.registry import selectors
from civicgrid.registry.models import Collection, Person, SpecialGroup, Visit
from civicgrid.web.demo import create_accounts, demo_users
from civicgrid.web.demo_households import HOUSEHOLDS, VISITS, load_demo_households

pytestmark = pytest.mark.django_db


def _users() -> dict[str, User]:
    create_accounts()
    return demo_users()


def test_the_demo_grid_worker_sees_the_demo_households() -> None:
    users = _users()
    worker = users["gridworker"]
    assert not selectors.households_visible(worker).exists()
    assert load_demo_households(users) == len(HOUSEHOLDS) >= 8

    mine = selectors.household_list(worker, {})
    assert sorted(h.address for h in mine) == sorted(h.address for h in HOUSEHOLDS)
    assert Person.objects.filter(household__in=mine, active=True).count() == sum(
        len(h.persons) for h in HOUSEHOLDS
    )
    for h in mine:  # placed inside the worker's grid
        assert h.grid.geometry.covers(Point(h.lon, h.lat)), h.address
    persons = Person.objects.filter(household__in=mine)
    assert all(id_number_is_valid(p.id_number) for p in persons)
    assert len({p.id_number for p in persons}) == persons.count()
    for group in (SpecialGroup.ELDERLY_ALONE, SpecialGroup.DISABLED):
        found = selectors.household_list(worker, {"group": group})
        assert found.count() >= 2, group
    visits = selectors.visits_visible(worker)
    assert visits.count() == len(VISITS)
    assert all(v.worker == worker for v in visits)
    # Written through the services: one audited collection per household.
    assert (
        AuditRecord.objects.filter(action="registry.collect").count()
        == Collection.objects.count()
        == len(HOUSEHOLDS)
    )
    assert AuditRecord.objects.filter(action="registry.visit").count() == len(VISITS)
    # Nobody outside the grid's scope sees them.
    assert not selectors.households_visible(users["dept_urban"]).exists()


def test_loading_the_demo_again_adds_nothing() -> None:
    users = _users()
    load_demo_households(users)
    counts = (
        Person.objects.count(),
        Visit.objects.count(),
        Collection.objects.count(),
        AuditRecord.objects.count(),
    )
    assert load_demo_households(users) == len(HOUSEHOLDS)
    assert (
        Person.objects.count(),
        Visit.objects.count(),
        Collection.objects.count(),
        AuditRecord.objects.count(),
    ) == counts


def test_load_demo_on_a_loaded_demo_adds_the_households_once() -> None:
    """Demos loaded before the households existed get them from `load_demo`."""
    from io import StringIO

    from django.core.management import call_command

    worker = _users()["gridworker"]
    for _ in range(2):
        call_command("load_demo", stdout=StringIO())
    assert selectors.households_visible(worker).count() == len(HOUSEHOLDS)
