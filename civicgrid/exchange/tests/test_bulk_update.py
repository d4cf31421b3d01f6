"""Bulk update of existing rows on the /exchange/bulk/ page: a re-uploaded sheet with
changed values updates the departments and grid-staff people it names (audited,
personal data kept encrypted), the report says created / updated / unchanged, a
masked phone means unchanged, nothing is written unless every row is good, people
outside the importer's regions are refused; pool members (disputes) are updated
through their service with the same rules."""

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
from civicgrid.disputes.errors import DisputeError, NotPermitted
from civicgrid.exchange.tests.test_bulk import (
    exported,
    grid_code,
    report_of,
    sheet_rows,
    upload,
    with_rows,
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


def test_pool_members_updated_by_a_reuploaded_sheet(
    client: Client, make_staff: Any
) -> None:
    """An exported pool sheet with a member's qualifications, maximum and
    availability changed updates that member through disputes.mediator_update
    (audited); a bad row beside it, a member also serving another county, or a
    replaced account is refused by line, with nothing written."""
    mine = disputes.mediator_create(
        actor=None, name="池中人", kind="mediator", regions=["370303"]
    )
    disputes.mediator_create(
        actor=None, name="跨区人", kind="expert", regions=["370303", "370302"]
    )
    linked = disputes.mediator_create(
        actor=None,
        name="有号人",
        kind="mediator",
        regions=["370303001"],
        user=make_staff("pool_acct", Role.MEDIATOR, region="370303001"),
    )
    sysadmin = make_staff("bulk_pool_sys", Role.SYSADMIN, region="370303")
    client.force_login(sysadmin)
    data = exported(client, "experts")
    names = [r[0] for r in sheet_rows(data)[2:]]
    assert {"池中人", "跨区人", "有号人"} <= set(names)  # by home area
    changed = edited(
        data, {("池中人", 6): "律师", ("池中人", 7): 3, ("池中人", 9): "否"}
    )

    answer = upload(client, "experts", changed)

    assert answer.status_code == 200, report_of(answer).errors
    report = report_of(answer)
    assert (report.created, report.updated, report.skipped) == (0, 1, len(names) - 1)
    line = 3 + names.index("池中人")
    (note,) = report.notes
    assert str(line) in note and note in answer.content.decode()
    mine.refresh_from_db()
    assert (mine.qualifications, mine.max_load, mine.available) == ("律师", 3, False)
    audit = AuditRecord.objects.get(action="disputes.mediator.update")
    assert audit.actor == sysadmin and set(audit.changes) == {
        "qualifications",
        "max_load",
        "available",
    }

    # a good change beside bad rows: every bad line reported, nothing written
    bad = with_rows(
        edited(
            changed,
            {
                ("池中人", 6): "调解员证",
                ("有号人", 8): "bulk_pool_sys",  # another account
                ("跨区人", 6): "医师",  # also serves 淄川区
            },
        ),
        [["新人", "judge", "370303", "", "", "", "", "", "", ""]],
    )
    answer = upload(client, "experts", bad)
    assert answer.status_code == 400
    lines = sorted(e.line for e in report_of(answer).errors)
    assert lines == sorted(
        [3 + names.index("有号人"), 3 + names.index("跨区人"), len(names) + 3]
    )
    mine.refresh_from_db()
    linked.refresh_from_db()
    assert mine.qualifications == "律师" and linked.user == User.objects.get(
        username="pool_acct"
    )


def test_mediator_update_is_scoped_and_audited(make_staff: Any) -> None:
    """The service: only the fields that change are written and audited (nothing
    when none does); a member serving an area outside the actor's scope, or a new
    home area, is refused."""
    m = disputes.mediator_create(
        actor=None, name="服务人", kind="mediator", regions=["370303"]
    )
    actor = make_staff("pool_svc", Role.SYSADMIN, region="370303")
    disputes.mediator_update(
        actor=actor, mediator=m, scope=["370303"], specialties=["neighbours"]
    )
    disputes.mediator_update(
        actor=actor, mediator=m, scope=["370303"], specialties=["neighbours"]
    )
    (audit,) = AuditRecord.objects.filter(action="disputes.mediator.update")
    assert audit.changes == {"specialties": [[], ["neighbours"]]}
    with pytest.raises(NotPermitted):
        disputes.mediator_update(
            actor=actor, mediator=m, scope=["370303"], regions=["370303", "370302"]
        )
    with pytest.raises(DisputeError):
        disputes.mediator_update(
            actor=actor, mediator=m, scope=["3703"], regions=["370302"]
        )
    m.refresh_from_db()
    assert m.regions == ["370303"] and m.specialties == ["neighbours"]
