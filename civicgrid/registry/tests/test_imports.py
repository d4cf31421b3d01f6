"""Households from Excel: one row per person, grouped by address; every bad row
reported with its line, and nothing written when there is one."""

import io

import pytest
from django.utils import translation
from openpyxl import Workbook
from rest_framework.test import APIClient

from civicgrid.core.reports import ImportRejected
from civicgrid.events.tests.conftest import Cast
from civicgrid.registry.imports import households_import
from civicgrid.registry.models import Household, Person
from civicgrid.registry.tests.conftest import ID_A, ID_B, ID_BAD, ID_CHILD

pytestmark = pytest.mark.django_db

HEADER = [
    "网格编码",
    "住址",
    "房屋类别",
    "姓名",
    "身份证号",
    "联系电话",
    "与户主关系",
    "人口类别",
    "特殊人群",
]


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [HEADER, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_households_are_imported_grouped_by_address(cast: Cast) -> None:
    g = cast.grid.code
    content = xlsx(
        [
            [
                g,
                "光明小区1-101",
                "出租房屋",
                "周一",
                ID_A,
                "13812345678",
                "户主",
                "常住人口",
                "独居老人、残疾人",
            ],
            [
                g,
                "光明小区1-101",
                "出租房屋",
                "周二",
                ID_CHILD,
                None,
                "子女",
                "流动人口",
                None,
            ],
            [g, "光明小区1-102", None, "吴三", None, None, None, None, None],
            [None, None, None, None, None, None, None, None, None],
        ]
    )
    with translation.override("en"):
        report = households_import(
            actor=cast.grid_worker, content=content, file_name="户籍.xlsx"
        )
    assert report.created == 2 and report.notes == ["3 persons"]
    first = Household.objects.get(address="光明小区1-101")
    assert first.kind == "rented" and first.data_source == "import:户籍.xlsx"
    people = {p.name: p for p in first.persons.all()}
    assert people["周一"].group_list == ["disabled", "elderly_alone"]
    assert people["周二"].residence == "floating" and people["周二"].relation == "child"
    assert Household.objects.get(address="光明小区1-102").kind == "owned"


def test_every_bad_row_is_reported_and_nothing_is_written(cast: Cast) -> None:
    g = cast.grid.code
    households_import(
        actor=cast.grid_worker,
        content=xlsx([[g, "已登记1号", None, "甲", ID_B]]),
        file_name="a.xlsx",
    )
    content = xlsx(
        [
            [g, "新1号", None, "乙", ID_BAD],  # 2: check digit
            ["370303002001001", "新2号", None, "丙"],  # 3: not my grid
            [g, "新3号", None, "丁", ID_A],  # 4: fine
            [g, "新4号", None, "戊", ID_A],  # 5: same ID as line 4
            [g, "已登记1号", None, "己"],  # 6: address registered
            [g, "新5号", "宫殿", "庚"],  # 7: unknown dwelling
            [g, "新6号", None, "辛", ID_B],  # 8: ID registered in the city
            [g, "新7号", None, "壬", None, "123"],  # 9: phone
        ]
    )
    with pytest.raises(ImportRejected) as rejected:
        households_import(actor=cast.grid_worker, content=content, file_name="b.xlsx")
    lines = [e.line for e in rejected.value.report.errors]
    assert lines == [2, 3, 5, 6, 7, 8, 9]
    assert Household.objects.count() == 1 and Person.objects.count() == 1


def test_the_import_endpoint(cast: Cast) -> None:
    client = APIClient()
    client.force_authenticate(cast.town)
    csv = (f"网格编码,住址,姓名\n{cast.grid.code},东风路3号,陈某\n").encode()
    made = client.post(
        "/api/v1/registry/households/import/",
        {"file": io.BytesIO(csv)},
        format="multipart",
    )
    assert made.status_code == 201 and made.json()["created"] == 1
    bad = client.post(
        "/api/v1/registry/households/import/",
        {"file": io.BytesIO(b"\xff\xfe not utf-8")},
        format="multipart",
    )
    assert bad.status_code == 400 and bad.json()["errors"]
    assert client.post("/api/v1/registry/households/import/", {}).status_code == 400


def test_a_file_without_the_required_columns_is_refused_on_its_heading(
    cast: Cast,
) -> None:
    content = f"网格编码,地址\n{cast.grid.code},东风路5号\n".encode()
    with pytest.raises(ImportRejected) as rejected:
        households_import(actor=cast.town, content=content, file_name="c.csv")
    (error,) = rejected.value.report.errors
    assert error.line == 1 and "姓名" in error.reason and "住址" not in error.reason
    assert not Household.objects.exists()
