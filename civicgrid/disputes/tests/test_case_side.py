"""Beside a case's steps: recusal of a mediator with its reason, the case's files
(upload; download as an audited, uncached attachment, only for those who handle the
case), the ratings of the mediator, and revealing a party's identity by its id."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from civicgrid.core.models import AuditRecord
from civicgrid.disputes.models import CaseAttachment, MediatorRating, Recusal
from civicgrid.disputes.selectors import mediator_record
from civicgrid.disputes.tests.conftest import act, agree, mediate
from civicgrid.disputes.tests.factories import id_number
from civicgrid.disputes.tests.test_pages import signed_in

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def api(user: Any) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_recusal_lists_only_those_serving_the_area(cast: Any, register: Any) -> None:
    """The form offers the pool members whose regions hold the case's area (the
    town's mediator, the county's expert), not 公园街道's nor 淄川区's; recusing one
    who does not serve the area is refused on the page and in the API."""
    from civicgrid.disputes.services import mediator_create

    other_county = mediator_create(
        actor=None,
        name="钱调解",
        kind="mediator",
        regions=["370302"],
        specialties=["neighbours"],
    )
    case = register()
    town = signed_in(cast.town)
    page = town.get(f"/disputes/{case.code}/").content.decode()
    form = page[page.index('id="rec-mediator"') :].split("</select>")[0]
    assert "王调解" in form and "赵医生" in form
    assert "孙调解" not in form and "钱调解" not in form
    for m in (cast.far, other_county):
        r = town.post(
            f"/disputes/{case.code}/recusal/", {"mediator": m.pk, "reason": "亲属"}
        )
        assert r.status_code == 400 and "不服务于本案所在地区" in r.content.decode()
    refused = api(cast.town).post(
        f"/api/v1/disputes/cases/{case.code}/recusals/",
        {"mediator": cast.far.pk, "reason": "亲属"},
        format="json",
    )
    assert refused.status_code == 400 and refused.json()["field"] == "mediator"
    assert not Recusal.objects.exists()
    r = town.post(
        f"/disputes/{case.code}/recusal/",
        {"mediator": cast.expert.pk, "reason": "亲属"},
    )
    assert r.status_code == 302 and Recusal.objects.get().mediator == cast.expert
    form = town.get(f"/disputes/{case.code}/").content.decode()
    form = form[form.index('id="rec-mediator"') :].split("</select>")[0]
    assert "赵医生" not in form and "王调解" in form  # recused once


def test_recusal_on_the_page(cast: Any, register: Any) -> None:
    case = mediate(register(), cast)
    town = signed_in(cast.town)
    page = town.get(f"/disputes/{case.code}/").content.decode()
    assert "登记回避" in page and "王调解" in page
    r = town.post(
        f"/disputes/{case.code}/recusal/", {"mediator": cast.mediator.pk, "reason": ""}
    )
    assert r.status_code == 400 and "回避须说明理由" in r.content.decode()
    # the mediator may not recuse anyone; another town does not reach the case
    r = signed_in(cast.mediator_user).post(
        f"/disputes/{case.code}/recusal/",
        {"mediator": cast.far.pk, "reason": "亲属"},
    )
    assert r.status_code == 403
    r = signed_in(cast.town_b).post(
        f"/disputes/{case.code}/recusal/",
        {"mediator": cast.far.pk, "reason": "亲属"},
    )
    assert r.status_code == 404 and not Recusal.objects.exists()

    r = town.post(
        f"/disputes/{case.code}/recusal/",
        {"mediator": cast.mediator.pk, "reason": "系申请人表兄"},
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.mediator is None  # released
    rec = Recusal.objects.get()
    assert rec.reason == "系申请人表兄" and rec.recorded_by == cast.town
    page = town.get(f"/disputes/{case.code}/").content.decode()
    assert "系申请人表兄" in page
    assert AuditRecord.objects.filter(action="disputes.case.recusal").exists()
    # the recused mediator can no longer be assigned
    r = town.post(
        f"/disputes/{case.code}/step/",
        {
            "transition": "assign",
            "assign-version": case.version,
            "assign-mediator": cast.mediator.pk,
        },
    )
    assert r.status_code == 400


def test_files_on_the_page_and_the_api(cast: Any, register: Any) -> None:
    case = mediate(register(), cast)
    mediator = signed_in(cast.mediator_user)
    from django.core.files.uploadedfile import SimpleUploadedFile

    r = mediator.post(
        f"/disputes/{case.code}/attachments/",
        {"kind": "evidence", "file": SimpleUploadedFile("a.pdf", b"hello")},
    )
    assert r.status_code == 400 and "只接受 PDF" in r.content.decode()
    r = mediator.post(
        f"/disputes/{case.code}/attachments/",
        {"kind": "evidence", "file": SimpleUploadedFile("a.pdf", PDF)},
    )
    assert r.status_code == 302
    att = CaseAttachment.objects.get()
    page = mediator.get(f"/disputes/{case.code}/").content.decode()
    url = f"/disputes/{case.code}/attachments/{att.pk}/"
    assert url in page

    r = mediator.get(url)
    assert r.status_code == 200 and body_of(r) == PDF
    assert r["Content-Disposition"].startswith("attachment;")
    assert "no-store" in r["Cache-Control"] and r["X-Content-Type-Options"] == "nosniff"
    downloads = AuditRecord.objects.filter(action="disputes.attachment.download")
    assert downloads.count() == 1 and downloads[0].actor_id == cast.mediator_user.pk

    # the grid worker sees the case but not its files; town B not even the case
    grid = signed_in(cast.grid_worker)
    assert grid.get(f"/disputes/{case.code}/").status_code == 200
    assert url not in grid.get(f"/disputes/{case.code}/").content.decode()
    assert grid.get(url).status_code == 403
    assert signed_in(cast.town_b).get(url).status_code == 404
    assert (
        signed_in(cast.town).get(f"/disputes/{case.code}/attachments/999/").status_code
        == 404
    )
    assert downloads.count() == 1

    # the API: the same rules, the same headers, audited
    api_url = f"/api/v1/disputes/cases/{case.code}/attachments/{att.pk}/"
    r2 = api(cast.county).get(api_url)
    assert r2.status_code == 200 and body_of(r2) == PDF
    assert r2["Content-Disposition"].startswith("attachment;")
    assert "no-store" in r2["Cache-Control"]
    assert api(cast.grid_worker).get(api_url).status_code == 403
    assert api(cast.town_b).get(api_url).status_code == 404
    assert downloads.count() == 2


def test_ratings_after_mediation(cast: Any, register: Any) -> None:
    """Rated once mediation has ended — here at the agreement, before any close —
    by each party once and by the officer once; the pool's record shows the mean."""
    case = mediate(register(), cast)
    town = signed_in(cast.town)
    applicant, respondent = list(case.parties.order_by("id"))
    r = town.post(
        f"/disputes/{case.code}/rating/", {"rater": applicant.pk, "score": "5"}
    )
    assert r.status_code == 400 and "调解结束后方可评价" in r.content.decode()
    agree(case, cast.mediator_user)
    page = town.get(f"/disputes/{case.code}/").content.decode()
    assert "登记评价" in page
    assert (
        town.post(
            f"/disputes/{case.code}/rating/",
            {"rater": applicant.pk, "score": "5", "comment": "耐心细致"},
        ).status_code
        == 302
    )
    r = town.post(
        f"/disputes/{case.code}/rating/", {"rater": applicant.pk, "score": "1"}
    )
    assert r.status_code == 400 and "该评价已登记" in r.content.decode()
    # the API records the respondent's and the officer's; bad scores are refused
    url = f"/api/v1/disputes/cases/{case.code}/ratings/"
    assert api(cast.town).post(url, {"score": 9}, format="json").status_code == 400
    assert (
        api(cast.town)
        .post(url, {"score": 2, "party": respondent.pk}, format="json")
        .status_code
        == 201
    )
    assert api(cast.town).post(url, {"score": 4}, format="json").status_code == 201
    assert (
        api(cast.mediator_user).post(url, {"score": 5}, format="json").status_code
        == 403
    )
    assert MediatorRating.objects.count() == 3
    case.refresh_from_db()
    assert case.rating == 4  # (5 + 2 + 4) / 3, rounded
    act(case, cast.town, "follow_up", kept="yes")
    record = mediator_record(cast.mediator)
    assert (
        record["rating"] == pytest.approx(11 / 3, abs=0.01) and record["ratings"] == 3
    )
    page = town.get(f"/disputes/mediators/{cast.mediator.pk}/").content.decode()
    assert "3.67/5" in page and "耐心细致" in page


def test_a_party_identity_is_revealed_by_its_id(cast: Any, register: Any) -> None:
    case = register()
    detail = api(cast.town).get(f"/api/v1/disputes/cases/{case.code}/").json()
    party = detail["parties"][0]
    assert isinstance(party["id"], int) and "*" in party["id_number"]
    body = {
        "object": "disputes.party",
        "id": party["id"],
        "field": "id_number",
        "reason": "核实当事人身份",
    }
    r = api(cast.town).post("/api/v1/personal-data/reveal/", body, format="json")
    assert r.status_code == 200 and r.json()["value"] == id_number(1)
    assert "no-store" in r["Cache-Control"]
    audit = AuditRecord.objects.get(action="personal_data.reveal")
    assert id_number(1) not in str(audit.changes)
    # another town's officer: no such record; an expert may not unmask at all
    assert (
        api(cast.town_b)
        .post("/api/v1/personal-data/reveal/", body, format="json")
        .status_code
        == 404
    )
    assert (
        api(cast.expert_user)
        .post("/api/v1/personal-data/reveal/", body, format="json")
        .status_code
        == 403
    )
