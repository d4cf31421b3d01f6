"""Registry and report pages: organisations and the expert pool with their record,
the statistics of the user's cases, the subsidy ledger with its budget and export;
each within the user's areas."""

from io import BytesIO
from typing import Any

import pytest
from openpyxl import load_workbook

from civicgrid.core.models import AuditRecord
from civicgrid.disputes.models import SubsidyBudget
from civicgrid.disputes.subsidies import subsidy_grant
from civicgrid.disputes.tests.conftest import act, mediate
from civicgrid.disputes.tests.test_pages import signed_in
from civicgrid.disputes.tests.test_subsidies import verified

pytestmark = pytest.mark.django_db


def test_nav_links_every_page(cast: Any) -> None:
    page = signed_in(cast.town).get("/disputes/").content.decode()
    for url in (
        "/disputes/consultations/",
        "/disputes/stats/",
        "/disputes/subsidies/",
        "/disputes/organisations/",
        "/disputes/mediators/",
    ):
        assert f'href="{url}"' in page


def test_organisations_and_the_pool(cast: Any, register: Any) -> None:
    town, town_b = signed_in(cast.town), signed_in(cast.town_b)
    page = town.get("/disputes/organisations/").content.decode()
    assert "车站街道人民调解委员会" in page and "张店区医疗纠纷人民调解委员会" in page
    page = town.get(
        "/disputes/organisations/?channel=industry_mediation"
    ).content.decode()
    assert "车站街道人民调解委员会" not in page and "医疗纠纷" in page
    # town B sees the county's committee (it serves B) but not town A's
    page = town_b.get("/disputes/organisations/").content.decode()
    assert "车站街道人民调解委员会" not in page and "医疗纠纷" in page
    assert (
        town_b.get(f"/disputes/organisations/{cast.committee.pk}/").status_code == 404
    )
    page = town.get(f"/disputes/organisations/{cast.committee.pk}/").content.decode()
    assert "王调解" in page and "人民调解" in page

    # a mediator's record: one case ended resolved
    case = mediate(register(), cast)
    from civicgrid.disputes.tests.conftest import agree

    agree(case, cast.mediator_user)
    act(case, cast.town, "follow_up", kept="yes")
    page = town.get("/disputes/mediators/?specialty=neighbours").content.decode()
    assert "王调解" in page and "赵医生" not in page and "100%" in page
    page = town.get(f"/disputes/mediators/{cast.mediator.pk}/").content.decode()
    assert case.code in page and "化解成功率 100%" in page
    assert town_b.get(f"/disputes/mediators/{cast.mediator.pk}/").status_code == 404
    # town B's officer sees its own mediator, not the case of town A through him
    assert town_b.get(f"/disputes/mediators/{cast.far.pk}/").status_code == 200


def test_statistics_page(cast: Any, register: Any) -> None:
    register()
    high = register(violence_threatened=True, amount=600000)
    act(high, cast.town, "close", outcome="withdrawn", reason="撤回申请")
    town = signed_in(cast.town)
    page = town.get("/disputes/stats/?area_digits=9").content.decode()
    assert "矛盾纠纷统计" in page and "邻里" in page and "370303001" in page
    assert "已撤回" in page or "撤回" in page
    figures = town.get("/api/v1/disputes/stats/?area_digits=9").json()
    assert figures["cases"] == 2
    assert f'<dd id="st-cases">{figures["cases"]}</dd>' in page
    # town B's officer counts none of them
    page = signed_in(cast.town_b).get("/disputes/stats/").content.decode()
    assert '<dd id="st-cases">0</dd>' in page
    # a bad date is ignored, not an error
    assert town.get("/disputes/stats/?created_after=2026-02-30").status_code == 200


