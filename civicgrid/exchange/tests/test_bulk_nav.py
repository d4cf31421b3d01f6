"""The workbench's navigation links the bulk page for the roles that may use it
(those who may handle at least one kind of bulk data), and for no one else."""

from typing import Any

import pytest
from django.test import Client

from civicgrid.accounts.models import Role

pytestmark = pytest.mark.django_db
BULK = 'href="/exchange/bulk/"'


@pytest.mark.parametrize(
    ("role", "shown"),
    [
        (Role.SYSADMIN, True),  # departments, catalogue
        (Role.SECURITY_ADMIN, True),  # grid staff
        (Role.CENTER_STAFF, True),  # incident counts
        (Role.GRID_WORKER, False),
        (Role.LEADER, False),
    ],
)
def test_bulk_link_in_the_workbench_nav(
    client: Client, make_staff: Any, role: str, shown: bool
) -> None:
    client.force_login(make_staff(f"nav_{role}", role, region="370303"))
    page = client.get("/workbench/")
    assert page.status_code == 200
    assert (BULK in page.content.decode()) is shown
    # The link is shown exactly to those the page serves.
    kinds = list(client.get("/exchange/bulk/").context["kinds"])
    assert bool(kinds) is shown
