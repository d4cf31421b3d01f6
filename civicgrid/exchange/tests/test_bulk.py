"""Bulk Excel templates: download, fill, upload; a per-row report and nothing
partial; scope and the uploader's rights are checked."""

import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Department, Role, StaffPost, User
from civicgrid.conftest import PASSWORD
from civicgrid.regions.models import Grid

pytestmark = pytest.mark.django_db
URL = "/exchange/bulk/"


@pytest.fixture
def root(client: Client) -> Client:
    user = accounts.user_create(
        actor=None, username="bulkroot", password=PASSWORD, is_superuser=True
    )
    client.force_login(user)
    return client


def filled(client: Client, kind: str, rows: list[list[Any]]) -> io.BytesIO:
    """The downloaded template with rows typed under its headings."""
    answer = client.get(URL, {"template": kind})
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(answer.content))
    ws = wb.worksheets[0]
    assert ws.max_row == 2  # the headings only: the example is on another sheet
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = f"{kind}.xlsx"
    return out


def grid_code(prefix: str) -> str:
    code = Grid.objects.filter(code__startswith=prefix).order_by("code").first()
    assert code is not None
    return code.code


def test_departments_all_or_nothing(root: Client) -> None:
    bad = filled(
        root,
        "departments",
        [
            ["张店区市场监管局", "market", "370303000000"],
            ["张店区水利局", "dams", "370303000000"],
            ["某局", "water", "999999999999"],
            ["张店区市场监管局", "market", "370303"],
        ],
    )
    answer = root.post(URL, {"kind": "departments", "file": bad})
    assert answer.status_code == 400
    errors = [(e.line, e.reason) for e in answer.context["report"].errors]
    assert [line for line, _ in errors] == [4, 5, 6]
    assert not Department.objects.filter(name="张店区市场监管局").exists()

    good = filled(
        root,
        "departments",
        [
            ["张店区市场监管局", "market", "370303000000"],
            ["淄川区水利局", "water", "370302"],
        ],
    )
    answer = root.post(URL, {"kind": "departments", "file": good})
    assert answer.status_code == 200, answer.context["report"].errors
    assert answer.context["report"].created == 2
    assert Department.objects.get(name="淄川区水利局").region_code == "370302"


def test_grid_staff_and_experts(root: Client) -> None:
    grid = grid_code("370303001")
    rows = [
        ["wg001", "王网格", "13800000001", "grid_worker", grid, ""],
        ["wg002", "李网格", "138", "grid_leader", grid, ""],
        ["zj001", "赵专家", "", "expert", "", "370303"],
        ["wg003", "张网格", "", "grid_worker", "370303999999999", ""],
    ]
    answer = root.post(URL, {"kind": "staff", "file": filled(root, "staff", rows)})
    assert answer.status_code == 400
    assert [e.line for e in answer.context["report"].errors] == [4, 6]
    assert not User.objects.filter(username__in=["wg001", "zj001"]).exists()
    rows = [rows[0], rows[2]]
    answer = root.post(URL, {"kind": "staff", "file": filled(root, "staff", rows)})
    assert answer.status_code == 200
    worker = StaffPost.objects.get(user__username="wg001")
    assert worker.role == Role.GRID_WORKER and worker.region_code == grid
    expert = StaffPost.objects.get(user__username="zj001")
    assert expert.role == Role.EXPERT and expert.region_code == "370303"


def test_scope_and_rights_of_the_uploader(client: Client, make_staff: Any) -> None:
    town = make_staff("bulk_town", Role.CENTER_STAFF, region="370303001")
    client.force_login(town)
    outside = filled(client, "departments", [["淄川区某局", "water", "370302"]])
    answer = client.post(URL, {"kind": "departments", "file": outside})
    assert "370302" in answer.context["report"].errors[0].reason
    inside = filled(client, "departments", [["车站街道某办", "water", "370303001"]])
    answer = client.post(URL, {"kind": "departments", "file": inside})
    assert answer.status_code == 400  # a center's staff may not configure departments
    assert not Department.objects.filter(name="车站街道某办").exists()


def test_not_a_workbook(root: Client) -> None:
    junk = io.BytesIO(b"name,kind\n")
    junk.name = "x.xlsx"
    answer = root.post(URL, {"kind": "departments", "file": junk})
    assert answer.status_code == 400
    assert answer.context["report"].errors[0].line == 1
