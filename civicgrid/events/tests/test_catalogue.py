"""The matter catalogue: the default catalogue, Excel import/export/template, commands."""

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from civicgrid.accounts.models import Department
from civicgrid.core.models import AuditRecord
from civicgrid.core.reports import ImportRejected
from civicgrid.events.catalogue import (
    DEFAULT_CATALOGUE,
    catalogue_export_xlsx,
    catalogue_import_xlsx,
    catalogue_load_default,
    catalogue_template_xlsx,
)
from civicgrid.events.catalogue_sheets import (
    LIMIT_KEYS,
    category_columns,
    matter_columns,
    sheet_titles,
)
from civicgrid.events.models import Matter, MatterCategory

pytestmark = pytest.mark.django_db

TEN_AREAS = {
    "城市管理",
    "生态环境",
    "安全生产与消防",
    "社会治安",
    "矛盾纠纷",
    "住房与物业",
    "市场监管",
    "交通运输",
    "社会民生服务",
    "信访诉求",
}


def snapshot() -> dict[str, Any]:
    categories = {
        c.code: (c.name, c.parent.code if c.parent else "", c.order)
        for c in MatterCategory.objects.select_related("parent")
    }
    matters = {
        m.code: (
            m.name,
            m.category.code,
            m.description,
            m.keywords,
            m.town_department,
            m.county_department,
            m.city_department,
            json.dumps(m.time_limits, sort_keys=True),
            m.admitted_to_grid,
            m.small_in_grid,
            m.peace_item_code,
            m.active,
        )
        for m in Matter.objects.select_related("category")
    }
    return {"categories": categories, "matters": matters}


