"""The workbench's households pages: the list of the user's regions with its
filters, one household (members masked, visits and collections), the Excel export
(masked, or unmasked with a reason; audited) and the import page's report."""

import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from civicgrid.accounts.models import Role, User
from civicgrid.core.models import AuditRecord
from civicgrid.events.tests.conftest import Cast
from civicgrid.registry.models import Household, Person
from civicgrid.registry.services import household_collect, visit_record
from civicgrid.registry.tests.conftest import ID_A, ID_BAD
from civicgrid.registry.tests.test_imports import xlsx
from civicgrid.registry.tests.test_services import FAMILY

pytestmark = pytest.mark.django_db
LIST = "/workbench/households/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows_of(content: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    assert sheet is not None
    return [list(r) for r in sheet.iter_rows(values_only=True)]


@pytest.fixture
def leader(make_staff: Callable[..., User]) -> User:
    return make_staff("h_leader", Role.LEADER, region="370303")


def test_the_list_is_scoped_filtered_and_flags_visits_due(
    cast: Cast,
    household: Callable[..., Household],
    make_staff: Callable[..., User],
    leader: User,
) -> None:
    visited = household("幸福小区1-101", persons=FAMILY)
    visit_record(actor=cast.grid_worker, household=visited, notes="正常")
    old = household("幸福小区1-102")
    Household.objects.filter(pk=old.pk).update(
        last_visit_at=timezone.now() - timedelta(days=120)
    )
    never = household("光明路8号")
    town = signed_in(cast.town)
    body = town.get(LIST).content.decode()
    for h in (visited, old, never):
        assert f'href="{LIST}{h.pk}/"' in body
    assert body.count("待走访") == 2 and "住户" in body
    assert 'href="/workbench/households/import/"' in body

    def listed(query: str) -> set[int]:
        page = town.get(f"{LIST}?{query}")
        assert page.status_code == 200
        return {
            h.pk
            for h in (visited, old, never)
            if f"{LIST}{h.pk}/" in page.content.decode()
        }

    assert listed("q=幸福") == {visited.pk, old.pk}
    assert listed("due=1") == {old.pk, never.pk}
    assert listed("group=elderly_alone") == {visited.pk}
    assert listed(f"grid={cast.grid.code}") == {visited.pk, old.pk, never.pk}
    assert listed("grid=370303002") == set()
    assert town.get(f"{LIST}?group=nope").status_code == 404
    # The county's leader reads the list (no import); a department does not.
    assert visited.address in signed_in(leader).get(LIST).content.decode()
    assert "import/" not in signed_in(leader).get(LIST).content.decode()
    assert signed_in(cast.urban).get(LIST).status_code == 403
    # Another town sees none of them, and their pages do not exist for it.
    other = signed_in(make_staff("h_other", Role.CENTER_STAFF, region="370303002"))
    assert visited.address not in other.get(LIST).content.decode()
    assert other.get(f"{LIST}{visited.pk}/").status_code == 404
    # The workbench's navigation links the page for them, not for departments.
    assert f'href="{LIST}"' in town.get("/workbench/").content.decode()
    assert (
        f'href="{LIST}"'
        not in signed_in(cast.urban).get("/workbench/").content.decode()
    )


def test_the_list_query_count_does_not_grow(
    cast: Cast, household: Callable[..., Household]
) -> None:
    town = signed_in(cast.town)
    household("一号", persons=FAMILY[:1])
    town.get(LIST)
    with CaptureQueriesContext(connection) as one:
        town.get(LIST)
    for n in range(8):
        household(f"{n}号院")
    with CaptureQueriesContext(connection) as many:
        town.get(LIST)
    assert len(many) == len(one) and len(one) > 3


