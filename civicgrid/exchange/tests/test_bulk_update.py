"""Bulk update of existing rows on the /exchange/bulk/ page: a re-uploaded sheet with
changed values updates the departments and grid-staff people it names (audited,
personal data kept encrypted), the report says created / updated / unchanged, a
masked phone means unchanged, nothing is written unless every row is good, people
outside the importer's regions are refused, and the pool (disputes) stays refused."""

import io
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from openpyxl import load_workbook

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Department, Role, User
from civicgrid.conftest import PASSWORD
from civicgrid.core.models import AuditRecord
from civicgrid.disputes import services as disputes
from civicgrid.exchange.tests.test_bulk import (
    exported,
    grid_code,
    report_of,
    sheet_rows,
    upload,
)
from civicgrid.regions.models import Grid, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client: Client) -> Client:
    user = accounts.user_create(
        actor=None, username="bulkroot", password=PASSWORD, is_superuser=True
    )
    client.force_login(user)
    return client


def grid_of(code: str) -> Grid:
    return Grid.objects.get(code=code)


def edited(data: bytes, changes: dict[tuple[str, int], Any]) -> bytes:
    """The workbook with cells changed: {(first cell of the row, column): value}."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    for row in ws.iter_rows(min_row=3):
        for (first, column), value in changes.items():
            if row[0].value == first:
                row[column].value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_departments_updated_by_a_reuploaded_sheet(
    client: Client, make_staff: Any
) -> None:
    zhangdian = Region.objects.get(region_code="370303")
    for name in ("张店区甲局", "张店区乙局"):
        accounts.department_create(
            actor=None, name=name, kind="water", region=zhangdian
        )
    sysadmin = make_staff("bulk_upd_sys", Role.SYSADMIN, region="370303")
    client.force_login(sysadmin)
    data = exported(client, "departments")
    rows = sheet_rows(data)[2:]
    changed = edited(data, {("张店区甲局", 1): "police"})
    answer = upload(client, "departments", changed)
    assert answer.status_code == 200, report_of(answer).errors
    report = report_of(answer)
    assert (report.created, report.updated, report.skipped) == (0, 1, len(rows) - 1)
    line = 3 + [r[0] for r in rows].index("张店区甲局")
    assert any(f"{line}" in note for note in report.notes)
    assert Department.objects.get(name="张店区甲局").kind == "police"
    assert Department.objects.get(name="张店区乙局").kind == "water"
    record = AuditRecord.objects.get(action="department.update")
    assert record.actor == sysadmin and record.changes == {"kind": ["water", "police"]}
    assert report.notes[0] in answer.content.decode()

    # A good change next to a bad row: nothing written.
    bad = edited(changed, {("张店区甲局", 1): "water", ("张店区乙局", 1): "dams"})
    answer = upload(client, "departments", bad)
    assert answer.status_code == 400
    assert Department.objects.get(name="张店区甲局").kind == "police"


def test_grid_staff_updated_by_a_reuploaded_sheet(root: Client) -> None:
    grid = grid_code("370303001")
    for username, name, phone in (
        ("upd001", "王网格", "13800000001"),
        ("upd002", "李网格", "13800000002"),
    ):
        user = accounts.user_create(
            actor=None, username=username, password=None, display_name=name, phone=phone
        )
        accounts.staff_post_create(
            actor=None, user=user, role=Role.GRID_WORKER, grid=grid_of(grid)
        )
    data = exported(root, "staff")
    mine = [r for r in sheet_rows(data)[2:] if r[0] in ("upd001", "upd002")]
    assert {r[2] for r in mine} == {"138****0001", "138****0002"}  # masked

    # The masked phones say "unchanged": only upd001's name and upd002's phone change.
    changed = edited(data, {("upd001", 1): "王新名", ("upd002", 2): "13900000002"})
    answer = upload(root, "staff", changed)
    assert answer.status_code == 200, report_of(answer).errors
    report = report_of(answer)
    assert (report.created, report.updated) == (0, 2)
    assert report.skipped == len(sheet_rows(data)) - 2 - 2
    one, two = User.objects.get(username="upd001"), User.objects.get(username="upd002")
    assert (one.display_name, one.phone) == ("王新名", "13800000001")
    assert (two.display_name, two.phone) == ("李网格", "13900000002")
    # The phone stays encrypted at rest, and the audit names the field, not the value.
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [two.pk])
        assert "13900000002" not in cursor.fetchone()[0]
    audits = AuditRecord.objects.filter(action="user.update").order_by("pk")
    assert [a.changes for a in audits] == [
        {"display_name": "changed"},
        {"phone": "changed"},
    ]
    assert "13900000002" not in str(list(audits.values()))

    # The same sheet again: unchanged. A new post for a changed person: created.
    answer = upload(root, "staff", changed)
    assert (report_of(answer).created, report_of(answer).updated) == (0, 0)
    other = grid_code("370303002")
    more = edited(changed, {("upd001", 1): "王再改"})
    wb = load_workbook(io.BytesIO(more))
    wb.worksheets[0].append(["upd001", "王再改", "", "grid_leader", other])
    out = io.BytesIO()
    wb.save(out)
    answer = upload(root, "staff", out.getvalue())
    assert answer.status_code == 400  # the rows of one person must agree (blank phone)
    assert User.objects.get(username="upd001").display_name == "王新名"


def test_people_outside_the_importers_regions_are_not_changed(
    client: Client, make_staff: Any
) -> None:
    here, there = grid_code("370303001"), grid_code("370302")
    person = accounts.user_create(
        actor=None, username="upd_far", password=None, display_name="远方"
    )
    accounts.staff_post_create(
        actor=None, user=person, role=Role.GRID_WORKER, grid=grid_of(there)
    )
    security = make_staff("bulk_upd_sec", Role.SECURITY_ADMIN, region="370303")
    client.force_login(security)
    template = client.get("/exchange/bulk/", {"template": "staff"}).content
    wb = load_workbook(io.BytesIO(template))
    wb.worksheets[0].append(["upd_far", "改名", "", "grid_worker", here])
    out = io.BytesIO()
    wb.save(out)
    answer = upload(client, "staff", out.getvalue())
    assert answer.status_code == 400
    assert [e.line for e in report_of(answer).errors] == [3]
    assert User.objects.get(username="upd_far").display_name == "远方"
    assert not person.posts.filter(grid__code=here).exists()


def test_the_pool_is_not_updated_in_bulk(root: Client) -> None:
    disputes.mediator_create(
        actor=None, name="池中人", kind="mediator", regions=["370303"]
    )
    data = exported(root, "experts")
    answer = upload(root, "experts", edited(data, {("池中人", 6): "律师"}))
    assert answer.status_code == 400
    (error,) = report_of(answer).errors
    assert (
        error.line == 3 and "池中人" in error.reason
    )  # "… change it in the back office"