def edited(data: bytes, edit: Callable[[Any, Any], None]) -> bytes:
    """The workbook with edit(categories_sheet, matters_sheet) applied."""
    wb = load_workbook(io.BytesIO(data))
    titles = sheet_titles()
    edit(wb[titles["categories"]], wb[titles["matters"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def line_of(ws: Any, code: str) -> int:
    for row in ws.iter_rows(min_row=2):
        if row[0].value == code:
            return int(row[0].row)
    raise AssertionError(code)


def column_of(key: str) -> int:
    return [k for k, _label, _w in matter_columns()].index(key) + 1


@pytest.fixture
def loaded() -> None:
    catalogue_load_default(actor=None)


def test_default_catalogue_covers_the_ten_areas_with_complete_matters(loaded):
    """The default has ≥ 60 active matters under the ten areas; each has limits for
    every severity and step, a valid department kind at each level, and only
    admitted matters are small ones."""
    roots = MatterCategory.objects.filter(parent__isnull=True)
    assert set(roots.values_list("name", flat=True)) == TEN_AREAS
    matters = list(Matter.objects.filter(active=True).select_related("category"))
    assert len(matters) >= 60
    kinds = set(Department.Kind.values)
    areas_with_matters = {m.category.parent.name for m in matters if m.category.parent}
    assert areas_with_matters == TEN_AREAS
    for m in matters:
        for severity, kind in LIMIT_KEYS:
            hours = m.limit_hours(severity, kind)
            assert hours is not None and hours > 0, (m.code, severity, kind)
        for level in ("town", "county", "city"):
            assert m.department_kind(level) in kinds, (m.code, level)
        assert m.keywords, m.code
        assert not m.small_in_grid or m.admitted_to_grid, m.code


def test_default_catalogue_limits_and_admission_are_sensible(loaded):
    """Urgent fire hazards are signed for within an hour and handled within a day;
    ordinary street vending allows 4 h / 72 h; crime and petitions never go to grid
    workers; small neighbourhood matters do."""
    fire = Matter.objects.get(name="消防通道堵塞")
    assert fire.limit_hours("urgent", "sign_for") <= 1
    assert fire.limit_hours("urgent", "handle") <= 24
    vending = Matter.objects.get(name="占道经营")
    assert vending.limit_hours("normal", "sign_for") == 4
    assert vending.limit_hours("normal", "handle") == 72
    assert vending.limit_hours("normal", "return_visit") == 48
    for name in ("盗窃线索", "打架斗殴", "生产安全事故", "来信来访诉求", "火灾险情"):
        assert not Matter.objects.get(name=name).admitted_to_grid, name
    for name in ("占道经营", "乱堆乱放", "邻里纠纷"):
        matter = Matter.objects.get(name=name)
        assert matter.admitted_to_grid and matter.small_in_grid, name


def test_peace_items_are_listed_in_the_default_file(loaded):
    """Every peace-index code a matter names is in the file's peace_items mapping,
    and fire, production-safety, traffic and public-order matters feed one."""
    items = json.loads(DEFAULT_CATALOGUE.read_text(encoding="utf-8"))["peace_items"]
    codes = set(
        Matter.objects.exclude(peace_item_code="").values_list(
            "peace_item_code", flat=True
        )
    )
    assert codes <= set(items)
    for name in ("火灾险情", "生产安全事故", "交通事故", "打架斗殴"):
        assert Matter.objects.get(name=name).peace_item_code in items


def test_load_default_is_idempotent():
    """Loading twice creates everything once; the second run changes nothing and
    writes only its summary audit record."""
    Matter.objects.all().delete()  # the session loaded it: start from nothing
    for _depth in range(3):  # children before parents
        MatterCategory.objects.filter(children__isnull=True).delete()
    first = catalogue_load_default(actor=None)
    assert first.created == MatterCategory.objects.count() + Matter.objects.count()
    before, audits = snapshot(), AuditRecord.objects.count()
    second = catalogue_load_default(actor=None)
    assert (second.created, second.updated) == (0, 0)
    assert snapshot() == before
    assert AuditRecord.objects.count() == audits + 1


def test_load_default_restores_an_edited_matter(loaded):
    """A changed default matter is put back, and the change is audited."""
    Matter.objects.filter(code="CG01001").update(name="改过的", small_in_grid=False)
    report = catalogue_load_default(actor=None)
    assert report.updated == 1
    assert Matter.objects.get(code="CG01001").name == "占道经营"
    record = AuditRecord.objects.filter(action="matter.update").latest("id")
    assert record.changes["name"] == ["改过的", "占道经营"]


def test_export_then_import_changes_nothing(loaded):
    """Re-importing an export reports no creations or updates and leaves the
    catalogue exactly as it was."""
    before = snapshot()
    report = catalogue_import_xlsx(catalogue_export_xlsx(), actor=None, file="c.xlsx")
    assert (report.created, report.updated, report.errors) == (0, 0, [])
    assert snapshot() == before


def test_export_rebuilds_the_catalogue_from_scratch(loaded):
    """An export imported into an empty catalogue recreates it identically."""
    before, data = snapshot(), catalogue_export_xlsx()
    Matter.objects.all().delete()
    MatterCategory.objects.filter(parent__isnull=False).delete()
    MatterCategory.objects.all().delete()
    report = catalogue_import_xlsx(data, actor=None, file="c.xlsx")
    assert report.created == len(before["categories"]) + len(before["matters"])
    assert snapshot() == before


def test_import_updates_and_audits_a_changed_row(loaded):
    """A changed cell updates that matter only, with an audit record of the change."""
    data = edited(
        catalogue_export_xlsx(),
        lambda c, m: m.cell(line_of(m, "CG01002"), column_of("normal.handle"), 48),
    )
    report = catalogue_import_xlsx(data, actor=None, file="c.xlsx")
    assert (report.created, report.updated) == (0, 1)
    assert Matter.objects.get(code="CG01002").limit_hours("normal", "handle") == 48
    assert AuditRecord.objects.filter(action="matter_catalogue.import").exists()


def _matter_cell(code: str, key: str, value: Any) -> Callable[[Any, Any], None]:
    return lambda c, m: m.cell(line_of(m, code), column_of(key), value)


def _duplicate_matter(c: Any, m: Any) -> None:
    m.cell(line_of(m, "CG01003"), 1, "CG01002")


def _category_cell(code: str, col: int, value: Any) -> Callable[[Any, Any], None]:
    return lambda c, m: c.cell(line_of(c, code), col, value)


@pytest.mark.parametrize(
    ("edit", "sheet", "code", "reason"),
    [
        (_matter_cell("CG01002", "category", "ZZ99"), "matters", "CG01002", "ZZ99"),
        (
            _matter_cell("CG01002", "county_department", "城管大队"),
            "matters",
            "CG01002",
            "城管大队",
        ),
        (
            _matter_cell("CG01002", "urgent.handle", "两天"),
            "matters",
            "CG01002",
            "两天",
        ),
        (_matter_cell("CG01002", "major.verify", -6), "matters", "CG01002", "-6"),
        (_matter_cell("CG01002", "name", "  "), "matters", "CG01002", "name"),
        (_duplicate_matter, "matters", "CG01003", "CG01002"),
        (
            _matter_cell("CG01002", "admitted_to_grid", "也许"),
            "matters",
            "CG01002",
            "也许",
        ),
        (_category_cell("CG01", 3, "QQ"), "categories", "CG01", "QQ"),
        (_category_cell("CG01", 2, ""), "categories", "CG01", "name"),
        (_category_cell("CG", 3, "CG01"), "categories", "CG", "ancestor"),
    ],
    ids=[
        "unknown category",
        "bad department kind",
        "non-numeric limit",
        "negative limit",
        "missing name",
        "duplicate code",
        "bad yes/no",
        "unknown parent",
        "category missing name",
        "category loop",
    ],
)
def test_a_bad_row_is_reported_with_sheet_and_line_and_nothing_is_written(
    loaded, edit, sheet, code, reason
):
    """Each kind of bad row is named as (file, sheet:line, reason), and a good change
    in the same file is not written either."""
    exported = catalogue_export_xlsx()
    wb = load_workbook(io.BytesIO(exported))
    ws = wb[sheet_titles()[sheet]]
    line = line_of(ws, code)

    def both(c: Any, m: Any) -> None:
        m.cell(line_of(m, "CG01001"), column_of("name"), "占道经营(改)")
        edit(c, m)

    before = snapshot()
    with pytest.raises(ImportRejected) as caught:
        catalogue_import_xlsx(edited(exported, both), actor=None, file="bad.xlsx")
    errors = caught.value.report.errors
    assert errors, "a bad row must be reported"
    assert all(e.file == "bad.xlsx" for e in errors)
    assert f"{sheet_titles()[sheet]}:{line}" in {e.line for e in errors}
    assert any(reason in e.reason for e in errors), [str(e) for e in errors]
    assert snapshot() == before


def test_a_file_that_is_not_a_workbook_is_rejected():
    """Bytes that are not .xlsx are one error at line 0."""
    with pytest.raises(ImportRejected) as caught:
        catalogue_import_xlsx(b"code,name\n", actor=None, file="x.csv")
    assert [(e.file, e.line) for e in caught.value.report.errors] == [("x.csv", 0)]


def test_missing_columns_are_reported_on_the_header_line():
    """A matters sheet without its limit columns is refused at line 1."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_titles()["matters"]
    ws.append(["code", "name", "category"])
    out = io.BytesIO()
    wb.save(out)
    with pytest.raises(ImportRejected) as caught:
        catalogue_import_xlsx(out.getvalue(), actor=None, file="m.xlsx")
    lines = {e.line for e in caught.value.report.errors}
    assert lines == {f"{ws.title}:1"}


def test_machine_keys_codes_and_true_false_are_accepted():
    """Headers may be machine keys, department kinds codes, booleans true/false;
    categories may come later in the sheet than their children."""
    wb = Workbook()
    cats = wb.active
    cats.title = "categories"
    cats.append(["code", "name", "parent", "order"])
    cats.append(["T01", "测试子类", "T", 1])
    cats.append(["T", "测试", "", 1])
    matters = wb.create_sheet("matters")
    keys = [k for k, _label, _w in matter_columns()]
    matters.append(keys)
    row = {
        "code": "T01001",
        "name": "测试事项",
        "category": "T01",
        "keywords": "甲、乙，丙 丙",
        "town_department": "urban_management",
        "county_department": "urban_management",
        "city_department": "",
        "admitted_to_grid": "true",
        "small_in_grid": "false",
        "active": None,
        **{f"{s}.{k}": 0.5 if k == "sign_for" else "24" for s, k in LIMIT_KEYS},
    }
    matters.append([row.get(k) for k in keys])
    out = io.BytesIO()
    wb.save(out)
    report = catalogue_import_xlsx(out.getvalue(), actor=None, file="t.xlsx")
    assert report.created == 3
    matter = Matter.objects.get(code="T01001")
    assert matter.keywords == "甲,乙,丙"
    assert matter.time_limits["urgent"] == {
        "sign_for": 0.5,
        "handle": 24,
        "verify": 24,
        "return_visit": 24,
    }
    assert matter.admitted_to_grid and not matter.small_in_grid and matter.active
    assert matter.category.parent.code == "T"


def test_template_has_the_headers_and_no_rows():
    """The template holds both sheets with every column header and no data."""
    wb = load_workbook(io.BytesIO(catalogue_template_xlsx()))
    titles = sheet_titles()
    for key, columns in (("categories", category_columns), ("matters", matter_columns)):
        ws = wb[titles[key]]
        header = [c.value for c in ws[1]]
        assert header == [label for _k, label, _w in columns()]
        assert ws.max_row == 1


def test_commands_load_export_and_import(tmp_path):
    """load_catalogue loads the default, export_catalogue writes it, import_catalogue
    reads it back unchanged and refuses a bad file."""
    call_command("load_catalogue", stdout=io.StringIO())
    assert Matter.objects.count() >= 60
    path = tmp_path / "catalogue.xlsx"
    call_command("export_catalogue", str(path), stdout=io.StringIO())
    before = snapshot()
    out = io.StringIO()
    call_command("import_catalogue", str(path), stdout=out)
    assert "created 0, updated 0" in out.getvalue()
    assert snapshot() == before
    template = tmp_path / "template.xlsx"
    call_command("export_catalogue", str(template), "--template", stdout=io.StringIO())
    assert load_workbook(template).sheetnames[:2] == list(sheet_titles().values())
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(CommandError):
        call_command("import_catalogue", str(bad), stderr=io.StringIO())


def test_admin_lists_the_catalogue_exports_it_and_keeps_events_read_only(
    loaded, client
):
    """The back office lists matters, downloads the catalogue and the template as
    Excel, and offers no add, change or delete for events and their timeline."""
    from civicgrid.accounts import services as accounts

    root = accounts.user_create(
        actor=None, username="root", password="Test#Passw0rd", is_superuser=True
    )
    root.is_staff = True
    root.save(update_fields=["is_staff"])
    client.force_login(root)
    page = client.get("/admin/events/matter/")
    assert page.status_code == 200
    assert "占道经营" in page.content.decode()
    for url in ("/admin/events/matter/export/", "/admin/events/matter/template/"):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        load_workbook(io.BytesIO(response.content))
    action = client.post(
        "/admin/events/matter/",
        {
            "action": "export_catalogue",
            "_selected_action": [Matter.objects.get(code="CG01001").pk],
        },
    )
    assert action["Content-Type"].startswith("application/vnd.openxmlformats")
    for model in ("event", "eventaction", "attachment", "assignment"):
        assert client.get(f"/admin/events/{model}/").status_code == 200
        assert client.get(f"/admin/events/{model}/add/").status_code == 403
    assert client.get("/admin/events/workflowdefinition/").status_code == 200