def test_a_household_with_masked_members_and_its_timeline(
    cast: Cast, household: Callable[..., Household], leader: User
) -> None:
    home = household(persons=FAMILY)
    household_collect(
        actor=cast.grid_worker,
        household=home,
        version=home.version,
        fields={"note": "二楼"},
        persons=[{"id": home.persons.order_by("id")[1].pk, "active": False}],
    )
    visit_record(
        actor=cast.grid_worker,
        household=home,
        notes="楼道堆物",
        follow_up=True,
        follow_up_title="楼道堆物",
    )
    page = signed_in(cast.town).get(f"{LIST}{home.pk}/").content.decode()
    assert "王**" in page and "王建国" not in page and "13812345678" not in page
    assert "138****5678" in page and "370***********1230" in page
    assert "独居老人" in page and "吸毒人员" in page and "已迁出" in page
    assert page.count('data-kind="collection"') == 2
    assert page.count('data-kind="visit"') == 1 and "楼道堆物" in page
    assert "住户登记" in page and "/workbench/events/" in page
    assert "<th>姓名</th>" in page and "需要跟进" in page and "数据来源" in page
    # A leader may not unmask: the restricted group is not shown to them.
    seen = signed_in(leader).get(f"{LIST}{home.pk}/").content.decode()
    assert "独居老人" in seen and "吸毒人员" not in seen


def test_the_export_is_masked_audited_and_unmasked_only_with_a_reason(
    cast: Cast, household: Callable[..., Household], leader: User
) -> None:
    home = household(persons=FAMILY)
    household("空房1号")
    town = signed_in(cast.town)
    answer = town.get(f"{LIST}?export=xlsx&q=幸福")
    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    rows = rows_of(answer.content)
    assert rows[0][:3] == ["网格编码", "网格名称", "住址"]
    assert [r[2] for r in rows[1:]] == [home.address, home.address]
    assert rows[1][4] == "王**" and rows[1][5] == "370***********1230"
    assert rows[1][6] == "138****5678" and rows[1][7] == "户主"
    record = AuditRecord.objects.get(action="registry.export")
    assert record.changes["households"] == 1 and record.changes["persons"] == 2
    assert record.changes["unmasked"] is False
    assert record.changes["filters"] == {"q": "幸福"}
    assert "王建国" not in str(record.changes)

    # Unmasked: a reason is required; then plaintext, audited as personal data.
    refused = town.post(LIST, {"q": "幸福", "reason": ""})
    assert refused.status_code == 400 and "原因" in refused.content.decode()
    assert not AuditRecord.objects.filter(action="personal_data.export").exists()
    full = town.post(LIST, {"q": "幸福", "reason": "走访慰问名单"})
    assert full.status_code == 200
    plain = rows_of(full.content)
    assert plain[1][4] == "王建国" and plain[1][5] == ID_A
    assert "吸毒人员" in str(plain[2][9])
    audit = AuditRecord.objects.get(action="personal_data.export")
    assert audit.changes["count"] == 2 and audit.changes["reason"] == "走访慰问名单"
    # A leader exports masked, without the restricted groups; never unmasked.
    masked = rows_of(signed_in(leader).get(f"{LIST}?export=xlsx").content)
    assert "吸毒人员" not in str(masked) and "空房1号" in str(masked)
    assert signed_in(leader).post(LIST, {"reason": "查看名单"}).status_code == 403


def test_an_unmasked_export_imports_back(
    cast: Cast, household: Callable[..., Household]
) -> None:
    household("幸福小区2-201", persons=FAMILY)
    town = signed_in(cast.town)
    content = town.post(LIST, {"reason": "迁移数据"}).content
    Household.objects.all().delete()
    upload = io.BytesIO(content)
    upload.name = "export.xlsx"
    answer = town.post(f"{LIST}import/", {"file": upload})
    assert answer.status_code == 200
    assert "已导入 1 户" in answer.content.decode()
    home = Household.objects.get()
    assert home.address == "幸福小区2-201"
    assert {p.name: p.group_list for p in home.persons.all()} == {
        "王建国": ["elderly_alone"],
        "王小明": ["drug_user", "left_behind_child"],
    }


