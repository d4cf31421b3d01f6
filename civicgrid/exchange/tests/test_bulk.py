"""Bulk Excel import and export of every kind (catalogue, departments, grid staff,
experts and mediators, incident counts) through the /exchange/bulk/ page: the export
imports back unchanged, a bad row is reported by its line with nothing written, and
the export is scoped to the user's regions."""

import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from civicgrid.accounts import services as accounts
from civicgrid.accounts.models import Department, Role, StaffPost, User
from civicgrid.conftest import PASSWORD
from civicgrid.core.models import AuditRecord
from civicgrid.disputes import services as disputes
from civicgrid.disputes.models import Mediator
from civicgrid.events.catalogue import catalogue_load_default
from civicgrid.events.models import Matter
from civicgrid.peace_index import catalogue as peace_catalogue
from civicgrid.peace_index.models import IndexKind, Indicator, MonthlyCount
from civicgrid.regions.models import Grid, Region

pytestmark = pytest.mark.django_db
URL = "/exchange/bulk/"


@pytest.fixture
def root(client: Client) -> Client:
    user = accounts.user_create(
        actor=None, username="bulkroot", password=PASSWORD, is_superuser=True
    )
    client.force_login(user)
    return client


def book(data: bytes, kind: str) -> io.BytesIO:
    out = io.BytesIO(data)
    out.name = f"{kind}.xlsx"
    return out


def filled(client: Client, kind: str, rows: list[list[Any]]) -> io.BytesIO:
    """The downloaded template with rows typed under its headings."""
    answer = client.get(URL, {"template": kind})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(answer.content))
    ws = wb.worksheets[0]
    assert ws.max_row == 2  # the headings only: the example is on another sheet
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return book(out.getvalue(), kind)


def exported(client: Client, kind: str, **options: str) -> bytes:
    answer = client.get(URL, {"export": kind, **options})
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("application/vnd.openxmlformats")
    return bytes(answer.content)


def sheet_rows(data: bytes, index: int = 0) -> list[list[Any]]:
    ws = load_workbook(io.BytesIO(data)).worksheets[index]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def with_rows(data: bytes, rows: list[list[Any]], index: int = 0) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    for row in rows:
        wb.worksheets[index].append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client: Client, kind: str, data: bytes, **options: str) -> Any:
    return client.post(URL, {"kind": kind, "file": book(data, kind), **options})


def report_of(answer: Any) -> Any:
    return answer.context["report"]


def grid_code(prefix: str) -> str:
    grid = Grid.objects.filter(code__startswith=prefix).order_by("code").first()
    assert grid is not None
    return grid.code


def test_the_page_lists_every_kind(root: Client) -> None:
    page = root.get(URL)
    assert page.status_code == 200
    for kind in ("catalogue", "departments", "staff", "experts", "counts"):
        assert f'id="bulk-{kind}"' in page.content.decode()
        assert root.get(URL, {"template": kind}).status_code == 200
    assert root.get(URL, {"template": "nothing"}).status_code == 404


# --- catalogue -----------------------------------------------------------------------


def test_catalogue_round_trip_and_bad_row(root: Client) -> None:
    catalogue_load_default(actor=None)
    data = exported(root, "catalogue")
    answer = upload(root, "catalogue", data)
    assert answer.status_code == 200, report_of(answer).errors
    assert (report_of(answer).created, report_of(answer).updated) == (0, 0)

    wb = load_workbook(io.BytesIO(data))
    matters = wb.worksheets[1]
    first = Matter.objects.get(code=matters.cell(2, 1).value)
    matters.cell(2, 2).value = "改过的名称"  # a good change in the same file
    width = matters.max_column
    matters.append(["!bad code", "某事项", "", *[""] * (width - 3)])
    out = io.BytesIO()
    wb.save(out)
    answer = upload(root, "catalogue", out.getvalue())
    assert answer.status_code == 400
    lines = {str(e.line) for e in report_of(answer).errors}
    assert f"{matters.title}:{matters.max_row}" in lines
    assert Matter.objects.get(pk=first.pk).name == first.name  # nothing written


# --- departments ---------------------------------------------------------------------


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
    assert [e.line for e in report_of(answer).errors] == [4, 5, 6]
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
    assert answer.status_code == 200, report_of(answer).errors
    assert report_of(answer).created == 2
    assert Department.objects.get(name="淄川区水利局").region_code == "370302"