def test_subsidy_ledger_page(cast: Any, register: Any) -> None:
    case = verified(cast, register, 1)
    subsidy_grant(actor=cast.town, case=case, amount=900, grade="complex")
    county = signed_in(cast.county)
    page = county.get("/disputes/subsidies/").content.decode()
    assert case.code in page and "900.00" in page and "1500000.00" in page
    r = county.get("/disputes/subsidies/export/?city=3703")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert r["Content-Disposition"].startswith("attachment;")
    ws = load_workbook(BytesIO(r.content)).active
    assert ws is not None and ws["A2"].value == case.code
    # town B grants nothing of town A: the row is not listed to it
    page = signed_in(cast.town_b).get("/disputes/subsidies/").content.decode()
    assert case.code not in page
    # the grid worker and the mediator have no ledger
    assert signed_in(cast.grid_worker).get("/disputes/subsidies/").status_code == 403
    assert signed_in(cast.mediator_user).get("/disputes/subsidies/").status_code == 403
    # only the city's officers set the budget; not below what is granted
    r = county.post("/disputes/subsidies/budget/", {"city": "3703", "amount": "5000"})
    assert r.status_code == 403
    from civicgrid.accounts.models import Role

    city = signed_in(make_city(cast, Role.CENTER_STAFF))
    r = city.post("/disputes/subsidies/budget/", {"city": "3703", "amount": "500"})
    assert (
        r.status_code == 302
        and not SubsidyBudget.objects.exclude(amount=1500000).exists()
    )
    r = city.post("/disputes/subsidies/budget/", {"city": "3703", "amount": "200000"})
    assert r.status_code == 302
    assert SubsidyBudget.objects.get(city_code="3703").amount == 200000
    assert AuditRecord.objects.filter(action="disputes.subsidy.budget").exists()
    assert "199100.00" in city.get("/disputes/subsidies/").content.decode()


def make_city(cast: Any, role: str) -> Any:
    from civicgrid.accounts import services as accounts
    from civicgrid.regions.models import Region

    user = accounts.user_create(actor=None, username="d_city", password=None)
    accounts.staff_post_create(
        actor=None, user=user, role=role, region=Region.objects.get(region_code="3703")
    )
    return user


def test_an_officer_of_another_county_reaches_nothing(
    cast: Any, register: Any, make_staff: Any
) -> None:
    """淄川区's center officer: every page of 张店区's records is a 404 (or lists
    nothing); the county's organisation and pool are not theirs either."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from civicgrid.accounts.models import Role
    from civicgrid.disputes.models import CaseAttachment
    from civicgrid.disputes.tests.test_case_side import PDF

    case = mediate(register(), cast)
    signed_in(cast.mediator_user).post(
        f"/disputes/{case.code}/attachments/",
        {"kind": "evidence", "file": SimpleUploadedFile("a.pdf", PDF)},
    )
    att = CaseAttachment.objects.get()
    signed_in(cast.leader).post(
        "/disputes/consultations/new/",
        {"region": "370303001", "held_on": "2026-11-27", "attendees": "政法委"},
    )
    from civicgrid.disputes.models import Consultation

    session = Consultation.objects.get()
    other = signed_in(make_staff("d_zichuan", Role.CENTER_STAFF, region="370302"))
    for url in (
        f"/disputes/{case.code}/",
        f"/disputes/{case.code}/attachments/{att.pk}/",
        f"/disputes/consultations/{session.pk}/",
        f"/disputes/organisations/{cast.committee.pk}/",
        f"/disputes/organisations/{cast.medical.pk}/",
        f"/disputes/mediators/{cast.mediator.pk}/",
        f"/disputes/mediators/{cast.expert.pk}/",
    ):
        assert other.get(url).status_code == 404, url
    for url, posted in (
        (
            f"/disputes/{case.code}/recusal/",
            {"mediator": cast.mediator.pk, "reason": "x"},
        ),
        (f"/disputes/{case.code}/rating/", {"rater": "officer", "score": "5"}),
        (f"/disputes/{case.code}/step/", {"transition": "fail"}),
        (f"/disputes/consultations/{session.pk}/items/", {"case": case.code}),
    ):
        assert other.post(url, posted).status_code == 404, url
    assert case.code not in other.get("/disputes/").content.decode()
    assert '<dd id="st-cases">0</dd>' in other.get("/disputes/stats/").content.decode()
    assert "王调解" not in other.get("/disputes/mediators/").content.decode()
    assert "车站街道" not in other.get("/disputes/organisations/").content.decode()
    assert not session.items.exists()