def test_the_import_page_reports_bad_rows_and_writes_nothing(
    cast: Cast, leader: User
) -> None:
    town = signed_in(cast.town)
    page = town.get(f"{LIST}import/")
    assert page.status_code == 200 and "下载模板" in page.content.decode()
    template = town.get(f"{LIST}import/?template=1")
    assert rows_of(template.content)[0][:3] == ["网格编码", "住址", "房屋类别"]
    g = cast.grid.code
    bad = io.BytesIO(
        xlsx(
            [
                [g, "新1号", None, "乙", ID_BAD],
                [g, "新2号", None, "丙"],
                [g, "", None, "丁"],
            ]
        )
    )
    bad.name = "bad.xlsx"
    answer = town.post(f"{LIST}import/", {"file": bad})
    body = answer.content.decode()
    assert answer.status_code == 400 and "未导入任何数据" in body
    assert "<td>2</td>" in body and "<td>4</td>" in body and "<td>3</td>" not in body
    assert "身份证号码有误" in body and "住址为必填项" in body
    assert not Household.objects.exists() and not Person.objects.exists()
    assert town.post(f"{LIST}import/", {}).status_code == 400
    good = io.BytesIO(xlsx([[g, "新1号", None, "乙"], [g, "新1号", None, "丙"]]))
    good.name = "good.xlsx"
    done = town.post(f"{LIST}import/", {"file": good}).content.decode()
    assert "已导入 1 户" in done and "2 人" in done
    assert Person.objects.count() == 2
    # Leaders read the households; they do not register them.
    assert signed_in(leader).get(f"{LIST}import/").status_code == 403
    assert signed_in(cast.urban).get(f"{LIST}import/").status_code == 403


def test_a_member_is_unmasked_on_the_household_page_with_a_reason(
    cast: Cast, household: Callable[..., Household], leader: User
) -> None:
    home = household(persons=FAMILY[:1])
    person = home.persons.get()
    town = signed_in(cast.town)
    url = f"{LIST}{home.pk}/"
    assert 'id="rg-reveal"' in town.get(url).content.decode()
    ask = {"person": person.pk, "field": "phone"}
    refused = town.post(url, {**ask, "reason": ""})
    assert refused.status_code == 400 and "13812345678" not in refused.content.decode()
    assert not AuditRecord.objects.filter(action="personal_data.reveal").exists()
    shown = town.post(url, {**ask, "reason": "电话联系走访"})
    body = shown.content.decode()
    assert shown.status_code == 200 and "13812345678" in body and "王**" in body
    assert "no-store" in shown["Cache-Control"]
    record = AuditRecord.objects.get(action="personal_data.reveal")
    assert record.object_id == str(person.pk) and "13812345678" not in str(
        record.changes
    )
    # Not a member of this household, or a field that is not personal data: 404.
    assert town.post(url, {**ask, "person": 0, "reason": "电话联系"}).status_code == 404
    assert (
        town.post(url, {**ask, "field": "groups", "reason": "电话联系"}).status_code
        == 404
    )
    # Leaders may not unmask: no form, and 403.
    assert 'id="rg-reveal"' not in signed_in(leader).get(url).content.decode()
    assert signed_in(leader).post(url, {**ask, "reason": "查看电话"}).status_code == 403


def test_too_large_an_export_or_upload_is_refused_with_a_reason(
    cast: Cast, household: Callable[..., Household], monkeypatch: pytest.MonkeyPatch
) -> None:
    from civicgrid.registry import exports, views_staff

    household("一号")
    household("二号")
    monkeypatch.setattr(exports, "EXPORT_LIMIT", 1)
    town = signed_in(cast.town)
    refused = town.get(f"{LIST}?export=xlsx")
    assert refused.status_code == 400 and "分批导出" in refused.content.decode()
    assert not AuditRecord.objects.filter(action="registry.export").exists()
    monkeypatch.setattr(views_staff, "UPLOAD_LIMIT", 10)
    big = io.BytesIO(b"x" * 11)
    big.name = "big.csv"
    answer = town.post(f"{LIST}import/", {"file": big})
    assert answer.status_code == 400 and "10 MB" in answer.content.decode()