def test_departments_round_trip_scoped(client: Client, make_staff: Any) -> None:
    zhangdian = Region.objects.get(region_code="370303")
    zichuan = Region.objects.get(region_code="370302")
    accounts.department_create(
        actor=None, name="张店区甲局", kind="water", region=zhangdian
    )
    accounts.department_create(
        actor=None, name="淄川区乙局", kind="water", region=zichuan
    )
    client.force_login(make_staff("bulk_sys", Role.SYSADMIN, region="370303"))
    data = exported(client, "departments")
    names = [r[0] for r in sheet_rows(data)[2:]]
    assert "张店区甲局" in names and "淄川区乙局" not in names
    before = Department.objects.count()
    answer = upload(client, "departments", data)
    assert answer.status_code == 200, report_of(answer).errors
    assert report_of(answer).skipped == len(names) and report_of(answer).created == 0
    assert Department.objects.count() == before
    assert AuditRecord.objects.filter(action="exchange.bulk_export").exists()

    # A re-uploaded sheet with another kind updates the department (test_bulk_update).
    changed = with_rows(data, [["张店区甲局", "police", "370303"]])
    answer = upload(client, "departments", changed)
    assert answer.status_code == 400  # the same department twice in one sheet
    assert [e.line for e in report_of(answer).errors] == [len(names) + 3]


# --- grid staff ----------------------------------------------------------------------


def test_grid_staff_import_round_trip(root: Client) -> None:
    grid = grid_code("370303001")
    rows = [
        ["wg001", "王网格", "13800000001", "grid_worker", grid],
        ["wg002", "李网格", "138", "grid_leader", grid],
        ["wg003", "张网格", "", "grid_worker", "370303999999999"],
        ["wg004", "赵网格", "", "grid_leader", grid],
    ]
    answer = root.post(URL, {"kind": "staff", "file": filled(root, "staff", rows)})
    assert answer.status_code == 400
    assert [e.line for e in report_of(answer).errors] == [4, 5]
    assert not User.objects.filter(username__in=["wg001", "wg004"]).exists()
    answer = root.post(
        URL, {"kind": "staff", "file": filled(root, "staff", [rows[0], rows[3]])}
    )
    assert answer.status_code == 200, report_of(answer).errors
    worker = StaffPost.objects.get(user__username="wg001")
    assert worker.role == Role.GRID_WORKER and worker.region_code == grid

    data = exported(root, "staff")
    mine = [r for r in sheet_rows(data)[2:] if r[0] in ("wg001", "wg004")]
    assert ["wg001", "王网格", "138****0001", "grid_worker", grid] in mine  # masked
    posts = StaffPost.objects.count()
    answer = upload(root, "staff", data)
    assert answer.status_code == 200, report_of(answer).errors
    assert report_of(answer).created == 0 and StaffPost.objects.count() == posts
    assert User.objects.get(username="wg001").phone == "13800000001"


# --- experts and mediators (disputes) ----------------------------------------------------


def test_experts_round_trip_and_bad_rows(root: Client) -> None:
    zhangdian = Region.objects.get(region_code="370303")
    org = disputes.organisation_create(
        actor=None,
        name="张店区人民调解委员会",
        channel="peoples_mediation",
        level="county",
        region=zhangdian,
    )
    rows: list[list[Any]] = [
        [
            "赵专家",
            "expert",
            "370303",
            "370302",
            "marriage_family,neighbours",
            "",
            "律师",
            5,
            "",
        ],
        ["钱调解", "mediator", "370303001", "", "neighbours", org.name, "", "", ""],
        ["孙调解", "mediator", "370303", "", "no_such_type", "", "", "", ""],
        ["李调解", "judge", "370303", "", "", "", "", "", ""],
        ["周调解", "mediator", "370303", "", "", "不存在的组织", "", "", ""],
    ]
    answer = root.post(URL, {"kind": "experts", "file": filled(root, "experts", rows)})
    assert answer.status_code == 400
    assert [e.line for e in report_of(answer).errors] == [5, 6, 7]
    assert not Mediator.objects.filter(name="赵专家").exists()

    answer = root.post(
        URL, {"kind": "experts", "file": filled(root, "experts", rows[:2])}
    )
    assert answer.status_code == 200, report_of(answer).errors
    zhao = Mediator.objects.get(name="赵专家")
    assert zhao.regions == ["370303", "370302"] and zhao.max_load == 5
    assert Mediator.objects.get(name="钱调解").organisation == org

    data = exported(root, "experts")
    answer = upload(root, "experts", data)
    assert answer.status_code == 200, report_of(answer).errors
    assert report_of(answer).skipped == 2 and report_of(answer).created == 0
    assert Mediator.objects.filter(name__in=["赵专家", "钱调解"]).count() == 2


def test_experts_export_is_scoped(client: Client, make_staff: Any) -> None:
    disputes.mediator_create(
        actor=None, name="张店甲", kind="mediator", regions=["370303"]
    )
    disputes.mediator_create(
        actor=None, name="淄川乙", kind="mediator", regions=["370302"]
    )
    client.force_login(make_staff("bulk_sys2", Role.SYSADMIN, region="370303"))
    names = [r[0] for r in sheet_rows(exported(client, "experts"))[2:]]
    assert "张店甲" in names and "淄川乙" not in names


# --- incident counts (peace index) --------------------------------------------------------


def test_counts_round_trip_and_bad_row(root: Client) -> None:
    version = peace_catalogue.catalogue_install_default(
        actor=None, kind=IndexKind.PEACE
    )
    items = list(version.indicators.values_list("code", flat=True)[:2])
    villages = list(
        Region.objects.filter(region_code__startswith="370303001", level="village")
        .order_by("code")
        .values_list("region_code", flat=True)[:3]
    )
    template = root.get(URL, {"template": "counts"}).content
    rows = [
        [v, "2026-03", item, n]
        for n, (v, item) in enumerate(
            [(v, i) for v in villages for i in items], start=1
        )
    ]
    answer = upload(root, "counts", with_rows(template, rows), source="police")
    assert answer.status_code == 200, report_of(answer).errors
    stored = sorted(
        MonthlyCount.objects.filter(source="police").values_list(
            "region_code", "month", "indicator_code", "count"
        )
    )
    assert len(stored) == len(rows)

    data = exported(root, "counts", source="police", month="2026-03")
    assert sheet_rows(data)[1:] == [list(r) for r in stored]
    answer = upload(root, "counts", data, source="police")
    assert answer.status_code == 200, report_of(answer).errors
    after = MonthlyCount.objects.filter(source="police").values_list(
        "region_code", "month", "indicator_code", "count"
    )
    assert sorted(after) == stored

    bad = with_rows(data, [[villages[0], "2026-13", items[0], 1]])
    wb = load_workbook(io.BytesIO(bad))
    wb.worksheets[0].cell(2, 4).value = 999  # a good change, not to be written
    out = io.BytesIO()
    wb.save(out)
    answer = upload(root, "counts", out.getvalue(), source="police")
    assert answer.status_code == 400
    assert [e.line for e in report_of(answer).errors] == [len(stored) + 2]
    assert sorted(after) == stored  # nothing written
    assert root.get(URL, {"export": "counts"}).status_code == 400  # no source


def test_count_sources_listed_to_the_cities_delivered(
    root: Client, client: Client, make_staff: Any
) -> None:
    peace_catalogue.catalogue_install_default(actor=None, kind=IndexKind.PEACE)
    code = Indicator.objects.values_list("code", flat=True).first()
    village = (
        Region.objects.filter(region_code__startswith="370303001", level="village")
        .values_list("region_code", flat=True)
        .first()
    )
    template = root.get(URL, {"template": "counts"}).content
    rows: list[list[Any]] = [[village, "2026-03", code, 4]]
    answer = upload(root, "counts", with_rows(template, rows), source="12345热线")
    assert answer.status_code == 200, report_of(answer).errors
    assert root.get(URL).context["sources"] == ["12345热线"]
    client.force_login(make_staff("src_zibo", Role.CENTER_STAFF, region="370303"))
    assert client.get(URL).context["sources"] == ["12345热线"]
    client.force_login(make_staff("src_jinan", Role.CENTER_STAFF, region="370102"))
    assert client.get(URL).context["sources"] == []


# --- rights and bad files ---------------------------------------------------------


def test_rights_of_the_user(client: Client, make_staff: Any) -> None:
    town = make_staff("bulk_town", Role.CENTER_STAFF, region="370303001")
    client.force_login(town)
    page = client.get(URL).content.decode()
    assert 'id="bulk-counts"' in page and 'id="bulk-departments"' not in page
    answer = upload(client, "departments", b"PK")
    assert answer.status_code == 403
    assert client.get(URL, {"export": "staff"}).status_code == 403


def test_not_a_workbook(root: Client) -> None:
    junk = io.BytesIO(b"name,kind\n")
    junk.name = "x.xlsx"
    answer = root.post(URL, {"kind": "departments", "file": junk})
    assert answer.status_code == 400
    assert report_of(answer).errors[0].line == 1
